"""Option normalisation: Node names and snake_case names, one checked dict out.

Every public entry point takes options as a dict and/or keywords, under the snake_case name or
Node's camelCase name.  :func:`normalize` merges them, maps Node names to snake_case and rejects
unknown names with a ``TypeError`` that names the closest valid one, and checks each value's
type and range against the option table (:mod:`nodetls._option_table`), when the object is made.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from . import _option_table
from .errors import InvalidArgTypeError as InvalidArgTypeError  # re-exported (used as _options.X)

_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")
_SNAKE: dict[str, str] = {}  # to_snake's results
_BY_NODE_NAME = _option_table.BY_NODE_NAME
_OPTIONS = _option_table.OPTIONS


def to_snake(name: str) -> str:
    """``'rejectUnauthorized'`` -> ``'reject_unauthorized'`` (Node name -> our name)."""
    special = _BY_NODE_NAME.get(name)
    if special is not None:
        return special
    snake = _SNAKE.get(name)
    if snake is None:
        snake = _CAMEL.sub(r"_\1", name).lower()
        if len(_SNAKE) < 4096:  # remembered: option names are few (bounded against abuse)
            _SNAKE[name] = snake
    return snake


# Node options nodetls leaves out on purpose, with what to use instead (a typo hint would mislead).
_NOT_SUPPORTED = {
    "secure_protocol": "; nodetls has no legacy method names (secureProtocol):"
    " use min_version/max_version, e.g. min_version='TLSv1.3'",
    "client_cert_engine": "; OpenSSL engines are not supported (deprecated in OpenSSL 3)",
    "private_key_engine": "; OpenSSL engines are not supported (deprecated in OpenSSL 3)",
    "private_key_identifier": "; OpenSSL engines are not supported (deprecated in OpenSSL 3)",
    "signal": "; an AbortSignal has no Python counterpart: cancel a connect with"
    " sock.destroy(), a listen with server.close()",
}


def normalize(
    options: Mapping[str, Any] | None,
    kwargs: Mapping[str, Any] | None,
    allowed: Iterable[str],
    where: str = "options",
    kinds: Mapping[str, _option_table.Kind] | None = None,
) -> dict[str, Any]:
    """Merge ``options`` and ``kwargs`` (keywords win), convert names, reject unknown ones.

    Raises ``TypeError`` (code ``ERR_INVALID_ARG_TYPE``) naming the unknown option and the closest
    valid name; ``options`` that is not a mapping is a ``TypeError`` too. ``kinds``: checks that
    replace the table's for some names (a server's, ``_option_table.SERVER_KINDS``).
    """
    allowed_set = allowed if isinstance(allowed, (set, frozenset)) else frozenset(allowed)
    out: dict[str, Any] = _option_table.Options()  # (its repr() hides secret values)
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
                hint = _NOT_SUPPORTED.get(name)
                if hint is None:
                    close = difflib.get_close_matches(name, sorted(allowed_set), n=1, cutoff=0.5)
                    hint = f"; did you mean {close[0]!r}?" if close else ""
                raise InvalidArgTypeError(f"{where}: unknown option {key!r}{hint}")
            if value is not None:
                opt = _OPTIONS.get(name)
                if opt is not None:
                    kind = opt.kind if kinds is None else kinds.get(name, opt.kind)
                    value = kind.check(value, f"{where}.{key}")
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
