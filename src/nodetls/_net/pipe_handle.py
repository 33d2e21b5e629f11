"""The handle seam (``handle.py``'s module docstring) over a pipe or FIFO descriptor: Node's
``Pipe`` handle made by ``net.Socket({'fd': n})`` for a descriptor libuv calls ``'PIPE'`` that
is not a socket (``uv_pipe_open``).

The descriptor is read and written directly, made non-blocking, through the loop's
``add_reader`` / ``add_writer`` (asyncio's loops and uvloop alike): one descriptor for both
directions, as libuv's, and none of the pipe transports' own half-closing. What libuv does,
measured against Node v20:

* The directions are the descriptor's access mode (``fcntl(F_GETFL)``). Reading from a
  write-only one fails at once, when reading starts (Node's ``tryReadStart``, from the
  constructor: ``'error'`` ``read ENOTCONN``, then ``'close'(true)``); writing to a read-only
  one, or to a pipe whose reader has gone, fails with ``write EPIPE``: in the call as Node's
  (``_on_handle_write_failed``: the socket is errored at once, ``write()`` returns ``False``),
  the write's callback, ``'error'`` and ``'close'(true)`` following (``_on_handle_write_error``,
  a loop step later); a queued write that fails later completes with the error (the socket's
  ``_pending_write_cb``); an owner without these (a TLS wrap) gets ``_on_handle_error``.
* ``write()`` returns ``True`` only when all was written at once (Node's write callback comes
  once the request is written): the rest is queued and ``_on_handle_drain`` follows when the
  queue is empty.
* End of file (a read of 0 bytes) is ``_on_handle_eof``.
* ``shutdown()`` completes once the queue is written and does nothing else (libuv's
  ``shutdown()`` fails on a pipe and Node ignores that): the descriptor stays open until
  ``close()``, which closes it at once (as ``uv_close``), queued data dropped;
  ``_on_handle_close`` follows a loop step later, once.
* Under :func:`nodetls.run`, as a libuv stream: referenced and active (reading, or data queued,
  or closing) it keeps ``run()`` alive; otherwise it is closed silently when ``run()`` returns.
"""

from __future__ import annotations

import asyncio
import errno
import os
from collections.abc import Callable
from typing import Any

from .. import _run
from .handle import _CLOSED, _CLOSING, _OPEN, NO_OWNER, AddresslessHandle
from .handle_parts import _wrap_error

__all__ = ["PipeHandle", "PIPE_READ_SIZE"]

#: Bytes taken by one read (libuv's 64 KiB).
PIPE_READ_SIZE = 64 * 1024

_RETRY = (BlockingIOError, InterruptedError)


def _oserror(code: int) -> OSError:
    return OSError(code, os.strerror(code))


class PipeHandle(AddresslessHandle):
    """A pipe or FIFO descriptor behind the handle seam (module docstring); the handle owns
    the descriptor from now on and makes it non-blocking (as ``uv_pipe_open``)."""

    def __init__(self, fd: int, owner: Any = None) -> None:
        import fcntl  # (Unix only: fd.py makes one only there)

        self._loop = asyncio.get_running_loop()  # (first: nothing changed without a loop)
        mode = fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE
        os.set_blocking(fd, False)
        self.owner: Any = owner if owner is not None else NO_OWNER
        self.fd = fd
        self.readable_fd = mode != os.O_WRONLY
        self.writable_fd = mode != os.O_RDONLY
        self._state = _OPEN  # (handle.py's states: _OPEN, _CLOSING, then _CLOSED)
        self._reading = False
        self._polling_read = False
        self._eof = False
        self._wbuf = bytearray()
        self._shut = False
        self._shutdown_cb: Callable[[], None] | None = None
        self._refed = True
        self._reg = _run.current_registry()
        self._update_ref()

    def __repr__(self) -> str:
        state = {_OPEN: "open", _CLOSING: "closing", _CLOSED: "closed"}[self._state]
        return f"<PipeHandle fd={self.fd} {state}>"

    # -- reading ----------------------------------------------------------------------------

    def read_start(self) -> None:
        """Start delivering reads (Node's ``readStart``): ``read ENOTCONN`` at once on a
        write-only descriptor (``owner._on_handle_error``)."""
        if self._state != _OPEN:
            return
        if not self.readable_fd:
            self.owner._on_handle_error(_wrap_error(_oserror(errno.ENOTCONN), "read"))
            return
        if not self._reading:
            self._reading = True
            self._poll_read()

    def read_stop(self) -> None:
        """Stop delivering reads (Node's ``readStop``)."""
        if self._reading:
            self._reading = False
            self._poll_read()

    @property
    def reading(self) -> bool:
        """Reads are being delivered (Node's ``handle.reading``)."""
        return self._reading

    def _poll_read(self) -> None:
        want = self._reading and not self._eof and self._state == _OPEN
        if want != self._polling_read:
            self._polling_read = want
            if want:
                self._loop.add_reader(self.fd, self._on_readable)
            else:
                self._loop.remove_reader(self.fd)
            self._update_ref()

    def _on_readable(self) -> None:
        try:
            data = os.read(self.fd, PIPE_READ_SIZE)
        except _RETRY:
            return
        except OSError as exc:
            self._stop_polling()
            self.owner._on_handle_error(_wrap_error(exc, "read"))
            return
        if data:
            self.owner._on_handle_read(memoryview(data))
            return
        self._eof = True
        self._poll_read()
        self.owner._on_handle_eof()

    # -- writing ----------------------------------------------------------------------------

    def write(self, data: bytes | bytearray | memoryview) -> bool:
        """Write ``data`` (Node's ``writeBuffer``): ``True`` if all of it was written at once,
        else ``False`` and ``_on_handle_drain`` once the queue is written (or the write's error
        a step later: ``write EPIPE`` on a read-only descriptor or without a reader)."""
        if self._state != _OPEN:
            return False
        if not self.writable_fd:
            return self._failed_at_once(_oserror(errno.EPIPE))
        if self._wbuf:
            self._wbuf += data
            return False
        try:
            n = os.write(self.fd, data)
        except _RETRY:
            n = 0
        except OSError as exc:
            return self._failed_at_once(exc)
        if n == len(data):
            return True
        self._wbuf += memoryview(data)[n:]
        self._loop.add_writer(self.fd, self._on_writable)
        self._update_ref()
        return False

    def _on_writable(self) -> None:
        buf = self._wbuf
        try:
            n = os.write(self.fd, buf)
        except _RETRY:
            return
        except OSError as exc:
            self._write_failed(exc)
            return
        del buf[:n]
        if buf:
            return
        self._loop.remove_writer(self.fd)
        self._update_ref()
        cb = self._shutdown_cb
        if cb is not None:
            self._shutdown_cb = None
            cb()
        self.owner._on_handle_drain()

    def _failed_at_once(self, exc: OSError) -> bool:
        """A write failed in the call (Node's ``uv_try_write``, ``afterWriteDispatched``): the
        owner is errored at once (``_on_handle_write_failed``: ``write()`` returns ``False``),
        and gets the error for the write's callback and its destroy a loop step later
        (``_on_handle_write_error``, Node's ``onwriteError`` tick). ``True``: the write is over
        (failed). An owner without the first gets the error a step later as a failed write
        request's (:meth:`_write_failed`)."""
        failed = getattr(self.owner, "_on_handle_write_failed", None)
        if failed is None:
            self._loop.call_soon(self._write_failed, exc)
            return False
        err = _wrap_error(exc, "write")
        failed(err)
        self._loop.call_soon(self._report_write_error, err)
        return True

    def _report_write_error(self, err: BaseException) -> None:
        owner = self.owner
        report = getattr(owner, "_on_handle_write_error", None)
        if report is not None:
            report(err)
        elif self._state == _OPEN:
            owner._on_handle_error(err)

    def _write_failed(self, exc: OSError) -> None:
        """A write failed (Node's ``onWriteComplete`` with an error status): the socket's write
        in flight completes with the error (``Writable``'s ``onwrite``: its callback, then
        ``destroy(err)``); another owner gets ``_on_handle_error``."""
        if self._state != _OPEN:
            return
        if self._wbuf:
            self._wbuf.clear()
            self._loop.remove_writer(self.fd)
            self._update_ref()
        err = _wrap_error(exc, "write")
        owner = self.owner
        cb = getattr(owner, "_pending_write_cb", None)
        if cb is not None:
            owner._pending_write_cb = None
            cb(err)
        else:
            owner._on_handle_error(err)

    def get_write_buffer_size(self) -> int:
        """Bytes queued, not written yet."""
        return len(self._wbuf)

    # -- ending and closing -----------------------------------------------------------------

    def shutdown(self, callback: Callable[[], None] | None = None) -> None:
        """Node's ``shutdown`` on a pipe: ``callback()`` once the queue is written; the
        descriptor stays open (the ``shutdown()`` libuv then makes fails and Node ignores it)."""
        if self._state != _OPEN or self._shut or not self._wbuf:
            self._shut = True
            if callback is not None:
                callback()
            return
        self._shut = True
        self._shutdown_cb = callback

    def close(self) -> None:
        """Close the descriptor now (Node's ``uv_close``: queued data dropped);
        ``owner._on_handle_close()`` follows a loop step later, once."""
        if self._state != _OPEN:
            return
        self._state = _CLOSING
        self._stop_polling()
        self._shutdown_cb = None
        try:
            os.close(self.fd)
        except OSError:
            pass
        self._update_ref()  # (closing: counts until the close is reported)
        self._loop.call_soon(self._closed)

    def _stop_polling(self) -> None:
        if self._polling_read:
            self._polling_read = False
            self._loop.remove_reader(self.fd)
        if self._wbuf:
            self._wbuf.clear()
            self._loop.remove_writer(self.fd)

    def _closed(self) -> None:
        self._state = _CLOSED
        self._update_ref()
        owner, self.owner = self.owner, NO_OWNER  # (the owner's last call, as TCPHandle's)
        owner._on_handle_close()

    def _release_at_exit(self) -> None:
        """:func:`nodetls.run` returns with this handle open: closed as a process exit closes
        it, the owner told nothing."""
        self.owner = NO_OWNER
        if self._state == _OPEN:
            self._state = _CLOSED
            self._stop_polling()
            try:
                os.close(self.fd)
            except OSError:
                pass
        self._state = _CLOSED

    @property
    def closed(self) -> bool:
        """``close()`` was called."""
        return self._state != _OPEN

    # -- run() lifetime ---------------------------------------------------------------------

    def _update_ref(self) -> None:
        """Keep :func:`nodetls.run` alive while referenced and active (reading, data queued),
        and while closing whatever ``ref()`` said (libuv's loop waits for a close callback)."""
        reg = self._reg
        if reg is None:
            return
        state = self._state
        if state == _CLOSING or state == _OPEN and self._refed and (
                self._polling_read or self._wbuf):
            reg.refs.add(self)
        elif state == _OPEN:
            reg.release(self)  # (open: closed silently when run() returns)
        else:
            reg.open_unrefd.discard(self)
            reg.unref(self)

    def ref(self) -> None:
        """Keep :func:`nodetls.run` alive while active (the default)."""
        self._refed = True
        self._update_ref()

    def unref(self) -> None:
        """Let :func:`nodetls.run` return while this handle is open."""
        self._refed = False
        self._update_ref()

    # -- the rest of the interface: a pipe has no address nor socket options --------------

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """No transport information: ``default``."""
        return default

    def set_no_delay(self, enable: bool = True) -> None:
        """Nothing to set on a pipe."""

    def set_keep_alive(self, enable: bool = False, delay: float = 0) -> None:
        """Nothing to set on a pipe."""
