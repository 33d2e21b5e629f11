"""What a ``handshake_timeout`` value means, as Node v20's ``tls.Server`` reads
``handshakeTimeout``: ``options.handshakeTimeout || 120000``, the timer armed when that is
``> 0``. So ``0`` and ``None`` (Node's ``0``, ``null``, ``undefined``) are the 120 s default, and
a negative number means no handshake timeout. (Before: ``0`` and ``None`` meant no timeout at
all, and a negative number was refused.)

A 120 s timer cannot be waited for: the tests read the deadline the server's sweep keeps for a
stalled connection (``Server._handshake_deadlines``, the sweep timer ``_handshake_sweep``), or
the timer of a socket made by hand (``TLSSocket._handshake_timer``); one test makes the table's
default short to see the default really time a stalled handshake out.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import math
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from tlsutil import TIMEOUT, connect, listen, shut, wait

import nodetls as tls
from helpers.peers import run_node
from nodetls import _option_table, stream

DEFAULT = 120.0
_UNSET = object()


def _options(certs: Any, value: Any, **extra: Any) -> dict[str, Any]:
    opts = {**certs.server.options, **extra}
    if value is not _UNSET:
        opts["handshake_timeout"] = value
    return opts


@contextlib.asynccontextmanager
async def _stalled_then_good(certs: Any, server: Any,
                             port: int) -> AsyncIterator[tuple[asyncio.StreamWriter, Any]]:
    """A TCP connection that never sends its ClientHello, then a client whose handshake
    completes: once that one is secure, the server has accepted the stalled one (accepted in
    order) and armed whatever it arms for it. Both, and the server, closed at the end."""
    stalled = good = None
    try:
        _, stalled = await asyncio.open_connection("127.0.0.1", port)
        # (the server's side of the handshake ends after the client's, in TLS 1.3)
        secured = asyncio.get_running_loop().create_future()
        server.once("secureConnection", lambda s: secured.set_result(s))
        good = await connect(port, ca=certs.root.cert_pem, servername="localhost")
        await asyncio.wait_for(secured, TIMEOUT)
        yield stalled, good
    finally:
        if good is not None:
            good.destroy()
        if stalled is not None:
            stalled.close()
        await shut(server)


def _assert_about(seconds_left: float, expected: float) -> None:
    # armed with `expected` when the connection came, a little of it gone since (bounded wide:
    # the machine may be loaded; the point is 120 s, not none and not the 0.x of a test value)
    assert expected - TIMEOUT < seconds_left <= expected + 0.5, seconds_left


@pytest.mark.parametrize("value", [0, 0.0, None, _UNSET], ids=["0", "0.0", "None", "not-given"])
async def test_zero_and_none_arm_the_120_s_default(certs: Any, value: Any) -> None:
    server, port = await listen(_options(certs, value))
    server.on("tlsClientError", lambda err, sock: None)
    async with _stalled_then_good(certs, server, port):
        deadlines = server._handshake_deadlines
        assert len(deadlines) == 1  # the stalled connection's (the good one took its own out)
        (deadline,) = deadlines.values()
        _assert_about(deadline - time.monotonic(), DEFAULT)
        sweep = server._handshake_sweep
        assert sweep is not None
        _assert_about(sweep.when() - asyncio.get_running_loop().time(), DEFAULT)


@pytest.mark.parametrize("value", [-1, -0.5, -math.inf])
async def test_a_negative_number_arms_no_handshake_timeout(certs: Any, value: float) -> None:
    server, port = await listen(_options(certs, value))  # (before: ERR_OUT_OF_RANGE here)
    async with _stalled_then_good(certs, server, port):
        assert server.connections == 2
        assert server._handshake_deadlines == {} and server._handshake_sweep is None


@pytest.mark.parametrize(("value", "expected"), [(0, DEFAULT), (None, DEFAULT), (-1, None),
                                                 (5, 5.0)])
async def test_a_server_connection_that_asks_for_more_reads_it_the_same(
        certs: Any, value: Any, expected: float | None) -> None:
    """A connection of a server with per-connection options (``request_cert``): the same
    reading, through ``_configure_server_engine``; a connection injected by hand."""
    server = tls.create_server(_options(certs, value, request_cert=True,
                                        reject_unauthorized=False))
    server.on("tlsClientError", lambda err, sock: None)
    a, b = stream.duplex_pair()
    server.emit("connection", b)
    sock = b._tls_socket  # type: ignore[attr-defined]
    try:
        deadline = server._handshake_deadlines.get(sock)
        if expected is None:
            assert deadline is None and sock._handshake_timer is None
        else:
            assert deadline is not None
            _assert_about(deadline - time.monotonic(), expected)
    finally:
        sock.destroy()
        a.destroy()


@pytest.mark.parametrize(("value", "expected"), [(0, DEFAULT), (None, DEFAULT),
                                                 (_UNSET, DEFAULT), (-1, None), (7, 7.0)])
async def test_a_server_tlssocket_made_by_hand_reads_it_the_same(
        certs: Any, value: Any, expected: float | None) -> None:
    """``TLSSocket(is_server=True)`` without a server: a timer of its own. (Node's TLSSocket
    made by hand arms one only for ``handshakeTimeout > 0``; nodetls applies tls.Server's
    reading, its 120 s default included: secure by default.)"""
    context = tls.create_secure_context(certs.server.options)
    opts: dict[str, Any] = {"is_server": True, "secure_context": context}
    if value is not _UNSET:
        opts["handshake_timeout"] = value
    a, b = stream.duplex_pair()
    sock = tls.TLSSocket(b, opts)
    sock.on("error", lambda err: None)
    try:
        timer = sock._handshake_timer
        if expected is None:
            assert timer is None
        else:
            assert isinstance(timer, asyncio.TimerHandle)
            _assert_about(timer.when() - asyncio.get_running_loop().time(), expected)
    finally:
        sock.destroy()
        a.destroy()


@pytest.mark.parametrize("value", [0, None])
async def test_the_default_times_a_stalled_handshake_out(certs: Any, value: Any,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """End to end, with the table's default made short (0.2 s): ``0`` and ``None`` get it."""
    row = _option_table.OPTIONS["handshake_timeout"]
    monkeypatch.setitem(_option_table.OPTIONS, "handshake_timeout",
                        dataclasses.replace(row, default=0.2))
    errors: asyncio.Queue[Any] = asyncio.Queue()
    server, port = await listen(_options(certs, value))
    server.on("tlsClientError", lambda err, sock: errors.put_nowait((err, sock)))
    stalled = None
    try:
        reader, stalled = await asyncio.open_connection("127.0.0.1", port)
        err, sock = await wait(errors.get())
        assert err.code == "ERR_TLS_HANDSHAKE_TIMEOUT" and isinstance(err, TimeoutError)
        assert sock.destroyed
        assert await asyncio.wait_for(reader.read(), TIMEOUT) == b""  # closed (as ever here)
    finally:
        if stalled is not None:
            stalled.close()
        await shut(server)


@pytest.mark.parametrize(("value", "exc", "code"), [
    ("10", TypeError, "ERR_INVALID_ARG_TYPE"),
    (True, TypeError, "ERR_INVALID_ARG_TYPE"),
    ([1], TypeError, "ERR_INVALID_ARG_TYPE"),
    (math.nan, ValueError, "ERR_OUT_OF_RANGE"),  # Node: its default; refused here, a mistake
])
@pytest.mark.parametrize("where", ["server", "tlssocket"])
async def test_what_is_not_a_number_is_still_refused(value: Any, exc: type[Exception], code: str,
                                                      where: str) -> None:
    for spelled in ("handshake_timeout", "handshakeTimeout"):
        with pytest.raises(exc) as info:
            if where == "server":
                tls.create_server({spelled: value})
            else:
                tls.TLSSocket(None, {"is_server": True, spelled: value})
        assert info.value.code == code  # type: ignore[attr-defined]
        assert f"options.{spelled}" in str(info.value)


async def test_the_reading_is_nodes() -> None:
    """Node v20's own reading of the same values (its server's ``kHandshakeTimeout``, ms)."""
    values = {"0": 0, "null": None, "undefined": None, "-1": -1, "-0.5": -0.5, "0.05": 0.05}
    script = (
        "const tls = require('tls'); const out = {};"
        f"for (const v of [{', '.join(values)}]) {{"
        "  const s = tls.createServer({handshakeTimeout: v == null ? v : v * 1000});"
        "  const k = Object.getOwnPropertySymbols(s)"
        "    .find((x) => String(x) === 'Symbol(handshake-timeout)');"
        "  out[String(v)] = s[k] / 1000; }"
        "console.log(JSON.stringify(out));")
    rc, out, _err = await run_node(script)
    assert rc == 0
    node = json.loads(out)
    assert node == {k: _option_table.handshake_timeout(v) for k, v in values.items()}
    assert node["0"] == node["null"] == DEFAULT and node["-1"] == -1


_AFTER_HANDSHAKE_JS = """
const tls = require('tls'), fs = require('fs');
const [key, cert] = process.argv.slice(2).map((p) => fs.readFileSync(p));
function one(v) {
  return new Promise((resolve) => {
    const opts = {key, cert};
    if (v !== 'absent') opts.handshakeTimeout = v;
    const srv = tls.createServer(opts, (s) => {
      out[String(v)] = s.timeout === undefined ? null : s.timeout;
      s.destroy(); c.destroy(); srv.close(); resolve();
    });
    let c;
    srv.listen(0, '127.0.0.1', () => {
      c = tls.connect(srv.address().port, '127.0.0.1', {rejectUnauthorized: false});
      c.on('error', () => {});
    });
  });
}
const out = {};
(async () => {
  for (const v of ['absent', 0, null, -1000]) await one(v);
  console.log(JSON.stringify(out));
})();
"""


async def _timeout_after_handshake(certs: Any, value: Any) -> Any:
    """The ``timeout`` of a server's socket at its ``'secureConnection'``."""
    got: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    server, port = await listen(_options(certs, value),
                                lambda s: got.done() or got.set_result(s.timeout))
    client = tls.connect(port, "127.0.0.1", reject_unauthorized=False)
    client.on("error", lambda err: None)
    try:
        return await wait(got)
    finally:
        client.destroy()
        await shut(server)


async def test_after_the_handshake_the_socket_timeout_is_nodes(certs: Any) -> None:
    """What shows the timer was armed once the handshake is done: Node's ``_finishInit`` calls
    ``setTimeout(0)`` on a socket whose handshake timer was armed, so its ``timeout`` is ``0``
    (``0``, ``null`` and not given); with a negative ``handshakeTimeout`` it is never set
    (``undefined``: ``None`` here)."""
    rc, out, _err = await run_node(_AFTER_HANDSHAKE_JS, certs.server.key_path,
                                   certs.server.chain_path)
    assert rc == 0
    node = json.loads(out)
    ours = {key: await _timeout_after_handshake(certs, value)
            for key, value in {"absent": _UNSET, "0": 0, "null": None, "-1000": -1}.items()}
    assert ours == node == {"absent": 0, "0": 0, "null": 0, "-1000": None}
