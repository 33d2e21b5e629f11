"""Session-ticket keys: validation, per-context randomness, sharing and rotation.

Every test runs with each ticket-key callback: the C one of the compiled binding (``"c"``, skipped
in ABI mode) and the Python one (``"python"``, the ABI-mode fallback); ``ticket_keys.NATIVE``
chooses which one a context installs."""

from __future__ import annotations

import os

import pytest

from nodetls._context import SecureContext, ticket_keys
from nodetls._openssl import lib

from .memory_tls import End, HandshakeFailed, copy_session, handshake, ticket_of

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
    assert ctx.ticket_key_list == (K2, K1)
    ctx.set_ticket_keys(bytearray(K3))
    assert ctx.get_ticket_keys() == K3
    ctx.set_ticket_keys(memoryview(K1 + K2 + K3))
    assert ctx.get_ticket_keys() == K1 + K2 + K3
    assert SecureContext(ticketKeys=K1 + K2).get_ticket_keys() == K1 + K2


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
    assert ticket_of(session)[:16] == ticket_keys.openssl_keys(srv.ctx)[:16]
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
