"""The session lookup in C (``TLSEngine.enable_session_path``, the compiled binding's
``nodetls_sp_*``): the client-hello callback decides in C whether an external cache can resume
the connection and pauses with the id, the owner answers with DER, the get-session callback
hands OpenSSL that session, all without a Python callback.  Engines driven in memory against
real OpenSSL clients."""

from __future__ import annotations

import pytest

from nodetls._engine import NewSession, Pause, TLSEngine, callbacks
from nodetls._openssl import constants as C
from nodetls._openssl import macros

from .pair import handshake
from .rawctx import RawContext, make_ca_and_leaf

CA, CERT, KEY = make_ca_and_leaf("localhost")

needs_path = pytest.mark.skipif(not callbacks.SESSION_PATH,
                                reason="ABI-mode binding: no session path in C")


class Contexts:
    """A stateful server context (tickets off: TLS 1.3 tickets are session ids) and a client's."""

    def __init__(self, version: int = C.TLS1_3_VERSION, options: int = C.SSL_OP_NO_TICKET):
        self.server = RawContext(CERT, KEY, max_version=version, options=options)
        self.client = RawContext(ca=CA, max_version=version)

    def pair(self, path: bool = callbacks.SESSION_PATH) -> tuple[TLSEngine, TLSEngine]:
        server = TLSEngine(self.server, server=True)
        server.enable_session_callbacks()
        server.enable_client_hello()
        if path:
            assert server.enable_session_path() is True
            assert server.session_path
        client = TLSEngine(self.client, server=False)
        client.enable_session_callbacks()
        return client, server

    def first(self, stateful: bool = True) -> tuple[bytes, bytes, bytes]:
        """A full handshake: (the server's session id, its DER, the client's session DER); a
        server with stateless tickets has no session of its own to give (``b""``)."""
        client, server = self.pair()
        handshake(client, server)  # no pause: there is nothing to look up
        assert not server.session_reused()
        news = [e for e in server.events if isinstance(e, NewSession)]
        client_sessions = [e.der for e in client.events if isinstance(e, NewSession)]
        if not stateful:
            return b"", b"", client_sessions[-1]
        assert news, "the server made no session"
        return news[-1].session_id, news[-1].der, client_sessions[-1]


def _resume(ctxs: Contexts, client_der: bytes, answer):
    """A second connection offering ``client_der``; ``answer(server)`` runs at the pause."""
    client, server = ctxs.pair()
    assert client.set_session(client_der)
    pauses = []

    def on_pause(eng):
        pauses.append((eng.paused, eng.pending_lookup()))
        answer(eng)
        eng.resume()
        assert eng.pending_lookup() is None

    handshake(client, server, on_pause=on_pause)
    return client, server, pauses


@needs_path
def test_a_tls13_stateful_ticket_is_looked_up_and_resumed():
    ctxs = Contexts()
    sid, der, client_der = ctxs.first()
    client, server, pauses = _resume(ctxs, client_der,
                                     lambda eng: eng.set_prefetched_session(der))
    assert pauses == [(Pause.CLIENT_HELLO, (sid, True))]
    assert server.session_reused() and client.session_reused()
    assert server.client_hello is None  # decided in C: no ClientHello object was made
    # The resumption issues a new ticket, which the server hands over as usual.
    assert any(isinstance(e, NewSession) for e in server.events)


@needs_path
def test_no_answer_is_a_full_handshake():
    ctxs = Contexts()
    sid, _, client_der = ctxs.first()
    client, server, pauses = _resume(ctxs, client_der, lambda eng: None)
    assert pauses == [(Pause.CLIENT_HELLO, (sid, True))]
    assert not server.session_reused() and not client.session_reused()
    assert client.read() == b"" and server.version == "TLSv1.3"


@needs_path
def test_another_sessions_answer_or_garbage_is_a_full_handshake():
    ctxs = Contexts()
    _, other_der, _ = ctxs.first()
    _, _, client_der = ctxs.first()
    for answer in (other_der, b"\x30\x03garbage", other_der[:-7]):
        client, server, pauses = _resume(
            ctxs, client_der, lambda eng, a=answer: eng.set_prefetched_session(a))
        assert len(pauses) == 1
        assert not server.session_reused(), answer[:8]


@needs_path
def test_tls12_session_ids_are_looked_up():
    ctxs = Contexts(version=C.TLS1_2_VERSION)
    sid, der, client_der = ctxs.first()
    assert len(sid) == 32
    client, server, pauses = _resume(ctxs, client_der,
                                     lambda eng: eng.set_prefetched_session(der))
    assert pauses == [(Pause.CLIENT_HELLO, (sid, False))]
    assert server.session_reused() and server.version == "TLSv1.2"


@needs_path
def test_stateless_tickets_never_pause():
    # Tickets on: the PSK identity is a ticket OpenSSL decrypts itself (TLS 1.3), and a TLS 1.2
    # client's ticket resumes statelessly: no lookup either way.
    for version in (C.TLS1_3_VERSION, C.TLS1_2_VERSION):
        ctxs = Contexts(version=version, options=0)
        _, _, client_der = ctxs.first(stateful=False)
        client, server = ctxs.pair()
        assert client.set_session(client_der)
        handshake(client, server)  # an unexpected pause fails here
        assert server.session_reused()


@needs_path
def test_a_client_offering_tls13_with_a_legacy_id_is_not_looked_up():
    # A TLS 1.2 session offered to a server that can negotiate TLS 1.3: the legacy id is never
    # resumable there (TLS 1.3 is chosen), so no lookup.
    old = Contexts(version=C.TLS1_2_VERSION)
    _, _, client_der = old.first()
    ctxs = Contexts()
    ctxs.client = RawContext(ca=CA, max_version=C.TLS1_3_VERSION)
    client, server = ctxs.pair()
    client.set_session(client_der)
    handshake(client, server)
    assert server.version == "TLSv1.3" and not server.session_reused()


@pytest.mark.parametrize("path", [True, False], ids=["in C", "in Python"])
def test_a_resumption_after_a_hello_retry_request(path):
    # The resuming ClientHello's key share is for a group the server no longer takes: a
    # HelloRetryRequest, then a second ClientHello whose PSK OpenSSL looks up again; the one
    # answer serves both lookups (as OpenSSL's own cache would), and the session resumes.
    if path and not callbacks.SESSION_PATH:
        pytest.skip("ABI-mode binding: no session path in C")
    ctxs = Contexts()
    sid, der, client_der = ctxs.first()
    assert macros.SSL_CTX_set1_groups_list(ctxs.server.ctx, b"P-256") == 1
    assert macros.SSL_CTX_set1_groups_list(ctxs.client.ctx, b"X25519:P-256") == 1
    client, server = ctxs.pair(path=path)
    if not path:
        class Hooks:
            def on_client_hello(self, ch):
                return ch.psk_identity == sid  # pause for the ticket (pause_points' decision)

        server.hooks = Hooks()
    assert client.set_session(client_der)
    pauses = []

    def on_pause(eng):
        pauses.append(eng.paused)
        eng.set_prefetched_session(der)
        eng.resume()

    handshake(client, server, on_pause=on_pause)
    assert pauses == [Pause.CLIENT_HELLO]  # one pause, one answer
    assert server.session_reused() and client.session_reused()
    assert client.ephemeral_key_info()["name"] == "prime256v1"  # the retried group


@needs_path
def test_a_stateless_ticket_offered_to_a_stateful_server_is_not_looked_up():
    # Its PSK identity is not 32 bytes: OpenSSL's stateful lookup would ignore it, so no pause,
    # and a full handshake.
    stateless = Contexts(options=0)
    _, _, client_der = stateless.first(stateful=False)
    ctxs = Contexts()
    ctxs.client = stateless.client
    client, server = ctxs.pair()
    assert client.set_session(client_der)
    handshake(client, server)
    assert not server.session_reused() and server.version == "TLSv1.3"


@needs_path
def test_an_answer_left_unused_is_freed_with_the_connection():
    # Answered, then the connection goes away before OpenSSL asks for the session: the parsed
    # session is freed with the SSL (valgrind checks the C side; here: no crash, no leak of the
    # engine).
    ctxs = Contexts()
    _, der, client_der = ctxs.first()
    client, server = ctxs.pair()
    client.set_session(client_der)
    server.receive(bytes(_client_hello(client)))
    assert server.do_handshake() is not None and server.paused is Pause.CLIENT_HELLO
    server.set_prefetched_session(der)
    server.free()
    client.free()


def _client_hello(client: TLSEngine) -> bytes:
    client.do_handshake()
    return client.take_output()


@needs_path
def test_engines_without_the_path_keep_the_python_callback_on_the_same_context():
    ctxs = Contexts()
    sid, der, client_der = ctxs.first()

    class Hooks:
        def __init__(self):
            self.hellos = []

        def on_client_hello(self, ch):
            self.hellos.append(ch.psk_identity)
            return False

    client, server = ctxs.pair(path=False)
    server.hooks = Hooks()
    client.set_session(client_der)
    handshake(client, server)
    assert server.hooks.hellos == [sid]  # the Python decision saw the PSK identity
    assert not server.session_path


def test_the_path_is_there_exactly_when_the_binding_has_it():
    server = TLSEngine(RawContext(CERT, KEY), server=True)
    assert server.enable_session_path() is callbacks.SESSION_PATH
    assert server.session_path is callbacks.SESSION_PATH
    assert server.pending_lookup() is None  # not paused
    server.free()
