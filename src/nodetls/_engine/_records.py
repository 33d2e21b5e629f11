"""The engine's record path: plaintext out of records and into them, the ciphertext they produce,
and what a failed OpenSSL call becomes.

:class:`_EngineRecords` is the base class of :class:`~nodetls._engine.engine.TLSEngine` (over
:class:`~nodetls._engine._setup._EngineSetup`; its state, declared below, is the engine's).  It
holds what a connection runs per record once the handshake is done: the reads
(:meth:`~_EngineRecords.read_view`, :meth:`~_EngineRecords.read_plain` for the TLS wrap's routed
reads, :meth:`~_EngineRecords.read_into`, :meth:`~_EngineRecords.read`), the writes
(:meth:`~_EngineRecords.write`, :meth:`~_EngineRecords.seal`), :meth:`~_EngineRecords.take_output`,
and the errors the handshake steps (:mod:`.engine`) share with them (a stored callback exception
raised, the terminal :attr:`State.ERROR`, OpenSSL's error queue as a Node error).  Also here:
this thread's buffers the record path reads and seals through (:func:`_scratch`,
:func:`receive_buffer`).  Compiled with the engine (``_compiled.MODULES``): a call between the two
modules is native.
"""

from __future__ import annotations

import threading
from typing import Any, Final

from .._openssl import constants as C
from .._openssl import ffi, lib
from .._openssl.errors import OpenSSLErrorRecord, consume_errors, tls_error
from .._openssl.verify_codes import VERIFY_ERROR_NAMES
from ..errors import NodeError, node_error, system_error
from . import _bytesio
from ._setup import _EngineSetup
from .protocol import Pause, State

# Every module-level name the methods read is Final: compiled with mypyc, a Final is a static C
# variable, any other global a dictionary lookup per read (~130 instructions each).  (engine.py
# imports those its handshake steps and lifetime use too.)
NULL: Final = ffi.NULL
_READ_CHUNK: Final = 256 * 1024  # the read buffer: up to 16 records of plaintext at once
_RECORD: Final = 16384  # the largest plaintext one TLS record carries
# The output buffer: a whole read buffer's worth of records with their overhead, in one BIO_read.
_OUT_CHUNK: Final = _READ_CHUNK + 64 * 1024
# The data path calls cffi's C entry points directly (in ABI mode ffi.from_buffer and ffi.unpack
# are Python wrappers around them: one Python call less per record batch each; the compiled
# binding's ffi methods are the C entry points already).
_backend = getattr(ffi, "_backend", ffi)
_from_buffer: Final = _backend.from_buffer
_unpack: Final = _backend.unpack
_CHAR_A: Final = ffi.typeof("char[]")
# The OpenSSL functions called per record, bound once (``lib.X`` is a dictionary lookup and an
# attribute read on cffi's ``lib`` per call).
_BIO_ctrl_pending: Final = lib.BIO_ctrl_pending
_BIO_read: Final = lib.BIO_read
_BIO_write: Final = lib.BIO_write
_ERR_peek_error: Final = lib.ERR_peek_error
_SSL_renegotiate_pending: Final = lib.SSL_renegotiate_pending
_SSL_get_error: Final = lib.SSL_get_error
_SSL_pending: Final = lib.SSL_pending
_SSL_read_ex: Final = lib.SSL_read_ex
_SSL_write_ex: Final = lib.SSL_write_ex
# The SSL_get_error() codes the data path and the handshake compare with.
_WANT_READ: Final = C.SSL_ERROR_WANT_READ
_WANT_WRITE: Final = C.SSL_ERROR_WANT_WRITE
_WANT_X509_LOOKUP: Final = C.SSL_ERROR_WANT_X509_LOOKUP
_WANT_CLIENT_HELLO_CB: Final = C.SSL_ERROR_WANT_CLIENT_HELLO_CB
_ZERO_RETURN: Final = C.SSL_ERROR_ZERO_RETURN
_SYSCALL: Final = C.SSL_ERROR_SYSCALL
# The compiled binding's data-path helpers (``_openssl/cdef.py`` HELPERS: read_view's loop and
# seal's write-and-read in one C call each); None in ABI mode, where the Python loops run.
_c_read: Final = getattr(lib, "nodetls_read", None)
_c_seal: Final = getattr(lib, "nodetls_seal", None)
# With the compiled binding and the extension, the data path's direct C entries (_bytesio.py):
# one call per read or write, the SSL as an integer address (_EngineRecords._a), the outcome as
# one object; reads of _BX_MIN bytes and more into bytes OpenSSL writes itself.  None: the cffi
# helpers above (or ABI mode's Python steps) run.
_bx_read: Final[Any] = _bytesio.read
_bx_read_into: Final[Any] = _bytesio.read_into
_bx_read_bytes: Final[Any] = _bytesio.read_bytes
_bx_seal: Final[Any] = _bytesio.seal
_cast: Final = ffi.cast
_UINTPTR: Final = ffi.typeof("uintptr_t")
_BX_MIN: Final = _bytesio.MIN_BYTES
_SHIFT: Final = _bytesio.PACK_SHIFT
_ST_MASK: Final = 255  # the packed outcome's status bits (above the output flag)
_new_unzeroed: Final = ffi.new_allocator(should_clear_after_alloc=False)
_local: Final = threading.local()
# The states and pauses a read or a failure enters, as globals (Python 3.11 specialises a
# global's read, not an attribute read on the enum class: ~300 instructions each).
_PAUSED_STATE: Final = State.PAUSED
_ERROR: Final = State.ERROR
_CLIENT_HELLO: Final = Pause.CLIENT_HELLO
_CERT: Final = Pause.CERT


#: ``ERR_PACK(ERR_LIB_SSL, 0, SSL_R_UNEXPECTED_RECORD)``: 0A0000F5.
_UNEXPECTED_RECORD: Final = (20 << 23) | 245


def _unexpected_record() -> OpenSSLErrorRecord:
    """OpenSSL's "unexpected record" as ``ssl3_read_bytes`` raises it (OpenSSL 3's wording)."""
    return OpenSSLErrorRecord(_UNEXPECTED_RECORD, "SSL routines", "ssl3_read_bytes",
                              "unexpected record", "")


def _addr(ptr: Any) -> Any:
    """A cdata pointer's address, as the direct C entries take it (``_bytesio.addr``, here in
    the compiled core: an interpreted call cost ~3k instructions, twice per connection)."""
    return int(_cast(_UINTPTR, ptr))

# This thread's buffers (_scratch()); a typed tuple, so that the compiled core keeps an engine's
# items unboxed (a read of one is no PyObject_GetItem).  The address stays a Python int (Any):
# typed int, each use would make a new int object.
_Scratch = tuple[Any, Any, memoryview, Any, Any, Any, Any, Any]


def _scratch() -> _Scratch:
    """This thread's buffers (allocated once, never cleared): the plaintext read buffer, a
    ``size_t[2]`` (out-parameters: ``nodetls_read`` fills both), a view of the read buffer, the
    ciphertext output buffer (``char[]``, so that one ``unpack`` makes the ``bytes``),
    ``ffi.buffer`` objects of the read and the output buffer (slicing one makes the ``bytes``,
    with no argument parsing: the data path's :meth:`TLSEngine.read_plain` and
    :meth:`TLSEngine.seal`), a ``BIO *[2]`` (out-parameters: a new engine's memory BIOs), and
    the read buffer's address (the direct C entries' ``buf``, ``_bytesio.read_into``)."""
    try:
        return _local.scratch
    except AttributeError:
        buf = _new_unzeroed("unsigned char[]", _READ_CHUNK)
        out = _new_unzeroed("char[]", _OUT_CHUNK)
        scratch = _local.scratch = (buf, ffi.new("size_t[2]"), memoryview(ffi.buffer(buf)), out,
                                    ffi.buffer(buf), ffi.buffer(out), ffi.new("BIO *[2]"),
                                    _addr(buf))
        return scratch


def receive_buffer() -> tuple[memoryview, Any]:
    """This thread's receive buffer for a data path that reads ciphertext straight into the
    engine (the TLS wrap's routed reads, ``TLSWrap.route_reads``): a writable view for the
    event loop to read into, and the same memory as a ``char[]`` for
    :meth:`TLSEngine.read_plain` (no ``from_buffer`` per read).  One per thread, made on first
    use; each read is decrypted out of it before the thread's next read (an event loop reads one socket at a time)."""
    try:
        return _local.receive
    except AttributeError:
        cbuf = _new_unzeroed("char[]", _READ_CHUNK)
        pair = _local.receive = (memoryview(ffi.buffer(cbuf)), cbuf)
        return pair


class _EngineRecords(_EngineSetup):
    """The record path: the reads, the writes, :meth:`take_output`, and the errors (shared with
    the handshake steps of :class:`~nodetls._engine.engine.TLSEngine`)."""

    # The engine's state these read and write (defaults: TLSEngine's).
    error: BaseException | None
    received_close_notify: bool
    output_after_read: bool
    _eof: bool
    _exc_drops_flight: bool
    _rbio: Any  # the SSL's memory BIOs (set by TLSEngine.__init__, NULL once freed)
    _wbio: Any
    # The direct C entries' arguments (_bytesio): the SSL's address (None until the first use),
    # and the last receive buffer read_plain was given with its address.  (Python ints, made
    # once: typed int, the compiled core would make a new int object of each per call.)
    _a: Any
    _rx: Any
    _rx_a: Any
    _scratch: _Scratch  # this thread's buffers (set by TLSEngine.__init__)
    _reading_on: bool  # _read_on's loop runs

    def take_output(self) -> bytes:
        """Ciphertext produced so far (possibly ``b''``; always ``b''`` once freed)."""
        if self.ssl is None:
            return b""
        # One BIO_read into the output buffer (an empty memory BIO answers -1), one copy out.
        out = self._scratch[3]
        n = _BIO_read(self._wbio, out, _OUT_CHUNK)
        if n <= 0:
            return b""
        if n < _OUT_CHUNK:
            return _unpack(out, n)
        chunks = [_unpack(out, n)]
        while (n := _BIO_read(self._wbio, out, _OUT_CHUNK)) > 0:
            chunks.append(_unpack(out, n))
        return b"".join(chunks)

    def _address(self) -> Any:
        """The SSL's address for the direct C entries (made once, on the first use)."""
        a = self._a = _addr(self.ssl)
        return a

    def _pause(self, where: Pause) -> None:
        self.paused = where
        self.state = _PAUSED_STATE

    def read_view(self, data: bytes | bytearray | memoryview | None = None) -> memoryview | None:
        """The plaintext available now as a view of this thread's read buffer, valid until the
        next read on this thread (the caller copies what it keeps), or None when there is none.
        ``data``: ciphertext to :meth:`receive` first (the data path's one call per read).

        One call returns at most :data:`_READ_CHUNK` bytes: while :attr:`read_more` is true
        after it, call again (false: the read BIO is empty, so another call returns None).  A
        record with no application data (a session ticket, a KeyUpdate, a HelloRequest) that made
        :attr:`events` ends the call, so that they follow the plaintext returned in record
        order; with records behind it :attr:`read_more` is true, also when the call returns
        None (then only with events; with none, the call reads on: :meth:`_read_on`).  Sets
        :attr:`received_close_notify` when the peer closed the TLS session (or its stream ended
        after the handshake); a renegotiation that pauses sets :attr:`paused`."""
        ssl = self.ssl
        if ssl is None:
            return None
        if self.error is not None:
            raise self.error
        rbio = self._rbio
        if _bx_read_into is not None:  # the direct C entry
            a = self._a
            if a is None:
                a = self._address()
            scratch = self._scratch
            code: int = _bx_read_into(a, data, -1, self.read_more, self._eof, scratch[7],
                                      _READ_CHUNK)  # (-1: all of data, a buffer or None)
            if self._read_outcome(code) == -2:
                return None
            total = code >> _SHIFT
            if total:
                return scratch[2][:total]
            return self._read_on() if self.read_more and not self.events else None
        buf, size, view, _, _, _, _, _ = self._scratch
        if _c_read is not None:  # the loop below, in C
            n = len(data) if data else 0
            st = _c_read(ssl, rbio, self._wbio, NULL if not n else data if type(data) is bytes
                         else _from_buffer(_CHAR_A, data, False), n, self.read_more, self._eof,
                         buf, _READ_CHUNK, size)
            self.output_after_read = size[1] > 0
            if st == -2:
                return None
            self.read_more = st == -1
            total = size[0]
            if st > 0:
                self._read_stopped_after(st, total)
            if total:
                return view[:total]
            return self._read_on() if self.read_more and not self.events else None
        if data:
            _BIO_write(rbio, data if type(data) is bytes else _from_buffer(
                _CHAR_A, data, False), len(data))
        elif not (self.read_more or self._eof) and not _BIO_ctrl_pending(rbio):
            self.output_after_read = _BIO_ctrl_pending(self._wbio) > 0
            return None  # nothing new: skip the SSL_read_ex that would fail
        self.read_more = False
        total = 0
        while _READ_CHUNK - total >= _RECORD:
            # Room for a whole record, so OpenSSL never keeps plaintext behind: when the read BIO
            # is empty (and not at EOF) there is nothing more to read, and no failing call is made.
            if _SSL_read_ex(ssl, buf + total, _READ_CHUNK - total, size):
                total += size[0]
                if self._eof or _BIO_ctrl_pending(rbio):
                    continue
                break
            self._read_stopped_after(_SSL_get_error(ssl, 0), total)
            break
        else:
            self.read_more = True  # the buffer is full: more may be waiting
        self.output_after_read = _BIO_ctrl_pending(self._wbio) > 0
        if total:
            return view[:total]
        return self._read_on() if self.read_more and not self.events else None

    def _read_on(self) -> memoryview | None:
        """A read that made no plaintext stopped after a record with no application data, with
        more records behind it (:meth:`_read_stopped`): when it made no event either, nothing
        is to be handed on in between, so read on at once (the caller sees one read, as when
        OpenSSL went on by itself); it stops at plaintext, at a read's events (the caller
        drains them, then reads on: ``read_more``), or when nothing is left."""
        if self._reading_on:  # (inside the loop below: back to it)
            return None
        self._reading_on = True
        try:
            while True:
                view = self.read_view()
                if view is not None or not self.read_more or self.events:
                    return view
        finally:
            self._reading_on = False

    def read_plain(self, data: Any, n: int) -> bytes | memoryview | None:
        """:meth:`read_view` of the ``n`` (> 0) bytes of ciphertext at ``data`` (a ``char[]``:
        :func:`receive_buffer`'s) for a data path that only delivers plaintext
        (the TLS wrap's routed reads): the usual outcome, plaintext and nothing else to see
        to (no :attr:`read_more`, no :attr:`output_after_read`, no event, no pause, no
        close_notify), comes as ``bytes`` made straight from the read buffer (no view, no second
        copy); any other outcome is what :meth:`read_view` returns, with the same flags set (the
        caller goes on as after ``read_view``)."""
        ssl = self.ssl
        if _bx_read_into is not None and ssl is not None and self.error is None:
            return self._read_plain_direct(data, n)
        if _c_read is None or ssl is None or self.error is not None:
            plain = self.read_view(ffi.buffer(data, n))
            if plain is None or self.read_more or self.output_after_read or self.events \
                    or self.paused is not None or self.received_close_notify:
                return plain
            return bytes(plain)
        buf, size, view, _, chars, _, _, _ = self._scratch
        st = _c_read(ssl, self._rbio, self._wbio, data, n, self.read_more, self._eof, buf,
                     _READ_CHUNK, size)
        self.output_after_read = out = size[1] > 0
        self.read_more = st == -1
        total = size[0]
        if st > 0:
            # raises, or sets the pause or the close_notify (or keeps the error: read_more)
            self._read_stopped_after(st, total)
            if self.paused is not None or self.received_close_notify:
                return view[:total] if total else None
        if not total:
            return self._read_plain_on() if self.read_more and not self.events else None
        if st < 0 or out or self.events or self.read_more:
            return view[:total]
        return chars[:total]

    def _read_plain_on(self) -> bytes | memoryview | None:
        """:meth:`read_plain`'s :meth:`_read_on`: plaintext alone comes as ``bytes`` (as
        :meth:`read_plain` answers when OpenSSL goes on by itself), any other outcome as
        :meth:`read_view`'s."""
        plain = self._read_on()
        if plain is None or self.read_more or self.output_after_read or self.events \
                or self.paused is not None or self.received_close_notify:
            return plain
        return bytes(plain)

    def _read_outcome(self, code: int) -> int:
        """The flags of a direct C read's packed outcome (``total << _SHIFT | (status + 2) << 1
        | output waiting``): ``output_after_read``, and unless the status is -2 (nothing new)
        ``read_more`` and :meth:`_read_stopped` (which raises, or sets the pause or the
        close_notify); returns ``nodetls_read``'s status."""
        self.output_after_read = (code & 1) == 1
        st = ((code >> 1) & _ST_MASK) - 2
        if st != -2:
            self.read_more = st == -1
            if st > 0:
                self._read_stopped_after(st, code >> _SHIFT)
        return st

    def _read_plain_direct(self, data: Any, n: int) -> bytes | memoryview | None:
        """:meth:`read_plain` through the direct C entries (``_bytesio``): a small read into
        the read buffer (``read_bytes``: plaintext alone comes back as ``bytes``), a large one
        (:data:`_BX_MIN` bytes of ciphertext and more) straight into a new ``bytes``
        (``read``); the same outcomes and flags as the buffered path."""
        a = self._a
        if a is None:
            a = self._address()
        if data is not self._rx:  # the receive buffer's address, once per engine
            self._rx_a = _addr(data)
            self._rx = data
        code: int
        large = n >= _BX_MIN
        if large:
            plain, code = _bx_read(a, self._rx_a, n, self.read_more, self._eof,
                                   min(_READ_CHUNK, n + 2 * _RECORD))
        else:
            plain = _bx_read_bytes(a, self._rx_a, n, self.read_more, self._eof,
                                   self._scratch[7], _READ_CHUNK)
            if type(plain) is bytes:  # plaintext alone: the read BIO drained, nothing to send
                self.output_after_read = False
                self.read_more = False
                return memoryview(plain) if self.events else plain
            code = plain
        st = self._read_outcome(code)  # (never -2 here: there is new ciphertext)
        out = self.output_after_read
        total = code >> _SHIFT
        if st > 0 and (self.paused is not None or self.received_close_notify or self.read_more):
            st = -1  # (a view, below; read_more: an error kept for the next read)
        if not total:
            return self._read_plain_on() if self.read_more and not self.events else None
        if large:
            return memoryview(plain) if st < 0 or out or self.events else plain
        if st < 0 or out or self.events:
            return self._scratch[2][:total]
        return self._scratch[4][:total]  # (bytes: the read buffer's)

    def read_hint(self) -> int:
        """0 when no plaintext can be read now (no new ciphertext, no record held back, no end
        of stream); otherwise a size hint for :meth:`read_into`'s buffer: the bytes that may
        come (ciphertext waiting plus plaintext OpenSSL holds), at least 1."""
        ssl = self.ssl
        if ssl is None or self.received_close_notify:
            return 0
        hint: int = _BIO_ctrl_pending(self._rbio)
        if self.read_more:
            hint += _SSL_pending(ssl)
        elif not hint and not self._eof:
            return 0
        return hint or 1

    def read_into(self, buf: Any) -> int:
        """Decrypt the plaintext available now straight into the writable buffer ``buf`` (as
        many records as fit, no copy through our read buffer) and return how many bytes were
        written (0: none now). When ``buf`` fills, the rest stays in OpenSSL or the read BIO
        for the next call (a buffer smaller than a record is fine). The same signals as
        :meth:`read_view`: :attr:`received_close_notify`, :attr:`paused`, errors raised."""
        ssl = self.ssl
        if ssl is None:
            return 0
        if self.error is not None:
            raise self.error
        rbio = self._rbio
        if not (self.read_more or self._eof) and not _BIO_ctrl_pending(rbio):
            return 0
        cbuf = ffi.from_buffer(buf, require_writable=True)
        room = len(cbuf)  # in bytes, whatever the buffer's item size
        self.read_more = False
        size = self._scratch[1]
        total = 0
        while True:
            if _SSL_read_ex(ssl, cbuf + total, room - total, size):
                total += size[0]
                if total == room:
                    self.read_more = True  # the buffer is full: OpenSSL may hold more
                    break
                # One call returns at most one record: a short read emptied it.
                if self._eof or _BIO_ctrl_pending(rbio):
                    continue
                break
            if self._read_stopped_after(_SSL_get_error(ssl, 0), total):
                if not total and self.read_more and not self.events:
                    self.read_more = False  # (a record with no data, no event: read on)
                    continue
                break
        return total

    def _read_stopped(self, err: int) -> bool:
        """After a failed ``SSL_read_ex``: True when reading simply stops here (no data, the
        peer's close, a renegotiation pause); raises on a fatal error."""
        if self._exc is not None:
            self._raise_captured()
        if err == _WANT_READ or err == _WANT_WRITE:
            if self._eof or _BIO_ctrl_pending(self._rbio):
                # Not starved: the read stopped after a record with no application data (the
                # engine's SSL has no SSL_MODE_AUTO_RETRY; a partial record leaves the read BIO
                # empty), more records behind it. The caller hands on what this read made (its
                # plaintext, then the events of that record) and reads again: record order.
                self.read_more = True
            return True
        if err == _ZERO_RETURN:
            self.received_close_notify = True
            return True
        if err == _WANT_X509_LOOKUP:
            self._pause(_CERT)
            return True
        if err == _WANT_CLIENT_HELLO_CB:
            self._pause(_CLIENT_HELLO)
            return True
        if err == _SYSCALL and not _ERR_peek_error():
            self.received_close_notify = True
            return True
        raise self._fatal(self._error(err, handshake=False))

    def _read_stopped_after(self, err: int, total: int) -> bool:
        """:meth:`_read_stopped` after ``total`` bytes of plaintext came in the same call: a
        fatal error there (a bad record behind good ones, in one read) is kept in :attr:`error`
        and :attr:`read_more` set, so the caller delivers the plaintext, reads again and meets
        the error then -- Node's ``ClearOut`` emits each ``SSL_read``'s data before the error
        that stops it (the records before the bad one are the peer's, and reach the owner)."""
        try:
            return self._read_stopped(err)
        except BaseException:
            if not total or self.error is None:
                raise
            self.read_more = True  # (the next read raises the error at its start)
            return True

    def read(self) -> bytes:
        """All plaintext available now (``b''`` if none), copied (see :meth:`read_view`)."""
        chunks = []
        while True:
            view = self.read_view()
            if view is not None:
                chunks.append(bytes(view))
            elif not self.read_more:  # (None with read_more: a record with no data, more behind)
                return b"".join(chunks)

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Encrypt ``data`` into the write BIO; returns how many bytes were taken (0 while a
        (re)handshake must progress first).  One ``SSL_write_ex`` writes every record: the
        write BIO is a memory BIO that never fills, and partial writes are off."""
        ssl = self.ssl
        if ssl is None:
            raise node_error("ERR_SOCKET_CLOSED")
        if self.error is not None:
            raise self.error
        total = len(data)
        if not total:
            return 0
        size = self._scratch[1]
        # cffi passes bytes as a pointer as they are: no buffer object for the usual case.
        cbuf = data if type(data) is bytes else _from_buffer(_CHAR_A, data, False)
        if not _SSL_write_ex(ssl, cbuf, total, size):
            return self._write_failed(0)
        done = size[0]
        return total if done == total else self._write_rest(data, done)

    def _write_rest(self, data: bytes | bytearray | memoryview, done: int) -> int:
        # Only if the context enabled partial writes (ours never do): write the rest.
        ssl, size, total = self.ssl, self._scratch[1], len(data)
        cbuf = _from_buffer(_CHAR_A, data, False)
        while _SSL_write_ex(ssl, cbuf + done, total - done, size):
            done += size[0]
            if done == total:
                return total
        return self._write_failed(done)

    def _write_failed(self, done: int) -> int:
        """After a failed ``SSL_write_ex``: ``done`` when a (re)handshake must progress first;
        raises on a fatal error."""
        err = _SSL_get_error(self.ssl, 0)
        if self._exc is not None:
            self._raise_captured()
        if err in (_WANT_READ, _WANT_WRITE, _WANT_X509_LOOKUP, _WANT_CLIENT_HELLO_CB):
            return done
        if err == _ZERO_RETURN:
            # A renegotiation this write drives met the peer's close_notify (or its EOF: the
            # SSL ignores an unexpected one): the write waits, as Node's (its ClearIn keeps the
            # data; SSL_write never learns of the EOF there), and the end of the peer's stream
            # is the read side's, as if SSL_read had met it.
            self.received_close_notify = True
            return done
        if err == _SYSCALL and not _ERR_peek_error() and _SSL_renegotiate_pending(self.ssl):
            # No error queued: the renegotiation this write drives met the peer's application
            # data, which OpenSSL lets through (to SSL_read) once an earlier SSL_read took data
            # in the middle of the handshake -- and our reads end at an empty read BIO, where
            # Node's ClearOut ends with one more, failing SSL_read that resets that. Node's
            # SSL_write meets the record as "unexpected record" (write EPROTO): the same here,
            # not a "socket hang up" (the connection is fine; the write cannot go on).
            raise self._fatal(tls_error([_unexpected_record()]))
        raise self._fatal(self._error(err, handshake=False))

    def seal(self, data: bytes | bytearray | memoryview) -> bytes | int:
        """:meth:`write` then :meth:`take_output`, in one call (the data path's write): the
        ciphertext produced so far (``bytes``) once every byte of ``data`` is in; otherwise
        how many bytes were taken (an ``int``, 0 while a (re)handshake must progress first;
        nothing is taken out then).  Raises as :meth:`write`."""
        ssl = self.ssl
        if ssl is None or self.error is not None or type(data) is not bytes or not data:
            n = self.write(data)
            return self.take_output() if n == len(data) else n
        if _bx_seal is not None:  # the direct C entry: into bytes OpenSSL writes itself
            a = self._a
            sealed = _bx_seal(self._address() if a is None else a, data)
            if type(sealed) is bytes:
                return sealed
            if sealed == -1:
                return self._write_failed(0)
            n = self._write_rest(data, sealed)  # (a partial write: sealed bytes taken)
            return n if n < len(data) else self.take_output()
        size = self._scratch[1]
        total = len(data)
        if _c_seal is not None:  # the steps below, in C
            scratch = self._scratch
            out = scratch[3]
            n = _c_seal(ssl, self._wbio, data, total, out, _OUT_CHUNK, size)
            if n >= 0:
                return scratch[5][:n] if n < _OUT_CHUNK else _unpack(out, n) + self.take_output()
            if n == -1:
                return self._write_failed(0)
            n = self._write_rest(data, size[0])
            return n if n < total else self.take_output()
        if not _SSL_write_ex(ssl, data, total, size):
            return self._write_failed(0)
        if size[0] != total:  # a context with partial writes (ours have none)
            n = self._write_rest(data, size[0])
            if n < total:
                return n
        out = self._scratch[3]
        n = _BIO_read(self._wbio, out, _OUT_CHUNK)
        if 0 < n < _OUT_CHUNK:
            return _unpack(out, n)
        return (_unpack(out, n) if n > 0 else b"") + self.take_output()

    # ------------------------------------------------------------------ errors
    def _raise_captured(self) -> None:
        """Raise what a callback stored (fatal: the callback failed the handshake)."""
        exc, self._exc = self._exc, None
        if self._exc_drops_flight:
            self.take_output()  # (nothing of it is sent: see TLSEngine._exc_drops_flight)
        records = consume_errors(ffi, lib)
        if records and exc is not None and exc.__cause__ is None:
            exc.__cause__ = tls_error(records)
        assert exc is not None
        raise self._fatal(exc)

    def _fatal(self, exc: BaseException) -> BaseException:
        """Enter the terminal :attr:`State.ERROR` with ``exc`` (returned, for ``raise``)."""
        if self.error is None:
            self.error = exc
            self.state = _ERROR
        return exc

    def _error(self, err: int, handshake: bool) -> BaseException:
        records = consume_errors(ffi, lib)
        if err == _ZERO_RETURN or (err == _SYSCALL and not records) or (
            records and records[-1].reason == "unexpected eof while reading"
        ):
            return system_error("ECONNRESET", "socket hang up")
        if (
            self.reject_unauthorized and self.verify_error
            and records and records[-1].reason == "certificate verify failed"
        ):
            return self.certificate_error() or tls_error(records)
        if self.identity_error is not None and records and (
            records[-1].reason == "certificate verify failed"
        ):
            return self.identity_error
        return tls_error(records, f"SSL error {err}")

    def certificate_error(self) -> NodeError | None:
        """The verification failure as a ``CertificateError`` with Node's code, or None.

        Node reads ``SSL_get_verify_result()``: on a resumed session no chain is verified and
        that is the result stored in the session, so a session whose certificate failed
        verification still fails (``authorized`` false, and ``reject_unauthorized`` destroys
        the socket) when resumed."""
        from ..errors import CertificateError

        ssl = self.ssl
        code = self.verify_error or (lib.SSL_get_verify_result(ssl) if ssl is not None else 0)
        if not code:
            return None
        name = VERIFY_ERROR_NAMES.get(code, "UNSPECIFIED")  # (Node's name for any other)
        msg = ffi.string(lib.X509_verify_cert_error_string(code)).decode()
        if code == 21:  # Node's wording for UNABLE_TO_VERIFY_LEAF_SIGNATURE
            msg = "unable to verify the first certificate"
        return CertificateError(msg, name)
