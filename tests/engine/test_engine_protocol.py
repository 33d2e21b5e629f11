"""The engine's typed protocol: states, pause reasons, events, the terminal error state and the
named queries the TLS layer uses instead of reaching into OpenSSL."""

from __future__ import annotations

import pytest

from nodetls._engine import (
    DONE,
    PAUSED,
    KeylogLine,
    NewSession,
    Pause,
    State,
    Step,
    TLSEngine,
)
from nodetls._openssl import constants as C
from nodetls.errors import TLSError

from .pair import handshake, pump
from .rawctx import RawContext, make_ca_and_leaf

CA, CERT, KEY = make_ca_and_leaf("localhost")


def make_pair(version=C.TLS1_3_VERSION):
    server = TLSEngine(RawContext(CERT, KEY, max_version=version), server=True)
    client = TLSEngine(RawContext(ca=CA, max_version=version), server=False)
    return client, server


def test_states_from_handshake_to_freed():
    client, server = make_pair()
    assert client.state is State.HANDSHAKING and server.state is State.HANDSHAKING
    handshake(client, server)
    assert client.state is State.SECURE and server.state is State.SECURE
    assert client.do_handshake() is Step.DONE and DONE is Step.DONE
    client.free()
    assert client.state is State.FREED and not client.alive


def test_error_state_is_terminal_and_reraises_the_same_error():
    client, server = make_pair()
    client.do_handshake()
    server.receive(b"\x16\x03\x01\x00\x05garbage-that-is-not-tls")
    with pytest.raises(TLSError) as first:
        server.do_handshake()
    assert server.state is State.ERROR and server.error is first.value
    # The engine never leaves ERROR: every operation raises the same error again.
    for op in (server.do_handshake, server.read, lambda: server.write(b"x")):
        with pytest.raises(TLSError) as again:
            op()
        assert again.value is first.value
    assert server.state is State.ERROR
    alert = server.take_output()  # the fatal alert OpenSSL produced is still sent
    server.shutdown()  # ... but no close_notify after it
    assert server.take_output() == b""
    assert alert


class _Hooks:
    def __init__(self):
        self.servernames = []

    def on_client_hello(self, ch):
        return True

    def on_cert(self, servername):
        self.servernames.append(servername)
        return True


def test_pause_reasons_are_typed_and_resume_returns_to_handshaking():
    client, server = make_pair()
    server.hooks = _Hooks()
    server.enable_client_hello()
    server.enable_cert_cb()
    client.set_servername("localhost")
    seen = []

    def on_pause(eng):
        assert eng.state is State.PAUSED
        seen.append(eng.paused)
        assert isinstance(eng.paused, Pause)
        eng.resume()
        assert eng.state is State.HANDSHAKING and eng.paused is None

    handshake(client, server, on_pause=on_pause)
    assert seen == [Pause.CLIENT_HELLO, Pause.CERT]
    assert seen == ["client_hello", "cert"]  # str enum: readable in logs and comparisons
    assert server.hooks.servernames == ["localhost"]
    assert PAUSED is Step.PAUSED


def test_events_are_typed():
    client, server = make_pair()
    client.enable_keylog()
    client.enable_session_callbacks()
    handshake(client, server)
    kinds = {type(e) for e in client.events}
    assert kinds == {KeylogLine, NewSession}
    line = next(e for e in client.events if isinstance(e, KeylogLine)).line
    assert line.endswith(b"\n") and line.split(b" ")[0].isupper()
    sess = next(e for e in client.events if isinstance(e, NewSession))
    assert sess.der and client.set_session(sess.der)
    with pytest.raises(AttributeError):
        sess.der = b""  # frozen


def test_named_queries():
    client, server = make_pair(C.TLS1_2_VERSION)
    plain_client, plain_server = make_pair(C.TLS1_2_VERSION)
    handshake(plain_client, plain_server)
    assert not plain_server.ocsp_requested()
    client.request_ocsp()
    client.set_servername("localhost")
    assert server.tickets_enabled()
    assert not server.allows_tls13()  # max version 1.2
    assert server.sni_target is server.context
    handshake(client, server)
    assert server.ocsp_requested()
    assert client.stapled_ocsp_response() is None  # the server stapled nothing
    other = RawContext(CERT, KEY)
    server.use_context(other)
    assert server.sni_target is other


def test_read_view_hands_one_buffer_per_batch_and_skips_empty_reads():
    client, server = make_pair()
    handshake(client, server)
    assert server.read_view() is None  # nothing buffered: no SSL_read_ex at all
    for _ in range(5):
        client.write(b"x" * 10000)  # five records
    pump(client, server)
    view = server.read_view()
    assert isinstance(view, memoryview) and bytes(view) == b"x" * 50000
    assert server.read_view() is None
    big = b"y" * (600 * 1024)  # more than one batch: read_view is called until None
    client.write(big)
    pump(client, server)
    got = []
    while (v := server.read_view()) is not None:
        got.append(bytes(v))
    assert len(got) > 1 and b"".join(got) == big
