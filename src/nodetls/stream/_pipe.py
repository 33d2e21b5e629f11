"""``readable.pipe(dest)``'s machinery (Node's ``pipe`` closures in
``lib/internal/streams/readable.js``): :class:`_Pipe` and its once listeners (:class:`_PipeEnd`,
:class:`_PipeFinish`; the ``_Pipe`` itself is the ``'close'`` one). Part of
:mod:`nodetls.stream`; imported by :mod:`nodetls.stream._readable` once ``Readable`` is
defined."""

from __future__ import annotations

from operator import itemgetter
from typing import Any, ClassVar

from ..events import _ONCE_TYPES, EventEmitter, _Once, key_gone
from . import _readable_read
from ._base import _NO_DRAIN, Stream
from ._readable import Readable


class _Pipe:
    """One ``readable.pipe(dest)``: Node's ``pipe`` closures as one small object, its listeners
    bound methods (removed by equality: no bound method is stored on the object, which would make
    it a reference cycle left to the cyclic garbage collector); a listener that already ran once
    is not removed a second time. On a destination of ours the object itself is the
    ``'close'`` once wrapper (its ``listener`` is its ``on_close``; its call, Node's
    ``onclose``, is :meth:`__call__`): one object fewer per pipe, and the cleanup finds it by
    identity.

    Made by ``pipe()`` with ``object.__new__`` and its slots set. Its state is booleans (a
    slot's load and test is what CPython 3.11 runs fastest; bit masks were a generic ``&`` and
    truth test each): ``ended`` (the ``'end'`` once listener ran, or was removed), ``done``
    (the ``'close'`` or ``'finish'`` one ran: the other one goes with it, so one flag says both
    are gone), ``drain`` (a ``'drain'`` listener was added), ``cleaned`` (Node's
    ``cleanedUp``), and what ``pipe()`` found once, ``quiet``: 0, or (the destination is one of
    our emitters and neither emitter hooks the pipe's events but the source's ``'data'``:
    ``_HOOK_EVENTS`` is a class's declaration, fixed) :data:`QUIET`, or :data:`QUIET_HOOK`
    (quiet, and the source hooks ``'data'``)."""

    __slots__ = ("src", "dest", "end", "ended", "done", "drain", "cleaned", "quiet")

    src: Readable
    dest: Any
    end: bool
    ended: bool
    done: bool
    drain: bool
    cleaned: bool
    quiet: int

    @property
    def listener(self) -> Any:
        """As the destination's ``'close'`` once wrapper: the listener it wraps."""
        return self.on_close

    def __call__(self, *_: Any) -> None:
        """The destination's ``'close'`` / ``'finish'`` once wrapper's call (``self``: the
        ``_Pipe``, or its :class:`_PipeFinish`, whose usual case is its own): Node's
        ``onclose`` / ``onfinish`` -- the wrapper removes itself, then the other one, then
        ``src.unpipe(dest)``. One of the two ever runs.

        When nobody sees the listeners in between (``quiet``, no ``'removeListener'`` listener,
        no ``'pause'`` one to see the source pause, the pipe's own ``'unpipe'`` listener the
        only one: no ``'unpipe'`` emit), all of it at once: the unpipe's state change, then every
        removal (:meth:`_drop_all`)."""
        w: Any = self
        p: _Pipe = w if type(w) is _Pipe else w.pipe
        if p.done:
            return
        p.done = True
        src, dest = p.src, p.dest
        de, se = dest._events, src._events
        pipes = src._r_pipes
        if (p.quiet and "removeListener" not in de and (se is de or "removeListener" not in se)
                and dest in pipes and (len(pipes) > 1 or "pause" not in se)
                and de.get("unpipe") == (p.on_unpipe,)):
            key_gone(dest, "unpipe")
            del de["unpipe"]
            pipes.remove(dest)
            if not pipes:
                if type(src).pause is _READABLE_PAUSE:  # (pause(), inlined: no 'pause' emit)
                    src._r_flowing = False
                    src._r_paused = True
                else:
                    src.pause()
            p._drop_all(de, se, w)
            return
        if w is p:
            dest._remove_many(("close", w), ("finish", p.on_finish))
        else:
            dest._remove_many(("finish", w), ("close", p.on_close))
        src.unpipe(dest)

    def end_fn(self, *_: Any) -> None:
        """The source's ``'end'``: ``dest.end()`` (Node's ``onend``), or only unpipe
        (``end=False``)."""
        self.ended = True
        if self.end:
            self.dest.end()
        else:
            self.src.unpipe(self.dest)

    def unpipe(self, *_: Any) -> None:
        self.src.unpipe(self.dest)

    def on_unpipe(self, readable: Any, info: dict[str, Any] | None = None) -> None:
        if readable is self.src and info is not None and info.get("has_unpiped") is False:
            info["has_unpiped"] = True
            self.cleanup()

    def cleanup(self) -> None:
        """Node's ``cleanup``: the pipe's listeners removed (the destination's, then the
        source's), then ``'drain'``'s wait ended."""
        src, dest = self.src, self.dest
        if self.quiet and "removeListener" not in (de := dest._events) and (
                (se := src._events) is de or "removeListener" not in se):
            self._drop_all(de, se, None)
            return
        if isinstance(dest, EventEmitter):
            # one by one, in Node's order (each removal seen)
            gone: list[tuple[str, Any]] = []
            if not self.done:
                gone.append(("close", self.on_close))
                gone.append(("finish", self.on_finish))
            if self.drain:
                gone.append(("drain", self.on_drain))
            gone.append(("error", self.on_error))
            gone.append(("unpipe", self.on_unpipe))
            if src is not dest:
                dest._remove_many(*gone)
                gone.clear()
            if not self.ended:
                gone.append(("end", self.end_fn))
            gone.append(("data", self.on_data))
            src._remove_many(*gone)  # (one call for both when piped to itself)
        else:
            if not self.done:
                dest.remove_listener("close", self.on_close)
                dest.remove_listener("finish", self.on_finish)
            if self.drain:
                dest.remove_listener("drain", self.on_drain)
            dest.remove_listener("error", self.on_error)
            dest.remove_listener("unpipe", self.on_unpipe)
            src._remove_many(("end", self.end_fn), ("data", self.on_data))
        self.cleaned = True
        if self.drain:
            self._drained()

    def _drop_all(self, de: dict[str, Any], se: dict[str, Any], first: Any) -> None:
        """:meth:`cleanup` where nobody sees the removals one by one (``quiet``, no
        ``'removeListener'`` listener on either emitter: ``de`` / ``se``, the destination's and
        the source's tables), the same table at the end in any order: each listener in place
        where it is its event's only one (the prepended ``'error'`` one: first, with no other
        match after it), else by ``_remove_many``, once per emitter; the source's ``'data'``
        hook last, as Node removes ``'data'`` last. ``first``: the once wrapper that fired (this
        object, or the ``'finish'`` one), removed as itself with the other one, after its
        caller removed the ``'unpipe'`` listener, its event's only one; ``None``: an unpipe's
        cleanup (the two wrappers go unless one of them ran: ``done``)."""
        slow: list[tuple[str, Any]] = []
        if first is not None or not self.done:
            if de.get("close") == (self,):
                key_gone(self.dest, "close")
                del de["close"]
            else:
                slow.append(("close", self if first is self else self.on_close))
            if first is None or first is self:
                if (t := de.get("finish")) is not None and len(t) == 1 \
                        and type(x := t[0]) is _PipeFinish and x.pipe is self:
                    key_gone(self.dest, "finish")
                    del de["finish"]
                else:
                    slow.append(("finish", self.on_finish))
            elif de.get("finish") == (first,):  # (the 'finish' wrapper fired)
                key_gone(self.dest, "finish")
                del de["finish"]
            else:
                slow.append(("finish", first))
        if self.drain:
            if de.get("drain") == (fn := self.on_drain,):
                key_gone(self.dest, "drain")
                del de["drain"]
            else:
                slow.append(("drain", fn))
        fn = self.on_error
        if (t := de.get("error")) is not None and t[0] == fn:
            rest = t[1:]
            for x in rest:  # (a later match is the one Node removes)
                if x == fn or type(x) in _ONCE_TYPES and x.listener == fn:
                    slow.append(("error", fn))
                    break
            else:
                if rest:
                    de["error"] = rest
                else:
                    key_gone(self.dest, "error")
                    del de["error"]
        else:
            slow.append(("error", fn))
        if first is None:
            if de.get("unpipe") == (fn := self.on_unpipe,):
                key_gone(self.dest, "unpipe")
                del de["unpipe"]
            else:
                slow.append(("unpipe", fn))
        if slow and se is not de:
            self.dest._remove_many(*slow)
            slow.clear()
        if not self.ended:
            if (t := se.get("end")) is not None and type(x := t[-1]) is _PipeEnd \
                    and x.pipe is self:
                if len(t) == 1:
                    del se["end"]
                else:
                    se["end"] = t[:-1]
            else:
                slow.append(("end", self.end_fn))
        if in_place := se.get("data") == (fn := self.on_data,):
            del se["data"]
        else:
            slow.append(("data", fn))
        if slow:
            self.src._remove_many(*slow)
        if in_place and self.quiet == QUIET_HOOK:
            self.src._listener_removed("data")
        self.cleaned = True
        if self.drain:
            self._drained()

    def _drained(self) -> None:
        """The end of Node's ``cleanup``: a ``'drain'`` wait ended (``cleanedUp`` set)."""
        src = self.src
        if (src._r_await_drain or src._r_multi_drain) and getattr(self.dest, "_w_need_drain", True):
            self.on_drain()

    def pause(self) -> None:
        src, dest = self.src, self.dest
        if not self.cleaned and dest in src._r_pipes:
            if len(src._r_pipes) == 1:
                src._r_multi_drain = False  # (Node: awaitDrainWriters = dest)
            if src._r_await_drain is _NO_DRAIN:
                src._r_await_drain = set()
            src._r_await_drain.add(dest)  # type: ignore[union-attr]
            src.pause()
        if not self.drain:
            self.drain = True
            dest.on("drain", self.on_drain)

    def on_drain(self, *_: Any) -> None:
        src = self.src
        if src._r_await_drain:
            src._r_await_drain.discard(self.dest)  # type: ignore[union-attr]
        if not src._r_await_drain and src._r_data_listening:
            src.resume()

    def on_data(self, chunk: Any) -> None:
        if self.dest.write(chunk) is False:
            self.pause()

    def on_error(self, err: BaseException) -> None:
        dest = self.dest
        self.unpipe()
        _remove(dest, "error", self.on_error)
        if dest.listener_count("error") == 0:
            if isinstance(dest, Stream) and not dest._error_emitted:
                dest._error_or_destroy(err)
            else:
                dest.emit("error", err)

    # on_close / on_finish: the listeners of a destination that is not one of our emitters
    # (on ours, the _Pipe itself and a _PipeFinish are the once wrappers: _Pipe.__call__).
    def on_close(self, *_: Any) -> None:
        if not self.done:
            self.done = True  # both gone now
            self.dest.remove_listener("finish", self.on_finish)
        self.src.unpipe(self.dest)  # (unpipe, inlined)

    def on_finish(self, *_: Any) -> None:
        if not self.done:
            self.done = True
            self.dest.remove_listener("close", self.on_close)
        self.src.unpipe(self.dest)  # (unpipe, inlined)


_ON_UNPIPE = _Pipe.on_unpipe
#: The ``'close'`` / ``'finish'`` wrappers' general case (:meth:`_PipeFinish.__call__`'s too).
_PIPE_CALL: Any = _Pipe.__call__
_READABLE_PAUSE = _readable_read.pause  # (Readable.pause: the same function)
_READABLE_REMOVED = Readable._listener_removed
_new = object.__new__
#: An ``'end'`` / ``'error'`` table's stand-in when it has none (its one item matches nothing).
_NO_END: tuple[Any, ...] = (None,)
#: A self-pipe's own events' listeners, at once (:meth:`_PipeFinish.__call__`).
_PIPE_ENTRIES = itemgetter("finish", "close", "unpipe", "data", "error")

#: ``_Pipe.quiet``: neither emitter hooks the pipe's events (the source's ``'data'`` aside).
QUIET = 1
#: ``_Pipe.quiet``: quiet, and the source hooks ``'data'`` (its ``_listener_added`` /
#: ``_listener_removed`` are due when ``'data'``'s listener comes and goes).
QUIET_HOOK = 2
#: The events pipe() and its cleanup add and remove listeners of but 'data'.
_PIPE_EVENTS = frozenset({"end", "unpipe", "error", "close", "finish", "drain"})


class _QuietOf(dict[frozenset[str], int]):
    """What ``pipe()`` keeps in ``_Pipe.quiet`` for a source whose ``_HOOK_EVENTS`` is the key
    (for a destination: 0 or not), found at the first look-up and remembered by the set (a
    class's declaration: few distinct sets)."""

    def __missing__(self, hooks: frozenset[str]) -> int:
        q = self[hooks] = 0 if not _PIPE_EVENTS.isdisjoint(hooks) else (
            QUIET_HOOK if "data" in hooks else QUIET)
        return q


_QUIET = _QuietOf()


def _room(se: dict[str, Any], de: dict[str, Any], lim: int) -> bool:
    """No listener limit of ``lim`` reached by the pipe's additions (each event's listeners
    before it, one by one: ``pipe()``'s exact check when its sum of all listeners does not
    tell)."""
    return (len(se.get("end", ())) < lim and len(se.get("data", ())) < lim
            and len(de.get("unpipe", ())) < lim and len(de.get("error", ())) < lim
            and len(de.get("close", ())) < lim and len(de.get("finish", ())) < lim)


_ONCE_TYPES.add(_Pipe)


class _PipeOnce(_Once):
    """``pipe()``'s other once listeners on our emitters (the source's ``'end'``, the
    destination's ``'finish'``): a ``once`` wrapper (``raw_listeners`` shows it, its
    ``listener`` is the ``_Pipe``'s bound method, removable by it) whose call is the listener's
    body, Node's ``onend`` / ``onfinish``: one call per event instead of two.

    One slot, ``pipe`` (the :class:`_Pipe`), set after ``object.__new__`` (``emitter``,
    ``event``, ``listener`` and ``fired`` of :class:`~nodetls.events._Once` are unused: the
    ``_Pipe``'s flags say which ran)."""

    __slots__ = ("pipe",)

    pipe: _Pipe
    #: The ``_Pipe`` method this wrapper stands for (its ``listener``).
    _name: ClassVar[str]

    @property
    def listener(self) -> Any:  # type: ignore[override]  # (over _Once's slot: derived)
        return getattr(self.pipe, self._name)


class _PipeEnd(_PipeOnce):
    """The source's ``'end'`` (Node's ``onend``): ``dest.end()``, or only unpipe
    (``end=False``)."""

    __slots__ = ()
    _name = "end_fn"

    def __call__(self, *_: Any) -> None:
        p = self.pipe
        if p.ended:
            return
        p.ended = True
        src = p.src
        se = src._events
        # (Node's onceWrapper: the wrapper goes first; in place when it is the last one,
        # nobody sees it go and no hook is due (quiet); else _Once's removal)
        if p.quiet and (t := se.get("end", _NO_END))[-1] is self and "removeListener" not in se:
            if rest := t[:-1]:
                se["end"] = rest
            else:
                del se["end"]
        else:
            self._unlink(src, "end")
        if p.end:
            p.dest.end()
        else:
            src.unpipe(p.dest)


class _PipeFinish(_PipeOnce):
    """The destination's ``'finish'`` (Node's ``onfinish``): :meth:`_Pipe.__call__`, its usual
    case here whole.

    ``tables``: when ``pipe()`` added its listeners in place (else ``None``), its
    ``'close'``, ``'unpipe'`` and ``'data'`` listeners each as a one-item tuple (the event's
    table, when the pipe's is its only listener) and the ``'error'`` table it left: tables are
    replaced, never mutated, so while the tables are these tuples (or equal ones) the pipe's
    listeners are where ``pipe()`` put them, alone or (``'error'``) first among the ones there
    before (none of them a match of it). Not the ``'finish'`` one, which holds this object (a
    reference cycle)."""

    __slots__ = ("tables",)
    _name = "on_finish"
    tables: tuple[Any, ...] | None

    def __call__(self, *_: Any) -> None:
        """Node's ``onfinish`` of a stream piped to itself once its ``'end'`` ran (the echo's
        ``dest.end()``): when the pipe's listeners are the only ones of their events (its
        ``'error'`` one first, no other match of it after it), nobody sees an addition or
        removal (``quiet``, no ``'removeListener'`` listener), the stream is piped to itself
        alone and nobody listens to ``'pause'``, all of it at once, in place: this wrapper and
        the ``'close'`` one go, the stream pauses (its ``pause()``, unless it is Readable's: no
        ``'pause'`` emit due), then the cleanup (no ``'unpipe'`` emit: its only listener is the
        pipe's). Anything else: :meth:`_Pipe.__call__`."""
        p = self.pipe
        src = p.src
        if p.ended and not p.done and not p.drain and (tables := self.tables) is not None \
                and src is p.dest:  # (tables: quiet, listeners added in place)
            ev = src._events  # (piped to itself: one table)
            try:
                f, c, u, d, t = _PIPE_ENTRIES(ev)
            except KeyError:  # (one of them has no listener: not the usual case)
                _PIPE_CALL(self)
                return
            pipes = src._r_pipes
            # The tables as pipe() left them: the pipe's 'close', 'unpipe' and 'data' listeners
            # the only ones, its 'error' one first among those there before pipe() (so no match
            # of it after it: Node removes the last match).
            if ("removeListener" not in ev and "pause" not in ev and pipes == [src]
                    and f == (self,) and (c, u, d, t) == tables):
                rest = t[1:]
                p.done = p.cleaned = True
                del ev["finish"], ev["close"]
                pipes.clear()
                if type(src).pause is _READABLE_PAUSE:  # (pause(), inlined)
                    src._r_flowing = False
                    src._r_paused = True
                else:
                    src.pause()
                del ev["unpipe"]
                if rest:
                    ev["error"] = rest
                else:
                    del ev["error"]
                del ev["data"]
                if p.quiet == QUIET_HOOK:
                    if type(src)._listener_removed is _READABLE_REMOVED:  # (inlined)
                        src._r_data_listening = False
                    else:
                        src._listener_removed("data")
                return
        _PIPE_CALL(self)


_ONCE_TYPES.update((_PipeEnd, _PipeFinish))


def _remove(emitter: Any, event: str, fn: Any) -> None:
    """``emitter.remove_listener(event, fn)`` (ours: its one-call core)."""
    if isinstance(emitter, EventEmitter):
        emitter._remove_many((event, fn))
    else:
        emitter.remove_listener(event, fn)
