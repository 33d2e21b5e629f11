"""Node's ``autoSelectFamily``: the process-wide defaults and the procedure that tries a host
name's addresses one after another (Node v20's ``internalConnectMultiple``).

A host name that resolves to more than one address (``localhost`` -> ``::1`` and
``127.0.0.1``) is connected by trying each address in turn, families alternating, the first
address's family first. Every attempt but the last gets ``auto_select_family_attempt_timeout``
seconds. The socket emits ``'connectionAttempt'(ip, port, family)`` before each attempt,
``'connectionAttemptFailed'(ip, port, family, err)`` after a failed one and
``'connectionAttemptTimeout'(ip, port, family)`` after one that ran out of time; it records
``'<ip>:<port>'`` of each in ``auto_select_family_attempted_addresses``. When every attempt
failed, the socket is destroyed with :class:`~nodetls.errors.AggregateNodeError` (Node's
``AggregateError``: every attempt's error, ``code`` the first one's). A ``destroy()`` while an
attempt is under way emits its ``'connectionAttemptFailed'`` with a ``connect ECANCELED`` error
(Node's cancelled connect request), after the destroy's ``'error'`` and before ``'close'``.
"""

from __future__ import annotations

import asyncio
import errno as _errno
import socket
from typing import TYPE_CHECKING, Any

from .._option_table import check as check_option
from .._option_table import type_error
from ..errors import AggregateNodeError, SystemNodeError, oserror_number, system_error

if TYPE_CHECKING:
    from .socket import Socket

__all__ = [
    "get_default_auto_select_family",
    "set_default_auto_select_family",
    "get_default_auto_select_family_attempt_timeout",
    "set_default_auto_select_family_attempt_timeout",
    "attempt_timeout",
    "family_number",
    "connect_error",
    "local_for",
    "bound_socket",
    "connect_socket",
    "cancel_error",
    "connect_multiple",
    "MultipleConnect",
]

#: Below 10 ms Node uses 10 ms.
_FLOOR_TIMEOUT = 0.01


class _Defaults:
    """Node's ``autoSelectFamilyDefault`` and ``autoSelectFamilyAttemptTimeoutDefault``."""

    family = True
    timeout = 0.25


def get_default_auto_select_family() -> bool:
    """Node's ``net.getDefaultAutoSelectFamily()``: the ``auto_select_family`` a connect uses
    when it does not say (``True`` as in Node v20)."""
    return _Defaults.family


def set_default_auto_select_family(value: bool) -> None:
    """Node's ``net.setDefaultAutoSelectFamily(value)``; ``value`` must be a ``bool``
    (``ERR_INVALID_ARG_TYPE``)."""
    if not isinstance(value, bool):
        raise type_error("value", "bool", value)
    _Defaults.family = value


def attempt_timeout(value: Any, label: str) -> float:
    """Node's check of an attempt timeout (``validateInt32(value, label, 1)`` on milliseconds):
    a number of seconds from 0.001 to 2147483.647, else ``ERR_INVALID_ARG_TYPE`` /
    ``ERR_OUT_OF_RANGE``; below 0.01 it is 0.01, as Node raises anything under 10 ms to 10."""
    return max(float(check_option("auto_select_family_attempt_timeout", value, label)),
               _FLOOR_TIMEOUT)


def get_default_auto_select_family_attempt_timeout() -> float:
    """Node's ``net.getDefaultAutoSelectFamilyAttemptTimeout()``, in seconds (0.25 as Node's
    250 ms)."""
    return _Defaults.timeout


def set_default_auto_select_family_attempt_timeout(value: float) -> None:
    """Node's ``net.setDefaultAutoSelectFamilyAttemptTimeout(value)``, in seconds: checked as
    the ``auto_select_family_attempt_timeout`` option (below 0.01 it is 0.01)."""
    _Defaults.timeout = attempt_timeout(value, "value")


def family_number(af: int) -> int:
    """The family as Node's connection-attempt events give it: 4 or 6."""
    return 6 if af == socket.AF_INET6 else 4


def connect_error(exc: OSError, syscall: str, address: Any, port: Any,
                  local: tuple[str, int] | None = None) -> SystemNodeError:
    """Node's ``exceptionWithHostPort``: ``'<syscall> <CODE> <address>:<port>'`` with ``code``,
    ``errno``, ``syscall``, ``address``, ``port``; after a bind to a local port, also
    ``' - Local (<address>:<port>)'`` and ``local_address``/``local_port`` (Node's
    ``localAddress``/``localPort``)."""
    if isinstance(exc, SystemNodeError):
        return exc
    if isinstance(exc, TimeoutError) and not exc.errno:
        code, num = "ETIMEDOUT", _errno.ETIMEDOUT
    else:
        num = oserror_number(exc)
        code = _errno.errorcode.get(num, "EIO")
    # (Node's exceptionWithHostPort names the port only when it is > 0)
    where = f"{address}:{port}" if isinstance(port, int) and port > 0 else f"{address}"
    fields: dict[str, Any] = {"syscall": syscall, "address": address}
    if port is not None:
        fields["port"] = port
    if local is not None and local[1]:
        where += f" - Local ({local[0]}:{local[1]})"
        fields["local_address"], fields["local_port"] = local
    err = system_error(code, f"{syscall} {code} {where}", errno=num, **fields)
    err.__cause__ = exc
    return err


def local_for(af: int, local: tuple[str, int] | None) -> tuple[str, int] | None:
    """The address to bind before connecting: Node's defaults (``0.0.0.0``/``::``) for the
    family when only a local port is given."""
    if local is None:
        return None
    return (local[0] or ("::" if af == socket.AF_INET6 else "0.0.0.0"), local[1])


def bound_socket(af: int, local: tuple[str, int] | None) -> socket.socket:
    """A non-blocking stream socket of family ``af``, bound to ``local`` (see
    :func:`local_for`) when given; a bind failure is Node's ``bind`` error (raised)."""
    s = socket.socket(af, socket.SOCK_STREAM)
    s.setblocking(False)
    if local is not None:
        try:
            s.bind(local)
        except OSError as exc:
            s.close()
            raise connect_error(exc, "bind", local[0], local[1]) from None
    return s


async def connect_socket(s: socket.socket, ip: str, port: int, timeout: float | None) -> None:
    """Connect ``s`` (closed when that fails, times out or is cancelled). The connect is
    awaited in the calling task itself (``asyncio.timeout``, not ``wait_for``'s second task):
    a cancel reaches the caller on the next loop step, as :meth:`MultipleConnect.cancelled`
    needs."""
    loop = asyncio.get_running_loop()
    try:
        if timeout is None:
            await loop.sock_connect(s, (ip, port))
        else:
            async with asyncio.timeout(timeout):
                await loop.sock_connect(s, (ip, port))
    except BaseException:
        s.close()
        raise


def cancel_error(ip: str, port: int, local: tuple[str, int] | None) -> SystemNodeError:
    """The error of an attempt cut short by ``destroy()``: libuv's ``UV_ECANCELED`` through
    Node's ``createConnectionError`` (``'connect ECANCELED <ip>:<port>'``, ``errno``,
    ``syscall``, ``address``, ``port``; after a bind to a local port also its
    ``' - Local (...)'`` and ``local_address``/``local_port``)."""
    return connect_error(OSError(_errno.ECANCELED, "Operation canceled"), "connect", ip, port,
                         local)


class MultipleConnect:
    """Node's ``internalConnectMultiple``: try ``targets`` in order, binding ``local`` first
    when given. :meth:`begin` starts the next attempt (its bind and ``'connectionAttempt'``, at
    once: Node's run inside ``connect()`` when the lookup answered there), :meth:`finish`
    awaits it and the following ones.

    A ``destroy()`` while an attempt is under way (begun, not yet failed nor handed over as
    ``'connect'``) is Node's ``uv_close`` cancelling its connect request:
    ``afterConnectMultiple`` gets ``UV_ECANCELED`` and emits
    ``'connectionAttemptFailed'(ip, port, family, err)``, ``err`` a ``connect ECANCELED``
    error (:func:`cancel_error`), after the destroy's ``'error'`` and before ``'close'``; no
    ``'connectionAttemptTimeout'`` and no further attempt (:meth:`cancelled`). Node's
    ``internalConnect`` (one address) ignores the cancelled request: nothing is emitted."""

    __slots__ = ("sock", "targets", "port", "local", "timeout", "attempted", "errors", "next",
                 "current", "flight")

    def __init__(self, sock: Socket, targets: list[tuple[int, str]], port: int,
                 local: tuple[str, int] | None, timeout: float) -> None:
        self.sock = sock
        self.targets = targets
        self.port = port
        self.local = local
        self.timeout = timeout
        self.attempted: list[str] = []
        sock.auto_select_family_attempted_addresses = self.attempted
        self.errors: list[Exception] = []
        self.next = 0
        #: The attempt begun: (index, family, ip, bound to, the socket).
        self.current: tuple[int, int, str, tuple[str, int] | None, socket.socket] | None = None
        #: The attempt under way, which a destroy cancels: (family, ip, bound to).
        self.flight: tuple[int, str, tuple[str, int] | None] | None = None

    def begin(self) -> MultipleConnect | BaseException | None:
        """Start the next attempt up to its connect call: bind (a failure is collected and the
        next address tried), ``'connectionAttempt'(ip, port, family)``. Returns ``self``, or
        the :class:`AggregateNodeError` of every attempt when none is left, or ``None`` when
        the socket stopped connecting (a listener destroyed it)."""
        sock = self.sock
        while self.next < len(self.targets):
            i = self.next
            self.next += 1
            af, ip = self.targets[i]
            bind_to = local_for(af, self.local)
            try:
                s = bound_socket(af, bind_to)
            except SystemNodeError as bind_error:  # (Node: collected, no attempt event)
                self.errors.append(bind_error)
                continue
            try:
                sock.emit("connectionAttempt", ip, self.port, family_number(af))
            except BaseException:  # (a listener's, raised out of connect(): see connect.py)
                s.close()
                raise
            if not sock.connecting:
                s.close()
                return None
            self.attempted.append(f"{ip}:{self.port}")
            self.current = (i, af, ip, bind_to, s)
            self.flight = (af, ip, bind_to)
            sock._attempt = self  # (a destroy now holds 'close' for the ECANCELED event)
            return self
        return AggregateNodeError(self.errors)

    def abandon(self) -> None:
        """Close the socket of the attempt begun, if any (connect() raised meanwhile)."""
        self._landed()
        if self.current is not None:
            self.current[4].close()
            self.current = None

    def cancelled(self) -> None:
        """Node's ``afterConnectMultiple`` with ``UV_ECANCELED``: when the socket was destroyed
        with an attempt under way, that attempt's error (:func:`cancel_error`) is collected and
        ``'connectionAttemptFailed'(ip, port, family, err)`` emitted; nothing else follows.
        Called by the connect task when the destroy cancelled it (one loop step after the
        destroy, so ``'error'`` queued by the destroy comes first, and ``'close'`` after), or
        for an attempt begun inside ``connect()`` whose task never started."""
        flight, self.flight = self.flight, None
        try:
            if flight is None or not self.sock.destroyed:
                return
            af, ip, bind_to = flight
            err = cancel_error(ip, self.port, bind_to)
            self.errors.append(err)
            self.sock.emit("connectionAttemptFailed", ip, self.port, family_number(af), err)
        finally:
            self._landed()

    def cancelled_soon(self) -> None:
        """:meth:`cancelled` on the next loop step: from the connect task's ``CancelledError``
        (it runs one step after the destroy, before the ``'error'`` the destroy queued)."""
        if self.flight is not None:
            asyncio.get_running_loop().call_soon(self.cancelled)

    def adopted(self) -> None:
        """The connected socket was handed over (``'connect'`` follows), or its hand-over
        failed (that error destroys the socket): nothing to cancel."""
        self._landed()

    def _landed(self) -> None:
        """No attempt is under way any more: a ``'close'`` the socket held for it (a
        ``destroy()`` meanwhile, :meth:`Socket._emit_socket_close`) is emitted a loop step
        later, after what the ``'connectionAttemptFailed'`` listeners queued (Node: that event
        comes from the cancelled connect request, before the handle's close callback)."""
        self.flight = None
        sock = self.sock
        if sock._attempt is self:
            sock._attempt = None
            if sock._close_held:  # ('close' was due: now, behind what the listeners queued)
                sock._close_held = False
                asyncio.get_running_loop().call_soon(sock._emit_socket_close)
            elif sock.destroyed:  # ('close' queued already, or to come: a step later)
                sock._close_held = True

    async def finish(self) -> socket.socket | None:
        """Await the attempt begun, and begin and await the next ones while they fail: the
        connected socket, or ``None`` when the socket stopped connecting meanwhile. Raises
        :class:`AggregateNodeError` when every attempt failed. A cancel (the socket's
        ``destroy()``) schedules :meth:`cancelled`; the attempt that connected stays under way
        until :meth:`adopted`."""
        sock = self.sock
        last = len(self.targets) - 1
        while True:
            if self.current is None:
                begun = self.begin()
                if begun is None:
                    return None
                if isinstance(begun, BaseException):
                    raise begun
            assert self.current is not None
            i, af, ip, bind_to, s = self.current
            self.current = None
            family = family_number(af)
            try:
                await connect_socket(s, ip, self.port, None if i == last else self.timeout)
                return s
            except asyncio.CancelledError:
                self.cancelled_soon()
                raise
            except OSError as exc:
                self._landed()
                if isinstance(exc, TimeoutError) and not exc.errno:  # (this attempt's time is up)
                    self.errors.append(connect_error(exc, "connect", ip, self.port, bind_to))
                    sock.emit("connectionAttemptTimeout", ip, self.port, family)
                    if not sock.connecting:
                        return None
                    continue
                failed = connect_error(exc, "connect", ip, self.port, bind_to)
                self.errors.append(failed)
                sock.emit("connectionAttemptFailed", ip, self.port, family, failed)
            if not sock.connecting:
                return None


async def connect_multiple(sock: Socket, targets: list[tuple[int, str]], port: int,
                           local: tuple[str, int] | None,
                           timeout: float) -> socket.socket | None:
    """Node's ``internalConnectMultiple`` from the start (see :class:`MultipleConnect`): the
    connected socket, or ``None`` when ``sock`` stopped connecting meanwhile (a listener
    destroyed it). Raises :class:`AggregateNodeError` when every attempt failed."""
    return await MultipleConnect(sock, targets, port, local, timeout).finish()
