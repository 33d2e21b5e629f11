"""A server capped at TLS 1.2 looks up what OpenSSL will look up: the legacy session id.

A client offering TLS 1.3 and 1.2 with a TLS 1.3 session (a stateful ticket from another server)
sends its PSK (the ticket's 32-byte id) and a random legacy session id.  A server that cannot
negotiate TLS 1.3 (``max_version`` TLSv1.2, or ``SSL_OP_NO_TLSv1_3``) negotiates TLS 1.2, where
OpenSSL ignores the pre_shared_key extension and looks up the legacy session id.  Node v20's
server asks ``'resumeSession'`` for that legacy id (checked with node v20: a server with
``maxVersion: 'TLSv1.2'``, ``SSL_OP_NO_TICKET`` and ``'resumeSession'``/``'newSession'``
listeners; ``openssl s_client -sess_in`` with a TLS 1.3 session from a second node server: the
id asked is none of that server's ``'newSession'`` ids; a TLS 1.2 session of its own is asked
for by its id and resumes).  nodetls asked for the PSK identity, the other server's session id.

The compiled binding decides this in C for ``use_session_store`` (``nodetls_sp_ch_cb``): until
it takes the same rule (the PSK only when ``nodetls_sp_offers_tls13`` and
``nodetls_sp_allows_tls13``), the test of that path fails with the compiled binding; it runs
on the Python path (``NODETLS_PURE=1``) and in the engine tests below.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tlsutil import listen, shut, wait

import nodetls as tls
from nodetls._openssl import constants as C
from nodetls.sessions import MemorySessionStore


class _SpyStore(MemorySessionStore):
    """A ``MemorySessionStore`` recording the ids it is asked for (its coroutines are its own:
    ``use_session_store`` reads it synchronously, or in C with the compiled binding)."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[bytes] = []

    def lookup_now(self, key: bytes, within: float | None = None) -> bytes | None:
        self.asked.append(bytes(key))
        return super().lookup_now(key, within)


async def _server(certs: Any, how: str, **opts: Any) -> tuple[tls.Server, int, list[bytes],
                                                              list[bytes]]:
    """A stateful server (tickets off): (server, port, ids asked, ids stored)."""
    server, port = await listen({**certs.server.options, "secure_options": C.SSL_OP_NO_TICKET,
                                 **opts}, lambda s: s.end(b"x"))
    asked: list[bytes] = []
    stored: list[bytes] = []
    if how == "listeners":
        sessions: dict[bytes, bytes] = {}

        def new_session(sid: bytes, der: bytes, cb: Any) -> None:
            stored.append(bytes(sid))
            sessions[bytes(sid)] = der
            cb()

        def resume_session(sid: bytes, cb: Any) -> None:
            asked.append(bytes(sid))
            cb(None, sessions.get(bytes(sid)))

        server.on("newSession", new_session)
        server.on("resumeSession", resume_session)
    else:
        store = _SpyStore()
        server.use_session_store(store)
        asked = store.asked
        orig = store.store_now

        def store_now(key: bytes, data: bytes, ttl: float) -> None:
            stored.append(bytes(key))
            orig(key, data, ttl)

        store.store_now = store_now  # type: ignore[method-assign]
    return server, port, asked, stored


async def _session(port: int, **opts: Any) -> tuple[bytes, bool, str]:
    """Connect, read the server's byte: (the last session the client got, or b"", reused,
    protocol)."""
    sessions: list[bytes] = []
    sock = tls.connect(port, {"host": "127.0.0.1", "reject_unauthorized": False, **opts})
    sock.on("session", sessions.append)
    ended: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    sock.on("end", lambda: ended.done() or ended.set_result(None))
    sock.on("error", lambda e: ended.done() or ended.set_exception(e))
    sock.resume()
    await wait(sock)
    reused, proto = bool(sock.is_session_reused()), str(sock.get_protocol())
    await wait(ended)
    sock.destroy()
    return (sessions[-1] if sessions else b""), reused, proto  # (a resumed TLS 1.2: none)


@pytest.mark.parametrize("how", ["listeners", "store"])
@pytest.mark.parametrize("cap", ["max_version", "no_tls13_option"])
async def test_tls12_server_looks_up_the_legacy_id_not_a_tls13_psk(certs: Any, how: str,
                                                                    cap: str) -> None:
    """A TLS 1.3 session of another server offered to a server capped at TLS 1.2: the id asked
    for is the ClientHello's legacy session id (32 random bytes), never the PSK identity (the
    other server's session id); a full TLS 1.2 handshake follows."""
    other, other_port, _, other_ids = await _server(certs, how)
    capped_opts = ({"max_version": "TLSv1.2"} if cap == "max_version"
                   else {"secure_options": C.SSL_OP_NO_TICKET | C.SSL_OP_NO_TLSv1_3})
    server, port, asked, _ = await _server(certs, how, **capped_opts)
    try:
        tls13_session, _, proto = await _session(other_port)
        assert proto == "TLSv1.3" and other_ids and tls13_session
        _, reused, proto = await _session(port, session=tls13_session)
        assert proto == "TLSv1.2" and not reused
        assert len(asked) == 1 and len(asked[0]) == 32
        assert asked[0] not in other_ids
    finally:
        await shut(other)
        await shut(server)


@pytest.mark.parametrize("how", ["listeners", "store"])
async def test_tls12_server_resumes_its_own_tls12_session(certs: Any, how: str) -> None:
    """A client offering TLS 1.3 and 1.2 with a TLS 1.2 session of the capped server: asked
    for by its id, and resumed (node v20: the same)."""
    server, port, asked, stored = await _server(certs, how, max_version="TLSv1.2")
    try:
        session, reused, proto = await _session(port)
        assert proto == "TLSv1.2" and not reused and len(stored) == 1 and session
        asked.clear()
        _, reused, _ = await _session(port, session=session)
        assert asked == stored[:1] and reused
    finally:
        await shut(server)


# ------------------------------------------------------------------ the engine, in memory
def _engine_contexts() -> Any:
    from engine.rawctx import RawContext, make_ca_and_leaf

    ca, cert, key = make_ca_and_leaf("localhost")
    tls13 = RawContext(cert, key, max_version=C.TLS1_3_VERSION, options=C.SSL_OP_NO_TICKET)
    tls12 = RawContext(cert, key, max_version=C.TLS1_2_VERSION, options=C.SSL_OP_NO_TICKET)
    client = RawContext(ca=ca, max_version=C.TLS1_3_VERSION)
    return tls13, tls12, client


def _tls13_session(tls13: Any, client_ctx: Any) -> tuple[bytes, bytes]:
    """A full TLS 1.3 handshake with a stateful server: (its session id, the client's DER)."""
    from engine.pair import handshake
    from nodetls._engine import NewSession, TLSEngine

    server = TLSEngine(tls13, server=True)
    server.enable_session_callbacks()
    client = TLSEngine(client_ctx, server=False)
    client.enable_session_callbacks()
    try:
        handshake(client, server)
        sid = [e.session_id for e in server.events if isinstance(e, NewSession)][-1]
        der = [e.der for e in client.events if isinstance(e, NewSession)][-1]
        return sid, der
    finally:
        client.free()
        server.free()


def test_engine_client_hello_of_a_tls12_server_has_no_psk() -> None:
    """The engine's ``ClientHello`` (the Python path): on a server capped at TLS 1.2 a PSK
    offer is not read; the legacy id, the ticket extension and SNI are."""
    from engine.pair import handshake
    from nodetls._engine import TLSEngine

    tls13, tls12, client_ctx = _engine_contexts()
    sid, der = _tls13_session(tls13, client_ctx)
    for ctx, expect_psk in ((tls13, True), (tls12, False)):
        seen: list[Any] = []

        class Hooks:
            def __init__(self, seen: list[Any]) -> None:
                self.seen = seen

            def on_client_hello(self, ch: Any) -> bool:
                self.seen.append((ch.psk_identity, ch.session_id, ch.servername, ch.tls13))
                return False

        server = TLSEngine(ctx, server=True, hooks=Hooks(seen))
        server.enable_session_callbacks()
        server.enable_client_hello()
        client = TLSEngine(client_ctx, server=False)
        client.set_servername("localhost")
        assert client.set_session(der)
        try:
            handshake(client, server)
            assert len(seen) == 1
            psk, legacy, name, offers13 = seen[0]
            if expect_psk:
                assert psk == sid
            else:
                assert psk is None and len(legacy) == 32 and legacy != sid
                assert name == "localhost" and offers13 is True
                assert server.version == "TLSv1.2"
        finally:
            client.free()
            server.free()


def test_engine_session_path_of_a_tls12_server_pauses_for_the_legacy_id() -> None:
    """The lookup decided in C (``enable_session_path``): a server capped at TLS 1.2 pauses for
    the legacy id (not a ticket), where it paused for the PSK identity."""
    from engine.pair import handshake
    from nodetls._engine import TLSEngine, callbacks

    if not callbacks.SESSION_PATH:
        pytest.skip("ABI-mode binding: no session path in C")
    tls13, tls12, client_ctx = _engine_contexts()
    sid, der = _tls13_session(tls13, client_ctx)
    server = TLSEngine(tls12, server=True)
    server.enable_session_callbacks()
    server.enable_client_hello()
    assert server.enable_session_path() is True
    client = TLSEngine(client_ctx, server=False)
    assert client.set_session(der)
    pending: list[Any] = []

    def on_pause(eng: Any) -> None:
        pending.append(eng.pending_lookup())
        eng.resume()

    try:
        handshake(client, server, on_pause=on_pause)
        assert len(pending) == 1
        lookup_id, ticket = pending[0]
        assert lookup_id != sid and len(lookup_id) == 32 and ticket is False
        assert server.version == "TLSv1.2"
    finally:
        client.free()
        server.free()

