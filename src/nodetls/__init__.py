"""nodetls: Node.js's ``tls`` module (and the ``net``/stream layer under it) for Python asyncio,
with OpenSSL 3 doing the cryptography.

``import nodetls as tls`` and port code written against Node's ``tls`` docs almost line by line
(snake_case names, seconds for durations, ``bytes`` for Buffers; options under snake_case or
Node's camelCase names).  Behaviour not documented otherwise is Node v20's; README.md lists
where nodetls deliberately differs.
"""

from __future__ import annotations

from typing import Any

# _compiled first (its import decides, before they are imported, whether the compiled modules run)
from . import _compiled, constants, errors, net, sessions, stream  # noqa: F401
from ._context import (
    DEFAULT_CIPHERS,
    DEFAULT_ECDH_CURVE,
    DEFAULT_MAX_VERSION,
    DEFAULT_MIN_VERSION,
    SecureContext,
    create_secure_context,
    get_ciphers,
)
from ._run import run
from ._tls import (
    CLIENT_RENEG_LIMIT,
    CLIENT_RENEG_WINDOW,
    Server,
    TLSSocket,
    connect,
    create_server,
)
from ._tls_identity import check_server_identity
from ._workers import worker_index
from .events import EventEmitter

__version__ = "0.1.0"

__all__ = [
    "create_server", "connect", "create_secure_context", "check_server_identity", "get_ciphers",
    "root_certificates", "DEFAULT_MIN_VERSION", "DEFAULT_MAX_VERSION", "DEFAULT_CIPHERS",
    "DEFAULT_ECDH_CURVE", "CLIENT_RENEG_LIMIT", "CLIENT_RENEG_WINDOW", "Server", "TLSSocket",
    "SecureContext", "run", "errors", "net", "stream", "constants", "EventEmitter",
    "sessions", "worker_index",
]


def __getattr__(name: str) -> Any:
    # root_certificates is loaded on first use (parsing certifi's bundle costs milliseconds).
    if name == "root_certificates":
        from ._context import root_certificates

        value = root_certificates()
        globals()["root_certificates"] = value
        return value
    raise AttributeError(f"module 'nodetls' has no attribute {name!r}")


def _document() -> None:
    # help(tls.connect) and friends list their options (rendered from the option table).
    from ._optdoc import document

    document()


_document()
