"""The peer vanishes (RST, or FIN) while the server is paused at a pause point (SNICallback,
'OCSPRequest'), and the user callback is then called late, twice or never: the server reports
'tlsClientError' ECONNRESET with the half-made socket, a late call and a second call are
ignored (nothing raised to the caller), the server keeps serving and no engine is left behind."""

from __future__ import annotations

import asyncio
import gc
import socket
import struct
from typing import Any

import pytest

import nodetls as tls
from nodetls._engine import live_engines

from ..tls.tlsutil import close_server, echo_server, event, wait
from .faultutil import ServerLog, engines_settle, still_serves

POINTS = ["SNICallback", "OCSPRequest"]


async def _setup(certs: Any, point: str, answers: asyncio.Queue[Any]) -> tuple[tls.Server, int]:
    opts = dict(certs.server.options)
    if point == "SNICallback":
        opts["sni_callback"] = lambda name, cb: answers.put_nowait(lambda: cb(None, None))
    server, port = await echo_server(opts)
    if point == "OCSPRequest":
        server.on("OCSPRequest", lambda cert, issuer, cb: answers.put_nowait(lambda: cb(None, None)))
    return server, port


def _client(port: int, certs: Any, point: str) -> tls.TLSSocket:
    opts: dict[str, Any] = {"host": "127.0.0.1", "ca": certs.root.cert_pem,
                            "servername": "localhost"}
    if point == "OCSPRequest":
        opts["request_ocsp"] = True
    sock = tls.connect(port, opts)
    sock.on("error", lambda e: None)
    return sock


@pytest.mark.parametrize("how", ["rst", "fin"])
@pytest.mark.parametrize("answer", ["late", "twice", "never"])
@pytest.mark.parametrize("point", POINTS)
async def test_peer_vanishes_while_paused(certs, point, answer, how):
    gc.collect()
    before = live_engines()
    answers: asyncio.Queue[Any] = asyncio.Queue()
    server, port = await _setup(certs, point, answers)
    try:
        log = ServerLog(server)
        client = _client(port, certs, point)
        respond = await wait(answers.get())  # the server is paused in the user callback
        if how == "rst":
            raw = client._handle.lower._tcp_socket()
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.destroy()
        sock = await wait(log.closed)
        [(err, errsock)] = log.client_errors
        assert errsock is sock and err.code == "ECONNRESET"
        if how == "fin":  # Node: onSocketClose (checked with node v20)
            assert str(err) == "socket hang up"
        assert log.secure == []
        if answer != "never":
            respond()  # after the socket is gone: ignored
        if answer == "twice":
            # Node destroys the (already gone) socket with ERR_MULTIPLE_CALLBACK: nothing is
            # raised to the caller and nothing reaches the server again.
            respond()
        assert log.client_errors == [(err, errsock)] and log.secure == []
        # The server keeps serving (answering the next pause at once).
        answers_task = asyncio.ensure_future(_answer_all(answers))
        try:
            await still_serves(port, certs.root.cert_pem)
        finally:
            answers_task.cancel()
    finally:
        closed = event(server, "close")
        close_server(server)
    await wait(closed)
    engines_settle(before)


async def _answer_all(answers: asyncio.Queue[Any]) -> None:
    while True:
        (await answers.get())()
