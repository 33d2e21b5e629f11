"""Session-ticket keys: validation, per-context randomness, sharing and rotation.

Every test runs with each ticket-key callback: the C one of the compiled binding (``"c"``, skipped
in ABI mode) and the Python one (``"python"``, the ABI-mode fallback); ``ticket_keys.NATIVE``
chooses which one a context installs."""

from __future__ import annotations

import array
import gc
import os

import pytest

from nodetls._context import SecureContext, ticket_keys
from nodetls._openssl import ffi, lib

from .memory_tls import End, HandshakeFailed, copy_session, drive, handshake, ticket_of

K1, K2, K3 = os.urandom(48), os.urandom(48), os.urandom(48)


def name_of(key: bytes) -> bytes:
    return key[:16]


@pytest.fixture(params=["TLSv1.2", "TLSv1.3"])
def version(request) -> str:
    return request.param


NATIVE_AVAILABLE = ticket_keys.NATIVE


@pytest.fixture(autouse=True, params=["c", "python"])
def callback(request, monkeypatch) -> str:
    """Which callback the contexts made by the test install."""
    if request.param == "c" and not NATIVE_AVAILABLE:
        pytest.skip("ABI mode: no C ticket-key callback")
    monkeypatch.setattr(ticket_keys, "NATIVE", request.param == "c")
    return str(request.param)


@pytest.fixture(scope="module")
def client_ctx(ctx_pki) -> SecureContext:
    return SecureContext(ca=ctx_pki.root)


def server(pki, keys: bytes | None = None, **extra) -> SecureContext:
    options = {"cert": pki.ec_chain, "key": pki.ec_key, **extra}
    if keys is not None:
        options["ticket_keys"] = keys
    return SecureContext(options)


def client(pki, version: str) -> SecureContext:
    return SecureContext(ca=pki.root, max_version=version)


def full_session(pki, server_ctx, version):
    c, s = handshake(client(pki, version), server_ctx)
    assert not c.reused
    session = c.session()
    assert ticket_of(session)
    return session


# ---------------------------------------------------------------------------- get/set


def test_random_per_context():
    a, b = SecureContext(), SecureContext()
    assert len(a.get_ticket_keys()) == 48 and len(b.get_ticket_keys()) == 48
    assert a.get_ticket_keys() != b.get_ticket_keys()


def test_option_and_round_trip():
    ctx = SecureContext(ticket_keys=K1)
    assert ctx.get_ticket_keys() == K1
    ctx.set_ticket_keys(K2 + K1)
    assert ctx.get_ticket_keys() == K2 + K1
    assert [name for name, *_ in ctx.ticket_key_list] == [name_of(K2), name_of(K1)]
    ctx.set_ticket_keys(bytearray(K3))
    assert ctx.get_ticket_keys() == K3
    ctx.set_ticket_keys(memoryview(K1 + K2 + K3))
    assert ctx.get_ticket_keys() == K1 + K2 + K3
    assert SecureContext(ticketKeys=K1 + K2).get_ticket_keys() == K1 + K2



def test_any_buffer_is_copied_as_bytes():
    """Bytes-like of any format or stride (Node: any ArrayBufferView) gives its bytes."""
    ctx = SecureContext()
    ctx.set_ticket_keys(memoryview(array.array("Q", K1 + K2)))  # 8-byte items
    assert ctx.get_ticket_keys() == K1 + K2
    ctx.set_ticket_keys(memoryview(bytes(x for b in K3 for x in (b, 0)))[::2])  # strided
    assert ctx.get_ticket_keys() == K3


@pytest.mark.parametrize("size", [0, 1, 47, 49, 95, 97])
def test_wrong_length_is_a_value_error(size):
    ctx = SecureContext()
    with pytest.raises(ValueError, match="ticket_keys") as info:
        ctx.set_ticket_keys(bytes(size))
    assert info.value.code == "ERR_INVALID_ARG_VALUE"
    with pytest.raises(ValueError, match="options.ticket_keys"):
        SecureContext(ticket_keys=bytes(size))


@pytest.mark.parametrize("value", ["x" * 48, [0] * 48, None, 48])
def test_wrong_type_is_a_type_error(value):
    with pytest.raises(TypeError, match="ticket_keys") as info:
        SecureContext().set_ticket_keys(value)
    assert info.value.code == "ERR_INVALID_ARG_TYPE"


# ---------------------------------------------------------------------------- handshakes


def test_ticket_is_named_after_the_first_key(ctx_pki, version):
    session = full_session(ctx_pki, server(ctx_pki, K1 + K2), version)
    assert ticket_of(session)[:16] == name_of(K1)


def test_contexts_sharing_keys_resume_each_other(ctx_pki, version):
    session = full_session(ctx_pki, server(ctx_pki, K1), version)
    c, s = handshake(client(ctx_pki, version), server(ctx_pki, K1), session=session)
    assert c.reused and s.reused


def test_older_key_resumes_and_is_renewed(ctx_pki, version):
    """A ticket under K1 resumes on a server holding K2+K1, and the client gets a K2 ticket."""
    session = full_session(ctx_pki, server(ctx_pki, K1), version)
    c, s = handshake(client(ctx_pki, version), server(ctx_pki, K2 + K1), session=session)
    assert c.reused and s.reused
    renewed = ticket_of(c.session())
    assert renewed[:16] == name_of(K2)
    # ... and the renewed ticket resumes on a server that knows only K2.
    c, s = handshake(client(ctx_pki, version), server(ctx_pki, K2), session=c.session())
    assert c.reused and s.reused


def test_new_keys_mean_a_full_handshake(ctx_pki, version):
    session = full_session(ctx_pki, server(ctx_pki, K1), version)
    c, s = handshake(client(ctx_pki, version), server(ctx_pki, K3), session=session)
    assert not c.reused and not s.reused
    assert ticket_of(c.session())[:16] == name_of(K3)


def test_set_ticket_keys_invalidates_and_restores(ctx_pki, version):
    """Node: setTicketKeys(new) forces full handshakes; the old keys back make tickets work."""
    srv = server(ctx_pki, K1)
    session = full_session(ctx_pki, srv, version)
    srv.set_ticket_keys(K3)
    c, _ = handshake(client(ctx_pki, version), srv, session=session)
    assert not c.reused
    srv.set_ticket_keys(K1)
    c, _ = handshake(client(ctx_pki, version), srv, session=session)
    assert c.reused


def test_default_keys_are_not_shared(ctx_pki, version):
    session = full_session(ctx_pki, server(ctx_pki), version)
    c, _ = handshake(client(ctx_pki, version), server(ctx_pki), session=session)
    assert not c.reused


def test_resumption_under_the_current_key_issues_no_ticket(ctx_pki, version):
    """With the current key a resumed handshake sends no new ticket, on TLS 1.3 too (Node's
    ticket callback returns 1: two tickets after a full handshake, none after a resumption);
    the client keeps the ticket it offered."""
    srv = server(ctx_pki, K1)
    session = full_session(ctx_pki, srv, version)
    c, _ = handshake(client(ctx_pki, version), srv, session=session)
    assert c.reused
    assert ticket_of(c.session()) == ticket_of(session)


def test_bind_ssl_picks_the_context_whose_keys_serve(ctx_pki, version):
    """After an SNI switch the ticket callback runs on the original context: the engine binds
    each SSL to the context whose keys must be used, whatever SSL_get_SSL_CTX says."""
    original, other = server(ctx_pki, K1), server(ctx_pki, K2)
    c, s = handshake(client(ctx_pki, version), other, server_bind_to=original)
    assert ticket_of(c.session())[:16] == name_of(K1)
    # Unbound, the SSL_CTX's own registration is the fallback.
    ticket_keys.unbind_ssl(s.ssl)
    c2, s2 = End(client(ctx_pki, version), False), End(other, True)
    ticket_keys.unbind_ssl(s2.ssl)
    for _ in range(4):
        c2.step()
        c2.send_to(s2)
        s2.step()
        s2.send_to(c2)
    c2.read_pending()
    assert ticket_of(c2.session())[:16] == name_of(K2)


def test_callback_errors_go_to_on_error(ctx_pki, monkeypatch, callback):
    """An exception inside the callback never unwinds through C: on_error gets it and the
    handshake fails ("callback failed").  (The C callback raises nothing: _keys_for is Python's.)"""
    if callback == "c":
        pytest.skip("the Python callback's error path")
    seen = []
    monkeypatch.setattr(ticket_keys, "on_error", lambda ssl, exc: seen.append((ssl, exc)))

    def broken(ssl):
        raise RuntimeError("key store down")

    monkeypatch.setattr(ticket_keys, "_keys_for", broken)
    with pytest.raises(HandshakeFailed):
        handshake(client(ctx_pki, "TLSv1.2"), server(ctx_pki, K1))
    assert len(seen) == 1
    ssl, exc = seen[0]
    assert isinstance(exc, RuntimeError) and str(exc) == "key store down"
    assert lib.SSL_is_server(ssl) == 1


def test_callback_errors_without_a_hook_are_unraisable(ctx_pki, monkeypatch, callback):
    if callback == "c":
        pytest.skip("the Python callback's error path")
    seen = []
    monkeypatch.setattr(ticket_keys, "on_error", None)
    monkeypatch.setattr(ticket_keys, "_keys_for", lambda ssl: 1 / 0)
    monkeypatch.setattr("sys.unraisablehook", lambda args: seen.append(args.exc_value))
    with pytest.raises(HandshakeFailed):
        handshake(client(ctx_pki, "TLSv1.2"), server(ctx_pki, K1))
    assert seen and isinstance(seen[0], ZeroDivisionError)


def test_default_keys_are_openssl_s_until_read(ctx_pki, version, callback):
    """A context never given keys lets OpenSSL's own keys make its tickets (no Python callback
    per ticket); get_ticket_keys() switches it to a key of Node's layout, and the tickets made
    before still resume (renewed under that key); set_ticket_keys() invalidates them, as Node's
    setTicketKeys does."""
    srv = server(ctx_pki)
    assert not srv.binds_ssl
    session = full_session(ctx_pki, srv, version)
    assert ticket_of(session)[:16] == ticket_keys.openssl_keys(srv.ctx).entries[0][0]
    key = srv.get_ticket_keys()
    assert srv.binds_ssl == (callback == "python") and len(key) == 48
    c, s = handshake(client(ctx_pki, version), srv, session=session)
    assert c.reused and s.reused
    assert ticket_of(c.session())[:16] == name_of(key)
    c, s = handshake(client(ctx_pki, version), srv, session=c.session())
    assert c.reused and s.reused
    srv.set_ticket_keys(key)
    c, _ = handshake(client(ctx_pki, version), srv, session=copy_session(session))
    assert not c.reused


# ---------------------------------------------------------------------------- key memory
# Issue 9: every copy of a key nodetls keeps is zeroed when the key is retired.  The tests hold
# the context's own key memory (cffi, Node's layout) and look at it after the event.


def memory_of(keys: ticket_keys.KeySet) -> bytes:
    return bytes(ffi.buffer(keys.buf, keys.size))


def serve_one(pki, srv: SecureContext, version: str, session=None) -> tuple[End, End]:
    """A handshake whose server End is created now (bound to ``srv``) and then driven."""
    c, s = End(client(pki, version), False), End(srv, True)
    if session is not None:
        assert lib.SSL_set_session(c.ssl, session) == 1
    return c, s


def test_replaced_keys_are_wiped(ctx_pki, version):
    given = bytearray(K1 + K2)
    srv = server(ctx_pki, given)
    old = srv._tk.keys
    assert memory_of(old) == K1 + K2
    session = full_session(ctx_pki, srv, version)
    srv.set_ticket_keys(K3)
    assert memory_of(old) == bytes(96) and old.entries == ()
    assert given == K1 + K2  # the caller's buffer is the caller's
    current = srv._tk.keys
    srv.set_ticket_keys(memoryview(K3 + K1))  # the same key again: a new copy, the old one wiped
    assert memory_of(current) == bytes(48)
    c, s = handshake(client(ctx_pki, version), srv, session=session)
    assert c.reused and s.reused  # K1 still decrypts; K3 encrypts the renewed ticket
    assert ticket_of(c.session())[:16] == name_of(K3)


def test_openssl_keys_are_wiped_when_dropped(ctx_pki, version):
    """get_ticket_keys() keeps OpenSSL's own keys to accept their tickets; set_ticket_keys() drops
    them (Node: setTicketKeys invalidates outstanding tickets) and wipes this copy."""
    srv = server(ctx_pki)
    session = full_session(ctx_pki, srv, version)
    key = srv.get_ticket_keys()
    legacy = srv._tk.legacy
    assert legacy is not None and memory_of(legacy) != bytes(80)
    assert memory_of(legacy)[:16] == ticket_of(session)[:16]
    c, _ = handshake(client(ctx_pki, version), srv, session=copy_session(session))
    assert c.reused
    srv.set_ticket_keys(key)
    assert srv._tk.legacy is None and memory_of(legacy) == bytes(80)
    c, _ = handshake(client(ctx_pki, version), srv, session=copy_session(session))
    assert not c.reused


def test_close_wipes_the_keys(ctx_pki, version):
    srv = server(ctx_pki, K1 + K2)
    keys = srv._tk.keys
    c, s = handshake(client(ctx_pki, version), srv)
    s.close(srv)
    srv.close()
    assert memory_of(keys) == bytes(96) and srv._tk is None


def test_close_with_a_live_connection_keeps_its_keys_until_collected(ctx_pki, version):
    """A connection made before close() keeps the context's keys (with either callback: its SSL
    holds the SSL_CTX's C table; the Python callback reads the context it is bound to): its
    ticket is still under K1 and resumes elsewhere.  The Python copy is wiped once the context is
    collected."""
    srv = server(ctx_pki, K1)
    keys = srv._tk.keys
    c, s = serve_one(ctx_pki, srv, version)
    srv.close()
    assert memory_of(keys) == K1
    drive(c, s)
    ticket = c.session()
    assert ticket_of(ticket)[:16] == name_of(K1)
    s.close(srv)
    del srv
    gc.collect()
    assert memory_of(keys) == bytes(48)
    c, s = handshake(client(ctx_pki, version), server(ctx_pki, K1), session=ticket)
    assert c.reused and s.reused


def test_wiped_keys_issue_no_ticket(ctx_pki, callback):
    """The Python callback never encrypts under a wiped (zero) key: it knows no key then, so no
    ticket is issued and the handshake goes on."""
    if callback == "c":
        pytest.skip("the Python callback's keys")
    srv = server(ctx_pki, K1)
    srv._tk.keys.wipe()
    c, s = handshake(client(ctx_pki, "TLSv1.2"), srv)
    assert not ticket_of(c.session())
