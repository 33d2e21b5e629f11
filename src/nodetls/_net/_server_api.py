"""``net.Server``'s state and option accessors (Node's ``server.address()``, ``listening``,
``getConnections()``, ``maxConnections``, the accepted sockets' options, ``ref``/``unref``), a
stateless mixin of :class:`~nodetls._net.server.Server` (``server.py``: construction,
listening, accepting, closing), whose state it reads and sets (``Server._init_server``)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Self

from .. import _option_table, _run
from ..errors import node_error
from ..events import _invoke
from ..stream import get_default_high_water_mark
from .shared import address_error, is_closed

if TYPE_CHECKING:
    from ..types import AddressInfo

__all__ = ["_ServerAPI"]


class _ServerAPI:
    """The public state of a :class:`~nodetls._net.server.Server` (module docstring)."""

    _MEMBERS_OF_SUBCLASS = True  # (docs/gen_reference.py: documented as Server's)

    # (Server's state: Server._init_server)
    _sock: socket.socket | None
    _pipe_name: str | None
    _address_cache: AddressInfo | None
    _connections: int
    _max_connections: int | None
    _allow_half_open: bool
    _pause_on_connect: bool
    _no_delay: bool
    _keep_alive: bool
    _keep_alive_initial_delay: float
    _high_water_mark: Any
    _refed: bool
    _registered: bool
    _listen_held: bool

    def address(self) -> AddressInfo | str | None:
        """Node ``server.address()``: ``{'address', 'family', 'port'}``, the path for a Unix
        socket, or ``None`` when not listening."""
        sock = self._sock
        if sock is None:
            return None
        if self._pipe_name is not None or sock.family == socket.AF_UNIX:
            return self._pipe_name  # (a Unix socket's descriptor: None, as Node's null)
        if self._address_cache is None:
            if is_closed(sock):
                raise address_error()  # (its socket shared and closed: _net/shared.py)
            name = sock.getsockname()
            self._address_cache = {
                "address": name[0],
                "family": "IPv6" if sock.family == socket.AF_INET6 else "IPv4",
                "port": name[1],
            }
        return self._address_cache.copy()

    @property
    def listening(self) -> bool:
        """Node ``server.listening``: bound and listening."""
        return self._sock is not None

    @property
    def connections(self) -> int:
        """Number of open connections (Node's deprecated ``server.connections``)."""
        return self._connections

    def get_connections(self, callback: Callable[..., Any] | None = None) -> asyncio.Future[int]:
        """Node ``server.getConnections(callback)``: ``callback(None, count)``; also returns an
        awaitable of the count."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[int] = loop.create_future()
        fut.set_result(self._connections)
        if callback is not None:
            loop.call_soon(_invoke, callback, (None, self._connections))
        return fut

    @property
    def max_connections(self) -> int | None:
        """Node ``server.maxConnections``: ``None`` = unlimited; connections beyond it are closed
        and reported with ``'drop'``."""
        return self._max_connections

    @max_connections.setter
    def max_connections(self, value: int | None) -> None:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise node_error("ERR_OUT_OF_RANGE", "max_connections", ">= 0 or None", value)
        self._max_connections = value
        self._max_connections_set()

    def _max_connections_set(self) -> None:
        """Hook: ``max_connections`` was set (``tls.Server`` drops its plan for accepts)."""

    # Node's server.allowHalfOpen, .pauseOnConnect, .noDelay, .keepAlive,
    # .keepAliveInitialDelay, .highWaterMark: the options as given, which each connection
    # accepted from then on follows (Node's onconnection reads them per connection).
    @property
    def allow_half_open(self) -> bool:
        """Node ``server.allowHalfOpen``: accepted sockets stay writable after the peer's end."""
        return self._allow_half_open

    @allow_half_open.setter
    def allow_half_open(self, value: bool) -> None:
        self._allow_half_open = bool(value)
        self._connection_options_set()

    @property
    def pause_on_connect(self) -> bool:
        """Node ``server.pauseOnConnect``: accepted sockets start paused."""
        return self._pause_on_connect

    @pause_on_connect.setter
    def pause_on_connect(self, value: bool) -> None:
        self._pause_on_connect = bool(value)
        self._connection_options_set()

    @property
    def no_delay(self) -> bool:
        """Node ``server.noDelay``: ``TCP_NODELAY`` on accepted sockets (a TLS server's default
        is ``True``)."""
        return self._no_delay

    @no_delay.setter
    def no_delay(self, value: bool) -> None:
        self._no_delay = bool(value)
        self._connection_options_set()

    @property
    def keep_alive(self) -> bool:
        """Node ``server.keepAlive``: TCP keep-alive on accepted sockets."""
        return self._keep_alive

    @keep_alive.setter
    def keep_alive(self, value: bool) -> None:
        self._keep_alive = bool(value)
        self._connection_options_set()

    @property
    def keep_alive_initial_delay(self) -> float:
        """Node ``server.keepAliveInitialDelay``, in seconds."""
        return self._keep_alive_initial_delay

    @keep_alive_initial_delay.setter
    def keep_alive_initial_delay(self, value: float) -> None:
        self._keep_alive_initial_delay = float(
            _option_table.check("keep_alive_initial_delay", value, "keep_alive_initial_delay"))
        self._connection_options_set()

    @property
    def high_water_mark(self) -> int:
        """Node ``server.highWaterMark``: accepted sockets' high-water mark (unless given,
        ``stream.get_default_high_water_mark(False)``: 16384)."""
        hwm = self._high_water_mark
        return get_default_high_water_mark(False) if hwm is None else int(hwm)

    @high_water_mark.setter
    def high_water_mark(self, value: int) -> None:
        self._high_water_mark = _option_table.SERVER_KINDS["high_water_mark"].check(
            value, "high_water_mark")
        self._connection_options_set()

    def _connection_options_set(self) -> None:
        """Hook: one of the accepted sockets' options was set (``tls.Server`` rebuilds its
        per-connection template)."""

    def ref(self) -> Self:
        """Node ``server.ref()``: keep :func:`nodetls.run` alive while listening (default)."""
        self._refed = True
        if self._sock is not None and not self._registered and not is_closed(self._sock):
            self._registered = True
            _run.ref_handle(self)
        return self

    def unref(self) -> Self:
        """Node ``server.unref()``: let :func:`nodetls.run` return while listening."""
        self._refed = False
        if self._registered:
            self._registered = False
            if not self._listen_held:
                _run.unref_handle(self)
        return self
