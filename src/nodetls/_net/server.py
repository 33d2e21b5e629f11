"""``net.Server`` (Node's ``lib/net.js`` Server) on asyncio.

With no host (and for a Unix path) the listening socket is created, bound and put in listening
state synchronously in :meth:`Server.listen` (so ``address()`` works right away and a connection
attempt made at once is queued by the kernel), then handed to ``loop.create_server(sock=...)``;
``'listening'`` follows on a later loop iteration, as Node emits it on the next tick. With a host,
an IP address too, Node looks the host up first (``dns.lookup``, whose answer for an IP comes on the
next tick): the socket is bound one step later (a name: once looked up), so right after
``listen(port, '127.0.0.1')`` the server is not ``listening`` yet and ``close()`` then gets
``ERR_SERVER_NOT_RUNNING``; ``run()`` stays alive meanwhile. Bind errors (``EADDRINUSE``...) are
emitted as ``'error'`` (Node's message, ``code``, ``errno``, ``syscall``, ``address``, ``port``)
and raised by ``await server``.

Every accepted connection goes through :meth:`Server._make_socket` (overridable: the TLS server
builds its own sockets) and is then announced with ``'connection'``.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno as _errno
import functools
import os
import socket
import stat
from collections.abc import Callable, Generator, Mapping
from typing import TYPE_CHECKING, Any

from .. import _option_table, _run, _worker_state
from .._options import normalize
from ..errors import node_error, oserror_number, system_error
from ..events import EventEmitter, _invoke
from ..stream import Stream
from ._server_api import _ServerAPI
from .address import is_ip
from .args import listen_target, normalize_listen_args
from .connect import lookup_listen_host
from .direct import Acceptor, is_selector_loop
from .fd import listen_descriptor, listen_fd_error, listen_on_fd
from .handle import RECV_BUFFER_SIZE, TCPHandle
from .shared import join as _join_group
from .shared import leave as _leave_group
from .socket import Socket, _Normalized

if TYPE_CHECKING:
    from ..types import AddressInfo

__all__ = ["Server", "SERVER_OPTIONS", "LISTEN_OPTIONS"]

#: ``Server(...)`` options (Node names accepted too).
SERVER_OPTIONS = _option_table.names("V")
#: ``listen({...})`` options.
LISTEN_OPTIONS = _option_table.names("L")


def _listen_error(exc: OSError, address: Any, port: Any) -> Exception:
    num = oserror_number(exc)
    code = _errno.errorcode.get(num, "EIO")
    desc = {
        "EADDRINUSE": "address already in use",
        "EACCES": "permission denied",
        "EADDRNOTAVAIL": "address not available",
    }.get(code, os.strerror(num).lower() if num else str(exc))
    where = f"{address}:{port}" if port is not None else f"{address}"
    fields: dict[str, Any] = {"syscall": "listen", "address": address}
    if port is not None:
        fields["port"] = port
    err = system_error(code, f"listen {code}: {desc} {where}", errno=num, **fields)
    err.__cause__ = exc
    return err


def _reuse_port(opts: dict[str, Any]) -> bool:
    """``reuse_port``, always on in a worker of ``run(main, workers=N)`` (the workers share the
    port through ``SO_REUSEPORT``)."""
    return bool(opts.get("reuse_port")) or _worker_state.index is not None


def _bind_tcp(host: str | None, port: int, backlog: int, reuse_port: bool,
              ipv6_only: bool, no_delay: bool = False) -> socket.socket:
    """Create, bind and listen; no host: ``::`` dual-stack where IPv6 works, else ``0.0.0.0``.

    ``no_delay``: the socket is made with ``proto=IPPROTO_TCP``, which accepted sockets inherit
    and which makes asyncio's transports set ``TCP_NODELAY`` themselves (uvloop's always do)."""
    if host is None:
        try:
            return _bind_tcp("::", port, backlog, reuse_port, ipv6_only, no_delay)
        except OSError as exc:
            if exc.errno not in (_errno.EAFNOSUPPORT, _errno.EADDRNOTAVAIL, _errno.EPROTONOSUPPORT,
                                 _errno.EINVAL):
                raise
            return _bind_tcp("0.0.0.0", port, backlog, reuse_port, False, no_delay)
    af = socket.AF_INET6 if is_ip(host) == 6 else socket.AF_INET
    sock = socket.socket(af, socket.SOCK_STREAM, socket.IPPROTO_TCP if no_delay else 0)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if af == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1 if ipv6_only else 0)
        sock.bind((host, port))
        sock.listen(backlog)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def _bind_unix(path: str, backlog: int, readable_all: bool, writable_all: bool) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(path)
        if (readable_all or writable_all) and not path.startswith("\0"):
            mode = os.stat(path).st_mode
            if readable_all:
                mode |= stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
            if writable_all:
                mode |= stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
            os.chmod(path, mode)
        sock.listen(backlog)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


class Server(EventEmitter, _ServerAPI):  # type: ignore[misc]  # (EventEmitter's own bases)
    """Node's ``net.Server``.

    ``Server(options=None, connection_listener=None, **options)``; options ``allow_half_open``,
    ``pause_on_connect``, ``no_delay``, ``keep_alive``, ``keep_alive_initial_delay``,
    ``high_water_mark`` (passed to every accepted :class:`Socket`). Events: ``'listening'``,
    ``'connection'(socket)``, ``'drop'(info)``, ``'close'``, ``'error'(err)``.
    ``await server`` waits for ``'listening'`` (raising the listen error).
    """

    #: A socket :meth:`_make_socket` built for a server whose only ``'connection'`` listener is its
    #: own (the TLS server's): :meth:`_accept` announces it with no ``'connection'`` emit at all.
    _direct: Any = None
    #: ``'close'`` is scheduled (:meth:`_emit_close_if_drained`) and not emitted yet.
    _close_scheduled = False
    #: The event loop the server accepts connections on while listening (``_start`` to
    #: ``_close_listener``): the loop of each connection it accepts (``Socket._running_loop``).
    _accept_loop: asyncio.AbstractEventLoop | None = None
    #: The servers listening on this one's socket (``listen(server)``: ``_net/shared.py``).
    _group: Any = None

    def __init__(self, options: Any = None, connection_listener: Callable[..., Any] | None = None,
                 **kwargs: Any) -> None:
        if callable(options) and connection_listener is None:
            options, connection_listener = None, options
        opts = normalize(options, kwargs, SERVER_OPTIONS, "options", _option_table.SERVER_KINDS)
        EventEmitter.__init__(self)
        self._init_server(opts, connection_listener)

    def _init_server(self, opts: dict[str, Any], connection_listener: Callable[..., Any] | None) -> None:
        """Set up from normalised options (unknown keys ignored: for subclasses)."""
        self._allow_half_open = bool(opts.get("allow_half_open", False))
        self._pause_on_connect = bool(opts.get("pause_on_connect", False))
        self._no_delay = bool(opts.get("no_delay", False))
        self._keep_alive = bool(opts.get("keep_alive", False))
        self._keep_alive_initial_delay = float(opts.get("keep_alive_initial_delay") or 0)
        self._high_water_mark = opts.get("high_water_mark")
        self._connections = 0
        self._sock: socket.socket | None = None  # Node's _handle
        self._aserver: Any = None  # asyncio.AbstractServer, or direct.Acceptor (asyncio's loop)
        self._start_task: asyncio.Task[None] | None = None
        self._bind_call: asyncio.Handle | None = None  # the bind after an IP's "lookup"
        self._listen_held = False  # registered with run() from listen() to 'listening'
        self._pipe_name: str | None = None
        self._listen_pending = False  # listen() called, 'listening' not emitted yet
        self._listening_emitted = False
        self._listen_error: BaseException | None = None
        self._listen_error_seen = False
        self._refed = True
        self._registered = False
        self._max_connections: int | None = None
        self._address_cache: AddressInfo | None = None
        self._loop_sets_no_delay = False
        self._handle_registry: Any = None  # run()'s registry, handed to each accepted handle
        if connection_listener is not None:
            self.on("connection", connection_listener)

    def __repr__(self) -> str:
        if getattr(self, "_sock", None) is None:
            return f"<{type(self).__name__} not listening>"
        return f"<{type(self).__name__} listening on {self.address()!r}>"

    def _listener_failed(self, event: str, exc: Exception, args: tuple[Any, ...] = ()) -> None:
        # A listener of an event about a connection ('connection', 'secureConnection'...) raised:
        # that connection is destroyed; the server lives on and reports the exception on
        # 'error' (or to the loop's exception handler).
        if args and isinstance(args[0], Stream) and event != "error":
            args[0].destroy()
        super()._listener_failed(event, exc, args)

    # -- listening ------------------------------------------------------------------------------

    def listen(self, *args: Any, **kwargs: Any) -> Server:
        """Node ``server.listen()``: ``listen(port=0, host=None, backlog=511, callback=None, *,
        path=None, reuse_port=False, ipv6_only=False)``, ``listen(path, backlog, callback)``,
        ``listen({'port':..., 'host':..., 'path':..., 'backlog':..., 'ipv6_only':...,
        'reuse_port':..., 'readable_all':..., 'writable_all':...}, callback)``;
        ``listen({'fd': n})``, ``listen(handle[, backlog][, callback])`` and
        ``listen({'handle': handle})`` listen on an existing socket (``_net/fd.py``: a
        descriptor, a ``socket.socket``, a listening ``Server``), whose failure is an
        ``'error'`` (``listen EINVAL: invalid argument`` for a file or a UDP socket).

        No host: ``::`` (dual-stack) where IPv6 works, else ``0.0.0.0``, bound in the call; a
        host (an IP too) is looked up first, as Node's, and bound on a later step. Port 0: a free
        port.
        ``callback`` is a ``'listening'`` listener. Returns the server; ``await server`` waits
        for ``'listening'`` or raises the error (``EADDRINUSE``...) also emitted as ``'error'``.
        """
        options, cb = normalize_listen_args(args, kwargs)
        if self._sock is not None or self._listen_pending:
            raise node_error("ERR_SERVER_ALREADY_LISTEN")
        opts = normalize({k: v for k, v in options.items() if k not in ("port", "path")}, None,
                         LISTEN_OPTIONS, "options")
        # Node's rules: a handle or a descriptor (fd.py), else a port (checked first), else a
        # path, else ERR_INVALID_ARG_VALUE; a dict must name one of them (the other forms
        # default to port 0).
        descriptor = listen_descriptor(options)
        port, path = (None, None) if descriptor is not None else listen_target(
            options, bool(args) and isinstance(args[0], Mapping) or "handle" in options)
        backlog = int(opts.get("backlog") or 511)
        if cb is not None:
            self.once("listening", cb)
        self._listen_error = None
        self._listen_error_seen = False
        self._listen_pending = True
        self._listening_emitted = False
        self._hold_until_listening()
        host = opts.get("host") or None
        loop = asyncio.get_running_loop()
        if descriptor is not None:
            try:
                sock = listen_on_fd(descriptor, backlog, bool(self._no_delay))
            except OSError as exc:
                self._fail_listen(listen_fd_error(exc))
                return self
            self._start(sock, backlog)
            other = options.get("handle", options)
            if isinstance(other, Server) and other._sock is not None:
                _join_group(self, other)  # (Node: this server owns the very handle now)
        elif path:
            path = os.fspath(path)
            try:
                sock = _bind_unix(path, backlog, bool(opts.get("readable_all")),
                                  bool(opts.get("writable_all")))
            except OSError as exc:
                if exc.errno == _errno.ENOENT:  # (libuv's uv_pipe_bind says EACCES for a
                    exc = OSError(_errno.EACCES, os.strerror(_errno.EACCES))  # missing dir)
                self._fail_listen(_listen_error(exc, path, None))
                return self
            self._pipe_name = path
            self._start(sock, backlog)
        elif host is None:
            try:
                sock = _bind_tcp(None, port or 0, backlog, _reuse_port(opts),
                                 bool(opts.get("ipv6_only")), bool(self._no_delay))
            except OSError as exc:
                self._fail_listen(_listen_error(exc, "::", port))
                return self
            self._start(sock, backlog)
        else:
            # Node's lookupAndListen: a given host is looked up first, an IP too (dns.lookup
            # answers an IP on the next tick), so nothing is bound before a later step.
            if is_ip(host):
                self._bind_call = loop.call_soon(self._bind_looked_up, host, port or 0, backlog,
                                                 opts, True)
            else:
                self._start_task = loop.create_task(
                    self._lookup_and_listen(host, port or 0, backlog, opts))
        return self

    def _hold_until_listening(self) -> None:
        """Keep :func:`nodetls.run` alive until ``'listening'`` (or the listen error), whatever
        ``server.unref()`` says: Node's host lookup request is referenced, and its
        ``'listening'`` is a nextTick, which always runs."""
        if not self._listen_held:
            self._listen_held = True
            if not self._registered:
                _run.ref_handle(self)

    def _release_listen_hold(self) -> None:
        if self._listen_held:
            self._listen_held = False
            if not self._registered:
                _run.unref_handle(self)

    async def _lookup_and_listen(self, host: str, port: int, backlog: int, opts: dict[str, Any]) -> None:
        try:
            infos = await lookup_listen_host(host, port)
        except OSError as err:  # (Node's getaddrinfo ENOTFOUND / EINVAL)
            self._start_task = None
            self._fail_listen(err, soon=False)
            return
        self._start_task = None
        self._bind_looked_up(str(infos[0][4][0]), port, backlog, opts, False)

    def _bind_looked_up(self, address: str, port: int, backlog: int, opts: dict[str, Any],
                        error_soon: bool) -> None:
        """Bind and listen on the looked-up ``address`` (Node's ``listenInCluster`` from the
        lookup's callback); a bind error is emitted on a later step with ``error_soon``."""
        self._bind_call = None
        if not self._listen_pending:  # closed meanwhile
            return
        try:
            sock = _bind_tcp(address, port, backlog, _reuse_port(opts),
                             bool(opts.get("ipv6_only")), bool(self._no_delay))
        except OSError as exc:
            self._fail_listen(_listen_error(exc, address, port), soon=error_soon)
            return
        self._start(sock, backlog)

    def _fail_listen(self, err: BaseException, soon: bool = True) -> None:
        self._listen_pending = False
        self._release_listen_hold()
        self._listen_error = err
        if soon:
            asyncio.get_running_loop().call_soon(self._emit_listen_error, err)
        else:
            self._emit_listen_error(err)

    def _emit_listen_error(self, err: BaseException, deferred: bool = False) -> None:
        if "error" in self._events:
            self.emit("error", err)
        elif self._listen_error_seen:  # `await server` already raised it: handled
            return
        elif not deferred:
            # An `await server` (or wait_for) started in the same step takes it one step later.
            asyncio.get_running_loop().call_soon(self._emit_listen_error, err, True)
        else:
            from ..events import _report

            _report(self, err, "unhandled 'error' event on net.Server")

    def _start(self, sock: socket.socket, backlog: int) -> None:
        self._sock = sock
        self._accept_loop = loop = asyncio.get_running_loop()
        # The loop sets TCP_NODELAY on every accepted TCP socket by itself: uvloop always,
        # asyncio for a socket made with IPPROTO_TCP (see _bind_tcp).
        self._loop_sets_no_delay = sock.family in (socket.AF_INET, socket.AF_INET6) and (
            sock.proto == socket.IPPROTO_TCP or type(loop).__module__.startswith("uvloop"))
        if _worker_state.index is not None:
            _worker_state.servers.add(self)  # closed when the worker is told to stop
        self._address_cache = None
        reg = self._handle_registry = _run.current_registry()
        if reg is not None:
            reg.open_unrefd.add(self)  # (listening: closed by run() when it returns)
        if self._refed and not self._registered:
            self._registered = True
            _run.ref_handle(self)
        self._start_task = loop.create_task(self._serve(sock, backlog))

    async def _serve(self, sock: socket.socket, backlog: int) -> None:
        loop = asyncio.get_running_loop()
        srv: Any
        try:
            if is_selector_loop(loop):
                # asyncio's own loop: accept and carry connections ourselves (_net/direct.py),
                # one step later as loop.create_server's own start (sleep(0)) would be.
                await asyncio.sleep(0)
                if self._sock is not sock:
                    return
                srv = Acceptor(loop, sock, self._handle_factory(), backlog)
            else:
                srv = await loop.create_server(self._handle_factory(), sock=sock, backlog=backlog)
        except asyncio.CancelledError:
            raise
        except OSError as exc:  # pragma: no cover - the socket is already listening
            self._start_task = None
            self._close_listener()
            self._fail_listen(_listen_error(exc, None, None), soon=False)
            return
        self._start_task = None
        if self._sock is not sock:  # closed while starting
            srv.close()
            return
        self._aserver = srv
        self._listen_pending = False
        self._listening_emitted = True
        self._release_listen_hold()
        self.emit("listening")

    def _handle_factory(self) -> Callable[[], TCPHandle]:
        """The asyncio protocol factory: one handle per accepted connection, reporting to
        :meth:`_accept` (a partial of the class: no Python call of ours per accept; its
        arguments positional: keyword arguments take the call ~2x as long)."""
        return functools.partial(TCPHandle, None, True, self._accept, RECV_BUFFER_SIZE,
                                 self._handle_registry)

    def _accept(self, handle: TCPHandle) -> None:
        """A connection was accepted (Node's ``onconnection``)."""
        if self._group is not None and self._group.owner is not self:
            self._group.owner._accept(handle)  # (listen(server): the handle's new owner's)
            return
        if self._sock is None:
            handle.close()
            return
        mc = self._max_connections
        if mc is not None and self._connections >= mc:
            info = {
                "local_address": handle.local_address, "local_port": handle.local_port,
                "local_family": handle.local_family, "remote_address": handle.remote_address,
                "remote_port": handle.remote_port, "remote_family": handle.remote_family,
            }
            info.update({
                "localAddress": info["local_address"], "localPort": info["local_port"],
                "localFamily": info["local_family"], "remoteAddress": info["remote_address"],
                "remotePort": info["remote_port"], "remoteFamily": info["remote_family"],
            })
            self.emit("drop", info)
            handle.close()
            return
        sock = self._make_socket(handle)
        self._connections += 1
        sock.server = self
        sock._server = self
        if sock is self._direct:
            # Built by _make_socket for a server whose only 'connection' listener is its own
            # (the TLS server's): that listener would return at once, so no emit at all.
            self._direct = None
        else:
            self._on_accepted(sock)

    def _on_accepted(self, sock: Any) -> None:
        """Announce an accepted connection (overridable: the TLS server's hook)."""
        self.emit("connection", sock)

    def _make_socket(self, handle: Any) -> Socket:
        """Build the socket for an accepted ``handle`` (overridable: the TLS server's hook).

        The returned socket's ``_destroy`` must decrement ``server._connections`` (``Socket``
        does it through ``socket._server``, which :meth:`_accept` sets)."""
        opts = _Normalized(handle=handle, allow_half_open=self._allow_half_open,
                           pause_on_create=self._pause_on_connect)
        if self._high_water_mark is not None:
            opts["high_water_mark"] = self._high_water_mark
        sock = Socket(opts)
        if self._no_delay:
            if self._loop_sets_no_delay:
                sock._no_delay = True  # (what set_no_delay would record)
            else:
                sock.set_no_delay(True)
        if self._keep_alive:
            sock.set_keep_alive(True, self._keep_alive_initial_delay)
        return sock

    def __await__(self) -> Generator[Any, None, Server]:
        """``await server``: wait for ``'listening'``; raise the listen error."""
        return self._wait_listening().__await__()

    async def _wait_listening(self) -> Server:
        if self._listening_emitted and self._sock is not None:
            return self
        if self._listen_error is not None and not self._listen_pending:
            self._listen_error_seen = True
            raise self._listen_error
        if not self._listen_pending:
            raise node_error("ERR_SERVER_NOT_RUNNING")
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def ok(*_: Any) -> None:
            if not fut.done():
                fut.set_result(None)

        def fail(err: BaseException) -> None:
            if not fut.done():
                if self.listening:  # not a listen error: e.g. a 'listening' listener raised
                    fut.set_result(None)
                else:
                    fut.set_exception(err)

        def closed(*_: Any) -> None:
            if not fut.done():
                fut.set_exception(node_error("ERR_SERVER_NOT_RUNNING"))

        self.on("listening", ok)
        self.on("error", fail)
        self.on("close", closed)
        try:
            await fut
        finally:
            self.remove_listener("listening", ok)
            self.remove_listener("error", fail)
            self.remove_listener("close", closed)
        return self

    # -- closing --------------------------------------------------------------------------------

    def close(self, callback: Callable[..., Any] | None = None) -> asyncio.Future[None]:
        """Node ``server.close([callback])``: stop accepting; ``'close'`` once every connection
        has closed. Returns an awaitable done at ``'close'`` (raising ``ERR_SERVER_NOT_RUNNING``
        if the server was not listening, which ``callback(err)`` also receives)."""
        if not callable(callback):
            callback = None  # (Node ignores a callback that is not a function)
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        # (Node: no handle yet -> ERR_SERVER_NOT_RUNNING, also while a host name is being
        # looked up for listen(); the lookup is abandoned and 'close' still comes)
        err = None if self._sock is not None else node_error("ERR_SERVER_NOT_RUNNING")

        def on_close(*_: Any) -> None:
            if not fut.done():
                if err is None:
                    fut.set_result(None)
                else:
                    fut.set_exception(err)
                    fut.exception()  # retrieved: awaiting is optional
            if callback is not None:
                _invoke(callback, (err,))

        self.once("close", on_close)
        self._close_listener()
        self._emit_close_if_drained()
        return fut

    def _close_listener(self) -> None:
        if self._group is not None:
            _leave_group(self)  # (listen(server): the socket closes for both)
        self._listen_pending = False
        self._accept_loop = None  # (its connections ask the running loop from now on)
        task = self._start_task
        if task is not None:
            self._start_task = None
            task.cancel()
        call = self._bind_call
        if call is not None:
            self._bind_call = None
            call.cancel()
        srv, self._aserver = self._aserver, None
        sock, self._sock = self._sock, None
        if srv is not None:
            srv.close()
        elif sock is not None:
            sock.close()
        if self._pipe_name is not None:
            path, self._pipe_name = self._pipe_name, None
            if not path.startswith("\0"):
                with contextlib.suppress(OSError):
                    os.unlink(path)
        reg = self._handle_registry
        if reg is not None:
            reg.open_unrefd.discard(self)
        if self._registered:
            self._registered = False
            _run.unref_handle(self)
        self._release_listen_hold()

    def _release_at_exit(self) -> None:
        """:func:`nodetls.run` returns while this server listens (unreferenced, or an error
        ended the program): the listening socket is closed as a Node process's is when it
        exits -- the port is free again -- and no ``'close'`` is emitted (nor any later)."""
        self._close_listener()

    def _emit_close_if_drained(self) -> None:
        if self._sock is not None or self._listen_pending or self._connections:
            return
        # Node's emitCloseNT (a nextTick): before the 'close' of the connection that drained
        # the server, which waits for it (Socket._on_handle_close).
        self._close_scheduled = True
        asyncio.get_running_loop().call_soon(self._emit_close)

    def _emit_close(self) -> None:
        self._close_scheduled = False
        self.emit("close")
