"""The sans-IO engine on its own: two engines talking in memory."""

from __future__ import annotations

import pytest

from nodetls._engine import DONE, NEED_DATA, TLSEngine, live_engines
from nodetls._openssl import constants as C
from nodetls._openssl import ffi, lib
from nodetls.errors import CertificateError, TLSError

from .pair import handshake, pump
from .rawctx import RawContext, make_ca_and_leaf

CA, CERT, KEY = make_ca_and_leaf("localhost")


@pytest.fixture(params=[C.TLS1_2_VERSION, C.TLS1_3_VERSION], ids=["tls12", "tls13"])
def version(request):
    return request.param


def make_pair(version, **kw):
    sctx = RawContext(CERT, KEY, max_version=version)
    cctx = RawContext(ca=CA, max_version=version)
    server = TLSEngine(sctx, server=True)
    client = TLSEngine(cctx, server=False)
    return client, server


def test_handshake_and_data_both_ways(version):
    client, server = make_pair(version)
    handshake(client, server)
    assert client.version == {C.TLS1_2_VERSION: "TLSv1.2", C.TLS1_3_VERSION: "TLSv1.3"}[version]
    assert server.version == client.version
    assert client.write(b"hello") == 5
    pump(client, server)
    assert server.read() == b"hello"
    big = bytes(range(256)) * 400  # 100 KiB, several records
    assert server.write(big) == len(big)
    pump(client, server)
    assert client.read() == big
    assert client.cipher()["version"] in ("TLSv1.2", "TLSv1.3")


def test_do_handshake_receives_the_data_it_is_given(version):
    # do_handshake(data): receive() then do_handshake() in one call (a handshake step per read);
    # bytes and views alike.
    client, server = make_pair(version)
    assert client.do_handshake() == NEED_DATA
    assert server.do_handshake(memoryview(client.take_output())) == NEED_DATA
    assert client.do_handshake(server.take_output()) in (DONE, NEED_DATA)
    handshake(client, server)
    assert client.write(b"ping") == 4
    pump(client, server)
    assert server.read() == b"ping"


def _buffer_sizes(engine):
    """The bytes each memory BIO's buffer holds allocated (BIO_get_mem_ptr's BUF_MEM max)."""
    out = ffi.new("BUF_MEM **")
    sizes = []
    for bio in (engine._rbio, engine._wbio):
        assert lib.BIO_ctrl(bio, C.BIO_C_GET_BUF_MEM_PTR, 0, out) == 1
        sizes.append(out[0].max)
    return sizes


def test_release_bios_after_the_handshake_keeps_the_connection_working(version):
    """release_bios() gives both memory BIOs empty buffers once both are drained (the
    handshake's flights no longer held for the connection's life); not while anything is
    pending."""
    client, server = make_pair(version)
    handshake(client, server)
    assert all(_buffer_sizes(server))  # the handshake's flights went through both
    assert server.write(b"pending") == 7
    assert server.release_bios() is False  # unsent ciphertext: kept
    pump(client, server)
    assert client.read() == b"pending"
    assert server.release_bios() is True and client.release_bios() is True
    assert _buffer_sizes(server) == [0, 0] and _buffer_sizes(client) == [0, 0]
    assert client.write(b"ping") == 4
    pump(client, server)
    assert server.read() == b"ping"
    assert server.write(b"pong") == 4
    pump(client, server)
    assert client.read() == b"pong"
    client.shutdown()
    pump(client, server)
    assert server.read() == b"" and server.received_close_notify
    server.receive_eof()
    assert server.release_bios() is False  # the read BIO carries the EOF


def test_close_notify_both_ways(version):
    client, server = make_pair(version)
    handshake(client, server)
    client.shutdown()
    pump(client, server)
    assert server.read() == b""
    assert server.received_close_notify
    server.shutdown()
    pump(client, server)
    client.read()
    assert client.received_close_notify


def test_shutdown_sends_one_close_notify_and_none_before_the_handshake_completes(version):
    """shutdown() (Node's close_notify at end()) writes nothing while the handshake is not
    complete, and the alert once however often it is called."""
    client, server = make_pair(version)
    client.do_handshake()
    hello = client.take_output()
    client.shutdown()
    assert client.take_output() == b""  # no close_notify before the handshake completed
    server.receive(hello)
    handshake(client, server)
    client.shutdown()
    alert = client.take_output()
    assert alert  # one close_notify record
    client.shutdown()
    assert client.take_output() == b""  # not a second one
    server.receive(alert)
    assert server.read() == b"" and server.received_close_notify


def test_eof_during_handshake_is_reset():
    client, server = make_pair(C.TLS1_3_VERSION)
    client.do_handshake()
    server.receive(client.take_output()[:20])
    server.receive_eof()
    with pytest.raises(ConnectionResetError) as info:
        server.do_handshake()
    assert info.value.code == "ECONNRESET"


def test_garbage_gives_coded_error():
    _, server = make_pair(C.TLS1_3_VERSION)
    server.receive(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    with pytest.raises(TLSError) as info:
        server.do_handshake()
    assert info.value.code == "ERR_SSL_HTTP_REQUEST"


def test_client_rejects_unknown_ca_and_sends_alert(version):
    sctx = RawContext(CERT, KEY, max_version=version)
    cctx = RawContext(max_version=version)  # trusts nothing
    server = TLSEngine(sctx, server=True)
    client = TLSEngine(cctx, server=False)
    client.set_verify(request=True, reject=True)
    with pytest.raises(CertificateError) as info:
        handshake(client, server)
    assert info.value.code == "UNABLE_TO_VERIFY_LEAF_SIGNATURE"
    # the alert reaches the server, which fails with the reason
    server.receive(client.take_output())
    with pytest.raises(TLSError) as sinfo:
        server.do_handshake()
        server.read()
    assert sinfo.value.code == "ERR_SSL_TLSV1_ALERT_UNKNOWN_CA"


def test_identity_check_failure_alerts(version):
    client, server = make_pair(version)

    def check(der):
        return CertificateError("no match", "ERR_TLS_CERT_ALTNAME_INVALID")

    client.set_verify(request=True, reject=True, check_identity=check)
    with pytest.raises(CertificateError) as info:
        handshake(client, server)
    assert info.value.code == "ERR_TLS_CERT_ALTNAME_INVALID"
    server.receive(client.take_output())
    with pytest.raises(TLSError) as sinfo:
        server.do_handshake()
        server.read()
    assert sinfo.value.code == "ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE"


def test_callback_exception_reraised():
    client, server = make_pair(C.TLS1_3_VERSION)

    def check(der):
        raise RuntimeError("boom from user code")

    client.set_verify(request=True, reject=True, check_identity=check)
    with pytest.raises(RuntimeError, match="boom from user code"):
        handshake(client, server)


def test_alpn(version):
    client, server = make_pair(version)
    client.set_alpn_protocols([b"h2", b"http/1.1"])
    server.set_alpn_protocols([b"http/1.1", b"h2"])
    handshake(client, server)
    assert client.alpn_selected() == b"http/1.1"
    assert server.alpn_selected() == b"http/1.1"


def test_alpn_no_overlap_fails():
    client, server = make_pair(C.TLS1_3_VERSION)
    client.set_alpn_protocols([b"h2"])
    server.set_alpn_protocols([b"http/1.1"])
    with pytest.raises(TLSError) as info:
        handshake(client, server)
    assert info.value.code == "ERR_SSL_NO_APPLICATION_PROTOCOL"


class PauseHooks:
    def __init__(self):
        self.seen = []

    def on_client_hello(self, ch):
        self.seen.append(("ch", ch.servername))
        return True

    def on_cert(self, servername):
        self.seen.append(("cert", servername))
        return True


def test_pause_at_client_hello_and_cert_then_switch_context(version):
    other_ca, other_cert, other_key = make_ca_and_leaf("a.example")
    sctx = RawContext(CERT, KEY, max_version=version)
    other = RawContext(other_cert, other_key, max_version=version)
    cctx = RawContext(ca=other_ca, max_version=version)
    hooks = PauseHooks()
    server = TLSEngine(sctx, server=True, hooks=hooks)
    server.enable_client_hello()
    server.enable_cert_cb()
    client = TLSEngine(cctx, server=False)
    client.set_servername("a.example")
    client.set_verify(request=True, reject=True)
    pauses = []

    def on_pause(eng):
        pauses.append(eng.paused)
        if eng.paused == "cert":
            eng.use_context(other)
        eng.resume()

    handshake(client, server, on_pause=on_pause)
    assert pauses == ["client_hello", "cert"]
    assert hooks.seen == [("ch", "a.example"), ("cert", "a.example")]
    assert client.verify_result() == 0
    assert server.servername() == "a.example"


def test_engines_are_freed():
    before = live_engines()
    for _ in range(50):
        client, server = make_pair(C.TLS1_3_VERSION)
        handshake(client, server)
        client.free()
        server.free()
        client.free()
    assert live_engines() == before
