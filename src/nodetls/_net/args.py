"""Node's argument rules for ``connect()`` and ``listen()``: ``normalizeArgs``, the port and
pipe-name rules (through JavaScript's ``Number()``), and the checks ``Socket.prototype.connect``
and ``Server.prototype.listen`` make before anything happens, with Node's error codes; and the
option names ``Socket()`` and ``connect()`` take (``SOCKET_OPTIONS``, ``CONNECT_OPTIONS``)."""

from __future__ import annotations

import math
import os
import re
import socket
from collections.abc import Callable, Mapping
from typing import Any

from .._option_table import check as check_option
from .._option_table import names as option_names
from .._option_table import type_error
from ..errors import InvalidArgValueError, node_error
from .address import is_ip

__all__ = ["normalize_connect_args", "normalize_listen_args", "validate_port",
           "check_connect_options", "listen_target", "js_number", "is_pipe_name", "dns_family",
           "ListenOptionsError", "SOCKET_OPTIONS", "CONNECT_OPTIONS"]

# -- JavaScript's Number(string), for Node's port and pipe-name rules --------------------------

# JS StrWhiteSpaceChar: WhiteSpace (TAB VT FF SP NBSP ZWNBSP, every Zs) and LineTerminator.
_JS_SPACE = ("\t\n\v\f\r \xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
             "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff")
_JS_DECIMAL = re.compile(r"[+-]?(?:Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)\Z")
_JS_RADIX = re.compile(r"0(?:[xX][0-9a-fA-F]+|[oO][0-7]+|[bB][01]+)\Z")


def js_number(text: str) -> float:
    """JavaScript's ``Number(text)`` for a string: surrounding whitespace is ignored, ``''`` is
    ``0``, ``0x``/``0o``/``0b`` prefixes (unsigned), decimals with an exponent, ``Infinity``;
    anything else (``'1_0'``, ``'nan'``, ``'0x'``...) is NaN."""
    s = text.strip(_JS_SPACE)
    if not s:
        return 0.0
    if _JS_DECIMAL.match(s):
        return float(s)
    if _JS_RADIX.match(s):
        try:
            return float(int(s, 0))
        except OverflowError:
            return math.inf
    return math.nan


def is_pipe_name(value: Any) -> bool:
    """Node's ``isPipeName``: a string that ``Number()`` does not make a number >= 0 (or, beyond
    Node, an ``os.PathLike``)."""
    if isinstance(value, str):
        return not js_number(value) >= 0
    return isinstance(value, os.PathLike)


def validate_port(port: Any, name: str = "Port", allow_zero: bool = True) -> int:
    """Node's ``validatePort``: a number, or a string JavaScript's ``Number()`` reads as one
    (``'8080'``, ``' 80 '``, ``'0x1f90'``, ``'1e3'``; not a blank one), that is an integer in
    0..65535, else ``ERR_SOCKET_BAD_PORT``. Returns the port as an ``int``."""
    if type(port) is int and 0 <= port <= 0xFFFF and (port or allow_zero):
        return port  # (the common case)
    if isinstance(port, bool) or not isinstance(port, (int, str, float)):
        raise node_error("ERR_SOCKET_BAD_PORT", name, repr(port))
    if isinstance(port, str):
        if not port.strip(_JS_SPACE):
            raise node_error("ERR_SOCKET_BAD_PORT", name, repr(port))
        value: float = js_number(port)
    else:
        value = port
    if not (math.isfinite(value) and value == int(value) and 0 <= value <= 0xFFFF) or (
            not allow_zero and port == 0 and not isinstance(port, str)):
        raise node_error("ERR_SOCKET_BAD_PORT", name, repr(port))
    return int(value)


# -- the options Socket() and connect() take -----------------------------------------------------

#: ``Socket(...)`` options (Node names accepted too).
SOCKET_OPTIONS = option_names("N")
#: ``connect(...)`` options (besides the Socket ones for ``net.connect``).
CONNECT_OPTIONS = option_names("J")
#: What Socket() and connect() accept: one options dict serves both (Node's
#: ``new net.Socket(options).connect(options)``), each ignoring what is the other's.
_EITHER = SOCKET_OPTIONS | CONNECT_OPTIONS


def _own(opts: dict[str, Any], names: frozenset[str] | set[str]) -> dict[str, Any]:
    return {k: v for k, v in opts.items() if k in names}


class _Normalized(dict):  # type: ignore[type-arg]
    """Options already in snake_case and valid (internal fast path, e.g. accepted sockets)."""


def _split_callback(args: tuple[Any, ...], kwargs: Mapping[str, Any]
                    ) -> tuple[tuple[Any, ...], dict[str, Any], Callable[..., Any] | None]:
    """Node's ``normalizeArgs`` tail: a last positional function (else ``callback=``) is the
    callback; the rest, and the keywords without it."""
    kw = dict(kwargs)
    cb = kw.pop("callback", None)
    if args and callable(args[-1]):
        cb = args[-1]
        args = args[:-1]
    return args, kw, cb


def normalize_connect_args(args: tuple[Any, ...], kwargs: Mapping[str, Any]
                           ) -> tuple[dict[str, Any], Callable[..., Any] | None]:
    """Node's ``normalizeArgs`` for ``connect``: ``(options[, cb])``, ``(path[, cb])``,
    ``(port[, host][, cb])``; keywords merge over the positional options. A string is a path
    when it is not a number >= 0 for JavaScript's ``Number()`` (Node's ``isPipeName``: ``'80'``
    and ``'0x50'`` are ports, ``''`` too, a bad one). ``None`` is JavaScript's ``undefined``:
    no port. A lone function is the port, not the callback (``normalizeArgs``: the first
    argument is always the options, path or port: ``ERR_INVALID_ARG_TYPE``)."""
    if len(args) == 1 and callable(args[0]) and not isinstance(args[0], Mapping):
        kw = dict(kwargs)
        cb = kw.pop("callback", None)
        return {"port": args[0], **kw}, cb
    args, kw, cb = _split_callback(args, kwargs)
    options: dict[str, Any] = {}
    if args:
        first = args[0]
        if isinstance(first, Mapping):
            options = dict(first)
            # Node ignores what it does not know: connect(server.address()) connects to its
            # port ('address' is server.address()'s key; other unknown keys stay refused).
            options.pop("address", None)
        elif isinstance(first, (list, tuple, bytes, bytearray, memoryview)):
            # Node's `typeof arg0 === 'object'`: an Array or a Buffer is the options object,
            # which has neither port nor path (ERR_MISSING_ARGS below, in connect())
            options = {}
        elif is_pipe_name(first):
            options = {"path": first}
        elif first is not None:
            options = {"port": first}
            if len(args) > 1 and isinstance(args[1], str):
                options["host"] = args[1]
    options.update(kw)
    return options, cb


#: Node's ``dns.ADDRCONFIG | dns.V4MAPPED | dns.ALL``: the hints ``dns.lookup`` takes.
_VALID_HINTS = socket.AI_ADDRCONFIG | socket.AI_V4MAPPED | socket.AI_ALL


def dns_family(family: Any) -> Any:
    """Node's ``socketToDnsFamily``: ``'IPv4'`` -> 4, ``'IPv6'`` -> 6, others as they are."""
    return {"IPv4": 4, "IPv6": 6}.get(family, family) if isinstance(family, str) else family


def check_connect_options(opts: Mapping[str, Any]) -> None:
    """The checks Node's ``Socket.prototype.connect`` / ``lookupAndConnect`` make before
    anything happens (normalised options; raised by ``connect()`` itself):
    ``ERR_MISSING_ARGS`` without port and path; then, for TCP, ``local_address`` not an IP
    (``ERR_INVALID_IP_ADDRESS``), ``local_port`` not a number (``ERR_INVALID_ARG_TYPE``; out of
    0..65535: ``ERR_SOCKET_BAD_PORT``), ``port`` (``ERR_SOCKET_BAD_PORT``) and, for a host name
    resolved by the system, ``hints`` (``dns.lookup``'s ``ERR_INVALID_ARG_VALUE``)."""
    port = opts.get("port")
    path = opts.get("path")
    if port is None and path is None:
        raise node_error("ERR_MISSING_ARGS", message=(
            'The "options" or "port" or "path" argument must be specified'))
    if path:
        return
    local_address = opts.get("local_address")
    if local_address and not is_ip(local_address):
        raise node_error("ERR_INVALID_IP_ADDRESS", local_address)
    local_port = opts.get("local_port")
    if local_port:  # (Node: `if (localPort) validateNumber(...)`: 0 and '' are "not given")
        if isinstance(local_port, bool) or not isinstance(local_port, (int, float)):
            raise type_error("options.localPort", "int", local_port)
        validate_port(local_port, "options.localPort")
    if port is not None:
        validate_port(port, "Port")
    hints = opts.get("hints")
    if (hints and opts.get("lookup") is None and not is_ip(opts.get("host") or "localhost")
            and (not isinstance(hints, int) or hints & ~_VALID_HINTS)):
        raise node_error("ERR_INVALID_ARG_VALUE", "'hints'", hints)


class ListenOptionsError(InvalidArgValueError, TypeError):
    """Node's ``ERR_INVALID_ARG_VALUE`` for ``listen()``'s options: a ``TypeError`` in Node, a
    ``ValueError`` as every ``ERR_INVALID_ARG_VALUE`` here."""


def listen_target(options: Mapping[str, Any], given: bool) -> tuple[int | None, str | None]:
    """Node's ``Server.prototype.listen`` rules for where to listen: ``(port, None)`` or
    ``(None, path)``. ``given``: the options came as a dict (``listen({...})``), where Node
    requires a ``port`` or ``path`` key; the other forms without a path default to port 0.

    A ``port`` key (``None``: 0) that is a number or a string is checked first
    (``ERR_SOCKET_BAD_PORT``, also when there is a path); else a ``path`` that is a pipe name
    (a str or ``os.PathLike``, not a number for JavaScript); else ``ERR_INVALID_ARG_VALUE``
    (a ``TypeError`` as in Node, and a ``ValueError``), naming the property at fault. The one
    not used is type-checked all the same (the option table's rule: ``ERR_INVALID_ARG_TYPE``)."""
    port = options.get("port")
    if port is None and ("port" in options or not (given or options.get("path") is not None)):
        port = 0
    path = options.get("path")
    if isinstance(port, (int, float, str)) and not isinstance(port, bool):
        target: tuple[int | None, str | None] = (validate_port(port, "options.port"), None)
    elif path and is_pipe_name(path):
        target = (None, os.fspath(path))
    else:
        if "port" not in options and "path" not in options:
            reason = 'must have the property "port" or "path"'
        elif port is not None:
            reason = "is invalid: options.port must be int or str"
        elif not isinstance(path, (str, os.PathLike)):
            reason = "is invalid: options.path must be str or os.PathLike"
        else:
            reason = "is invalid: options.path must be a path (not empty, not a number)"
        raise ListenOptionsError(f"The argument 'options' {reason}. Received {dict(options)!r}",
                                 "ERR_INVALID_ARG_VALUE")
    for key in ("port", "path"):
        check_option(key, options.get(key), f"options.{key}")
    return target


def _is_handle(value: Any) -> bool:
    """A handle ``listen()`` takes as its first argument: a ``socket.socket`` or another object
    with ``fileno()``, an object with an ``fd``, a ``net.Server`` or ``net.Socket``."""
    return not isinstance(value, (str, int, float, Mapping, os.PathLike)) and value is not None \
        and any(hasattr(value, name) for name in ("fileno", "fd", "_handle", "listen"))


def normalize_listen_args(args: tuple[Any, ...], kwargs: Mapping[str, Any]
                          ) -> tuple[dict[str, Any], Callable[..., Any] | None]:
    """``listen()`` forms: ``(port[, host][, backlog][, cb])``, ``(path[, backlog][, cb])``,
    ``(handle[, backlog][, cb])`` (as ``{'handle': handle}``), ``(options[, cb])``; keywords
    merge over them. A string is a path as for ``connect()`` (Node's ``isPipeName``);
    :func:`listen_target` then applies Node's rules."""
    args, kw, cb = _split_callback(args, kwargs)
    options: dict[str, Any] = {}
    if args:
        first, rest = args[0], list(args[1:])
        if isinstance(first, Mapping):
            options = dict(first)
        elif is_pipe_name(first) or _is_handle(first):
            # (a handle: Node's listen(handle[, backlog][, cb]), see _net/fd.py)
            options = {"path" if is_pipe_name(first) else "handle": first}
            if rest and isinstance(rest[0], int):
                options["backlog"] = rest[0]
        else:  # (None: Node's null/undefined port, any free port)
            options = {"port": first}
            if rest and (isinstance(rest[0], str) or rest[0] is None):
                options["host"] = rest.pop(0)
            if rest and isinstance(rest[0], int):
                options["backlog"] = rest[0]
    options.update(kw)
    return options, cb
