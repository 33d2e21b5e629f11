"""``BridgeSocket``: the ``TLSSocket`` an ``aio`` server builds for each accepted connection.

It is a :class:`nodetls.TLSSocket` in every respect (the same engine, ``TLSWrap`` and handshake
code, every Node-style event and method), except that it does not set up its Node stream state
(Node's ``ReadableState``/``WritableState``: about fifty attributes per connection) when it is
built: a :class:`~nodetls.aio.TLSTransport` takes the socket's data path at the handshake, so a
bridge connection usually never uses that state. Its initial values are class attributes here,
the same values ``Readable``/``Writable`` give a new ``net.Socket`` that has called ``read(0)``
(computed from the stream classes at import, so they follow the core); a connection that does
use its Node stream (``get_extra_info('tls_socket').write(...)``, a ``'data'`` listener, the
peer leaving during the handshake) writes its own values over them as any socket does. The one
mutable value, the list of pipe destinations, is made per connection.

A server copies the state ``net.Socket.__init__`` gives an accepted socket from a prototype
(``net.Socket._accepted_state``, built by running that ``__init__`` once): built with this
class's ``_init_duplex``, the prototype holds 27 values instead of 70, so each connection
copies that many.

``tls.Server._make_socket`` builds this class for the server ``aio.create_server`` makes (its
``_socket_class``); a server with other ``'connection'`` listeners builds plain ``TLSSocket``s,
which the transport serves the same way.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from .._net.handle import TCPHandle
from .._net.socket import AcceptedState, instance_state
from .._tls import TLSSocket
from .._tls.wrap import TLSWrap
from ..stream import _NO_BUF, _NO_DRAIN, Duplex
from ._transport import _direct_route, _leave_route

__all__ = ["BridgeSocket"]


def _no_read(_size: int) -> None:
    """The probe's ``_read``: a socket's starts the handle reading and returns."""


def _stream_defaults() -> tuple[dict[str, Any], dict[str, Any]]:
    """The Node stream state of a new socket that has called ``read(0)`` (as ``net.Socket``
    does over a connected handle): ``(shared, per_connection)``, the immutable values and the
    mutable ones (copied for each connection)."""
    probe = Duplex(read=_no_read, allow_half_open=False, emit_close=False)
    probe.read(0)
    shared: dict[str, Any] = {}
    mutable: dict[str, Any] = {}
    for name, value in instance_state(probe).items():
        if not name.startswith(("_r_", "_w_")):
            continue
        if value is None or value is _NO_BUF or value is _NO_DRAIN or isinstance(
                value, (bool, int, float, str, bytes, frozenset, tuple)):
            shared[name] = value
        else:
            mutable[name] = value
    return shared, mutable


_SHARED, _MUTABLE = _stream_defaults()


class BridgeSocket(TLSSocket):
    """A server-side ``TLSSocket`` whose Node stream state is built on first use (see the
    module's docstring)."""

    #: ``[transport or None, TCP handle]`` while the direct route is installed on the handle
    #: (``aio/_transport.py``, ``_direct_route``): from the accept to the close.
    _route_box: list[Any] | None = None
    _ROUTE_SERVER_READS = False  # (its own route below: aio/_transport.py's _direct_route)

    def _init_server_connection(self, handle: TCPHandle, opts: Any,
                                state: AcceptedState) -> None:
        # TLSSocket's, then the direct route goes on the TCP handle now, while the transport
        # has not started reading (uvloop keeps the protocol's methods it takes then: no
        # restart of its reading later). Until a TLSTransport serving a Protocol arms it at
        # the handshake's end, its reads are the layered path's.
        # (TLSSocket's, called directly: super() builds a super object per connection)
        TLSSocket._init_server_connection(self, handle, opts, state)
        wrap = self._wrap
        eng = wrap.engine if type(wrap) is TLSWrap else None
        if eng is not None:
            box: list[Any] = [None]
            if _direct_route(box, wrap, eng):  # type: ignore[arg-type]
                self._route_box = box
                # Until a transport takes the handle seam (TLSTransport._start shadows this
                # again, and gives the route back itself), the handle's close takes the route
                # out first: an instance attribute, so a connection the transport serves closes
                # with no call of this class's. (An attribute store: asking for the __dict__ here
                # cost 2.7k instructions per handshake.)
                self._on_handle_close = self._close_route  # type: ignore[method-assign]

    def _close_route(self) -> None:
        """The handle's close while no transport serves the socket (a failed handshake, a
        protocol factory that raised): the route leaves (it holds the handle, and this bound
        method the socket: reference cycles), then the socket closes as ever."""
        del self._on_handle_close
        box = self._route_box
        if box is not None:
            self._route_box = None
            _leave_route(box)
        self._on_handle_close()

    def destroy(self, err: BaseException | None = None,
                callback: Callable[..., Any] | None = None) -> Any:
        # The usual bridge close (the transport's close()/abort(), no error, no callback; nothing
        # written through the Node stream still pending, no timeout timer, a handle to close):
        # Duplex.destroy's and net.Socket._destroy's steps for it, in one call (no closure, no
        # hook). Anything else: TLSSocket's destroy.
        h = self._handle
        if (err is not None or callback is not None or self._destroyed or h is None
                or self._timer is not None or self._w_buf or self._w_on_finished
                or self._pending_write_cb is not None or self._pending_write is not None
                or self._connect_task is not None):
            return TLSSocket.destroy(self, err, callback)
        self._destroyed = True
        self.connecting = False
        self._pending_final = None
        self._had_error = False
        self._handle = None
        self._closed_handle = h
        h.close()
        self._closed = True
        server = self._server
        if server is not None:
            server._connections -= 1
            if server._sock is None:  # (not listening any more: 'close' once drained)
                server._emit_close_if_drained()
        return self

    def _on_handle_close(self) -> None:
        # The handle is gone after the usual bridge close (destroyed, handshake done, nothing
        # pending, nobody listening to the socket's 'close' or waiting for it, the server not
        # closing): TLSSocket's and net.Socket's steps for it are marking 'close' as emitted.
        # Anything else: TLSSocket's.
        server = self._server
        if (not self._destroyed or self._secure_pending or self._handshake_timer is not None
                or self._shell_listener is not None or self._error_pending
                or self._close_emitted or self._close_waiters or "close" in self._events
                or (server is not None and server._close_scheduled)):
            TLSSocket._on_handle_close(self)
            return
        self._close_emitted = True

    def _init_duplex(self, opts: dict[str, Any]) -> None:
        # Duplex._init_duplex without _init_readable/_init_writable (class attributes below),
        # but for the mutable values (the pipe list): so net.Socket._accepted_state, the state
        # a server copies into each accepted socket, is this class's, and usable.
        self._init_common(opts)
        self.allow_half_open = opts.get("allow_half_open", True) is not False
        for name, default in _MUTABLE.items():
            setattr(self, name, copy.copy(default))

    def _init_socket(self, opts: dict[str, Any]) -> None:
        # net.Socket's, with its read(0) reduced to what it does on a new socket over a handle:
        # the handle starts reading (the stream flags read(0) sets are the class attributes).
        opts["manual_start"] = True  # (TLSSocket.__init__'s own dict, made for this socket)
        super()._init_socket(opts)
        h = self._handle
        if h is not None:
            h.read_start()

    def _emit_server_secure(self) -> None:
        # TLSSocket's, with the server's 'secureConnection' emit reduced to the call it makes
        # when the aio.Server's own listener is the only one and nothing listens on the socket
        # (the usual bridge connection): the listener is called directly, and an exception it
        # raises goes where emit() sends it (the server's _listener_failed).
        # (The aio.Server keeps the listener table its own listener made, ``_bridge_alone``:
        # the same tuple is still there only while no listener was added or removed since.)
        srv = self._tls_server
        listeners: Any = srv._events.get("secureConnection") if srv is not None else None
        if listeners is None or listeners is not srv._bridge_alone or \
                self._handshake_timer is not None or \
                "secure" in self._events or "secureConnection" in self._events:
            TLSSocket._emit_server_secure(self)
            return
        fn = listeners[0]
        self._secure_established = True
        if self._destroyed:
            return
        try:
            fn(self)
        except Exception as exc:  # noqa: BLE001 - as EventEmitter.emit
            srv._listener_failed("secureConnection", exc, (self,))


for _name, _value in _SHARED.items():
    setattr(BridgeSocket, _name, _value)
del _name, _value
