"""Option normalisation: Node names and snake_case names, one dict out.

Every public entry point takes options as a dict and/or keywords, under the snake_case name or
Node's camelCase name (``reject_unauthorized`` or ``rejectUnauthorized``).  :func:`normalize` merges them, maps Node names to
snake_case and rejects unknown names with a ``TypeError`` that names the closest valid one.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from .errors import InvalidArgTypeError as InvalidArgTypeError  # re-exported (used as _options.X)

# Node names whose snake_case form is not the mechanical conversion.
_SPECIAL: dict[str, str] = {
    "ALPNProtocols": "alpn_protocols",
    "ALPNCallback": "alpn_callback",
    "SNICallback": "sni_callback",
    "NPNProtocols": "npn_protocols",
    "minDHSize": "min_dh_size",
    "requestOCSP": "request_ocsp",
    "ecdhCurve": "ecdh_curve",
    "honorCipherOrder": "honor_cipher_order",
    "sessionIdContext": "session_id_context",
    "pskCallback": "psk_callback",
    "pskIdentityHint": "psk_identity_hint",
    "enableTrace": "enable_trace",
    "isServer": "is_server",
    "secureContext": "secure_context",
    "secureOptions": "secure_options",
    "secureProtocol": "secure_protocol",
    "maxVersion": "max_version",
    "minVersion": "min_version",
    "ticketKeys": "ticket_keys",
    "sessionTimeout": "session_timeout",
    "handshakeTimeout": "handshake_timeout",
    "rejectUnauthorized": "reject_unauthorized",
    "requestCert": "request_cert",
    "checkServerIdentity": "check_server_identity",
    "allowHalfOpen": "allow_half_open",
    "pauseOnConnect": "pause_on_connect",
    "noDelay": "no_delay",
    "keepAlive": "keep_alive",
    "keepAliveInitialDelay": "keep_alive_initial_delay",
    "localAddress": "local_address",
    "localPort": "local_port",
    "highWaterMark": "high_water_mark",
    "allowClientRenegotiation": "allow_client_renegotiation",
    "reusePort": "reuse_port",
    "ipv6Only": "ipv6_only",
}

_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")
_SNAKE: dict[str, str] = {}  # to_snake's results


def to_snake(name: str) -> str:
    """``'rejectUnauthorized'`` -> ``'reject_unauthorized'`` (Node name -> our name)."""
    special = _SPECIAL.get(name)
    if special is not None:
        return special
    snake = _SNAKE.get(name)
    if snake is None:
        snake = _CAMEL.sub(r"_\1", name).lower()
        if len(_SNAKE) < 4096:  # remembered: option names are few (bounded against abuse)
            _SNAKE[name] = snake
    return snake


def normalize(
    options: Mapping[str, Any] | None,
    kwargs: Mapping[str, Any] | None,
    allowed: Iterable[str],
    where: str = "options",
) -> dict[str, Any]:
    """Merge ``options`` and ``kwargs`` (keywords win), convert names, reject unknown ones.

    Raises ``TypeError`` (code ``ERR_INVALID_ARG_TYPE``) naming the unknown option and the closest
    valid name; ``options`` that is not a mapping is a ``TypeError`` too.
    """
    allowed_set = allowed if isinstance(allowed, (set, frozenset)) else frozenset(allowed)
    out: dict[str, Any] = {}
    for source in (options, kwargs):
        if source is None:
            continue
        if not isinstance(source, Mapping):
            raise InvalidArgTypeError(
                f'The "{where}" argument must be of type dict. Received {type(source).__name__}'
            )
        for key, value in source.items():
            if not isinstance(key, str):
                raise InvalidArgTypeError(f"{where}: option names must be str, got {key!r}")
            name = to_snake(key)
            if name not in allowed_set:
                close = difflib.get_close_matches(name, sorted(allowed_set), n=1, cutoff=0.5)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise InvalidArgTypeError(f"{where}: unknown option {key!r}{hint}")
            out[name] = value
    return out


def as_bytes(value: Any, name: str, *, allow_str: bool = False) -> bytes:
    """Accept bytes-like (and ``str`` when ``allow_str``) as bytes, else ``TypeError`` naming it."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if allow_str and isinstance(value, str):
        return value.encode()
    kinds = "bytes, bytearray, memoryview" + (" or str" if allow_str else "")
    raise InvalidArgTypeError(
        f'The "{name}" argument must be of type {kinds}. Received {type(value).__name__}'
    )


def as_list(value: Any) -> list[Any]:
    """A single item or a list/tuple of items -> list."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]
