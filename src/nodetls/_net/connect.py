"""Argument normalisation (Node's ``normalizeArgs``) and the client connect procedure.

``connect`` follows Node v20's ``lookupAndConnect``: resolve (``'lookup'`` event, skipped for IP
literals), then try each address in order, giving all but the last
``AUTO_SELECT_FAMILY_ATTEMPT_TIMEOUT`` seconds (Node's ``autoSelectFamily`` default), binding
``local_address``/``local_port`` first when given. Errors carry Node's fields
(``connect ECONNREFUSED 127.0.0.1:1``, ``code``, ``errno``, ``syscall``, ``address``, ``port``).
"""

from __future__ import annotations

import asyncio
import errno as _errno
import inspect
import math
import os
import re
import socket
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .._option_table import check as check_option
from .._option_table import type_error
from ..errors import (
    InvalidArgValueError,
    NodeError,
    NodeRangeError,
    SystemNodeError,
    node_error,
    system_error,
)
from .address import is_ip

if TYPE_CHECKING:
    from .handle import TCPHandle
    from .socket import Socket

__all__ = ["normalize_connect_args", "normalize_listen_args", "validate_port", "do_connect",
           "check_connect_options", "listen_target", "js_number", "is_pipe_name"]

#: Node v20 ``net.getDefaultAutoSelectFamilyAttemptTimeout()`` (250 ms).
AUTO_SELECT_FAMILY_ATTEMPT_TIMEOUT = 0.25

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


def normalize_connect_args(args: tuple[Any, ...], kwargs: Mapping[str, Any]
                           ) -> tuple[dict[str, Any], Callable[..., Any] | None]:
    """Node's ``normalizeArgs`` for ``connect``: ``(options[, cb])``, ``(path[, cb])``,
    ``(port[, host][, cb])``; keywords merge over the positional options. A string is a path
    when it is not a number >= 0 for JavaScript's ``Number()`` (Node's ``isPipeName``: ``'80'``
    and ``'0x50'`` are ports, ``''`` too, a bad one). ``None`` is JavaScript's ``undefined``:
    no port."""
    kw = dict(kwargs)
    cb = kw.pop("callback", None)
    if args and callable(args[-1]):
        cb = args[-1]
        args = args[:-1]
    options: dict[str, Any] = {}
    if args:
        first = args[0]
        if isinstance(first, Mapping):
            options = dict(first)
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


def _dns_family(family: Any) -> Any:
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


def normalize_listen_args(args: tuple[Any, ...], kwargs: Mapping[str, Any]
                          ) -> tuple[dict[str, Any], Callable[..., Any] | None]:
    """``listen()`` forms: ``(port[, host][, backlog][, cb])``, ``(path[, backlog][, cb])``,
    ``(options[, cb])``; keywords merge over them. A string is a path as for ``connect()``
    (Node's ``isPipeName``); :func:`listen_target` then applies Node's rules."""
    kw = dict(kwargs)
    cb = kw.pop("callback", None)
    if args and callable(args[-1]):
        cb = args[-1]
        args = args[:-1]
    options: dict[str, Any] = {}
    if args:
        first, rest = args[0], list(args[1:])
        if isinstance(first, Mapping):
            options = dict(first)
        elif is_pipe_name(first):
            options = {"path": first}
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


def _gai_error(exc: socket.gaierror, host: str) -> SystemNodeError:
    code = {
        socket.EAI_NONAME: "ENOTFOUND",
        getattr(socket, "EAI_NODATA", socket.EAI_NONAME): "ENOTFOUND",
        socket.EAI_AGAIN: "EAI_AGAIN",
    }.get(exc.errno, "ENOTFOUND")
    err = system_error(code, f"getaddrinfo {code} {host}", errno=exc.errno,
                       syscall="getaddrinfo", hostname=host)
    err.__cause__ = exc
    return err


def _einval(host: str) -> SystemNodeError:
    """Node's error for a host name libuv cannot convert to ASCII (``getaddrinfo EINVAL``)."""
    return system_error("EINVAL", f"getaddrinfo EINVAL {host}", errno=_errno.EINVAL,
                        syscall="getaddrinfo", hostname=host)


_DOTS = re.compile("[.\u3002\uff0e\uff61]")


def ascii_host(host: str) -> bytes | None:
    """The host name as ``getaddrinfo`` gets it (libuv's ``uv__idna_toascii``): IDNA, or where
    Python's IDNA 2003 codec refuses a name (a label over 63 characters, an empty label) each
    label as it is, or ``'xn--'`` + Punycode when not ASCII, and the resolver answers (Node:
    ``ENOTFOUND``). ``None`` when libuv cannot convert it either (over 255 bytes, not
    encodable): Node's ``EINVAL``."""
    try:
        name = host.encode("idna")
    except UnicodeError:
        labels = []
        for label in _DOTS.split(host):
            try:
                labels.append(label.encode("ascii") if label.isascii()
                              else b"xn--" + label.encode("utf-8").decode().encode("punycode"))
            except UnicodeError:
                return None
        name = b".".join(labels)
    return name if len(name) <= 255 else None


async def lookup_listen_host(host: str, port: int) -> list[Any]:
    """``getaddrinfo`` for ``listen(port, host)``: Node's ``getaddrinfo ENOTFOUND``/``EINVAL``
    errors (raised), else the address infos."""
    name = ascii_host(host)
    if name is None:
        raise _einval(host)
    try:
        return await asyncio.get_running_loop().getaddrinfo(name, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise _gai_error(exc, host) from None


def connect_error(exc: OSError, syscall: str, address: Any, port: Any) -> SystemNodeError:
    """Node's ``exceptionWithHostPort``: ``'<syscall> <CODE> <address>:<port>'`` with fields."""
    if isinstance(exc, SystemNodeError):
        return exc
    if isinstance(exc, TimeoutError) and not exc.errno:
        code, num = "ETIMEDOUT", _errno.ETIMEDOUT
    else:
        num = exc.errno or 0
        code = _errno.errorcode.get(num, "EIO")
    # (Node's exceptionWithHostPort names the port only when it is > 0)
    where = f"{address}:{port}" if isinstance(port, int) and port > 0 else f"{address}"
    fields: dict[str, Any] = {"syscall": syscall, "address": address}
    if port is not None:
        fields["port"] = port
    err = system_error(code, f"{syscall} {code} {where}", errno=num, **fields)
    err.__cause__ = exc
    return err


_AF: dict[Any, int] = {4: socket.AF_INET, 6: socket.AF_INET6}
_FAMILY: dict[int, int] = {socket.AF_INET: 4, socket.AF_INET6: 6}


def _interleave(addresses: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Node's ``lookupAndConnectMultiple`` order: families alternate, the first address's first."""
    first = [a for a in addresses if a[0] == addresses[0][0]]
    other = [a for a in addresses if a[0] != addresses[0][0]]
    out: list[tuple[int, str]] = []
    for i in range(max(len(first), len(other))):
        out.extend(group[i] for group in (first, other) if i < len(group))
    return out


async def _resolve(sock: Socket, host: str, port: int, family: Any, hints: int,
                   multi: bool) -> list[tuple[int, str]] | None:
    """Node's ``dns.lookup`` for ``connect``: every address with ``multi`` (a ``'lookup'`` event
    each, families alternating), else a ``'lookup'`` event for the first. A failure emits
    ``'lookup'(err, None, None, host)`` and raises Node's ``getaddrinfo`` error. ``None`` when
    the socket stopped connecting meanwhile (a ``'lookup'`` listener destroyed it)."""
    loop = asyncio.get_running_loop()
    fam = _AF.get(family, socket.AF_UNSPEC)
    name = ascii_host(host)
    err: SystemNodeError | None = None
    infos: list[Any] = []
    if name is None:
        err = _einval(host)
    else:
        try:
            infos = await loop.getaddrinfo(name, port, family=fam, type=socket.SOCK_STREAM,
                                           flags=hints)
        except socket.gaierror as exc:
            err = _gai_error(exc, host)
    seen: list[tuple[int, str]] = []
    for fam_i, _t, _p, _c, sa in infos:
        item = (fam_i, str(sa[0]))
        if item not in seen:
            seen.append(item)
    if err is None and not seen:
        err = system_error("ENOTFOUND", f"getaddrinfo ENOTFOUND {host}", syscall="getaddrinfo",
                           hostname=host)
    if err is not None:
        sock.emit("lookup", err, None, None, host)
        raise err
    for af, ip in seen if multi else seen[:1]:
        sock.emit("lookup", None, ip, _FAMILY.get(af), host)
        if not sock.connecting:
            return None
    return _interleave(seen) if multi else seen


def _lookup_error(err: Any) -> BaseException:
    return err if isinstance(err, BaseException) else NodeError(str(err))


async def _custom_lookup(sock: Socket, lookup: Callable[..., Any], host: str,
                         options: Mapping[str, Any], dnsopts: dict[str, Any]
                         ) -> list[tuple[int, str]] | None:
    """Node's ``lookupAndConnect`` with ``options.lookup``: ``lookup(host, dnsopts, callback)``,
    ``callback(err, address, family)``, or with ``dnsopts['all']``
    ``callback(err, [{'address': ..., 'family': ...}, ...])``; ``'lookup'`` events as Node emits
    them; an error given to the callback or raised by ``lookup`` destroys the socket with it as it
    is; an address that is not an IP is ``ERR_INVALID_IP_ADDRESS``, a family other than 4 and
    6 ``ERR_INVALID_ADDRESS_FAMILY`` (both raised). The callback may be called later, from
    another task or thread; ``lookup`` may be an ``async def``. ``None`` when the socket is not
    connecting any more (destroyed meanwhile, or by the error)."""
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[tuple[Any, Any, Any]] = loop.create_future()

    def settle(result: tuple[Any, Any, Any]) -> None:
        if not answer.done():
            answer.set_result(result)

    def callback(err: Any = None, address: Any = None, family: Any = None) -> None:
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            settle((err, address, family))
        else:
            loop.call_soon_threadsafe(settle, (err, address, family))

    def failed(task: asyncio.Future[Any]) -> None:
        if not task.cancelled() and task.exception() is not None and not answer.done():
            answer.set_exception(task.exception())  # type: ignore[arg-type]

    task: asyncio.Future[Any] | None = None
    try:
        started = lookup(host, dnsopts, callback)
        if inspect.isawaitable(started):
            task = asyncio.ensure_future(started)
            task.add_done_callback(failed)
        err, address, family = await answer
    except asyncio.CancelledError:
        if task is not None:
            task.cancel()
        raise
    except Exception as exc:  # noqa: BLE001 - raised by the lookup function: the error as it is
        sock._on_connect_error(exc)
        return None

    def bad_family(family: Any) -> BaseException:
        return NodeRangeError(
            f"Invalid address family: {family} {options.get('host')}:{options.get('port')}",
            "ERR_INVALID_ADDRESS_FAMILY", host=options.get("host"), port=options.get("port"))

    if not dnsopts.get("all"):
        sock.emit("lookup", err, address, family, host)
        if not sock.connecting:
            return None
        if err:
            sock._on_connect_error(_lookup_error(err))  # (as it is: no connect_error wrapping)
            return None
        kind = is_ip(address)
        if not kind:
            raise node_error("ERR_INVALID_IP_ADDRESS", address)
        if family not in (4, 6) or isinstance(family, bool):
            raise bad_family(family)
        return [(_AF[kind], address)]
    if err:
        sock.emit("lookup", err, None, None, host)
        if sock.connecting:
            sock._on_connect_error(_lookup_error(err))
        return None
    entries = [e if isinstance(e, Mapping) else {} for e in address] if isinstance(
        address, (list, tuple)) else [{}]
    valid: list[tuple[int, str]] = []
    for entry in entries:
        ip: Any = entry.get("address")
        fam = entry.get("family")
        sock.emit("lookup", None, ip, fam, host)
        if not sock.connecting:
            return None
        kind = is_ip(ip)
        if kind and fam in (4, 6) and not isinstance(fam, bool) and (_AF[kind], ip) not in valid:
            valid.append((_AF[kind], ip))
    if not valid:
        first = entries[0] if entries else {}
        if not is_ip(first.get("address")):
            raise node_error("ERR_INVALID_IP_ADDRESS", first.get("address"))
        raise bad_family(first.get("family"))
    return _interleave(valid)


async def _attempt(af: int, ip: str, port: int, local: tuple[str, int] | None,
                   timeout: float | None) -> socket.socket:
    loop = asyncio.get_running_loop()
    s = socket.socket(af, socket.SOCK_STREAM)
    try:
        s.setblocking(False)
        if local is not None:
            try:
                s.bind((local[0] or ("::" if af == socket.AF_INET6 else "0.0.0.0"), local[1]))
            except OSError as exc:
                raise connect_error(exc, "bind", local[0], local[1]) from None
        if timeout is None:
            await loop.sock_connect(s, (ip, port))
        else:
            await asyncio.wait_for(loop.sock_connect(s, (ip, port)), timeout)
    except BaseException:
        s.close()
        raise
    return s


async def do_connect(sock: Socket, handle: TCPHandle, options: Mapping[str, Any],
                     loop: asyncio.AbstractEventLoop | None = None) -> None:
    """Connect ``handle`` as ``options`` say; on failure ``sock.destroy(err)`` (Node-coded).
    ``loop``: the running loop, when the caller has it."""
    if loop is None:
        loop = asyncio.get_running_loop()
    path = options.get("path")
    address: Any = path
    port: Any = None
    try:
        if path:
            await loop.create_unix_connection(lambda: handle, path)
            return
        host = options.get("host") or "localhost"
        port = validate_port(options.get("port") or 0)
        family = _dns_family(options.get("family"))
        local_address = options.get("local_address")
        local_port = options.get("local_port")
        local = None
        if local_address or local_port:
            local = (local_address or "", int(local_port or 0))
        kind = is_ip(host)
        if kind:
            targets: list[tuple[int, str]] = [
                (socket.AF_INET6 if kind == 6 else socket.AF_INET, host)]
        else:
            # Node: dns.lookup(host, {family, hints[, all]}) or options.lookup, the same way;
            # every address (all: True) unless a family or a local address is given, or
            # auto_select_family is False.
            hints = options.get("hints") or 0
            if family not in (4, 6) and not hints:
                hints = socket.AI_ADDRCONFIG
            multi = (family not in (4, 6) and not local_address
                     and options.get("auto_select_family") is not False)
            lookup = options.get("lookup")
            found: list[tuple[int, str]] | None
            if lookup is not None:
                dnsopts: dict[str, Any] = {"family": family, "hints": hints}
                if multi:
                    dnsopts["all"] = True
                found = await _custom_lookup(sock, lookup, host, options, dnsopts)
            else:
                found = await _resolve(sock, host, port, family, hints, multi)
            if found is None:  # no longer connecting ('lookup' listener destroyed it)
                return
            targets = found
        if local_address:
            want = socket.AF_INET6 if is_ip(local_address) == 6 else socket.AF_INET
            targets = [t for t in targets if t[0] == want] or targets
        if local is None and len(targets) == 1:
            # One address, nothing to bind: the loop connects on its own (uvloop: in C, no
            # Python socket object, no writer registered for the connect, no fd handed over).
            af, address = targets[0]
            await loop.create_connection(lambda: handle, address, port, family=af)
            return
        first_error: BaseException | None = None
        for i, (af, ip) in enumerate(targets):
            address = ip
            last = i == len(targets) - 1
            try:
                s = await _attempt(af, ip, port, local,
                                   None if last else AUTO_SELECT_FAMILY_ATTEMPT_TIMEOUT)
            except (TimeoutError, OSError) as exc:
                if first_error is None:
                    first_error = exc if isinstance(exc, SystemNodeError) else connect_error(
                        exc, "connect", ip, port)
                continue
            await loop.create_connection(lambda: handle, sock=s)
            return
        assert first_error is not None
        raise first_error
    except asyncio.CancelledError:
        raise
    except SystemNodeError as err:
        sock._on_connect_error(err)
    except OSError as exc:
        sock._on_connect_error(connect_error(exc, "connect", address, port))
    except Exception as exc:  # noqa: BLE001 - bad options etc. reach the socket as errors
        sock._on_connect_error(exc)
