"""Node's ``stream.Readable`` (``lib/internal/streams/readable.js``). Part of
:mod:`nodetls.stream`; ``pipe()``'s machinery is in :mod:`nodetls.stream._pipe`."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from .. import _option_table
from .. import events as _events_mod
from .._options import normalize
from ..errors import node_error
from ..events import EventEmitter
from . import _readable_listening, _readable_read
from ._base import (
    _NO_BUF,
    _NO_DRAIN,
    DEFAULT_HIGH_WATER_MARK,
    Chunk,
    Stream,
    _encode,
    _is_encoding,
    _make_decoder,
    _node_encoding,
    _soon,
)
from ._construct import construct
from ._readable_iter import ReadableIteration
from ._writable import Writable

_R_OPTIONS = _option_table.names("R")


class Readable(Stream, ReadableIteration):
    """Node's ``stream.Readable`` (bytes, or ``str`` after :meth:`set_encoding`).

    Options (Node names accepted too): ``high_water_mark`` (16 KiB), ``encoding``,
    ``default_encoding`` (of a ``str`` pushed without one, 'utf8'),
    ``read(size)``, ``destroy(err, callback)``, ``construct(callback)`` (Node's: see
    :mod:`nodetls.stream._construct`), ``auto_destroy`` (True), ``emit_close`` (True).
    """

    _HAS_R = True
    #: Node: Readable presets its _events (kShapeMode)
    _SHAPE_EVENTS: tuple[str, ...] = ("close", "error", "data", "end", "readable")
    #: Node's ``maybeReadMore``: after a push, call ``_read`` again until the buffer reaches the
    #: high-water mark. Pull sources need it; push sources (sockets, whose handle keeps reading
    #: until ``read_stop``) set it to False and save a loop callback per chunk.
    _read_more = True
    #: Node's ``_construct(callback)`` hook (or the ``construct`` option): see ``_construct``.
    _construct: Callable[[Callable[..., None]], None] | None = None

    def __init__(self, options: dict[str, Any] | None = None, **kwargs: Any) -> None:
        opts = normalize(options, kwargs, _R_OPTIONS, "options") if options or kwargs else {}
        opts.pop("readable_high_water_mark", None)  # Node: only a Duplex reads the side's own
        EventEmitter.__init__(self)
        self._init_common(opts)
        self._init_readable(opts)
        if self._construct is not None or opts.get("construct") is not None:
            construct(self, opts.get("construct"))

    def _init_readable(self, opts: dict[str, Any]) -> None:
        self._r_buf: deque[Any] = _NO_BUF
        self._r_len = 0
        # (Node's highWaterMarkFrom: high_water_mark wins over the side's own option)
        hwm = opts.get("high_water_mark")
        if hwm is None:
            hwm = opts.get("readable_high_water_mark")
        self._r_hwm = DEFAULT_HIGH_WATER_MARK if hwm is None else int(hwm)
        self._r_flowing: bool | None = None
        self._r_paused: bool | None = None
        self._r_ended = False
        self._r_end_emitted = False
        self._r_reading = False
        self._r_sync = True
        self._r_need_readable = False
        self._r_emitted_readable = False
        self._r_readable_listening = False
        self._r_resume_scheduled = False
        self._r_reading_more = False
        self._r_data_listening = False
        self._r_data_emitted = False
        self._r_decoder: Any = None
        self._r_encoding: str | None = None
        self._r_pipes: list[Any] = []
        self._r_await_drain: set[Any] | frozenset[Any] = _NO_DRAIN  # a set once a pipe waits
        self._r_readable = opts.get("readable", True) is not False
        read = opts.get("read")
        if read is not None:
            self._read = read  # type: ignore[method-assign]
        if not self._r_readable:
            self._r_ended = self._r_end_emitted = True
        # Node's ReadableState.defaultEncoding: the encoding of a pushed/unshifted str given none
        denc = opts.get("default_encoding")
        if denc is not None and not _is_encoding(denc):  # Node throws ('' and 'buffer' too)
            raise node_error("ERR_UNKNOWN_ENCODING", denc)
        self._r_default_encoding: str | None = denc
        enc = opts.get("encoding")
        if enc:
            self.set_encoding(enc)

    # -- hooks ----------------------------------------------------------------------------------

    def _read(self, size: int) -> None:
        """Hook: the consumer wants up to ``size`` more units; ``push()`` them (now or later).

        The default raises ``ERR_METHOD_NOT_IMPLEMENTED`` (Node's): the first ``read()`` or
        flowing start of a Readable given no ``read`` errors and destroys it. A push source
        passes ``read=lambda size: None`` (Node's ``read() {}``)."""
        raise node_error("ERR_METHOD_NOT_IMPLEMENTED", "_read()")

    _HOOK_EVENTS = frozenset({"data", "readable"})

    def _listener_added(self, event: str) -> None:
        # Node's Readable.prototype.on
        if event == "data":
            self._r_data_listening = True
            if "readable" in self._events:
                self._r_readable_listening = True
            if self._r_flowing is not False:
                self.resume()
        elif event == "readable":
            if not self._r_end_emitted and not self._r_readable_listening:
                self._r_readable_listening = self._r_need_readable = True
                self._r_flowing = False
                self._r_emitted_readable = False
                if self._r_len:
                    self._emit_readable()
                elif not self._r_reading:
                    _soon(self.read, 0)

    def _listener_removed(self, event: str) -> None:
        if event == "readable":
            _soon(self._update_readable_listening)
        elif event == "data" and "data" not in self._events:
            self._r_data_listening = False

    def _update_readable_listening(self) -> None:
        # Node's updateReadableListening (its 'data' test: the kDataListening flag, which
        # removeAllListeners() leaves set)
        self._r_readable_listening = "readable" in self._events
        if self._r_resume_scheduled and self._r_paused is False:
            self._r_flowing = True
        elif self._r_data_listening:
            self.resume()
        elif not self._r_readable_listening:
            self._r_flowing = None

    # Node's Readable.prototype.removeListener / off / removeAllListeners ('readable''s check
    # due on every call naming it; see _readable_listening)
    remove_listener = _readable_listening.remove_listener  # type: ignore[assignment]
    off = _readable_listening.remove_listener
    remove_all_listeners = _readable_listening.remove_all_listeners  # type: ignore[assignment]

    # -- producing ------------------------------------------------------------------------------

    def push(self, chunk: bytes | bytearray | memoryview | str | None, encoding: str | None = None) -> bool:
        """Node ``readable.push(chunk)``: add data (``None`` = end of stream): ``bytes``, ``str``
        or any other object of the buffer protocol (buffered as its ``bytes``).

        Returns ``False`` once the buffer has reached the high-water mark: stop pushing until
        ``_read`` is called again."""
        if chunk is None:
            self._r_reading = False
            self._on_eof_chunk()
            return False
        if type(chunk) is not bytes:
            chunk = self._coerce_chunk(chunk, encoding)
            if chunk is None:
                return False
        if not chunk:
            self._r_reading = False
            if self._read_more:
                self._maybe_read_more()
            return not self._r_ended and (self._r_len < self._r_hwm or self._r_len == 0)
        if self._r_ended:
            self._error_or_destroy(node_error("ERR_STREAM_PUSH_AFTER_EOF"))
            return False
        if self._destroyed or self._errored is not None:
            return False
        self._r_reading = False
        dec = self._r_decoder
        if dec is not None and type(chunk) is bytes:
            chunk = dec.decode(chunk)
            if not chunk:
                if self._read_more:
                    self._maybe_read_more()
                return self._r_len < self._r_hwm or self._r_len == 0
        # Node's addChunk
        if self._r_flowing and not self._r_len and not self._r_sync and self._r_data_listening:
            self._r_data_emitted = True
            self.emit("data", chunk)
        else:
            self._r_len += len(chunk)
            buf = self._r_buf
            if buf is _NO_BUF:
                buf = self._r_buf = deque()
            buf.append(chunk)
            if self._r_need_readable:
                self._emit_readable()
        if self._read_more:
            self._maybe_read_more()
        return not self._r_ended and (self._r_len < self._r_hwm or self._r_len == 0)

    def _coerce_chunk(self, chunk: Any, encoding: str | None) -> Any:
        if isinstance(chunk, str):
            if not encoding:
                encoding = self._r_default_encoding
            # Node: a string in the stream's encoding (default 'utf8') is kept as it is; any
            # other becomes bytes (then decoded like any chunk)
            if self._r_decoder is not None and _node_encoding(encoding) == self._r_encoding:
                return chunk
            return _encode(chunk, encoding)
        if isinstance(chunk, (bytearray, memoryview)):
            return bytes(chunk)
        try:  # any other object of the buffer protocol (Node: any ArrayBufferView)
            return memoryview(chunk).tobytes()
        except TypeError:
            pass
        self._error_or_destroy(node_error(
            "ERR_INVALID_ARG_TYPE", '"chunk"', "bytes, bytearray, memoryview or str",
            type(chunk).__name__))
        return None

    def unshift(self, chunk: bytes | str, encoding: str | None = None) -> None:
        """Node ``readable.unshift(chunk[, encoding])``: put data back at the front of the
        buffer (a ``str`` in ``encoding``, else the stream's ``default_encoding``). As Node's
        ``addChunk``, a flowing stream with a ``'data'`` listener and nothing buffered emits it
        as ``'data'`` at once (outside ``_read``).

        Difference from Node: ``bytes`` unshifted into a stream with an encoding are decoded
        with its decoder (Node buffers the ``Buffer`` as it is among the strings)."""
        if chunk is None:
            self.push(None)
            return
        if type(chunk) is not bytes:
            if isinstance(chunk, str) and self._r_decoder is not None:
                # Node: a string in another encoding is converted to the stream's at once
                # (Buffer.from(chunk, encoding).toString(state.encoding)), not decoded in turn
                enc = _node_encoding(encoding or self._r_default_encoding or "utf8")
                if enc != self._r_encoding:
                    chunk = _make_decoder(self._r_encoding).decode(_encode(chunk, enc), True)
            else:
                chunk = self._coerce_chunk(chunk, encoding)
                if chunk is None:
                    return
        if not chunk:  # (Node: an empty chunk is checked first: no error after 'end')
            return
        if self._r_end_emitted:
            self._error_or_destroy(node_error("ERR_STREAM_UNSHIFT_AFTER_END_EVENT"))
            return
        if self._destroyed or self._errored is not None:
            return
        if self._r_decoder is not None and type(chunk) is bytes:
            chunk = self._r_decoder.decode(chunk)
            if not chunk:
                return
        # Node's addChunk(addToFront=true)
        if self._r_flowing and not self._r_len and not self._r_sync and self._r_data_listening:
            if self._r_await_drain:
                self._r_await_drain.clear()  # type: ignore[union-attr]
            self._r_data_emitted = True
            self.emit("data", chunk)
        else:
            self._r_len += len(chunk)
            if self._r_buf is _NO_BUF:
                self._r_buf = deque()
            self._r_buf.appendleft(chunk)
            if self._r_need_readable:
                self._emit_readable()
        self._maybe_read_more()

    def _on_eof_chunk(self) -> None:
        if self._r_ended:
            return
        dec = self._r_decoder
        if dec is not None:
            rest = dec.decode(b"", True)
            if rest:
                if self._r_buf is _NO_BUF:
                    self._r_buf = deque()
                self._r_buf.append(rest)
                self._r_len += len(rest)
        self._r_ended = True
        if self._r_sync:
            self._emit_readable()
        else:
            self._r_need_readable = False
            self._r_emitted_readable = True
            self._emit_readable_()

    def _emit_readable(self) -> None:
        self._r_need_readable = False
        if not self._r_emitted_readable:
            self._r_emitted_readable = True
            _soon(self._emit_readable_)

    def _emit_readable_(self) -> None:
        if not self._destroyed and self._errored is None and (self._r_len or self._r_ended):
            if "readable" in self._events:  # (no emit nobody listens to)
                self.emit("readable")
            self._r_emitted_readable = False
        # (Node v20: the flag is only ever set here (`|=`), a listener's read() may have set it)
        if not self._r_flowing and not self._r_ended and self._r_len <= self._r_hwm:
            self._r_need_readable = True
        self._flow()

    def _maybe_read_more(self) -> None:
        if not self._r_reading_more:
            self._r_reading_more = True
            _soon(self._maybe_read_more_)

    def _maybe_read_more_(self) -> None:
        while not self._r_reading and not self._r_ended and (
            self._r_len < self._r_hwm or (self._r_flowing and self._r_len == 0)
        ):
            n = self._r_len
            self.read(0)
            if n == self._r_len:
                break
        self._r_reading_more = False

    # -- consuming: Node's read() algorithm, the end of the stream, flowing mode ---------------
    # (_readable_read's functions, as methods)

    _how_much_to_read = _readable_read._how_much_to_read
    read = _readable_read.read
    _from_list = _readable_read._from_list
    _end_readable = _readable_read._end_readable
    _end_readable_nt = _readable_read._end_readable_nt
    _end_writable_nt = _readable_read._end_writable_nt
    _flow = _readable_read._flow
    resume = _readable_read.resume
    _resume_ = _readable_read._resume_
    pause = _readable_read.pause
    is_paused = _readable_read.is_paused

    #: Node's kMultiAwaitDrain: set by a second pipe, cleared by a pipe's pause() while it is the
    #: only one. Node's awaitDrainWriters is then a Set, "true" even when empty: a pipe's
    #: cleanup then calls its ondrain (_pipe._Pipe._drained).
    _r_multi_drain = False

    def set_encoding(self, encoding: str | None) -> Readable:
        """Node ``readable.setEncoding(enc)``: ``'data'`` carries ``str`` decoded incrementally
        (a multi-byte character split across chunks is decoded whole)."""
        # Node's StringDecoder: 'utf8' (None), 'utf16le'/'ucs2', 'latin1'/'binary', 'ascii' (the
        # low 7 bits of each byte), 'hex', 'base64', 'base64url'; any other name raises
        # ERR_UNKNOWN_ENCODING.  readable_encoding is Node's name ('utf8', 'latin1', ...).
        self._r_encoding = enc = _node_encoding(encoding)
        self._r_decoder = _make_decoder(enc)
        content = "".join(self._r_decoder.decode(c) if type(c) is bytes else c for c in self._r_buf)
        self._r_buf = deque()
        if content:
            self._r_buf.append(content)
        self._r_len = len(content)
        return self

    # -- piping ---------------------------------------------------------------------------------

    def pipe(self, dest: Any, end: bool = True) -> Any:
        """Node ``readable.pipe(dest, {end})``: write everything to ``dest`` with backpressure
        (pause while ``dest.write()`` returns ``False``, resume on ``'drain'``); ``dest.end()`` at
        ``'end'`` unless ``end=False``. Returns ``dest``.

        The listeners are Node's, added in Node's order (``'newListener'`` sees it): the source's
        ``'end'`` (once), the destination's ``'unpipe'``, the source's ``'data'``, then the
        destination's ``'error'`` (prepended), ``'close'`` and ``'finish'`` (once)."""
        if len(self._r_pipes) == 1:
            self._r_multi_drain = True
        self._r_pipes.append(dest)
        p = _new(_Pipe)  # (no __init__ call)
        p.src = self
        p.dest = dest
        p.end = end
        p.ended = p.done = p.drain = p.cleaned = False
        on_data = p.on_data
        if self._r_end_emitted:
            _soon(p.end_fn)
            we = None
        else:
            we = _new(_PipeEnd)  # (the once wrappers: one slot each, no __init__ call)
            we.pipe = p
        if isinstance(dest, EventEmitter):
            # (the _Pipe is the 'close' once wrapper: _Pipe.__call__)
            wf = _new(_PipeFinish)
            wf.pipe = p
            se = self._events
            q = _QUIET[self._HOOK_EVENTS]
            n = self._max_listeners
            lim = (_events_mod.default_max_listeners if n is None else n) or _NO_LIMIT
            if dest is self:  # (one table: no event above the limit when all of them are not)
                de = se
                tend = se.get("end", ())
                terr = se.get("error", ())
                # (the usual case: none of 'unpipe', 'data', 'close', 'finish' listened to yet,
                # so only 'end' and 'error' could be at the limit, and those four are new)
                fresh = (q and "newListener" not in se and "unpipe" not in se
                         and "data" not in se and "close" not in se and "finish" not in se
                         and len(tend) < lim and len(terr) < lim)
                room = fresh or q and "newListener" not in se and (
                    sum(map(len, se.values())) < lim or _room(se, se, lim))
            else:
                fresh = False
                de = dest._events
                if q and not _QUIET[dest._HOOK_EVENTS]:
                    q = 0
                # (the lower limit of the two: at worst, _add_many's way)
                n = dest._max_listeners
                lim = min(lim, (_events_mod.default_max_listeners if n is None else n)
                          or _NO_LIMIT)
                room = q and "newListener" not in se and "newListener" not in de and (
                    sum(map(len, se.values())) < lim and sum(map(len, de.values())) < lim
                    or _room(se, de, lim))
            p.quiet = q
            if room:
                # _add_many's work in place, in Node's order ('data''s hook after its
                # listener): nobody sees the additions (no 'newListener' listener, no
                # other hook, no listener limit reached: no warning due)
                if fresh:  # (the same, with the tables read once and four new events)
                    if we is not None:
                        se["end"] = tend + (we,)
                    se["unpipe"] = tu = (p.on_unpipe,)
                    se["data"] = td = (on_data,)
                else:
                    if we is not None:
                        se["end"] = se.get("end", ()) + (we,)
                    de["unpipe"] = de.get("unpipe", ()) + (tu := (p.on_unpipe,))
                    se["data"] = se.get("data", ()) + (td := (on_data,))
                if q == QUIET_HOOK:
                    cls = type(self)
                    if cls._listener_added in DATA_HOOKS_AS_READABLE and cls.resume is _RESUME:
                        # Readable's 'data' hook (Node's on('data')) and its resume(), inlined
                        self._r_data_listening = True
                        if "readable" in se:
                            self._r_readable_listening = True
                        if (flowing := self._r_flowing) is None:
                            self._r_flowing = not self._r_readable_listening
                            if not self._r_resume_scheduled:
                                self._r_resume_scheduled = True
                                self._running_loop().call_soon(self._resume_)
                            self._r_paused = False
                        elif flowing:
                            self._r_paused = False
                    else:
                        self._listener_added("data")
                        fresh = False  # (a hook of a subclass's may have added listeners)
                if fresh:
                    se["error"] = te = (p.on_error,) + terr
                    se["close"] = tc = (p,)
                    se["finish"] = (wf,)
                else:
                    de["error"] = te = (p.on_error,) + de.get("error", ())
                    de["close"] = de.get("close", ()) + (tc := (p,))
                    de["finish"] = de.get("finish", ()) + (wf,)
                wf.tables = (tc, tu, td, te)
            else:  # one at a time, in Node's order (each seen, or warned about)
                wf.tables = None
                if we is not None:
                    self._add_many(("end", we, p.end_fn, False))
                on_unpipe, on_error = p.on_unpipe, p.on_error
                dest._add_many(("unpipe", on_unpipe, on_unpipe, False))
                self._add_many(("data", on_data, on_data, False))
                dest._add_many(("error", on_error, on_error, True),
                               ("close", p, p.on_close, False), ("finish", wf, p.on_finish, False))
            if "pipe" in de:  # (no emit nobody listens to)
                dest.emit("pipe", self)
        else:
            p.quiet = 0
            if we is not None:
                self._add_many(("end", we, p.end_fn, False))
            dest.on("unpipe", p.on_unpipe)
            self._add_many(("data", on_data, on_data, False))
            dest.prepend_listener("error", p.on_error)
            dest.once("close", p.on_close)
            dest.once("finish", p.on_finish)
            dest.emit("pipe", self)
        if (dest._w_need_drain and not dest._destroyed and not dest._w_ending  # (the property)
                if isinstance(dest, Writable) else getattr(dest, "writable_need_drain", False) is True):
            p.pause()
        elif not self._r_flowing:
            self.resume()
        return dest

    def unpipe(self, dest: Any = None) -> Readable:
        """Node ``readable.unpipe([dest])``."""
        if not self._r_pipes:
            return self
        if dest is None:
            dests = self._r_pipes
            self._r_pipes = []
            self.pause()
            for d in dests:
                d.emit("unpipe", self, {"has_unpiped": False})
            return self
        if dest not in self._r_pipes:
            return self
        self._r_pipes.remove(dest)
        if not self._r_pipes:
            self.pause()
        ls = dest._events.get("unpipe") if isinstance(dest, EventEmitter) else None
        fn: Any = ls[0] if ls is not None and len(ls) == 1 else None
        if getattr(fn, "__func__", None) is _ON_UNPIPE and fn.__self__.src is self:
            # The only 'unpipe' listener is this pipe's own: what its emit would do (the event's
            # info object is seen by nobody else), without the emit.
            try:
                fn.__self__.cleanup()
            except Exception as exc:  # noqa: BLE001 - as emit: the listener failed
                dest._listener_failed("unpipe", exc, (self,))
        else:
            dest.emit("unpipe", self, {"has_unpiped": False})
        return self

    # -- properties -----------------------------------------------------------------------------

    @property
    def readable(self) -> bool:
        """Node ``readable.readable``: safe to read (not destroyed, errored or ended)."""
        return (self._r_readable and not self._destroyed and not self._error_emitted
                and not self._r_end_emitted)

    @readable.setter
    def readable(self, value: bool) -> None:
        self._r_readable = bool(value)

    @property
    def readable_ended(self) -> bool:
        """Node ``readable.readableEnded``: ``'end'`` was emitted."""
        return self._r_end_emitted

    @property
    def readable_flowing(self) -> bool | None:
        """Node ``readable.readableFlowing``: ``None``, ``True`` or ``False``."""
        return self._r_flowing

    @readable_flowing.setter
    def readable_flowing(self, value: bool | None) -> None:
        self._r_flowing = value

    @property
    def readable_length(self) -> int:
        """Node ``readable.readableLength``: bytes (characters with an encoding) buffered."""
        return self._r_len

    @property
    def readable_high_water_mark(self) -> int:
        """Node ``readable.readableHighWaterMark``."""
        return self._r_hwm

    @property
    def readable_encoding(self) -> str | None:
        """Node ``readable.readableEncoding``."""
        return self._r_encoding

    @property
    def readable_did_read(self) -> bool:
        """Node ``readable.readableDidRead``."""
        return self._r_data_emitted

    @property
    def readable_object_mode(self) -> bool:
        """Node ``readable.readableObjectMode``: always ``False`` (no object mode)."""
        return False

    @property
    def readable_buffer(self) -> list[Chunk]:
        """Node ``readable.readableBuffer``: the buffered chunks (a copy: ``bytes``, ``str``
        after :meth:`set_encoding`)."""
        return list(self._r_buf)

    @property
    def readable_aborted(self) -> bool:
        """Node ``readable.readableAborted``: destroyed or errored before ``'end'``."""
        return self._r_readable and (self._destroyed or self._errored is not None) and not self._r_end_emitted


# Last: _pipe needs Readable (defined above) at import; Readable.pipe()/unpipe() use these names
# only when called (module globals, as before the split: no import per call).
from ._pipe import (  # noqa: E402
    _ON_UNPIPE,
    _QUIET,
    QUIET_HOOK,
    _new,
    _Pipe,
    _PipeEnd,
    _PipeFinish,
    _room,
)

#: The ``_listener_added`` hooks whose ``'data'`` case is Readable's alone (``pipe()`` runs that
#: case inline): Readable's, and a subclass's that adds cases for other events only (its module
#: adds it here: ``tls.TLSSocket``'s).
DATA_HOOKS_AS_READABLE: set[Any] = {Readable._listener_added}
_RESUME = _readable_read.resume  # (Readable.resume: the same function)

#: A listener limit of 0 (none): larger than any listener count.
_NO_LIMIT = 1 << 62
