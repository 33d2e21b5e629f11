"""``net.Socket``'s ending and closing: ``end()`` and its shutdown (Node's ``_final``), the
handle's errors (a write that failed in the call included), ``destroy()`` and ``'close'``.

:class:`_SocketClose` is a mixin of ``Socket`` (``socket.py``), without state of its own
(``__slots__ = ()``; the socket's slots are declared in ``Socket``), before ``Duplex`` in its MRO:
its ``end``, ``destroy``, ``_final`` and ``_destroy`` are the socket's. ``end()`` and
``destroy()`` take their usual case without the stream's calls while the class keeps this
module's ``_final`` and ``_destroy`` (``_FINAL``, ``_DESTROY``).
"""

from __future__ import annotations

from collections.abc import Callable
from types import MethodType
from typing import TYPE_CHECKING, Any

from ..errors import node_error
from ..stream import Duplex, _get_running_loop, _soon
from ..stream._writable import Writable
from .connect_again import not_begun
from .onread import uninstall as _onread_uninstall

if TYPE_CHECKING:
    from ._socket_api import _SocketFields

    _Base = _SocketFields
else:
    _Base = object

__all__ = ["_SocketClose"]

#: Writable's onwrite (Node's ``onwrite``): the callback the stream hands :meth:`_write`.
_ONWRITE = Writable._on_write_done


class _SocketClose(_Base):
    """``Socket``'s ending and closing (a mixin: no state)."""

    __slots__ = ()
    #: ``docs/gen_reference.py`` lists this class's members as ``Socket``'s own.
    _MEMBERS_OF_SUBCLASS = True

    def end(self, data: Any = None, encoding: Any = None,
            callback: Callable[..., Any] | None = None) -> Any:
        """Node ``socket.end([data][, encoding][, callback])``: write ``data``, then half-close
        once pending writes are flushed (``'finish'``; ``callback`` then). Returns the socket.

        The usual end (no data, no callback, nothing queued, corked or in flight, not ended,
        destroyed or errored (an emitted 'error' or 'close' comes with one of those), this class's :meth:`_final` over a handle whose ``shutdown()``
        is done when it returns, e.g. a TLS wrap): the state ``Writable.end`` -> finishMaybe ->
        prefinish -> callFinal -> :meth:`_final` leave, without those calls: the handle shuts
        down; onFinish (``'prefinish'``, ``'finish'``) follows the ticks queued after ``end()``,
        as Node's asynchronous shutdown completion (:meth:`_end_done`)."""
        h = self._handle
        if (data is not None or encoding is not None or callback is not None or h is None
                or self._w_ending or self._w_writing or self._w_corked or self._w_len
                or self._w_buf or self._destroyed or self._errored is not None or self.connecting
                or type(self)._final is not _FINAL
                or getattr(h, "SHUTDOWN_CALLBACK", False)):
            if self._fin_received and self._w_ending and data is not None:
                return self._end_after_fin(data, encoding, callback)
            return Duplex.end(self, data, encoding, callback)
        self._w_ending = True
        self._w_final_called = True
        # (callFinal: pendingcb counts the _final call, then, done, the 'finish' tick; its
        # sync flag is read by nothing but onFinish's error case)
        self._w_pending_cb += 1
        try:
            h.shutdown()
        except Exception as exc:  # noqa: BLE001 - Node: a throwing _final is a final error
            self._w_sync = True
            self._on_final_done(exc)
            self._w_sync = False
            self._w_ended = True
            return self
        self._w_sync = False
        # The shutdown, done when handle.shutdown() returned, completes two loop steps later
        # (_end_done): Node's ShutdownWrap completes from libuv, after the ticks queued by the
        # code that called end() (and by those ticks, one level). The first step is the loop's
        # own call_soon (no Python call of ours).
        srv = self._server  # (_running_loop, inlined)
        call_soon = (srv is not None and srv._accept_loop or _get_running_loop()).call_soon
        call_soon(call_soon, self._end_done)
        self._w_ended = True
        return self

    def _end_after_fin(self, data: Any, encoding: Any,
                       callback: Callable[..., Any] | None) -> Any:
        """``end(data)`` once this socket has ended after the peer's FIN (no
        ``allow_half_open``): Node's ``end()`` hands the chunk to Writable's own ``_write``,
        not to ``socket.write``, which is ``writeAfterFIN`` then (``EPIPE``,
        :meth:`_write_after_fin`); so the chunk is refused as by any ended stream:
        ``ERR_STREAM_WRITE_AFTER_END`` for ``'error'`` and ``end()``'s callback
        (``tests/net/test_net_end_data_after_fin.py``). ``Writable.end`` writes the chunk with
        ``self.write``: the write-after-FIN mark is off for that call."""
        self._fin_received = False
        try:
            return Duplex.end(self, data, encoding, callback)
        finally:
            self._fin_received = True

    def _end_done(self) -> None:
        """:meth:`end`'s shutdown completed (two loop steps after ``end()``, see there): Node's
        callFinal callback (onFinish, no error):
        ``'prefinish'``, then ``'finish'`` on a tick, or at once when no ``'prefinish'``
        listener could have queued a tick before it (the same order). Since ``end()``,
        ``write()`` fails (an error sets ``errored``) and an emitted 'error' or 'close' comes
        with ``errored`` or ``destroyed``: needFinish is those two."""
        if self._destroyed or self._errored is not None:
            self._w_pending_cb -= 1  # (the _final call's; no 'finish')
            return
        self._w_prefinished = True  # (pendingcb: the _final call's count is the 'finish''s)
        if "prefinish" in self._events:  # (no emit nobody listens to)
            self.emit("prefinish")
            self._running_loop().call_soon(self._finish)
        else:
            self._finish()

    def _shutdown_nt(self, callback: Callable[..., Any]) -> None:
        """:meth:`_final`'s shutdown, done when ``handle.shutdown()`` returned: ``callback``
        (onFinish) a tick later still, as :meth:`end`'s."""
        self._running_loop().call_soon(callback)

    def _final(self, callback: Callable[..., Any]) -> None:
        """Writable hook (``end()``): shut down our side once pending writes are flushed."""
        if self.connecting:
            self._pending_final = callback
            return
        h = self._handle
        if h is None:
            callback()
            return
        # (read on the handle: a type's missing attribute makes getattr() build and drop an
        # AttributeError, ~2k instructions; an instance's does not)
        if getattr(h, "SHUTDOWN_CALLBACK", False):
            # 'finish' once pending writes are flushed, as Node; a shutdown done at once
            # completes after the ticks of end()'s caller (_shutdown_nt)
            returned = False

            def on_shutdown() -> None:
                if returned:
                    callback()
                else:  # (done within handle.shutdown(): Node's never is)
                    self._running_loop().call_soon(self._shutdown_nt, callback)

            h.shutdown(on_shutdown)
            returned = True
        else:  # a handle with the plain DESIGN.md shutdown() (e.g. a TLS wrap)
            h.shutdown()
            self._running_loop().call_soon(self._shutdown_nt, callback)

    # -- handle seam: errors and closing --------------------------------------------------------

    def _on_handle_error(self, exc: BaseException) -> None:
        """Transport error (Node-coded): ``destroy(exc)``."""
        self.destroy(exc)

    #: The write the handle failed within ``handle.write()`` (:meth:`_on_handle_write_failed`),
    #: until :meth:`_on_handle_write_error`: the error the socket was given then, what
    #: completes the write with the later error (``None``: nothing, the write was completed,
    #: :meth:`write`'s data path; the write's callback from :meth:`_write`), and whether
    #: that is the stream's ``onwrite`` done but for its error tick, the second then being
    #: the write's own callback or ``None`` (:meth:`_write_failed_in_call`).
    _failed_write: tuple[BaseException, Any, bool] | None = None

    def _on_handle_write_failed(self, err: BaseException) -> None:
        """The handle's write failed within ``handle.write()`` (a pipe without a reader; a
        connection the peer has gone from): Node's ``onwrite`` with the error of the write
        call (``afterWriteDispatched``): the socket is errored at once, so ``write()`` returns
        ``False`` and later writes wait in the buffer; not destroyed yet (:meth:`_write` then
        ends the write, :meth:`_write_failed_in_call`). The handle then reports the error
        (:meth:`_on_handle_write_error`) on the loop step Node's ``onwriteError`` tick runs
        in."""
        if self._errored is None:
            self._errored = err
        self._failed_write = (err, None, False)

    def _write_failed_in_call(self, callback: Callable[..., Any]) -> None:
        """:meth:`_write`'s write failed within ``handle.write()``; ``callback`` is the one
        :meth:`_write` was given. When it is the stream's ``onwrite`` for the write in
        progress, the part of Node's ``onwrite`` with an error that runs in the call: the
        write's length is taken off, ``writing`` and the write's callback cleared (so the
        completion of the write before it, which handed it over from the buffer, finds the
        buffer empty: ``'drain'``, as Node's ``afterWrite``); its ``onwriteError`` (with the
        callback kept here) waits for the error (:meth:`_on_handle_write_error`). Another
        callback gets the error then."""
        failed: Any = self._failed_write
        if (type(callback) is MethodType and callback.__func__ is _ONWRITE
                and callback.__self__ is self and self._w_writing):
            cb = self._w_cb
            self._w_cb = None
            self._w_writing = False
            self._w_len -= self._w_write_len
            self._w_write_len = 0
            self._failed_write = (failed[0], cb, True)
        else:
            self._failed_write = (failed[0], callback, False)

    def _on_handle_write_error(self, err: BaseException) -> None:
        """The error of the write that failed within ``handle.write()`` (``err`` replaces the
        one given then, which a TCP handle cannot know yet): Node's ``onwriteError``: the
        write's callback, the buffered writes' and ``end()``'s callbacks get it, then
        ``destroy(err)`` (nothing if the socket was destroyed meanwhile)."""
        failed = self._failed_write
        if failed is None:  # (not told at once: as any transport error)
            self._on_handle_error(err)
            return
        self._failed_write = None
        if self._errored is failed[0]:
            self._errored = err
        cb = failed[1]
        if failed[2]:  # (onwrite's part in the call was done: _write_failed_in_call)
            self._onwrite_error(err, cb)
            return
        if cb is not None and self._w_writing:
            cb(err)  # (Writable's onwrite, not sync: onwriteError now)
            return
        self._error_buffer()
        self._error_or_destroy(err)

    def destroy(self, err: BaseException | None = None,
                callback: Callable[..., Any] | None = None) -> Any:
        """Node ``socket.destroy([error])``: close the handle now; ``'error'`` (with ``error``),
        then ``'close'(had_error)`` once the handle is closed. Returns the socket.

        The usual close (no error, no callback, nothing written still pending, no connect task,
        no timer, a handle to close, this class's :meth:`_destroy`): the steps of
        ``Stream.destroy`` -> :meth:`_destroy` -> its callback, in one call (no closure);
        ``'close'`` follows from the handle's close (``_on_handle_close``)."""
        h = self._handle
        if (err is not None or callback is not None or h is None or self._destroyed
                or self._w_buf or self._w_on_finished or self._timer is not None
                or self._pending_write_cb is not None or self._pending_write is not None
                or self._connect_task is not None or type(self)._destroy is not _DESTROY):
            return Duplex.destroy(self, err, callback)
        self._destroyed = True
        self.connecting = False
        self._pending_final = None
        # (_had_error: False already, as it is until a _destroy() with an error)
        self._handle = None
        self._closed_handle = h
        h.close()
        self._closed = True  # (the callback's, without error: no tick, 'close' is the handle's)
        server = self._server
        if server is not None:
            server._connections -= 1
            if server._sock is None:  # (not listening any more: 'close' once drained)
                server._emit_close_if_drained()
        return self

    def _destroy(self, err: BaseException | None, callback: Callable[..., Any]) -> None:
        """Stream hook: close the handle (``'close'`` follows from ``_on_handle_close``)."""
        self.connecting = False
        task = self._connect_task
        if task is not None:
            self._connect_task = None
            task.cancel()
            if not_begun(task):  # (connect_again.revived_connect)
                self._cancelled_connect = (task, self._connect_opts)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        # The write the handle has in flight completes with no error two steps later, after the
        # 'error' this destroy queues and before 'close': Node's uv_close cancels the write
        # request and onWriteComplete, the stream destroyed, calls back with null; Writable's
        # afterWrite then fails the writes buffered behind it with the socket's error (else
        # ERR_STREAM_DESTROYED).
        write_cb = self._pending_write_cb
        if write_cb is not None:
            self._pending_write_cb = None
            self._cancelled_write_cb = write_cb
            _soon(_soon, self._complete_cancelled_write)
        pending = self._pending_write
        if pending is not None:
            # Data written while connecting fails with ERR_SOCKET_CLOSED_BEFORE_CONNECTION from
            # its 'close' listener, and its 'connect' listener stays (_ConnectWrite).
            self._pending_write = None
            self._dropped_pending = len(pending.chunk)  # (still in bytes_written, as Node's)
        self._pending_final = None
        self._had_error = err is not None
        if self._onread is not None:
            _onread_uninstall(self)
        h = self._handle
        if h is not None:
            self._handle = None
            self._closed_handle = h
            h.close()
            callback(err)
        else:
            # Node's _destroy without a handle: cb(exception), then 'close' on a tick (after
            # the 'error' the callback queued), emitted with no argument by a socket that never
            # had a handle (None here, JavaScript's undefined; a shell's handle is its
            # TLSSocket's, and a TLSSocket always has one in Node).
            if self._closed_handle is None and self._shell_of is None \
                    and not getattr(type(self), "encrypted", False):
                self._had_error = None
            callback(err)
            _soon(self._emit_socket_close)
        server = self._server
        if server is not None:
            server._connections -= 1
            if server._sock is None:  # (not listening any more: 'close' once drained)
                server._emit_close_if_drained()

    _CLOSE_NT = False  # (destroy() schedules no _emit_close_nt)

    def _emit_close_nt(self) -> None:
        pass  # 'close' comes from the handle (Node: emitClose false)

    def _on_handle_close(self) -> None:
        """The handle is gone: ``'close'(had_error)`` on a later loop turn, after any pending
        ``'error'``, after the server's ``'close'`` when this connection's end drained it, and
        after what was deferred meanwhile (a write callback's ``ERR_STREAM_DESTROYED``): Node's
        ``'close'`` comes from the handle's close callback, which libuv runs after every
        nextTick of the turn that closed it."""
        if not self._destroyed:
            self.destroy()
        _soon(self._emit_socket_close)

    #: The write the handle had in flight when the socket was destroyed (:meth:`_destroy`): its
    #: completion, due before ``'close'``.
    _cancelled_write_cb: Callable[..., Any] | None = None

    def _complete_cancelled_write(self) -> None:
        cb = self._cancelled_write_cb
        if cb is not None:
            self._cancelled_write_cb = None
            cb()

    def _emit_socket_close(self) -> None:
        if self._error_pending:
            _soon(self._emit_socket_close)
            return
        if self._cancelled_write_cb is not None:  # (the handle closed within the destroy)
            self._complete_cancelled_write()
        if self._close_emitted:
            return
        if self._attempt is not None:  # (its 'connectionAttemptFailed' first: autoselect.py)
            self._close_held = True
            return
        if self._close_held:  # (that attempt ended this step: after what its listeners queued)
            self._close_held = False
            _soon(self._emit_socket_close)
            return
        if self._close_waiters:
            self._mark_close_emitted()
        else:
            self._close_emitted = True  # (what _mark_close_emitted does without waiters)
        if "close" in self._events:  # (no emit nobody listens to)
            self.emit("close", self._had_error)

    def _release_handle(self) -> Any:
        """Detach and return the handle (``TLSSocket`` taking this socket over, Node's
        ``_wrapHandle``); this socket forgets it, its timer stops."""
        h = self._handle
        self._handle = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        return h


class _ConnectWrite:
    """Node's ``_writeGeneric`` for the write made while connecting (``socket._pending_write``
    until then): the ``'connect'`` listener that writes it once connected, and the ``'close'``
    listener, added with it, that fails it (``ERR_SOCKET_CLOSED_BEFORE_CONNECTION``: Node's
    ``onClose``, which the ``'connect'`` listener removes). :meth:`add` adds both.

    Once the ``'close'`` listener has failed the write, its ``'connect'`` listener goes too
    (deliberately unlike Node's closure, which stays: a ``connect()`` again would send the
    chunk whose callback failed, and its completion would call the stream's write callback
    once more, destroying the socket with ``ERR_MULTIPLE_CALLBACK``; README, "differs"). A
    ``connect()`` again before that ``'close'`` (where Node fails an assertion) sends it on the
    new connection: its callback has not failed. A destroy by an earlier ``'connect'``
    listener fails it with ``ERR_SOCKET_CLOSED`` (Node's ``_writeGeneric`` without a handle)."""

    __slots__ = ("sock", "chunk", "callback", "on_close")

    def __init__(self, sock: Any, chunk: Any, callback: Callable[..., Any]) -> None:
        self.sock = sock
        self.chunk = chunk
        self.callback = callback
        self.on_close = _ClosedBeforeConnection(callback, self)

    def add(self) -> None:
        """The write's two listeners: ``'connect'`` (write it), ``'close'`` (fail it)."""
        sock = self.sock
        sock.once("connect", self)
        sock.once("close", self.on_close)

    def __call__(self, *_: Any) -> None:
        sock = self.sock
        # (Node's _pendingData = null: also a newer write's, whose listener still writes it,
        # when this is a dropped write written on a new connection)
        sock._pending_write = None
        sock.off("close", self.on_close)  # (Node's this.off('close', onClose))
        sock._write(self.chunk, self.callback)


class _ClosedBeforeConnection:
    """Node's ``onClose`` of ``_writeGeneric``: a write made while connecting, failed by
    ``'close'``; its ``'connect'`` listener (``write``) goes with it (see :class:`_ConnectWrite`)."""

    __slots__ = ("callback", "write")

    def __init__(self, callback: Callable[..., Any], write: Any = None) -> None:
        self.callback = callback
        self.write = write

    def __call__(self, *_: Any) -> None:
        if self.write is not None:
            self.write.sock.off("connect", self.write)
        self.callback(node_error("ERR_SOCKET_CLOSED_BEFORE_CONNECTION"))


_FINAL = _SocketClose._final
_DESTROY = _SocketClose._destroy
