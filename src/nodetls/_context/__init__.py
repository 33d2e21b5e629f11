"""Secure contexts: Node's ``tls.createSecureContext`` / ``SecureContext`` over one ``SSL_CTX``.

* :class:`SecureContext` / :func:`create_secure_context` -- the context (``.ctx`` is the
  ``SSL_CTX*``), configured from Node's options in Node's order (:mod:`.config`).
* :func:`get_ciphers`, :func:`root_certificates`, ``DEFAULT_CIPHERS``, ``DEFAULT_ECDH_CURVE``,
  ``DEFAULT_MIN_VERSION``, ``DEFAULT_MAX_VERSION`` -- the module-level ``tls`` helpers.
* :mod:`.ticket_keys` -- the session-ticket key callback (``bind_ssl``/``unbind_ssl``/``on_error``
  for the engine).
"""

from __future__ import annotations

from . import ticket_keys
from .ciphers import (
    DEFAULT_CIPHERS,
    DEFAULT_ECDH_CURVE,
    DEFAULT_MAX_VERSION,
    DEFAULT_MIN_VERSION,
    get_ciphers,
    process_ciphers,
)
from .config import DEFAULT_SESSION_TIMEOUT
from .root_certs import root_certificates
from .secure_context import CONTEXT_OPTIONS, SecureContext, SecurityWarning, create_secure_context

__all__ = [
    "SecureContext",
    "create_secure_context",
    "CONTEXT_OPTIONS",
    "DEFAULT_CIPHERS",
    "DEFAULT_ECDH_CURVE",
    "DEFAULT_MIN_VERSION",
    "DEFAULT_MAX_VERSION",
    "DEFAULT_SESSION_TIMEOUT",
    "SecurityWarning",
    "get_ciphers",
    "process_ciphers",
    "root_certificates",
    "ticket_keys",
]
