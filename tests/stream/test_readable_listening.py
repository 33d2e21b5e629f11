"""Readable's ``'readable'`` bookkeeping on removal: Node's ``Readable.prototype.removeListener``
/ ``off`` / ``removeAllListeners`` (lib/internal/streams/readable.js) schedule
``updateReadableListening`` on the next tick on every call naming ``'readable'`` (and
``removeAllListeners()``), whether or not a listener went, one per call (and one per listener a
``'removeListener'`` listener sees go); ``removeListener('data', fn)`` clears ``kDataListening``
when no ``'data'`` listener is left, ``removeAllListeners('data')`` (nobody told) does not.

Each scenario was run in node v20.20 (the script is quoted in its comment, ``r = new
Readable({read() {}})``; "later" is a ``setImmediate``, ``tick`` a ``process.nextTick``); the
expected values are node's output.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from nodetls.stream import Duplex, Readable

from .streamutil import ticks


def _readable() -> Readable:
    return Readable(read=lambda _n: None)


def _text(chunk: Any) -> str:
    return chunk.decode() if isinstance(chunk, bytes) else str(chunk)


def _tick(fn: Callable[[], Any]) -> None:
    """Node's ``process.nextTick(fn)`` (ours: ``loop.call_soon``, the same FIFO queue)."""
    asyncio.get_running_loop().call_soon(fn)


def _recorder(r: Readable, *events: str) -> list[str]:
    seen: list[str] = []
    for name in events:
        if name == "data":
            r.on("data", lambda c: seen.append("data:" + _text(c)))
        else:
            r.on(name, lambda *_a, n=name: seen.append(n))
    return seen


def _never() -> None:
    """A listener never added."""


# -- nothing removed: the check is due all the same ---------------------------------------------


@pytest.mark.parametrize("how", ["remove_listener", "off", "remove_all_listeners"])
async def test_removing_no_readable_listener_ends_paused_mode(how: str) -> None:
    # node: r.pause(); r.removeListener('readable', () => {}) (or off, or
    # removeAllListeners('readable')): still false at once; next tick readableFlowing === null.
    r = _readable()
    r.pause()
    if how == "remove_all_listeners":
        r.remove_all_listeners("readable")
    else:
        getattr(r, how)("readable", _never)
    assert r.readable_flowing is False
    seen: list[Any] = []
    _tick(lambda: seen.append(r.readable_flowing))
    await ticks(1)
    assert seen == [None]


async def test_a_duplex_too() -> None:
    # node: d = new Duplex({read() {}, write(c, e, cb) { cb(); }}); d.pause();
    # d.off('readable', () => {}); next tick d.readableFlowing === null.
    d = Duplex(read=lambda _n: None, write=lambda c, cb: cb())
    d.pause()
    d.off("readable", _never)
    await ticks(1)
    assert d.readable_flowing is None


async def test_other_events_leave_paused_mode_alone() -> None:
    # node: r.pause(); r.removeListener('end', () => {}); r.removeAllListeners('end'):
    # next tick readableFlowing === false.
    r = _readable()
    r.pause()
    r.remove_listener("end", _never)
    r.remove_all_listeners("end")
    await ticks()
    assert r.readable_flowing is False


async def test_a_listener_that_is_not_a_function_schedules_nothing() -> None:
    # node: r.pause(); r.removeListener('readable', null) throws ERR_INVALID_ARG_TYPE (before
    # the removal, so no check): next tick readableFlowing === false.
    r = _readable()
    r.pause()
    with pytest.raises(TypeError) as info:
        r.remove_listener("readable", None)  # type: ignore[arg-type]
    assert getattr(info.value, "code", None) == "ERR_INVALID_ARG_TYPE"
    await ticks()
    assert r.readable_flowing is False


async def test_the_methods_return_the_stream() -> None:
    # node: removeListener / off / removeAllListeners('readable') / removeAllListeners() /
    # removeAllListeners('data') all return the stream.
    r = _readable()
    assert r.remove_listener("readable", _never) is r
    assert r.off("readable", _never) is r
    assert r.remove_all_listeners("readable") is r
    assert r.remove_all_listeners() is r
    assert r.remove_all_listeners("data") is r


@pytest.mark.parametrize("event", ["readable", None])
async def test_remove_all_listeners_told_of_no_readable_listener(event: str | None) -> None:
    # node: r.on('removeListener', ...); r.pause(); r.removeAllListeners('readable'): no
    # 'removeListener'; next tick readableFlowing === null.  removeAllListeners() the same (its
    # own listener goes unreported: kShapeMode).
    r = _readable()
    told: list[str] = []
    r.on("removeListener", lambda e, _f: told.append(e))
    r.pause()
    r.remove_all_listeners(event)
    await ticks(1)
    assert (told, r.readable_flowing) == ([], None)


# -- with a 'data' listener: the check resumes ---------------------------------------------------


async def test_a_paused_data_listener_resumes_on_removing_no_readable_listener() -> None:
    # node: r.on('data'); r.on('resume'); r.on('pause'); r.pause(); r.push('x');
    # r.removeListener('readable', () => {}): later ['pause', 'resume', 'resume', 'data:x'],
    # readableFlowing === true.
    r = _readable()
    seen = _recorder(r, "data", "resume", "pause")
    r.pause()
    r.push(b"x")
    r.remove_listener("readable", _never)
    await ticks()
    assert seen == ["pause", "resume", "resume", "data:x"]
    assert r.readable_flowing is True


async def test_a_paused_data_listener_resumes_on_remove_all_readable() -> None:
    # node: r.on('data'); r.on('resume'); r.pause(); r.push('x'); r.removeAllListeners('readable'):
    # later ['resume', 'resume', 'data:x'], readableFlowing === true.
    r = _readable()
    seen = _recorder(r, "data", "resume")
    r.pause()
    r.push(b"x")
    r.remove_all_listeners("readable")
    await ticks()
    assert seen == ["resume", "resume", "data:x"]
    assert r.readable_flowing is True


async def test_with_a_readable_listener_the_check_resumes_without_flowing() -> None:
    # node: r.on('readable'); r.on('resume'); r.on('data'); r.push('x'); r.resume();
    # r.removeListener('readable', () => {}); tick: flowing: later ['readable', 'resume',
    # 'tick:false', 'resume'] (the check's resume()), readableFlowing false, readableLength 1.
    r = _readable()
    seen = _recorder(r, "readable", "resume", "data")
    r.push(b"x")
    r.resume()
    assert r.readable_flowing is False
    r.remove_listener("readable", _never)
    _tick(lambda: seen.append(f"tick:{r.readable_flowing}"))
    await ticks()
    assert seen == ["readable", "resume", "tick:False", "resume"]
    assert (r.readable_flowing, r.readable_length) == (False, 1)


async def test_the_check_with_a_resume_scheduled_makes_it_flow() -> None:
    # node: r.on('readable'); r.on('resume'); r.on('data'); r.push('x');
    # r.removeListener('readable', () => {}); r.resume(): the check finds the resume scheduled
    # and sets flowing: later ['readable', 'resume', 'data:x'], flowing true, length 0.
    r = _readable()
    seen = _recorder(r, "readable", "resume", "data")
    r.push(b"x")
    r.remove_listener("readable", _never)
    r.resume()
    await ticks()
    assert seen == ["readable", "resume", "data:x"]
    assert (r.readable_flowing, r.readable_length) == (True, 0)


@pytest.mark.parametrize(("calls", "flowing", "seen"), [
    (1, False, ["readable", "resume"]),
    (2, True, ["readable", "resume", "data:x"]),
])
async def test_each_call_is_one_check(calls: int, flowing: bool, seen: list[str]) -> None:
    # node: r.on('readable'); r.on('data'); r.on('resume'); r.push('x'); g = () => {};
    # r.removeListener('readable', g) once: later ['readable', 'resume'], flowing false,
    # length 1; twice: the first check's resume() is still scheduled at the second, which sets
    # flowing: ['readable', 'resume', 'data:x'], flowing true, length 0.
    r = _readable()
    got = _recorder(r, "readable", "data", "resume")
    r.push(b"x")
    for _ in range(calls):
        r.remove_listener("readable", _never)
    await ticks()
    assert got == seen
    assert (r.readable_flowing, r.readable_length) == (flowing, 0 if flowing else 1)


@pytest.mark.parametrize(("twice", "flowing"), [(False, False), (True, True)])
async def test_removing_one_of_two_readable_listeners(twice: bool, flowing: bool) -> None:
    # node: f1 = () => {}; r.on('readable', f1); r.on('readable', ...); r.on('data');
    # r.on('resume'); r.removeListener('readable', f1): later ['resume'], flowing false (the
    # other 'readable' listener); a second removeListener('readable', f1), which removes
    # nothing, is a second check: flowing true, ['resume'].
    r = _readable()
    f1: Callable[[], None] = lambda: None  # noqa: E731
    r.on("readable", f1)
    r.on("readable", lambda: None)
    seen = _recorder(r, "data", "resume")
    r.remove_listener("readable", f1)
    if twice:
        r.remove_listener("readable", f1)
    await ticks()
    assert seen == ["resume"]
    assert r.readable_flowing is flowing


async def test_remove_all_readable_told_checks_once_per_listener_and_once_more() -> None:
    # node: r.on('removeListener', e => push('rl:' + e)); two 'readable' listeners; r.on('data');
    # r.on('resume'); r.push('x'); r.removeAllListeners('readable'): later ['rl:readable',
    # 'resume', 'data:x'] (the last listener goes unreported: kShapeMode), flowing true.
    r = _readable()
    seen: list[str] = []
    r.on("removeListener", lambda e, _f: seen.append("rl:" + e))
    r.on("readable", lambda: None)
    r.on("readable", lambda: None)
    r.on("data", lambda c: seen.append("data:" + _text(c)))
    r.on("resume", lambda: seen.append("resume"))
    r.push(b"x")
    r.remove_all_listeners("readable")
    await ticks()
    assert seen == ["rl:readable", "resume", "data:x"]
    assert r.readable_flowing is True


async def test_the_check_runs_after_a_remove_listener_listeners_tick() -> None:
    # node: f = () => {}; r.on('readable', f); r.on('readable', () => {});
    # r.on('removeListener', () => nextTick(log flowing)); r.on('resume', log);
    # r.removeListener('readable', f); r.removeAllListeners('readable'); r.resume(); tick(log):
    # 'rl tick: flowing false' (before the checks), 'resume', 'after true'.
    r = _readable()
    seen: list[str] = []
    f: Callable[[], None] = lambda: None  # noqa: E731
    r.on("readable", f)
    r.on("readable", lambda: None)
    r.on("removeListener", lambda *_a: _tick(lambda: seen.append(f"rl:{r.readable_flowing}")))
    r.on("resume", lambda: seen.append("resume"))
    r.remove_listener("readable", f)
    r.remove_all_listeners("readable")
    r.resume()
    _tick(lambda: seen.append(f"after:{r.readable_flowing}"))
    await ticks()
    assert seen == ["rl:False", "resume", "after:True"]


# -- 'data''s flag (kDataListening) --------------------------------------------------------------


@pytest.mark.parametrize(("setup", "flowing", "resumes"), [
    # node: r.on('data', () => {}); r.removeAllListeners('data'): the flag stays: flowing true
    ("remove_all_data", True, 2),
    # node: r.on('removeListener', ...) first: each goes through removeListener: flag cleared
    ("remove_all_data_told", None, 1),
    # node: then r.removeListener('data', () => {}) (nothing removed) clears it
    ("remove_all_data_then_remove_none", None, 1),
    # node: r.removeAllListeners() leaves it set too
    ("remove_all", True, 2),
])
async def test_data_flag_after_removals(setup: str, flowing: bool | None, resumes: int) -> None:
    # node, after the setup: r.on('resume'); r.pause(); r.removeListener('readable', () => {}):
    # later the check resume()s while the flag is set (a second 'resume', flowing true), else
    # readableFlowing === null; the first 'resume' is on('data')'s.
    r = _readable()
    if setup == "remove_all_data_told":
        r.on("removeListener", lambda *_a: None)
    r.on("data", lambda _c: None)
    if setup == "remove_all":
        r.remove_all_listeners()
    else:
        r.remove_all_listeners("data")
    if setup == "remove_all_data_then_remove_none":
        r.remove_listener("data", _never)
    seen = _recorder(r, "resume")
    r.pause()
    r.remove_listener("readable", _never)
    await ticks()
    assert seen == ["resume"] * resumes
    assert r.readable_flowing is flowing


async def test_once_readable_then_data() -> None:
    # node: r.once('readable', ...); r.on('data', ...); r.push('a'): later ['readable', 'data:a'],
    # flowing true, length 0 (the once wrapper's removal, through emit, checks once).
    r = _readable()
    seen: list[str] = []
    r.once("readable", lambda: seen.append("readable"))
    r.on("data", lambda c: seen.append("data:" + _text(c)))
    r.push(b"a")
    await ticks()
    assert seen == ["readable", "data:a"]
    assert (r.readable_flowing, r.readable_length) == (True, 0)
