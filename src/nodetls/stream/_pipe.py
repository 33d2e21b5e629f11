"""``readable.pipe(dest)``'s machinery (Node's ``pipe`` closures in
``lib/internal/streams/readable.js``): :class:`_Pipe` and its once listeners :class:`_PipeOnce`.
Part of :mod:`nodetls.stream`; imported by :mod:`nodetls.stream._readable` once ``Readable``
is defined."""

from __future__ import annotations

from typing import Any

from ..events import _ONCE_TYPES, EventEmitter, _Once
from ._base import _NO_DRAIN, Stream
from ._readable import Readable


class _Pipe:
    """One ``readable.pipe(dest)``: Node's ``pipe`` closures as one small object, its listeners
    bound methods (removed by equality: no bound method is stored on the object, which would make
    it a reference cycle left to the cyclic garbage collector); a listener that already ran once
    is not removed a second time.

    Made by ``pipe()`` with ``object.__new__`` and its four slots set: ``fired`` holds bits,
    ``_END | _CLOSE | _FINISH`` (those listeners are already removed), ``_DRAIN`` (a ``'drain'``
    listener was added) and ``_CLEANED`` (Node's ``cleanedUp``)."""

    __slots__ = ("src", "dest", "end", "fired")

    src: Readable
    dest: Any
    end: bool
    fired: int

    def end_fn(self, *_: Any) -> None:
        """The source's ``'end'``: ``dest.end()`` (Node's ``onend``), or only unpipe
        (``end=False``)."""
        self.fired |= _END
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

    def cleanup(self, first: tuple[str, Any] | None = None) -> None:
        """Node's ``cleanup``; ``first``: a once wrapper of the destination's that fired and
        is removed with the rest, first (``_PipeOnce``)."""
        src, dest, fired = self.src, self.dest, self.fired
        # dest's listeners, then src's: Node's order
        gone: list[tuple[str, Any]] = [] if first is None else [first]
        if not fired & _CLOSE:
            gone.append(("close", self.on_close))
        if not fired & _FINISH:
            gone.append(("finish", self.on_finish))
        if fired & _DRAIN:
            gone.append(("drain", self.on_drain))
        gone.append(("error", self.on_error))
        gone.append(("unpipe", self.on_unpipe))
        if isinstance(dest, EventEmitter):
            if src is not dest:
                dest._remove_many(*gone)
                gone.clear()
        else:
            for event, fn in gone:
                dest.remove_listener(event, fn)
            gone.clear()
        if not fired & _END:
            gone.append(("end", self.end_fn))
        gone.append(("data", self.on_data))
        src._remove_many(*gone)  # (one call for both when piped to itself)
        self.fired |= _CLEANED
        if self.fired & _DRAIN and src._r_await_drain and getattr(dest, "_w_need_drain", True):
            self.on_drain()

    def pause(self) -> None:
        src, dest = self.src, self.dest
        if not self.fired & _CLEANED and dest in src._r_pipes:
            if src._r_await_drain is _NO_DRAIN:
                src._r_await_drain = set()
            src._r_await_drain.add(dest)  # type: ignore[union-attr]
            src.pause()
        if not self.fired & _DRAIN:
            self.fired |= _DRAIN
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
    # (ours get _PipeOnce wrappers, which do the same themselves).
    def on_close(self, *_: Any) -> None:
        if not self.fired & _FINISH:
            self.dest.remove_listener("finish", self.on_finish)
        self.fired |= _CLOSE | _FINISH  # both gone now
        self.src.unpipe(self.dest)  # (unpipe, inlined)

    def on_finish(self, *_: Any) -> None:
        if not self.fired & _CLOSE:
            self.dest.remove_listener("close", self.on_close)
        self.fired |= _CLOSE | _FINISH
        self.src.unpipe(self.dest)  # (unpipe, inlined)


_END, _CLOSE, _FINISH, _DRAIN, _CLEANED = 1, 2, 4, 8, 16
_ON_UNPIPE = _Pipe.on_unpipe
_READABLE_PAUSE = Readable.pause
_new = object.__new__


class _PipeOnce(_Once):
    """``pipe()``'s once listeners (the source's ``'end'``, the destination's ``'close'`` and
    ``'finish'``): a ``once`` wrapper (``raw_listeners`` shows it, its ``listener`` is the
    ``_Pipe``'s bound method, removable by it) whose call is the listener's body, Node's
    ``onend`` / ``onclose`` / ``onfinish``: one call per event instead of two.

    Made by ``object.__new__`` with ``event`` and ``listener`` set (``emitter`` and ``fired`` of
    :class:`~nodetls.events._Once` are unused: the ``_Pipe``'s ``fired`` bits say which ran)."""

    __slots__ = ()

    def __call__(self, *_: Any) -> None:
        p: _Pipe = self.listener.__self__  # type: ignore[attr-defined]
        event, fired, src, dest = self.event, p.fired, p.src, p.dest
        if event == "end":  # onend: dest.end(), or only unpipe (end=False)
            if not fired & _END:
                p.fired = fired | _END
                self._unlink(src, "end")  # (Node's onceWrapper: the wrapper goes first)
                if p.end:
                    dest.end()
                else:
                    src.unpipe(dest)
            return
        # onclose / onfinish (each removes the other's listener, then unpipes: one of the two
        # ever runs)
        mine, other = (_CLOSE, _FINISH) if event == "close" else (_FINISH, _CLOSE)
        if fired & mine:
            return
        p.fired = fired | mine
        events = dest._events
        pipes = src._r_pipes
        ls = events.get("unpipe")
        if ("removeListener" not in events and ls is not None and len(ls) == 1
                and ls[0] == p.on_unpipe and dest in pipes
                and (len(pipes) > 1 or "pause" not in src._events)):
            # The wrapper's removal, the other's, and what src.unpipe(dest) then does, in one
            # go: nobody sees the listeners in between (no 'removeListener' or 'pause'
            # listener; the pipe's own 'unpipe' listener is the only one), so the cleanup
            # removes all of them.
            pipes.remove(dest)
            if not pipes:
                if type(src).pause is _READABLE_PAUSE:  # (pause(), inlined: no 'pause' emit)
                    src._r_flowing = False
                    src._r_paused = True
                else:
                    src.pause()
            if src is dest and fired & (_END | _DRAIN) == _END:
                # (cleanup(), inlined for socket.pipe(socket) after its 'end': the same
                # removals in the same order, no 'drain' listener to remove or call)
                oname = "close" if other == _CLOSE else "finish"
                others, errs, hooks = events.get(oname), events.get("error"), src._HOOK_EVENTS
                if (events.get(event) == (self,) and others is not None and len(others) == 1
                        and type(o := others[0]) is _PipeOnce and o.listener.__self__ is p  # type: ignore[attr-defined]
                        and errs is not None and errs[0] == (on_error := p.on_error)
                        and on_error not in errs[1:]
                        and events.get("data") == (p.on_data,) and hooks.isdisjoint(_SELF_PIPE)):
                    # (_remove_many's work for what an echo connection has: each event's only
                    # listener but 'error''s, where the pipe's, prepended, is first and once;
                    # no 'removeListener' listener, no hook but 'data''s, removed last)
                    del events[event], events[oname]
                    if len(errs) > 1:
                        events["error"] = errs[1:]
                    else:
                        del events["error"]
                    del events["unpipe"], events["data"]
                    if "data" in hooks:
                        src._listener_removed("data")
                    p.fired |= other | _CLEANED
                    return
                src._remove_many((event, self), ("finish", p.on_finish) if other == _FINISH
                                 else ("close", p.on_close), ("error", p.on_error),
                                 ("unpipe", p.on_unpipe), ("data", p.on_data))
                p.fired |= other | _CLEANED
                return
            p.cleanup((event, self))
            p.fired |= other
            return
        if fired & other:
            dest._remove_many((event, self))
        else:
            dest._remove_many((event, self), ("finish", p.on_finish) if other == _FINISH
                              else ("close", p.on_close))
        p.fired |= other
        src.unpipe(dest)


_ONCE_TYPES.add(_PipeOnce)
#: The events of a self-pipe's cleanup before its 'data' (_PipeOnce.__call__'s removals).
_SELF_PIPE = frozenset({"close", "finish", "error", "unpipe"})


def _remove(emitter: Any, event: str, fn: Any) -> None:
    """``emitter.remove_listener(event, fn)`` (ours: its one-call core)."""
    if isinstance(emitter, EventEmitter):
        emitter._remove_many((event, fn))
    else:
        emitter.remove_listener(event, fn)

