"""The ticket-key callback in C (compiled binding) and its Python fallback give the same answers.

Each test runs with both callbacks (``"c"`` is skipped in ABI mode, ``NODETLS_PURE=1``): rotation
renews a ticket under an older key, an unknown or forged key is a full handshake, the session
context's keys serve after an SNI switch, and keys can be replaced, or the context closed, while
connections are in the middle of their handshakes (in other threads too: the compiled binding
releases the GIL inside ``SSL_do_handshake``).
"""

from __future__ import annotations

import os
import threading

import pytest

from nodetls._context import SecureContext, ticket_keys
from nodetls._engine._keycert import lend_sni_context
from nodetls._openssl import BINDING, ffi, lib
from nodetls._openssl import constants as C

from .memory_tls import End, copy_session, handshake, ticket_of
from .memory_tls import drive as run

K1, K2, K3 = os.urandom(48), os.urandom(48), os.urandom(48)
NATIVE_AVAILABLE = ticket_keys.NATIVE


@pytest.fixture(params=["c", "python"])
def callback(request, monkeypatch) -> str:
    if request.param == "c" and not NATIVE_AVAILABLE:
        pytest.skip("ABI mode: no C ticket-key callback")
    monkeypatch.setattr(ticket_keys, "NATIVE", request.param == "c")
    return str(request.param)


@pytest.fixture(params=["TLSv1.2", "TLSv1.3"])
def version(request) -> str:
    return request.param


def server(pki, keys: bytes) -> SecureContext:
    return SecureContext(cert=pki.ec_chain, key=pki.ec_key, ticket_keys=keys)


def client(pki, version: str) -> SecureContext:
    return SecureContext(ca=pki.root, max_version=version)


class Unbound(End):
    """A server end the engine would make: bound only when the context asks for it
    (``binds_ssl``: the Python callback), as ``TLSEngine`` does."""

    def __init__(self, context: SecureContext) -> None:
        self.ssl = lib.SSL_new(context.ctx)
        assert self.ssl != ffi.NULL
        if context.binds_ssl:
            context.bind_ssl(self.ssl)
        self.rbio, self.wbio = lib.BIO_new(lib.BIO_s_mem()), lib.BIO_new(lib.BIO_s_mem())
        lib.SSL_set_bio(self.ssl, self.rbio, self.wbio)
        lib.SSL_set_accept_state(self.ssl)
        self.done = False


def session_from(pki, srv: SecureContext, version: str):
    c, _ = handshake(client(pki, version), srv)
    assert not c.reused
    return c.session()


def test_the_compiled_binding_serves_tickets_in_c(ctx_pki, monkeypatch):
    """With the compiled binding no Python runs per ticket: the Python callback's key lookup is
    broken here, and tickets are still issued and resumed."""
    if BINDING != "api":
        pytest.skip("ABI mode")
    assert ticket_keys.NATIVE
    monkeypatch.setattr(ticket_keys, "_keys_for", lambda ssl: 1 / 0)
    srv = server(ctx_pki, K1)
    assert not srv.binds_ssl  # the engine makes no per-connection call
    session = session_from(ctx_pki, srv, "TLSv1.3")
    assert ticket_of(session)[:16] == K1[:16]
    c, s = handshake(client(ctx_pki, "TLSv1.3"), srv, session=session)
    assert c.reused and s.reused


def openssl_s_own(pki, keys: bytes | None = None) -> SecureContext:
    """A server context on OpenSSL's own keys whose tickets OpenSSL's built-in code makes and
    reads (no nodetls callback: created as in ABI mode), with ``keys`` (80 bytes) if given."""
    saved = ticket_keys.NATIVE
    ticket_keys.NATIVE = False
    try:
        ctx = SecureContext(cert=pki.ec_chain, key=pki.ec_key)
    finally:
        ticket_keys.NATIVE = saved
    if keys is not None:
        assert lib.SSL_CTX_ctrl(ctx.ctx, C.SSL_CTRL_SET_TLSEXT_TICKET_KEYS, 80, keys) == 1
    return ctx


def own_keys(ctx: SecureContext) -> bytes:
    buf = ffi.new("unsigned char[]", 80)
    assert lib.SSL_CTX_ctrl(ctx.ctx, C.SSL_CTRL_GET_TLSEXT_TICKET_KEYS, 80, buf) == 1
    return bytes(buf)


def test_openssl_s_own_keys_served_in_c_make_openssl_s_tickets(ctx_pki, version):
    """A context never given keys serves OpenSSL's own keys through a C callback (with the
    compiled binding; the algorithms are fetched once, not per ticket): its tickets are exactly
    OpenSSL's (named after OpenSSL's key, AES-256-CBC + HMAC-SHA256 under its keys), so OpenSSL's
    built-in code with the same keys resumes them and the other way round; a resumption under
    the current key keeps its ticket (no new ticket, as Node); another context's keys do not
    resume them."""
    if BINDING != "api":
        pytest.skip("ABI mode: OpenSSL's built-in code serves these keys")
    srv = SecureContext(cert=ctx_pki.ec_chain, key=ctx_pki.ec_key)
    keys = own_keys(srv)
    builtin = openssl_s_own(ctx_pki, keys)
    ours = session_from(ctx_pki, srv, version)
    theirs = session_from(ctx_pki, builtin, version)
    assert ticket_of(ours)[:16] == ticket_of(theirs)[:16] == keys[:16]
    assert len(ticket_of(ours)) == len(ticket_of(theirs))
    for session, by in ((ours, builtin), (theirs, srv), (ours, srv)):
        c, s = handshake(client(ctx_pki, version), by, session=copy_session(session))
        assert c.reused and s.reused
        if version == "TLSv1.3":
            assert ticket_of(c.session()) == ticket_of(session)
    c, s = handshake(client(ctx_pki, version), openssl_s_own(ctx_pki), session=copy_session(ours))
    assert not c.reused and not s.reused
    c, s = handshake(client(ctx_pki, version), SecureContext(cert=ctx_pki.ec_chain,
                     key=ctx_pki.ec_key), session=copy_session(theirs))
    assert not c.reused and not s.reused


def test_openssl_s_own_keys_with_a_forged_secret_are_a_full_handshake(ctx_pki, version):
    """A ticket named after the context's key but made under other secrets fails its HMAC in
    the C callback's path too: a full handshake with a new ticket, never an error."""
    srv = SecureContext(cert=ctx_pki.ec_chain, key=ctx_pki.ec_key)
    keys = own_keys(srv)
    forged = openssl_s_own(ctx_pki, keys[:16] + os.urandom(64))
    session = session_from(ctx_pki, forged, version)
    assert ticket_of(session)[:16] == keys[:16]
    c, s = handshake(client(ctx_pki, version), srv, session=copy_session(session))
    assert not c.reused and not s.reused
    assert ticket_of(c.session())[:16] == keys[:16]


def test_rotation_renews_older_tickets(ctx_pki, version, callback):
    """Keys K1 -> K2+K1 -> K3+K2: a K1 ticket resumes under K2+K1 and comes back under K2 (return
    2); that ticket resumes under K3+K2 and is renewed again; a current-key resumption on TLS 1.3
    keeps its ticket (return 1)."""
    srv = server(ctx_pki, K1)
    session = session_from(ctx_pki, srv, version)
    srv.set_ticket_keys(K2 + K1)
    c, s = handshake(client(ctx_pki, version), srv, session=copy_session(session))
    assert c.reused and s.reused
    renewed = c.session()
    assert ticket_of(renewed)[:16] == K2[:16]
    srv.set_ticket_keys(K3 + K2)
    c, s = handshake(client(ctx_pki, version), srv, session=copy_session(renewed))
    assert c.reused and s.reused
    again = c.session()
    assert ticket_of(again)[:16] == K3[:16]
    c, s = handshake(client(ctx_pki, version), srv, session=copy_session(again))
    assert c.reused and s.reused
    if version == "TLSv1.3":
        assert ticket_of(c.session()) == ticket_of(again)
    # K1 is gone: its ticket is a full handshake now (the K2 one still resumes).
    c, s = handshake(client(ctx_pki, version), srv, session=copy_session(session))
    assert not c.reused and not s.reused
    c, s = handshake(client(ctx_pki, version), srv, session=copy_session(renewed))
    assert c.reused and s.reused


def test_unknown_or_forged_key_is_a_full_handshake(ctx_pki, version, callback):
    """An unknown key name (0) and a key whose name matches but whose secrets differ (the HMAC
    fails) are both a full handshake with a new ticket, never an error."""
    session = session_from(ctx_pki, server(ctx_pki, K1), version)
    for keys in (K3, K1[:16] + K3[16:], K3 + K1[:16] + K2[16:]):
        srv = server(ctx_pki, keys)
        c, s = handshake(client(ctx_pki, version), srv, session=copy_session(session))
        assert not c.reused and not s.reused
        assert ticket_of(c.session())[:16] == keys[:16]
    # ... while the key itself resumes it (the copies were offered intact).
    c, s = handshake(client(ctx_pki, version), server(ctx_pki, K3 + K1), session=copy_session(session))
    assert c.reused and s.reused


def test_an_sni_context_lent_keeps_the_session_context_keys(ctx_pki, version, callback):
    """An SNI context only lends its certificate (``lend_sni_context``, Node's
    ``UseSNIContext``): the connection's own context's keys issue and accept its tickets, not
    the lending context's.  (The C callback finds that context in the SSL's ex_data, recorded by
    ``SSL_new`` under OpenSSL 3.0, else through ``SSL_get_SSL_CTX``, which lending never
    changes.)"""
    original, other = server(ctx_pki, K1), server(ctx_pki, K2)
    c, s = End(client(ctx_pki, version), False), Unbound(original)
    lend_sni_context(s.ssl, other.ctx)
    run(c, s)
    session = c.session()
    assert ticket_of(session)[:16] == K1[:16]
    # Resumes on the original context, lent again...
    c, s = End(client(ctx_pki, version), False), Unbound(original)
    lend_sni_context(s.ssl, other.ctx)
    assert lib.SSL_set_session(c.ssl, copy_session(session)) == 1
    run(c, s)
    assert c.reused and s.reused
    # ... but not on the other context, whose keys never issued it.
    c, s = handshake(client(ctx_pki, version), other, session=copy_session(session))
    assert not c.reused


def test_keys_replaced_during_live_handshakes(ctx_pki, version, callback):
    """Handshakes that started under K1 finish after set_ticket_keys(K2 + K1): their tickets are
    under K2 (the keys current when the ticket is made), and every ticket resumes."""
    srv = server(ctx_pki, K1)
    ends = [(End(client(ctx_pki, version), False), Unbound(srv)) for _ in range(4)]
    for c, s in ends:
        c.step()
        c.send_to(s)
        s.step()  # ServerHello sent, no ticket yet
    srv.set_ticket_keys(K2 + K1)
    for c, s in ends:
        s.send_to(c)
        run(c, s)
        assert ticket_of(c.session())[:16] == K2[:16]
        c2, s2 = handshake(client(ctx_pki, version), srv, session=c.session())
        assert c2.reused and s2.reused
    # A K1 ticket still resumes (and is renewed under K2).
    c, s = handshake(client(ctx_pki, version), server(ctx_pki, K1))
    srv_session = c.session()
    c, s = handshake(client(ctx_pki, version), srv, session=srv_session)
    assert c.reused and s.reused and ticket_of(c.session())[:16] == K2[:16]


def test_context_closed_during_a_handshake(ctx_pki, version, callback):
    """A connection keeps its context's keys when the context object is closed under it (the
    SSL holds the SSL_CTX, and in C the key table with it)."""
    srv = server(ctx_pki, K1)
    c, s = End(client(ctx_pki, version), False), Unbound(srv)
    c.step()
    c.send_to(s)
    s.step()
    srv.close()
    s.send_to(c)
    run(c, s)
    session = c.session()
    assert ticket_of(session)[:16] == K1[:16]
    c, s = handshake(client(ctx_pki, version), server(ctx_pki, K1), session=session)
    assert c.reused and s.reused


def test_rotation_races_handshakes_in_threads(ctx_pki, callback):
    """Two threads run handshakes (the compiled binding releases the GIL in SSL_do_handshake)
    while this one replaces the keys over and over: every handshake succeeds and every ticket is
    named after a key the server held (a freed key table would show here, or crash)."""
    keys = [os.urandom(48) for _ in range(8)]
    names = {k[:16] for k in keys}
    srv = server(ctx_pki, keys[0])
    cli = client(ctx_pki, "TLSv1.3")
    stop = threading.Event()
    failures: list[BaseException] = []
    counts = [0, 0]

    def worker(slot: int) -> None:
        try:
            session = None
            while not stop.is_set():
                c, s = End(cli, False), Unbound(srv)
                if session is not None:
                    assert lib.SSL_set_session(c.ssl, session) == 1
                run(c, s)
                session = c.session()
                assert ticket_of(session)[:16] in names
                c.close(cli)
                s.close(srv)
                counts[slot] += 1
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(2)]
    for t in threads:
        t.start()
    try:
        for i in range(400):
            srv.set_ticket_keys(b"".join(keys[(i + j) % 8] for j in range(3)))
            if failures or min(counts) >= 40:
                break
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert not failures, failures
    assert not any(t.is_alive() for t in threads)
    assert min(counts) >= 1


def test_bound_to_a_context_that_closes(ctx_pki, version, callback):
    """bind_ssl to another context (what the engine does for the Python callback) keeps that
    context's keys serving even once it is closed; unbind_ssl falls back to SSL_get_SSL_CTX."""
    original, other = server(ctx_pki, K1), server(ctx_pki, K2)
    c, s = End(client(ctx_pki, version), False), End(other, True, bind_to=original)
    original.close()
    run(c, s)
    assert ticket_of(c.session())[:16] == K1[:16]
    c, s = End(client(ctx_pki, version), False), End(other, True, bind_to=other)
    ticket_keys.bind_ssl(s.ssl, other)
    ticket_keys.unbind_ssl(s.ssl)
    run(c, s)
    assert ticket_of(c.session())[:16] == K2[:16]


def test_openssl_s_own_keys_resume_without_renewal(ctx_pki, version, callback):
    """A context on OpenSSL's own keys (never given any) resumes a ticket without issuing a new
    one on TLS 1.3 either, as Node (OpenSSL alone would renew it); a ticket it cannot decrypt is
    a full handshake with a new ticket."""
    srv = SecureContext(cert=ctx_pki.ec_chain, key=ctx_pki.ec_key)
    session = session_from(ctx_pki, srv, version)
    c, s = handshake(client(ctx_pki, version), srv, session=copy_session(session))
    assert c.reused and s.reused
    assert ticket_of(c.session()) == ticket_of(session)
    other = SecureContext(cert=ctx_pki.ec_chain, key=ctx_pki.ec_key)
    c, s = handshake(client(ctx_pki, version), other, session=copy_session(session))
    assert not c.reused and ticket_of(c.session()) not in (b"", ticket_of(session))
