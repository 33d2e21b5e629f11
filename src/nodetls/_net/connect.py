"""The client connect procedure (the argument rules are in :mod:`.args`).

``connect`` follows Node v20's ``lookupAndConnect``: resolve (``'lookup'`` event, skipped for IP
literals), then connect to the one address (``internalConnect``: ``'connectionAttempt'``, and
``'connectionAttemptFailed'`` when it fails) or try several in turn (:mod:`.autoselect`), binding
``local_address``/``local_port`` first when given. Errors carry Node's fields
(``connect ECONNREFUSED 127.0.0.1:1``, ``code``, ``errno``, ``syscall``, ``address``, ``port``).
An ``options.lookup`` function is called inside ``connect()``; when it calls back before it
returns, its ``'lookup'`` events and the first attempt's bind and ``'connectionAttempt'`` happen
there too, as in Node (:class:`_LookupCall`); the rest is the socket's connect task. A
``destroy()`` while one of several addresses is being tried emits that attempt's
``'connectionAttemptFailed'`` with Node's ``ECANCELED`` error (see :mod:`.autoselect`).
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
from . import autoselect, connect_again
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
                   multi: bool, second: bool = False) -> list[tuple[int, str]] | None:
    """Node's ``dns.lookup`` for ``connect``: every address with ``multi`` (a ``'lookup'`` event
    each, families alternating), else a ``'lookup'`` event for the first. A failure emits
    ``'lookup'(err, None, None, host)`` and raises Node's ``getaddrinfo`` error. ``None`` when
    the socket stopped connecting meanwhile (a ``'lookup'`` listener destroyed it).
    ``second``: a second ``connect()``'s, answered once the first's connect has begun
    (``connect_again.first_begun``)."""
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
    if second:
        await connect_again.first_begun(sock)
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


def _bad_family(options: Mapping[str, Any], family: Any) -> BaseException:
    return NodeRangeError(
        f"Invalid address family: {family} {options.get('host')}:{options.get('port')}",
        "ERR_INVALID_ADDRESS_FAMILY", host=options.get("host"), port=options.get("port"))


_Targets = list[tuple[int, str]]


def _take_answer(sock: Socket, host: str, options: Mapping[str, Any], dnsopts: Mapping[str, Any],
                 err: Any, address: Any, family: Any) -> _Targets | BaseException | None:
    """Node's ``emitLookup`` (``lookupAndConnect``, ``lookupAndConnectMultiple``) for the
    answer of ``options.lookup``: ``callback(err, address, family)``, or with ``dnsopts['all']``
    ``callback(err, [{'address': ..., 'family': ...}, ...])``. Emits the ``'lookup'`` events
    and returns the addresses to try, or the error to destroy the socket with (the lookup's as
    it is; an address that is not an IP: ``ERR_INVALID_IP_ADDRESS``; a family other than 4 and
    6: ``ERR_INVALID_ADDRESS_FAMILY``), or ``None`` when the socket is not connecting (any
    more: a ``'lookup'`` listener destroyed it)."""
    if not dnsopts.get("all"):
        sock.emit("lookup", err, address, family, host)
        if not sock.connecting:
            return None
        if err:
            return _lookup_error(err)  # (as it is: no connect_error wrapping)
        kind = is_ip(address)
        if not kind:
            return node_error("ERR_INVALID_IP_ADDRESS", address)
        if family not in (4, 6) or isinstance(family, bool):
            return _bad_family(options, family)
        return [(_AF[kind], address)]
    if not sock.connecting:
        return None
    if err:
        sock.emit("lookup", err, None, None, host)
        return _lookup_error(err) if sock.connecting else None
    entries: list[Mapping[str, Any]]
    if isinstance(address, str):  # (Node reads a string's characters: no address, no family)
        entries = [{}] * len(address)
    elif isinstance(address, (list, tuple)):
        entries = [e if isinstance(e, Mapping) else {} for e in address]
    else:
        entries = [{}]
    valid: _Targets = []
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
            return node_error("ERR_INVALID_IP_ADDRESS", first.get("address"))
        return _bad_family(options, first.get("family"))
    return _interleave(valid)


class _One:
    """Node's ``internalConnect`` for one address: :meth:`begin` binds ``local`` first when
    given and emits ``'connectionAttempt'(ip, port, family)``; :meth:`finish` connects (a
    failure emits ``'connectionAttemptFailed'(ip, port, family, err)`` and raises ``err``). A
    ``destroy()`` meanwhile emits nothing for the attempt, as Node's ``afterConnect`` returns at
    once for a destroyed socket (unlike several addresses': see
    :class:`~.autoselect.MultipleConnect`)."""

    __slots__ = ("af", "ip", "port", "local", "s")

    def __init__(self, af: int, ip: str, port: int, local: tuple[str, int] | None) -> None:
        self.af, self.ip, self.port, self.local = af, ip, port, local
        self.s: socket.socket | None = None

    def begin(self, sock: Socket) -> _One | BaseException | None:
        """The bind and ``'connectionAttempt'``: ``self``, or the ``bind`` error, or ``None``
        when a listener stopped the connecting."""
        if self.local is not None:
            try:
                self.s = bound_socket(self.af, self.local)
            except SystemNodeError as exc:
                return exc
        try:
            sock.emit("connectionAttempt", self.ip, self.port, family_number(self.af))
        except BaseException:  # (a listener's, raised out of connect(): see _LookupCall)
            self.abandon()
            raise
        if not sock.connecting:
            self.abandon()
            return None
        return self

    def abandon(self) -> None:
        """Close the bound socket, if any (the connect goes no further)."""
        if self.s is not None:
            self.s.close()
            self.s = None

    async def finish(self, sock: Socket, handle: TCPHandle,
                     loop: asyncio.AbstractEventLoop) -> None:
        s, self.s = self.s, None
        try:
            if sock._show_connecting_socket:  # (a second connect() wants its local address)
                if s is None:
                    s = bound_socket(self.af, None)
                sock._connecting_socket = s
                if connect_again.connect_at_once(s, self.ip, self.port):
                    await connect_socket(s, self.ip, self.port, None)
            elif s is None:
                # Nothing to bind: the loop connects on its own (uvloop: in C, no Python
                # socket object, no writer registered for the connect, no fd handed over).
                await loop.create_connection(lambda: handle, self.ip, self.port,
                                             family=self.af)
                return
            else:
                await connect_socket(s, self.ip, self.port, None)
        except OSError as exc:
            sock._connecting_socket = None
            err = connect_error(exc, "connect", self.ip, self.port, self.local)
            sock.emit("connectionAttemptFailed", self.ip, self.port, family_number(self.af), err)
            raise err from None
        except BaseException:
            sock._connecting_socket = None
            raise
        try:
            await _adopt(loop, handle, s)
        finally:
            sock._connecting_socket = None


_Begun = _One | autoselect.MultipleConnect


def _endpoint(options: Mapping[str, Any]) -> tuple[int, tuple[str, int] | None]:
    """The port to connect to and the local ``(address, port)`` to bind, if any."""
    port = validate_port(options.get("port") or 0)
    local_address = options.get("local_address")
    local_port = options.get("local_port")
    local = (local_address or "", int(local_port or 0)) if local_address or local_port else None
    return port, local


def _begin(sock: Socket, options: Mapping[str, Any], targets: _Targets, port: int,
           local: tuple[str, int] | None) -> _Begun | BaseException | None:
    """Node's ``internalConnect`` (one address) or ``internalConnectMultiple`` (several) up to
    the connect call (the bind, ``'connectionAttempt'``): what :meth:`finish` completes, or the
    error to destroy the socket with, or ``None`` when a listener stopped the connecting."""
    local_address = options.get("local_address")
    if local_address:
        want = socket.AF_INET6 if is_ip(local_address) == 6 else socket.AF_INET
        targets = [t for t in targets if t[0] == want] or targets
    if len(targets) == 1:
        af, ip = targets[0]
        return _One(af, ip, port, local_for(af, local)).begin(sock)
    timeout = options.get("auto_select_family_attempt_timeout")
    return autoselect.MultipleConnect(
        sock, targets, port, local,
        autoselect.get_default_auto_select_family_attempt_timeout() if timeout is None
        else autoselect.attempt_timeout(timeout, "options.autoSelectFamilyAttemptTimeout")
    ).begin()


#: The sockets (``id``) whose ``options.lookup`` is answering inside ``connect()`` right now:
#: an exception escaping one of their listeners then (``'lookup'``, ``'connectionAttempt'``) is
#: raised there (``Socket._on_listener_error``), out of the callback, the lookup function and
#: ``connect()``, as Node's ``emit`` throws through ``emitLookup`` and ``lookupAndConnect``.
ANSWERING: set[int] = set()


class _LookupCall:
    """One call of ``options.lookup(host, dnsopts, callback)``, made by :func:`do_connect`
    inside ``connect()`` as Node's ``lookupAndConnect`` makes it.

    A callback called before ``lookup`` returns (on the loop's thread) is Node's ``emitLookup``
    right then: the ``'lookup'`` events inside ``connect()``, then the bind and
    ``'connectionAttempt'`` (a ``bind`` error destroys the socket there and then), or, for an
    error answer, the error kept for the connect task (Node: ``process.nextTick``). A callback
    called later (another task, a thread, an ``async def`` lookup) settles :attr:`answer`, and
    the connect task does all that when it gets it."""

    __slots__ = ("sock", "host", "options", "dnsopts", "port", "local", "loop", "answer",
                 "task", "calling", "answered", "taken", "outcome")

    def __init__(self, sock: Socket, host: str, options: Mapping[str, Any],
                 dnsopts: dict[str, Any], loop: asyncio.AbstractEventLoop) -> None:
        self.sock, self.host, self.options, self.dnsopts, self.loop = (
            sock, host, options, dnsopts, loop)
        self.port, self.local = _endpoint(options)
        self.answer: asyncio.Future[tuple[Any, Any, Any]] = loop.create_future()
        # (marked retrieved: a socket destroyed before its connect task ran never awaits it)
        self.answer.add_done_callback(lambda f: f.cancelled() or f.exception())
        self.task: asyncio.Future[Any] | None = None
        self.calling = False  # (inside lookup(): a callback now is answered at once)
        self.answered = False  # (answered at once: outcome is set)
        self.taken = False  # (the connect task has started)
        self.outcome: _Begun | BaseException | None = None

    def start(self, lookup: Callable[..., Any]) -> None:
        """Call ``lookup``; what it raises (or a listener called meanwhile) is raised. An
        ``async def`` lookup runs as a task: its exception, if it has one, becomes the
        answer's."""
        self.calling = True
        try:
            started = lookup(self.host, self.dnsopts, self._callback)
        finally:
            self.calling = False
        if inspect.isawaitable(started):
            self.task = task = asyncio.ensure_future(started)
            task.add_done_callback(self._failed)

    def _failed(self, task: asyncio.Future[Any]) -> None:
        if not task.cancelled() and task.exception() is not None and not self.answer.done():
            self.answer.set_exception(task.exception())  # type: ignore[arg-type]

    def _settle(self, result: tuple[Any, Any, Any]) -> None:
        if not self.answered and not self.answer.done():
            self.answer.set_result(result)

    def _callback(self, err: Any = None, address: Any = None, family: Any = None) -> None:
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not self.loop:
            self.loop.call_soon_threadsafe(self._settle, (err, address, family))
        elif self.calling and not self.answered and not self.answer.done():
            self.answered = True
            self._answer_now(err, address, family)
        else:
            self._settle((err, address, family))

    def _answer_now(self, err: Any, address: Any, family: Any) -> None:
        """The answer given inside ``connect()``: a listener's exception is raised (see
        :data:`ANSWERING`), the attempt it interrupted closed."""
        key = id(self.sock)
        ANSWERING.add(key)
        try:
            found = _take_answer(self.sock, self.host, self.options, self.dnsopts, err, address,
                                 family)
            if found is None or isinstance(found, BaseException):
                self.outcome = found
                return
            begun = _begin(self.sock, self.options, found, self.port, self.local)
        finally:
            ANSWERING.discard(key)
        if isinstance(begun, BaseException):
            self.sock._on_connect_error(begun)  # (Node's internalConnect: destroy at once)
            return
        self.outcome = begun
        if begun is not None:
            # A socket destroyed before its connect task started never runs it: the socket
            # bound meanwhile is closed a loop turn after the task's first step was due.
            self.loop.call_soon(self.loop.call_soon, self._reap)

    def _reap(self) -> None:
        outcome = self.outcome
        if not self.taken and outcome is not None and not isinstance(outcome, BaseException):
            if isinstance(outcome, autoselect.MultipleConnect):
                # Node's uv_close cancelling the attempt begun inside connect():
                # 'connectionAttemptFailed' with ECANCELED, after the destroy's 'error' and
                # before 'close' (this runs two loop steps after connect(): after the 'error'
                # of a destroy made before the task's first step, before its 'close')
                outcome.cancelled()
            outcome.abandon()

    def abandon(self) -> None:
        """``connect()`` raised: close what an answer given at once began."""
        if self.outcome is not None and not isinstance(self.outcome, BaseException):
            self.outcome.abandon()
        self.outcome = None

    async def begun(self) -> _Begun | None:
        """The connect task's part: the attempt begun (at once, or now from the answer the
        callback gave later), or ``None`` when there is none (the socket was destroyed, by a
        listener or the error)."""
        self.taken = True
        outcome: _Begun | BaseException | None
        if self.answered:
            outcome, self.outcome = self.outcome, None
        else:
            try:
                err, address, family = await self.answer
            except asyncio.CancelledError:
                if self.task is not None:
                    self.task.cancel()
                raise
            self.answered = True
            found = _take_answer(self.sock, self.host, self.options, self.dnsopts, err,
                                 address, family)
            outcome = found if found is None or isinstance(found, BaseException) else _begin(
                self.sock, self.options, found, self.port, self.local)
        if isinstance(outcome, BaseException):
            self.sock._on_connect_error(outcome)
            return None
        return outcome


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


def do_connect(sock: Socket, handle: TCPHandle | None, options: Mapping[str, Any],
               loop: asyncio.AbstractEventLoop | None = None) -> Coroutine[Any, Any, None]:
    """Node's ``lookupAndConnect``: the coroutine that connects ``handle`` as ``options`` say
    (on failure ``sock.destroy(err)``, Node-coded). An ``options.lookup`` function is called
    here and now, as Node calls it inside ``connect()`` for a host that is not an IP: what it
    raises is raised to the caller of ``connect()`` (the handle is then closed and the socket
    not connecting); when it calls back before returning, the ``'lookup'`` events, and the
    bind and ``'connectionAttempt'`` of the first attempt, happen here too, as in Node (see
    :class:`_LookupCall`). ``loop``: the running loop, when the caller has it.

    ``handle`` ``None``: a second ``connect()`` while the socket is connecting, on the handle
    the first one is connecting (Node's): its lookup and ``'connectionAttempt'`` as any, then
    the connect fails (:mod:`.connect_again`); a lookup that raises leaves the first going on."""
    if loop is None:
        loop = asyncio.get_running_loop()
    lookup = options.get("lookup")
    host = options.get("host") or "localhost"
    call = None
    path = options.get("path")
    if path:
        # Node's internalConnect for a pipe, inside connect(): 'connectionAttempt' now (a
        # listener added after connect() never hears it); what a listener raises is raised
        key = id(sock)
        ANSWERING.add(key)
        try:
            sock.emit("connectionAttempt", path, None, None)
        except BaseException:
            _drop_handle(sock, handle)
            raise
        finally:
            ANSWERING.discard(key)
    elif lookup is not None and not is_ip(host):
        _family, hints, multi = _dns_plan(options)
        dnsopts: dict[str, Any] = {"family": _family, "hints": hints}
        if multi:
            dnsopts["all"] = True
        call = _LookupCall(sock, host, options, dnsopts, loop)
        try:
            call.start(lookup)
        except BaseException:
            call.abandon()
            _drop_handle(sock, handle)
            raise
    return _do_connect(sock, handle, options, loop, call)


def _drop_handle(sock: Socket, handle: TCPHandle | None) -> None:
    """``connect()`` raises (a lookup or a listener raised inside it): the handle it made is
    closed and the socket no longer connecting (``None``: a second ``connect()``'s, the first
    goes on)."""
    if handle is not None:
        sock.connecting = False
        handle.owner = NO_OWNER
        handle.close()
        if sock._handle is handle:  # (a destroy() now: 'close'(false), as Node's)
            sock._handle, sock._closed_handle = None, handle


async def _do_connect(sock: Socket, handle: TCPHandle | None, options: Mapping[str, Any],
                      loop: asyncio.AbstractEventLoop, call: _LookupCall | None) -> None:
    """:func:`do_connect`'s coroutine (the socket's connect task); ``call``: the
    ``options.lookup`` called already; ``handle`` ``None``: a second ``connect()``'s."""
    path = options.get("path")
    try:
        if path:
            if handle is None:
                connect_again.pipe_in_use(sock, path)
                return
            await _connect_path(sock, handle, path, loop)
            return
        begun: _Begun | BaseException | None
        kind = 0  # (the host is an IP address: no lookup)
        if call is not None:
            begun = await call.begun()
            if begun is None and sock._connect_task is asyncio.current_task():
                sock._connect_task = None  # (destroyed before this task started)
        else:
            port, local = _endpoint(options)
            host = options.get("host") or "localhost"
            kind = is_ip(host)
            if kind:
                targets: _Targets = [(socket.AF_INET6 if kind == 6 else socket.AF_INET, host)]
            else:
                family, hints, multi = _dns_plan(options)
                found = await _resolve(sock, host, port, family, hints, multi, handle is None)
                if found is None:  # no longer connecting ('lookup' listener destroyed it)
                    return
                targets = found
            begun = _begin(sock, options, targets, port, local)
            if isinstance(begun, BaseException):
                raise begun
        if begun is None:
            return
        handle = connect_again.claim(sock, handle, call is None and not kind)
        if handle is None:  # (another connect() of this socket connects the handle)
            connect_again.refused(sock, begun)
            return
        if isinstance(begun, _One):
            await begun.finish(sock, handle, loop)
        elif begun is not None:
            s = await begun.finish()
            if s is not None:
                try:
                    await _adopt(loop, handle, s)
                except asyncio.CancelledError:
                    begun.cancelled_soon()  # (destroyed before 'connect': Node's ECANCELED)
                    raise
                except BaseException:
                    begun.adopted()  # (the error destroys the socket: nothing to cancel)
                    raise
                begun.adopted()
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 - bad options etc. reach the socket as errors
        sock._on_connect_error(exc)
    finally:
        if handle is not None and sock._claim_waiter is not None:
            connect_again.first_done(sock)


async def _connect_path(sock: Socket, handle: TCPHandle, path: str,
                        loop: asyncio.AbstractEventLoop) -> None:
    """Node's ``internalConnect`` for a pipe, after its ``'connectionAttempt'(path, None,
    None)`` (:func:`do_connect`, inside ``connect()``): the connect, and if it fails
    ``'connectionAttemptFailed'(path, None, None, err)`` and the error."""
    if not sock.connecting:  # (destroyed by a 'connectionAttempt' listener)
        return
    try:
        await loop.create_unix_connection(lambda: handle, path)
    except OSError as exc:
        err = connect_error(exc, "connect", path, None)
        sock.emit("connectionAttemptFailed", path, None, None, err)
        raise err from None


async def _adopt(loop: asyncio.AbstractEventLoop, handle: TCPHandle, s: socket.socket) -> None:
    """The loop's transport over the connected socket ``s`` (closed if that fails or the
    connect is cancelled meanwhile: a destroy() while connecting)."""
    try:
        await loop.create_connection(lambda: handle, sock=s)
    except BaseException:
        s.close()
        raise
