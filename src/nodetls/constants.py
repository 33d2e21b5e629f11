"""OpenSSL option and version constants, as Node's ``crypto.constants`` exposes them.

For ``secure_options`` (``secureOptions``): e.g. ``secure_options=constants.SSL_OP_NO_TICKET``
switches to stateful tickets / session ids, which the external session cache
(``'newSession'``/``'resumeSession'``) serves under TLS 1.2 and TLS 1.3.
"""

from __future__ import annotations

from ._openssl import constants as _c

SSL_OP_ALL: int = _c.SSL_OP_ALL
SSL_OP_NO_TICKET: int = _c.SSL_OP_NO_TICKET
SSL_OP_NO_COMPRESSION: int = _c.SSL_OP_NO_COMPRESSION
SSL_OP_CIPHER_SERVER_PREFERENCE: int = _c.SSL_OP_CIPHER_SERVER_PREFERENCE
SSL_OP_NO_RENEGOTIATION: int = _c.SSL_OP_NO_RENEGOTIATION
SSL_OP_ALLOW_CLIENT_RENEGOTIATION: int = _c.SSL_OP_ALLOW_CLIENT_RENEGOTIATION
SSL_OP_NO_TLSv1: int = _c.SSL_OP_NO_TLSv1
SSL_OP_NO_TLSv1_1: int = _c.SSL_OP_NO_TLSv1_1
SSL_OP_NO_TLSv1_2: int = _c.SSL_OP_NO_TLSv1_2
SSL_OP_NO_TLSv1_3: int = _c.SSL_OP_NO_TLSv1_3
SSL_OP_PRIORITIZE_CHACHA: int = _c.SSL_OP_PRIORITIZE_CHACHA
SSL_OP_NO_ENCRYPT_THEN_MAC: int = _c.SSL_OP_NO_ENCRYPT_THEN_MAC
SSL_OP_IGNORE_UNEXPECTED_EOF: int = _c.SSL_OP_IGNORE_UNEXPECTED_EOF
SSL_OP_LEGACY_SERVER_CONNECT: int = _c.SSL_OP_LEGACY_SERVER_CONNECT
SSL_OP_ALLOW_UNSAFE_LEGACY_RENEGOTIATION: int = _c.SSL_OP_ALLOW_UNSAFE_LEGACY_RENEGOTIATION
SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION: int = _c.SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION

__all__ = [name for name in dict(globals()) if name.startswith("SSL_OP_")]
