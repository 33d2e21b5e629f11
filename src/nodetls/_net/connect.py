"""The client connect procedure (the argument rules are in :mod:`.args`).

``connect`` follows Node v20's ``lookupAndConnect``: resolve (``'lookup'`` event, skipped for IP
literals), then connect to the one address (``internalConnect``: ``'connectionAttempt'``, and
``'connectionAttemptFailed'`` when it fails) or try several in turn (:mod:`.autoselect`), binding
``local_address``/``local_port`` first when given. Errors carry Node's fields
(``connect ECONNREFUSED 127.0.0.1:1``, ``code``, ``errno``, ``syscall``, ``address``, ``port``).
"""

from __future__ import annotations

import asyncio
import errno as _errno
import inspect
import re
import socket
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import (
    NodeError,
    NodeRangeError,
    SystemNodeError,
    node_error,
    system_error,
)
from . import autoselect
from .address import is_ip
from .args import dns_family, validate_port
from .autoselect import bound_socket, connect_error, connect_socket, family_number, local_for
from .handle import NO_OWNER

if TYPE_CHECKING:
    from .handle import TCPHandle
    from .socket import Socket

__all__ = ["do_connect", "connect_error", "lookup_listen_host"]


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


def _start_lookup(lookup: Callable[..., Any], host: str, dnsopts: dict[str, Any],
                  loop: asyncio.AbstractEventLoop
                  ) -> tuple[asyncio.Future[tuple[Any, Any, Any]], asyncio.Future[Any] | None]:
    """Call ``options.lookup(host, dnsopts, callback)`` now, as Node's ``lookupAndConnect``
    does inside ``connect()``: an exception it raises is raised to the caller. Returns the
    future of the callback's ``(err, address, family)`` (the callback may be called later,
    from another task or thread) and the task running ``lookup`` when it is an ``async def``
    (its exception, if it has one, becomes the future's)."""
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

    # (marked retrieved: a socket destroyed before its connect task ran never awaits it)
    answer.add_done_callback(lambda f: f.cancelled() or f.exception())
    started = lookup(host, dnsopts, callback)
    task: asyncio.Future[Any] | None = None
    if inspect.isawaitable(started):
        task = asyncio.ensure_future(started)
        task.add_done_callback(failed)
    return answer, task


async def _custom_lookup(sock: Socket, host: str, options: Mapping[str, Any],
                         dnsopts: dict[str, Any],
                         pending: tuple[asyncio.Future[tuple[Any, Any, Any]],
                                        asyncio.Future[Any] | None]
                         ) -> list[tuple[int, str]] | None:
    """The rest of Node's ``lookupAndConnect`` with ``options.lookup`` (called already, see
    :func:`_start_lookup`): ``callback(err, address, family)``, or with ``dnsopts['all']``
    ``callback(err, [{'address': ..., 'family': ...}, ...])``; ``'lookup'`` events as Node emits
    them; an error given to the callback, or raised by an ``async def`` lookup, destroys the
    socket with it as it is; an address that is not an IP is ``ERR_INVALID_IP_ADDRESS``, a
    family other than 4 and 6 ``ERR_INVALID_ADDRESS_FAMILY`` (both raised). ``None`` when the
    socket is not connecting any more (destroyed meanwhile, or by the error)."""
    answer, task = pending
    try:
        err, address, family = await answer
    except asyncio.CancelledError:
        if task is not None:
            task.cancel()
        raise
    except Exception as exc:  # noqa: BLE001 - raised by an async lookup: the error as it is
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


def _dns_plan(options: Mapping[str, Any]) -> tuple[Any, int, bool]:
    """Node's ``lookupAndConnect`` choices for a host name: ``(family, hints, multi)`` as
    ``dns.lookup`` (or ``options.lookup``) gets them; ``multi``: ask for every address
    (``all: True``) unless a family or a local address is given, or ``auto_select_family`` is
    ``False`` (its process-wide default when not given)."""
    family = dns_family(options.get("family"))
    hints = options.get("hints") or 0
    if family not in (4, 6) and not hints:
        hints = socket.AI_ADDRCONFIG
    auto = options.get("auto_select_family")
    if auto is None:
        auto = autoselect.get_default_auto_select_family()
    multi = bool(family not in (4, 6) and not options.get("local_address") and auto)
    return family, hints, multi


def do_connect(sock: Socket, handle: TCPHandle, options: Mapping[str, Any],
               loop: asyncio.AbstractEventLoop | None = None) -> Coroutine[Any, Any, None]:
    """Node's ``lookupAndConnect``: the coroutine that connects ``handle`` as ``options`` say
    (on failure ``sock.destroy(err)``, Node-coded). An ``options.lookup`` function is called
    here and now, as Node calls it inside ``connect()`` for a host that is not an IP: what it
    raises is raised to the caller of ``connect()`` (the handle is then closed and the socket
    not connecting). ``loop``: the running loop, when the caller has it."""
    if loop is None:
        loop = asyncio.get_running_loop()
    lookup = options.get("lookup")
    host = options.get("host") or "localhost"
    pending = None
    if lookup is not None and not options.get("path") and not is_ip(host):
        _family, hints, multi = _dns_plan(options)
        dnsopts: dict[str, Any] = {"family": _family, "hints": hints}
        if multi:
            dnsopts["all"] = True
        try:
            pending = (dnsopts, _start_lookup(lookup, host, dnsopts, loop))
        except BaseException:
            sock.connecting = False
            handle.owner = NO_OWNER
            handle.close()
            raise
    return _do_connect(sock, handle, options, loop, pending)


async def _do_connect(sock: Socket, handle: TCPHandle, options: Mapping[str, Any],
                      loop: asyncio.AbstractEventLoop,
                      pending: tuple[dict[str, Any], tuple[asyncio.Future[Any],
                                                           asyncio.Future[Any] | None]] | None
                      ) -> None:
    """:func:`do_connect`'s coroutine; ``pending``: the lookup options and the answer of an
    ``options.lookup`` called already."""
    path = options.get("path")
    try:
        if path:
            await _connect_path(sock, handle, path, loop)
            return
        host = options.get("host") or "localhost"
        port = validate_port(options.get("port") or 0)
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
            found: list[tuple[int, str]] | None
            if pending is not None:
                found = await _custom_lookup(sock, host, options, *pending)
            else:
                family, hints, multi = _dns_plan(options)
                found = await _resolve(sock, host, port, family, hints, multi)
            if found is None:  # no longer connecting ('lookup' listener destroyed it)
                return
            targets = found
        if local_address:
            want = socket.AF_INET6 if is_ip(local_address) == 6 else socket.AF_INET
            targets = [t for t in targets if t[0] == want] or targets
        if len(targets) == 1:
            af, ip = targets[0]
            await _connect_one(sock, handle, af, ip, port, local_for(af, local), loop)
            return
        timeout = options.get("auto_select_family_attempt_timeout")
        s = await autoselect.connect_multiple(
            sock, targets, port, local,
            autoselect.get_default_auto_select_family_attempt_timeout() if timeout is None
            else autoselect.attempt_timeout(timeout, "options.autoSelectFamilyAttemptTimeout"))
        if s is not None:
            await _adopt(loop, handle, s)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 - bad options etc. reach the socket as errors
        sock._on_connect_error(exc)


async def _connect_path(sock: Socket, handle: TCPHandle, path: str,
                        loop: asyncio.AbstractEventLoop) -> None:
    """Node's ``internalConnect`` for a pipe: ``'connectionAttempt'(path, None, None)``, then
    ``'connectionAttemptFailed'(path, None, None, err)`` and the error if it fails."""
    sock.emit("connectionAttempt", path, None, None)
    if not sock.connecting:
        return
    try:
        await loop.create_unix_connection(lambda: handle, path)
    except OSError as exc:
        err = connect_error(exc, "connect", path, None)
        sock.emit("connectionAttemptFailed", path, None, None, err)
        raise err from None


async def _connect_one(sock: Socket, handle: TCPHandle, af: int, ip: str, port: int,
                       local: tuple[str, int] | None, loop: asyncio.AbstractEventLoop) -> None:
    """Node's ``internalConnect`` for one address: bind ``local`` first when given (a failure
    is the ``bind`` error), ``'connectionAttempt'(ip, port, family)``, connect; a failure emits
    ``'connectionAttemptFailed'(ip, port, family, err)`` and raises ``err``."""
    family = family_number(af)
    s = bound_socket(af, local) if local is not None else None
    sock.emit("connectionAttempt", ip, port, family)
    if not sock.connecting:
        if s is not None:
            s.close()
        return
    try:
        if s is None:
            # Nothing to bind: the loop connects on its own (uvloop: in C, no Python socket
            # object, no writer registered for the connect, no fd handed over).
            await loop.create_connection(lambda: handle, ip, port, family=af)
            return
        await connect_socket(s, ip, port, None)
    except OSError as exc:
        err = connect_error(exc, "connect", ip, port, local)
        sock.emit("connectionAttemptFailed", ip, port, family, err)
        raise err from None
    await _adopt(loop, handle, s)


async def _adopt(loop: asyncio.AbstractEventLoop, handle: TCPHandle, s: socket.socket) -> None:
    """The loop's transport over the connected socket ``s`` (closed if that fails or the
    connect is cancelled meanwhile: a destroy() while connecting)."""
    try:
        await loop.create_connection(lambda: handle, sock=s)
    except BaseException:
        s.close()
        raise
