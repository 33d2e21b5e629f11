"""Faults at the ``'resumeSession'`` pause (a TLS 1.2 client offers a session id; the server
waits for its external cache): the peer vanishes while the server waits, and the callback
answers late, twice, never, with garbage session bytes or with an object that is not bytes.

What node v20 does, and nodetls now: the peer's RST or FIN while waiting is one
``'tlsClientError'`` ``ECONNRESET``; a late or second answer is ignored; an answer that is not a
usable session (garbage or truncated bytes, a session of another server, a ``str``, an object, a
released buffer) means a full handshake -- never a failed connection or an exception.  Beyond
Node: a genuine session stored under another id (a store that mixed its keys up) is a miss too;
Node (OpenSSL) would resume with keys the client does not have and the handshake would fail.
TLS 1.3 here is stateful resumption (``SSL_OP_NO_TICKET``: the PSK identity is the session id).
"""

from __future__ import annotations

import asyncio
import gc
import os
import socket
import struct
from typing import Any

import pytest

import nodetls as tls
from nodetls import constants as C
from nodetls._engine import live_engines
from nodetls._openssl import lib

from ..tls.tlsutil import close_server, connect, echo_server, event, read_until, wait
from .faultutil import ServerLog, engines_settle, still_serves


def _no_tickets(version: str) -> dict[str, Any]:
    """Sessions resumed by id (TLS 1.2) or by stateful PSK identity (TLS 1.3): the server asks
    its external cache, 'resumeSession'."""
    return {"max_version": version, "secure_options": C.SSL_OP_NO_TICKET}


async def _session(port: int, certs: Any, version: str) -> bytes:
    """A session of this server, from a first full handshake."""
    sock = tls.connect(port, {"host": "127.0.0.1", "ca": certs.root.cert_pem,
                              "servername": "localhost", "max_version": version})
    got = event(sock, "session")
    await wait(sock)
    session: bytes = await wait(got)
    sock.end()
    await wait(event(sock, "close"))
    return session


def _resuming_client(port: int, certs: Any, session: bytes, version: str) -> tls.TLSSocket:
    sock = tls.connect(port, {"host": "127.0.0.1", "ca": certs.root.cert_pem,
                              "servername": "localhost", "max_version": version,
                              "session": session})
    sock.on("error", lambda e: None)
    return sock


@pytest.mark.parametrize("version", ["TLSv1.2", "TLSv1.3"])
@pytest.mark.parametrize("how", ["rst", "fin"])
@pytest.mark.parametrize("answer", ["late", "twice", "never"])
async def test_peer_vanishes_while_resume_session_waits(certs, answer, how, version):
    gc.collect()
    before = live_engines()
    store: dict[bytes, bytes] = {}
    waiting: asyncio.Queue[Any] = asyncio.Queue()
    server, port = await echo_server({**certs.server.options, **_no_tickets(version)})
    server.on("newSession", lambda sid, data, cb: (store.__setitem__(sid, data), cb()))
    try:
        session = await _session(port, certs, version)
        server.on("resumeSession", lambda sid, cb: waiting.put_nowait(
            lambda: cb(None, store.get(sid))))
        log = ServerLog(server)
        client = _resuming_client(port, certs, session, version)
        respond = await wait(waiting.get())  # the server waits for the session cache
        if how == "rst":
            raw = client._handle.lower._tcp_socket()
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.destroy()
        sock = await wait(log.closed)
        [(err, errsock)] = log.client_errors
        assert errsock is sock and err.code == "ECONNRESET"
        if how == "fin":
            assert str(err) == "socket hang up"
        if answer != "never":
            assert respond() is None  # after the socket is gone: ignored
        if answer == "twice":
            assert respond() is None  # and again: the socket is gone, nothing to destroy
        assert log.client_errors == [(err, errsock)] and log.secure == []
        assert lib.ERR_peek_error() == 0
        server.remove_all_listeners("resumeSession")
        await still_serves(port, certs.root.cert_pem)
    finally:
        closed = event(server, "close")
        close_server(server)
    await wait(closed)
    engines_settle(before)


class _NotBytes:
    def __bytes__(self) -> bytes:
        raise RuntimeError("a session store bug")


def _released() -> memoryview:
    view = memoryview(b"x" * 64)
    view.release()
    return view


BAD_ANSWERS = {
    "garbage": lambda good: b"garbage",
    "random": lambda good: os.urandom(len(good)),
    "truncated": lambda good: good[: len(good) // 2],
    "other server": None,  # a genuine session of another server (another session id context)
    "another session": None,  # a genuine session of this server, stored under another id
    "str": lambda good: "garbage",
    "object": lambda good: _NotBytes(),
    "int": lambda good: 42,
    "released buffer": lambda good: _released(),
}


@pytest.mark.parametrize("version", ["TLSv1.2", "TLSv1.3"])
@pytest.mark.parametrize("kind", list(BAD_ANSWERS))
async def test_resume_session_answered_with_a_bad_session(certs, kind, version):
    gc.collect()
    before = live_engines()
    store: dict[bytes, bytes] = {}
    server, port = await echo_server({**certs.server.options, **_no_tickets(version)})
    server.on("newSession", lambda sid, data, cb: (store.__setitem__(sid, data), cb()))
    log = ServerLog(server)
    other = None
    try:
        session = await _session(port, certs, version)
        good = next(iter(store.values()))  # TLS 1.3: one per ticket (two)
        make = BAD_ANSWERS[kind]
        if kind == "another session":  # a store that mixed its keys up
            await _session(port, certs, version)
            bad = next(v for v in store.values() if v != good)
        elif make is None:
            other, other_port = await echo_server({**certs.server.options, **_no_tickets(version),
                                                   "session_id_context": b"another server"})
            other_store: dict[bytes, bytes] = {}
            other.on("newSession", lambda sid, data, cb: (other_store.__setitem__(sid, data),
                                                           cb()))
            await _session(other_port, certs, version)
            bad = next(iter(other_store.values()))
        else:
            bad = make(good)
        returned: list[Any] = []
        server.on("resumeSession", lambda sid, cb: returned.append(cb(None, bad)))
        sock = await connect(port, ca=certs.root.cert_pem, servername="localhost",
                             max_version=version, session=session)
        assert returned == [None]  # the callback neither raised nor failed the handshake
        assert sock.is_session_reused() is False  # a full handshake instead, as node
        sock.write(b"ping")
        assert await read_until(sock, 4) == b"ping"
        sock.destroy()
        assert log.client_errors == []
        assert lib.ERR_peek_error() == 0
    finally:
        closing = [event(s, "close") for s in (server, other) if s is not None]
        close_server(server)
        if other is not None:
            close_server(other)
    await wait(asyncio.gather(*closing))
    engines_settle(before)


class _Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("str() of the error fails")


@pytest.mark.parametrize("err", ["an exception", "a string", "an unprintable object"])
async def test_resume_session_answered_with_an_error(certs, err):
    version = "TLSv1.2"
    """``cb(err)``: Node's ``owner.destroy(err)``, whatever ``err`` is -> one
    ``'tlsClientError'``; the call returns; the server keeps serving."""
    gc.collect()
    before = live_engines()
    value = {"an exception": RuntimeError("store down"), "a string": "store down",
             "an unprintable object": _Unprintable()}[err]
    server, port = await echo_server({**certs.server.options, **_no_tickets(version)})
    try:
        session = await _session(port, certs, version)
        log = ServerLog(server)
        returned: list[Any] = []
        server.on("resumeSession", lambda sid, cb: returned.append(cb(value)))
        client = _resuming_client(port, certs, session, version)
        closed = event(client, "close")
        sock = await wait(log.closed)
        await wait(closed)
        assert returned == [None]
        [(reported, errsock)] = log.client_errors
        assert errsock is sock and log.secure == []
        if err == "an exception":
            assert reported is value
        else:
            assert "store down" in str(reported) or "str() of the error fails" in str(reported)
        assert lib.ERR_peek_error() == 0
        server.remove_all_listeners("resumeSession")
        await still_serves(port, certs.root.cert_pem)
    finally:
        closed = event(server, "close")
        close_server(server)
    await wait(closed)
    engines_settle(before)
