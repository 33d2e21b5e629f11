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
import socket
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import SystemNodeError, node_error, system_error
from .address import is_ip

if TYPE_CHECKING:
    from .handle import TCPHandle
    from .socket import Socket

__all__ = ["normalize_connect_args", "normalize_listen_args", "validate_port", "do_connect"]

#: Node v20 ``net.getDefaultAutoSelectFamilyAttemptTimeout()`` (250 ms).
AUTO_SELECT_FAMILY_ATTEMPT_TIMEOUT = 0.25


def _is_port_like(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, str):
        try:
            return float(value) >= 0
        except ValueError:
            return False
    return False


def validate_port(port: Any, name: str = "Port", allow_zero: bool = True) -> int:
    """Node's ``validatePort``: an int (or numeric str) in 0..65535, else ``ERR_SOCKET_BAD_PORT``."""
    if isinstance(port, bool) or not isinstance(port, (int, str, float)):
        raise node_error("ERR_SOCKET_BAD_PORT", name, repr(port))
    try:
        value = float(port) if isinstance(port, str) else port
    except ValueError:
        raise node_error("ERR_SOCKET_BAD_PORT", name, repr(port)) from None
    if (isinstance(port, str) and not port.strip()) or value != int(value) or not (
        0 <= int(value) <= 0xFFFF) or (not allow_zero and int(value) == 0):
        raise node_error("ERR_SOCKET_BAD_PORT", name, repr(port))
    return int(value)


def normalize_connect_args(args: tuple[Any, ...], kwargs: Mapping[str, Any]
                           ) -> tuple[dict[str, Any], Callable[..., Any] | None]:
    """Node's ``normalizeArgs`` for ``connect``: ``(options[, cb])``, ``(path[, cb])``,
    ``(port[, host][, cb])``; keywords merge over the positional options."""
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
        elif isinstance(first, str) and not _is_port_like(first):
            options = {"path": first}
        elif first is not None:
            options = {"port": first}
            if len(args) > 1 and isinstance(args[1], str):
                options["host"] = args[1]
    options.update(kw)
    return options, cb


def normalize_listen_args(args: tuple[Any, ...], kwargs: Mapping[str, Any]
                          ) -> tuple[dict[str, Any], Callable[..., Any] | None]:
    """``listen()`` forms: ``(port[, host][, backlog][, cb])``, ``(path[, backlog][, cb])``,
    ``(options[, cb])``; keywords merge over them."""
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
        elif isinstance(first, str) and not _is_port_like(first):
            options = {"path": first}
            if rest and isinstance(rest[0], int):
                options["backlog"] = rest[0]
        elif first is not None:
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


def connect_error(exc: OSError, syscall: str, address: Any, port: Any) -> SystemNodeError:
    """Node's ``exceptionWithHostPort``: ``'<syscall> <CODE> <address>:<port>'`` with fields."""
    if isinstance(exc, SystemNodeError):
        return exc
    if isinstance(exc, TimeoutError) and not exc.errno:
        code, num = "ETIMEDOUT", _errno.ETIMEDOUT
    else:
        num = exc.errno or 0
        code = _errno.errorcode.get(num, "EIO")
    where = f"{address}:{port}" if port is not None else f"{address}"
    fields: dict[str, Any] = {"syscall": syscall, "address": address}
    if port is not None:
        fields["port"] = port
    err = system_error(code, f"{syscall} {code} {where}", errno=num, **fields)
    err.__cause__ = exc
    return err


async def _resolve(sock: Socket, host: str, port: int, family: int) -> list[tuple[int, str]]:
    loop = asyncio.get_running_loop()
    fam = {4: socket.AF_INET, 6: socket.AF_INET6}.get(family, socket.AF_UNSPEC)
    try:
        infos = await loop.getaddrinfo(host, port, family=fam, type=socket.SOCK_STREAM,
                                       flags=socket.AI_ADDRCONFIG if fam == socket.AF_UNSPEC else 0)
    except socket.gaierror as exc:
        err = _gai_error(exc, host)
        sock.emit("lookup", err, None, None, host)
        raise err from None
    seen: list[tuple[int, str]] = []
    for fam_i, _t, _p, _c, sa in infos:
        item = (fam_i, str(sa[0]))
        if item not in seen:
            seen.append(item)
    if not seen:
        err = system_error("ENOTFOUND", f"getaddrinfo ENOTFOUND {host}", syscall="getaddrinfo",
                           hostname=host)
        sock.emit("lookup", err, None, None, host)
        raise err
    af, ip = seen[0]
    sock.emit("lookup", None, ip, 6 if af == socket.AF_INET6 else 4, host)
    return seen


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
        port = validate_port(options.get("port", 0))
        family = int(options.get("family") or 0)
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
            targets = await _resolve(sock, host, port, family)
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
