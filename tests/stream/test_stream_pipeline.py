"""``stream.finished``, ``stream.pipeline``, ``stream.promises`` and the stream predicates, on
in-memory streams and on real loopback ``net``/``tls`` sockets. Every expectation was taken from
node v20 running the same scenario (after Node's test/parallel/test-stream-finished.js,
test-stream-pipeline.js, test-stream-promises.js)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import nodetls as tls
from nodetls import net, stream
from nodetls.errors import InvalidArgTypeError, NodeError, NodeRangeError
from nodetls.stream import (
    Duplex,
    PassThrough,
    Readable,
    Transform,
    Writable,
    finished,
    pipeline,
)
from tests.stream.test_stream_readable_writable import ticks
from tests.tls.tlsutil import TIMEOUT, listen

PREMATURE = "ERR_STREAM_PREMATURE_CLOSE"


def _code(err: Any) -> str:
    return "None" if err is None else str(getattr(err, "code", None) or err)


def _sink(log: list[Any] | None = None) -> Writable:
    def write(chunk: bytes, cb: Any) -> None:
        if log is not None:
            log.append(chunk)
        cb()

    return Writable(write=write)


def _resolver(fut: asyncio.Future[Any]) -> Any:
    """A pipeline callback that resolves ``fut`` with its error."""
    def callback(err: BaseException | None) -> None:
        fut.set_result(err)

    return callback


def _watch(log: list[str], **streams: Any) -> None:
    for name, s in streams.items():
        s.on("error", lambda e, _n=name: log.append(f"{_n}error:{_code(e)}"))
        s.on("close", lambda *_, _n=name: log.append(f"{_n}close"))


# -- finished -----------------------------------------------------------------------------------


async def test_finished_readable_writable_transform_as_node() -> None:
    log: list[str] = []
    r = Readable(read=lambda n: None)
    finished(r, lambda err: log.append(f"r:{_code(err)}"))
    r.push(None)
    r.resume()
    await ticks(10)
    assert log == ["r:None"]
    # a Writable that emits 'close': the callback waits for it
    log.clear()
    w = _sink()
    w.on("finish", lambda: log.append("finish"))
    w.on("close", lambda: log.append("close"))
    finished(w, lambda err: log.append(f"w:{_code(err)}"))
    w.end(b"x")
    await ticks(10)
    assert log == ["finish", "close", "w:None"]
    # a Transform: both sides (node: finish, end, close, then the callback)
    log.clear()
    t = Transform(transform=lambda c, cb: cb(None, c))
    for ev in ("end", "finish", "close"):
        t.on(ev, lambda *_, _ev=ev: log.append(_ev))
    finished(t, lambda err: log.append(f"cb:{_code(err)}"))
    t.end(b"x")
    t.resume()
    await ticks(10)
    assert log == ["finish", "end", "close", "cb:None"]


async def test_finished_premature_close_as_node() -> None:
    # node: destroyed after push(None) but before 'end' -> premature; a write still pending
    # (its callback never called) when destroyed -> premature.
    log: list[str] = []
    r = Readable(read=lambda n: None)
    finished(r, lambda err: log.append(_code(err)))
    r.push(b"asd")
    r.push(None)
    r.destroy()
    w = Writable(write=lambda c, cb: None)
    finished(w, lambda err: log.append(_code(err)))
    w.end(b"asd")
    w.destroy()
    await ticks(10)
    assert log == [PREMATURE, PREMATURE]


async def test_finished_error_and_already_closed_as_node() -> None:
    # node: destroy(err): 'error', callback(err), 'close'; finished() on a closed stream calls
    # back on a later iteration with the same error; error=False: the callback waits for 'close'.
    err = ValueError("kaboom")
    log: list[str] = []
    w = _sink()
    w.on("error", lambda e: log.append("error"))
    w.on("close", lambda: log.append("close"))

    def first(e: Any) -> None:
        log.append(f"cb1:{e}")
        finished(w, lambda e2: log.append(f"cb2:{e2 is err}"))

    finished(w, first)
    w.destroy(err)
    await ticks(10)
    assert log == ["error", "cb1:kaboom", "close", "cb2:True"]

    log.clear()
    w = _sink()
    w.on("error", lambda e: log.append("error"))
    w.on("close", lambda: log.append("close"))
    finished(w, {"error": False}, lambda e: log.append(f"cb:{e}"))
    w.destroy(err)
    await ticks(10)
    assert log == ["error", "close", "cb:kaboom"]


async def test_finished_after_destroy_and_cleanup_as_node() -> None:
    # node: destroy() without error -> premature; a second finished() on the closed stream too;
    # the cleanup function, called before the callback is due, means no call.
    log: list[str] = []
    w = _sink()
    finished(w, lambda e: log.append(f"cb:{_code(e)}"))
    w.destroy()
    await ticks()
    finished(w, lambda e: log.append(f"cb2:{_code(e)}"))
    cleanup = finished(w, lambda e: log.append(f"cb3:{_code(e)}"))
    cleanup()
    await ticks()
    assert log == [f"cb:{PREMATURE}", f"cb2:{PREMATURE}"]
    w2 = _sink()
    cleanup = finished(w2, lambda e: log.append("never"))
    cleanup()
    w2.end()
    await ticks(10)
    assert "never" not in log and w2.listener_count("finish") == 0


async def test_finished_one_side_of_a_duplex_as_node() -> None:
    # node: readable only (the writable side never finishes: final never calls back);
    # writable only (the write completes later).
    log: list[str] = []

    def read(n: int) -> None:
        d.push(None)

    d = Duplex(final=lambda cb: None, read=read)
    d.on("end", lambda: log.append("end"))
    finished(d, {"readable": True, "writable": False}, lambda e: log.append(f"cb:{_code(e)}"))
    d.end()
    d.resume()
    loop = asyncio.get_running_loop()
    d2 = Duplex(write=lambda c, cb: loop.call_soon(cb))
    d2.end(b"foo")
    finished(d2, {"readable": False}, lambda e: log.append(f"cb2:{_code(e)}"))
    await ticks(10)
    assert log == ["end", "cb:None", "cb2:None"]


async def test_finished_argument_errors_as_node() -> None:
    r = Readable(read=lambda n: None)
    with pytest.raises(InvalidArgTypeError, match='"callback" argument'):
        finished(r, "foo")
    with pytest.raises(InvalidArgTypeError, match='"options" argument must be of type object'):
        finished(r, "foo", lambda e: None)
    with pytest.raises(InvalidArgTypeError, match='"callback" argument'):
        finished(r, {}, "foo")
    with pytest.raises(InvalidArgTypeError, match='"stream" argument must be an instance of'):
        finished(object(), lambda e: None)
    with pytest.raises(InvalidArgTypeError, match="signal"):
        finished(r, {"signal": object()}, lambda e: None)
    for exc in (InvalidArgTypeError,):
        with pytest.raises(exc) as info:
            finished(5, lambda e: None)
        assert info.value.code == "ERR_INVALID_ARG_TYPE"


# -- pipeline: streams --------------------------------------------------------------------------


async def test_pipeline_readable_to_writable_as_node() -> None:
    # node: data in order, 'finish', both close, then callback(undefined, undefined); returns
    # the destination.
    log: list[Any] = []
    r = Readable(read=lambda n: None)
    w = _sink(log)
    w.on("finish", lambda: log.append("finish"))
    _watch(log, r=r, w=w)
    for x in (b"a", b"b", b"c"):
        r.push(x)
    r.push(None)
    ret = pipeline(r, w, lambda err, value: log.append(f"cb:{_code(err)}:{value}"))
    assert ret is w
    await ticks(10)
    assert log == [b"a", b"b", b"c", "finish", "rclose", "wclose", "cb:None:None"]


async def test_pipeline_source_destroyed_is_premature_close_as_node() -> None:
    # node: the source destroyed without an error: the destination is destroyed with
    # ERR_STREAM_PREMATURE_CLOSE, which the callback gets
    log: list[str] = []
    r = Readable(read=lambda n: None)
    w = _sink()
    r.push(b"data")
    _watch(log, r=r, w=w)
    pipeline(r, w, lambda err: log.append(f"cb:{_code(err)}"))
    await ticks()
    r.destroy()
    await ticks(10)
    assert log == ["rclose", f"werror:{PREMATURE}", "wclose", f"cb:{PREMATURE}"]


async def test_pipeline_error_in_the_middle_destroys_all_as_node() -> None:
    # test-stream-pipeline.js: a Transform fails: every stage gets that error, then closes
    log: list[str] = []
    r = Readable(read=lambda n: None)
    t = Transform(transform=lambda c, cb: cb(NodeError("kaboom", "EKABOOM")))
    w = _sink()
    _watch(log, r=r, t=t, w=w)
    assert pipeline(r, t, w, lambda err: log.append(f"cb:{_code(err)}")) is w
    r.push(b"hello")
    await ticks(10)
    assert log == ["terror:EKABOOM", "tclose", "rerror:EKABOOM", "rclose", "werror:EKABOOM",
                   "wclose", "cb:EKABOOM"]


async def test_pipeline_many_transforms_sink_error_closes_everything() -> None:
    # test-stream-pipeline.js: six PassThrough-like transforms, the sink fails on its 10th write
    count = 0

    def write(chunk: bytes, cb: Any) -> None:
        nonlocal count
        count += 1
        cb(NodeError("kaboom", "EKABOOM") if count == 10 else None)

    def read(n: int) -> None:
        rs.push(b"hello")

    rs = Readable(read=read)
    ts = [Transform(transform=lambda c, cb: cb(None, c)) for _ in range(6)]
    ws = Writable(write=write)
    closed: list[Any] = []
    for s in (rs, *ts, ws):
        s.on("close", lambda _s=s: closed.append(_s))
    done = asyncio.get_running_loop().create_future()
    pipeline(rs, *ts, ws, lambda err: done.set_result(err))
    err = await asyncio.wait_for(done, TIMEOUT)
    await ticks()
    assert err.code == "EKABOOM"
    assert len(closed) == 8


async def test_pipeline_argument_errors_as_node() -> None:
    r = Readable(read=lambda n: None)
    with pytest.raises(NodeError) as info:
        pipeline(r, lambda e: None)
    assert (info.value.code, str(info.value)) == (
        "ERR_MISSING_ARGS", 'The "streams" argument must be specified')
    with pytest.raises(NodeError, match="ERR_MISSING_ARGS|must be specified"):
        pipeline(lambda e: None)
    with pytest.raises(InvalidArgTypeError, match=r'"streams\[stream.length - 1\]" property must'
                                                  " be of type function"):
        pipeline()
    with pytest.raises(InvalidArgTypeError):
        pipeline(r, Transform(transform=lambda c, cb: cb()), _sink())  # no callback
    with pytest.raises(InvalidArgTypeError) as info2:
        pipeline(123, _sink(), lambda e: None)
    assert '"body" argument' in str(info2.value)
    for stages, name in (((r, lambda s: 5, _sink()), '"transform[0]"'),
                         ((r, lambda s: 5), '"destination"'),
                         ((lambda: 5, _sink()), '"source"')):
        with pytest.raises(TypeError) as info3:
            pipeline(*stages, lambda e: None)
        assert info3.value.code == "ERR_INVALID_RETURN_VALUE"  # type: ignore[attr-defined]
        assert name in str(info3.value)


# -- pipeline: iterables and functions ----------------------------------------------------------


async def test_pipeline_generator_sources_as_node() -> None:
    # node: a sync/async generator, or a function returning one, is a source
    def gen() -> Any:
        yield "hello"
        yield b"world"

    async def agen() -> Any:
        await asyncio.sleep(0)
        yield "hello"
        yield b"world"

    for source in (gen, gen(), agen, agen(), lambda: ["hello", "world"]):
        got: list[bytes] = []
        done = asyncio.get_running_loop().create_future()
        pipeline(source, _sink(got), _resolver(done))
        assert await asyncio.wait_for(done, TIMEOUT) is None
        assert b"".join(got) == b"helloworld"


async def test_pipeline_async_transform_and_destination_value_as_node() -> None:
    # node: async generator source -> async generator transform -> async function destination:
    # callback(undefined, 'HELLOWORLD'); a stream source's chunks reach the transform too.
    async def source() -> Any:
        await asyncio.sleep(0)
        yield b"hello"
        yield b"world"

    async def upper(src: Any) -> Any:
        async for chunk in src:
            yield chunk.upper()

    async def collect(src: Any) -> bytes:
        out = b""
        async for chunk in src:
            out += chunk
        return out

    done = asyncio.get_running_loop().create_future()
    ret = pipeline(source, upper, collect, lambda err, value: done.set_result((err, value)))
    assert isinstance(ret, PassThrough)
    assert await asyncio.wait_for(done, TIMEOUT) == (None, b"HELLOWORLD")
    r = Readable(read=lambda n: None)
    r.push(b"ab")
    r.push(None)
    done2 = asyncio.get_running_loop().create_future()
    pipeline(r, upper, collect, lambda err, value: done2.set_result((err, value)))
    assert await asyncio.wait_for(done2, TIMEOUT) == (None, b"AB")


async def test_pipeline_function_failures_destroy_the_streams_as_node() -> None:
    # node: a source that throws destroys the destination stream; a destination that throws
    # destroys the stream before it; an async-iterable destination gives a PassThrough.
    async def boom() -> Any:
        raise NodeError("kaboom", "EKABOOM")
        yield b""  # pragma: no cover

    log: list[str] = []
    s = PassThrough()
    _watch(log, s=s)
    done = asyncio.get_running_loop().create_future()
    pipeline(boom, s, lambda err: done.set_result(err))
    err = await asyncio.wait_for(done, TIMEOUT)
    assert (_code(err), s.destroyed, log) == ("EKABOOM", True, ["serror:EKABOOM", "sclose"])

    async def dest(src: Any) -> None:
        async for _chunk in src:
            raise NodeError("kaboom", "EKABOOM")

    s2 = PassThrough()
    done2 = asyncio.get_running_loop().create_future()
    pipeline(lambda: ["hello", "world"], s2, dest, lambda err: done2.set_result(err))
    assert _code(await asyncio.wait_for(done2, TIMEOUT)) == "EKABOOM"
    assert s2.destroyed

    async def drain_all(src: Any) -> Any:
        async for _chunk in src:
            pass
        return
        yield b""  # pragma: no cover

    done3 = asyncio.get_running_loop().create_future()
    ret = pipeline(lambda: [b"hello"], drain_all, lambda err: done3.set_result(err))
    assert isinstance(ret, PassThrough)
    ret.resume()
    assert await asyncio.wait_for(done3, TIMEOUT) is None


async def test_pipeline_callback_called_once() -> None:
    calls: list[str] = []
    r = Readable(read=lambda n: None)
    w = _sink()
    pipeline(r, w, lambda err: calls.append(_code(err)))
    r.destroy(NodeError("one", "EONE"))
    w.destroy(NodeError("two", "ETWO"))
    await ticks(10)
    assert calls == ["EONE"]


# -- promises -----------------------------------------------------------------------------------


async def test_promises_pipeline_and_finished_as_node() -> None:
    # node: stream/promises: {end: false} leaves the destination open; rejection with the
    # error; resolves with the destination function's value.
    r = Readable(read=lambda n: None)
    w = _sink()
    r.push(b"a")
    r.push(None)
    assert await stream.promises.pipeline(r, w, {"end": False}) is None
    assert w.writable_ended is False

    async def boom() -> Any:
        raise NodeError("kaboom", "EKABOOM")
        yield b""  # pragma: no cover

    with pytest.raises(NodeError, match="kaboom"):
        await stream.promises.pipeline(boom, PassThrough())

    async def dest(src: Any) -> int:
        async for _chunk in src:
            pass
        return 42

    assert await stream.promises.pipeline(lambda: [b"x"], dest) == 42

    w2 = _sink()
    w2.end(b"x")
    await asyncio.wait_for(stream.promises.finished(w2), TIMEOUT)
    r2 = Readable(read=lambda n: None)
    r2.destroy()
    with pytest.raises(NodeError) as info:
        await asyncio.wait_for(stream.promises.finished(r2), TIMEOUT)
    assert info.value.code == PREMATURE
    with pytest.raises(InvalidArgTypeError, match="cleanup"):
        await stream.promises.finished(r2, {"cleanup": "yes"})


# -- predicates and the default high-water mark -------------------------------------------------


async def test_predicates_as_node() -> None:
    r = Readable(read=lambda n: None)
    w = _sink()
    assert [stream.is_readable(r), stream.is_writable(r), stream.is_writable(w),
            stream.is_readable(w), stream.is_disturbed(r), stream.is_errored(r),
            stream.is_destroyed(r), stream.is_destroyed(object())] == [
        True, None, True, None, False, False, False, None]
    r.push(b"a")
    r.read()
    assert stream.is_disturbed(r) is True
    r.push(None)
    r.read()
    await ticks()
    assert stream.is_readable(r) is False
    w.end()
    assert stream.is_writable(w) is False
    w2 = _sink()
    w2.on("error", lambda e: None)
    w2.destroy(ValueError("x"))
    assert [stream.is_errored(w2), stream.is_destroyed(w2), stream.is_writable(w2)] == [
        True, True, False]


async def test_default_high_water_mark_as_node() -> None:
    # node: 16384 (object mode 16); set changes new streams (sockets too), not existing ones;
    # value checks: ERR_INVALID_ARG_TYPE, ERR_OUT_OF_RANGE.
    assert stream.get_default_high_water_mark(False) == 16384
    assert stream.get_default_high_water_mark(True) == 16
    old = Readable()
    try:
        stream.set_default_high_water_mark(False, 1000)
        assert stream.get_default_high_water_mark(False) == 1000
        assert Readable().readable_high_water_mark == 1000
        d = Duplex()
        assert (d.readable_high_water_mark, d.writable_high_water_mark) == (1000, 1000)
        sock = net.Socket()
        assert sock.writable_high_water_mark == 1000
        assert Readable(high_water_mark=5).readable_high_water_mark == 5
        assert old.readable_high_water_mark == 16384
        stream.set_default_high_water_mark(True, 3)
        assert stream.get_default_high_water_mark(True) == 3
        assert Readable().readable_high_water_mark == 1000
    finally:
        stream.set_default_high_water_mark(False, 16384)
        stream.set_default_high_water_mark(True, 16)
    assert Writable().writable_high_water_mark == 16384
    with pytest.raises(NodeRangeError) as info:
        stream.set_default_high_water_mark(False, -1)
    assert info.value.code == "ERR_OUT_OF_RANGE"
    assert str(info.value).endswith("It must be >= 0 && <= 9007199254740991. Received -1")
    with pytest.raises(NodeRangeError, match="must be an integer"):
        stream.set_default_high_water_mark(False, 1.5)
    with pytest.raises(InvalidArgTypeError, match='"value" argument must be of type number'):
        stream.set_default_high_water_mark(False, "5")


# -- real sockets -------------------------------------------------------------------------------


async def _tcp_collector() -> tuple[net.Server, int, asyncio.Future[bytes]]:
    """A TCP server that collects what its first connection sends until its end."""
    got = asyncio.get_running_loop().create_future()

    def on_conn(s: net.Socket) -> None:
        buf = bytearray()
        s.on("data", buf.extend)
        s.on("error", lambda e: None)
        s.on("end", lambda: (got.done() or got.set_result(bytes(buf)), s.end()))
        s.on("close", lambda *_: got.done() or got.set_result(bytes(buf)))

    server = net.create_server(on_conn)
    server.listen(0, "127.0.0.1")
    await asyncio.wait_for(server, TIMEOUT)
    return server, server.address()["port"], got


async def _tls_source(certs: Any, payload: bytes, end: bool = True) -> tuple[Any, int]:
    """A TLS server that sends ``payload`` to each client (then ends, if ``end``)."""
    def on_secure(s: tls.TLSSocket) -> None:
        s.on("error", lambda e: None)
        if end:
            s.end(payload)
        else:
            s.write(payload)

    return await listen(certs.server.options, on_secure)


async def _connect_pair(tport: int, nport: int) -> tuple[tls.TLSSocket, net.Socket]:
    a = tls.connect(tport, {"host": "127.0.0.1", "reject_unauthorized": False})
    b = net.connect(nport, "127.0.0.1")
    return a, b


async def test_pipeline_tls_socket_through_transform_to_net_socket(certs: Any) -> None:
    # node: a TLS client socket piped through a Transform into a TCP socket: the TCP peer gets
    # everything transformed; callback(undefined) once the net socket has finished; returns
    # the net socket.
    payload = bytes(range(97, 123)) * 4000  # 104 000 bytes
    tserver, tport = await _tls_source(certs, payload)
    nserver, nport, got = await _tcp_collector()
    try:
        a, b = await _connect_pair(tport, nport)
        t = Transform(transform=lambda c, cb: cb(None, c.upper()))
        done = asyncio.get_running_loop().create_future()
        assert pipeline(a, t, b, lambda err: done.set_result(err)) is b
        assert await asyncio.wait_for(done, TIMEOUT) is None
        assert b.writable_finished and t.destroyed
        assert await asyncio.wait_for(got, TIMEOUT) == payload.upper()
    finally:
        tserver.close()
        nserver.close()


async def test_pipeline_sockets_error_in_the_middle_destroys_all(certs: Any) -> None:
    # node: the Transform fails on its first chunk: the TLS socket, the Transform and the net
    # socket each emit 'error' with that error's code, then close; the callback gets it.
    tserver, tport = await _tls_source(certs, b"x" * 1000, end=False)
    nserver, nport, got = await _tcp_collector()
    try:
        a, b = await _connect_pair(tport, nport)
        t = Transform(transform=lambda c, cb: cb(NodeError("boom", "EBOOM")))
        log: list[str] = []
        _watch(log, tls=a, t=t, net=b)
        done = asyncio.get_running_loop().create_future()
        pipeline(a, t, b, lambda err: done.set_result(err))
        err = await asyncio.wait_for(done, TIMEOUT)
        assert _code(err) == "EBOOM"
        for name in ("tls", "t", "net"):
            assert f"{name}error:EBOOM" in log
        await asyncio.wait_for(asyncio.gather(a.wait_closed(), b.wait_closed()), TIMEOUT)
        assert a.destroyed and t.destroyed and b.destroyed
        assert log.index("terror:EBOOM") < log.index("tlserror:EBOOM")
        assert await asyncio.wait_for(got, TIMEOUT) == b""
    finally:
        tserver.close()
        nserver.close()


@pytest.mark.parametrize("which", ["destination", "source"])
async def test_pipeline_socket_destroyed_is_premature_close(certs: Any, which: str) -> None:
    # node: destroying the net socket (destination) or the TLS socket (source) without an
    # error mid-stream: callback(ERR_STREAM_PREMATURE_CLOSE); the other stages are destroyed
    # with it ('error' ERR_STREAM_PREMATURE_CLOSE).
    tserver, tport = await _tls_source(certs, b"x" * 1000, end=False)
    nserver, nport, _got = await _tcp_collector()
    try:
        a, b = await _connect_pair(tport, nport)
        t = PassThrough()
        log: list[str] = []
        _watch(log, tls=a, t=t, net=b)
        done = asyncio.get_running_loop().create_future()
        pipeline(a, t, b, lambda err: done.set_result(err))
        victim = b if which == "destination" else a
        a.once("data", lambda *_: victim.destroy())
        err = await asyncio.wait_for(done, TIMEOUT)
        assert _code(err) == PREMATURE
        assert a.destroyed and t.destroyed and b.destroyed
        assert f"terror:{PREMATURE}" in log
        other = "tls" if which == "destination" else "net"
        assert f"{other}error:{PREMATURE}" in log
    finally:
        tserver.close()
        nserver.close()


@pytest.mark.parametrize("kind", ["tcp", "tls"])
async def test_finished_socket_premature_close_and_clean_end(certs: Any, kind: str) -> None:
    # node: finished(socket): destroy() before the end -> ERR_STREAM_PREMATURE_CLOSE; after the
    # peer ends and the socket ends its side (allowHalfOpen false) -> undefined.
    if kind == "tls":
        server, port = await _tls_source(certs, b"bye")
    else:
        server = net.create_server(lambda s: s.end(b"bye"))
        server.listen(0, "127.0.0.1")
        await asyncio.wait_for(server, TIMEOUT)
        port = server.address()["port"]

    def connect() -> Any:
        if kind == "tls":
            return tls.connect(port, {"host": "127.0.0.1", "reject_unauthorized": False})
        return net.connect(port, "127.0.0.1")

    try:
        loop = asyncio.get_running_loop()
        s1 = connect()
        res1 = loop.create_future()
        finished(s1, lambda err: res1.set_result(err))
        s1.once("data", lambda *_: s1.destroy())
        assert _code(await asyncio.wait_for(res1, TIMEOUT)) == PREMATURE

        s2 = connect()
        res2 = loop.create_future()
        finished(s2, lambda err: res2.set_result(err))
        s2.resume()
        assert await asyncio.wait_for(res2, TIMEOUT) is None
        assert s2.readable_ended and s2.writable_finished
    finally:
        server.close()


async def test_pipeline_failure_cancels_a_stuck_source_function() -> None:
    # node: the destination destroyed with an error while the source generator waits forever:
    # callback(err) (through the stage's 'error'); Node aborts the signal it passed the source,
    # nodetls (no signal) cancels the task iterating it, so the generator's finally runs.
    cleaned: list[str] = []

    async def stuck() -> Any:
        try:
            yield b"a"
            await asyncio.get_running_loop().create_future()
        finally:
            cleaned.append("finally")

    w = _sink()
    w.on("error", lambda e: None)
    done = asyncio.get_running_loop().create_future()
    pipeline(stuck, w, _resolver(done))
    await ticks()
    w.destroy(NodeError("kaboom", "EKABOOM"))
    assert _code(await asyncio.wait_for(done, TIMEOUT)) == "EKABOOM"
    await ticks()
    assert cleaned == ["finally"]
