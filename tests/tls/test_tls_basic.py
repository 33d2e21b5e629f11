"""tls.Server / tls.connect end to end over loopback: the foundation (issue: foundation)."""

from __future__ import annotations

import asyncio

import pytest
from tlsutil import (
    TIMEOUT,
    connect,
    echo_server,
    event,
    listen,
    read_until,
    shut,
    wait,
)

import nodetls as tls
from nodetls import stream
from nodetls._engine import live_engines


def versions(v: str) -> dict[str, str]:
    return {"min_version": v, "max_version": v}


async def test_echo_and_negotiated_values(certs, tls_version):
    server, port = await echo_server({**certs.server.options, **versions(tls_version)})
    try:
        sock = await connect(port, ca=certs.root.cert_pem, servername="localhost")
        assert sock.authorized is True
        assert sock.authorization_error is None
        assert sock.get_protocol() == tls_version
        cipher = sock.get_cipher()
        assert cipher["version"] == ("TLSv1.3" if tls_version == "TLSv1.3" else "TLSv1.2")
        assert sock.encrypted is True
        assert sock.alpn_protocol is False
        peer = sock.get_peer_certificate()
        assert peer["subject"]["CN"] == "localhost"
        assert peer["raw"] == certs.server.der
        assert len(peer["fingerprint256"].split(":")) == 32
        sock.write(b"hello world")
        assert await read_until(sock, 11) == b"hello world"
        fin, peer_fin = sock.get_finished(), sock.get_peer_finished()
        assert isinstance(fin, bytes) and isinstance(peer_fin, bytes) and fin != peer_fin
        info = sock.get_ephemeral_key_info()
        assert info["type"] == "ECDH" and info["name"] == "X25519" and info["size"] == 253
        ekm = sock.export_keying_material(32, "EXPERIMENTAL-test")
        assert len(ekm) == 32
        ended = event(sock, "end")
        sock.end()
        await wait(ended)
    finally:
        await shut(server)


async def test_server_side_socket_values(certs):
    got: asyncio.Future = asyncio.get_running_loop().create_future()

    def on_secure(s):
        got.set_result({
            "protocol": s.get_protocol(),
            "servername": s.servername,
            "authorized": s.authorized,
            "ekm": s.export_keying_material(16, "EXPERIMENTAL-x", b"ctx"),
            "sigalgs": s.get_shared_sigalgs(),
            "peer": s.get_peer_certificate(),
            "own": s.get_certificate()["subject"]["CN"],
        })

    server, port = await listen(certs.server.options, on_secure)
    try:
        sock = await connect(port, ca=certs.root.cert_pem, servername="localhost")
        res = await wait(got)
        assert res["protocol"] == "TLSv1.3"
        assert res["servername"] == "localhost"
        assert res["authorized"] is False
        assert res["peer"] == {}
        assert res["own"] == "localhost"
        assert res["ekm"] == sock.export_keying_material(16, "EXPERIMENTAL-x", b"ctx")
        assert any(a.startswith("ECDSA+") for a in res["sigalgs"])
        sock.destroy()
    finally:
        await shut(server)


async def test_no_servername_means_false(certs):
    got = asyncio.get_running_loop().create_future()
    server, port = await listen(certs.server.options, lambda s: got.set_result(s.servername))
    try:
        sock = await connect(port, ca=certs.root.cert_pem, check_server_identity=lambda h, c: None)
        assert await wait(got) is False
        sock.destroy()
    finally:
        await shut(server)


@pytest.mark.parametrize("bundle,code", [
    ("self_signed", "DEPTH_ZERO_SELF_SIGNED_CERT"),
    ("expired", "CERT_HAS_EXPIRED"),
])
async def test_client_verification_errors_and_alert(certs, bundle, code):
    b = getattr(certs, bundle)
    client_errors: asyncio.Future = asyncio.get_running_loop().create_future()
    server, port = await listen(b.options)
    server.on("tlsClientError", lambda err, s: client_errors.set_result(err))
    try:
        extra = {"ca": certs.root.cert_pem} if bundle == "expired" else {}
        sock = tls.connect(port, {"host": "127.0.0.1", "servername": "localhost", **extra})
        with pytest.raises(tls.errors.CertificateError) as info:
            await wait(sock)
        assert info.value.code == code
        # Deliberately differs from Node: the server hears the matching alert.
        err = await wait(client_errors)
        expected = {"DEPTH_ZERO_SELF_SIGNED_CERT": "ERR_SSL_TLSV1_ALERT_UNKNOWN_CA",
                    "CERT_HAS_EXPIRED": "ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED"}[code]
        assert err.code == expected
    finally:
        await shut(server)


async def test_unknown_issuer_code_matches_node(certs):
    server, port = await listen(certs.server_direct.options)
    try:
        with pytest.raises(tls.errors.CertificateError) as info:
            await connect(port, servername="localhost")
        assert info.value.code == "UNABLE_TO_VERIFY_LEAF_SIGNATURE"
    finally:
        await shut(server)


async def test_reject_unauthorized_false_reports(certs):
    server, port = await listen(certs.server_direct.options, lambda s: s.end(b"hi"))
    try:
        sock = await connect(port, reject_unauthorized=False, servername="localhost")
        assert sock.authorized is False
        assert sock.authorization_error == "UNABLE_TO_VERIFY_LEAF_SIGNATURE"
        sock.destroy()
    finally:
        await shut(server)


async def test_hostname_mismatch(certs):
    server, port = await listen(certs.server.options)
    try:
        with pytest.raises(tls.errors.CertificateError) as info:
            await connect(port, ca=certs.root.cert_pem, servername="bad.example.")
        assert info.value.code == "ERR_TLS_CERT_ALTNAME_INVALID"
        assert "bad.example." in str(info.value)
        sock = await connect(port, ca=certs.root.cert_pem, servername="bad.example.",
                             reject_unauthorized=False)
        assert sock.authorized is False
        assert sock.authorization_error == "ERR_TLS_CERT_ALTNAME_INVALID"
        sock.destroy()
    finally:
        await shut(server)


async def test_custom_check_server_identity(certs):
    seen = []

    def check(host, cert):
        seen.append((host, cert["subject"]["CN"]))
        return Exception("nope")

    server, port = await listen(certs.server.options)
    try:
        with pytest.raises(Exception, match="nope"):
            await connect(port, ca=certs.root.cert_pem, servername="localhost",
                          check_server_identity=check)
        assert seen == [("localhost", "localhost")]
    finally:
        await shut(server)


async def test_client_certificates(certs, tls_version):
    got = asyncio.get_running_loop().create_future()
    opts = {**certs.server.options, **versions(tls_version), "request_cert": True,
            "ca": certs.client_ca.cert_pem}
    server, port = await listen(opts, lambda s: got.set_result(
        (s.authorized, s.authorization_error, s.get_peer_certificate()["subject"]["CN"])))
    try:
        sock = await connect(port, ca=certs.root.cert_pem, servername="localhost",
                             **certs.client.options)
        assert await wait(got) == (True, None, "client")
        sock.destroy()
    finally:
        await shut(server)


async def test_request_cert_missing_client_cert_rejected(certs, tls_version):
    errs = asyncio.get_running_loop().create_future()
    opts = {**certs.server.options, **versions(tls_version), "request_cert": True,
            "ca": certs.client_ca.cert_pem}
    server, port = await listen(opts)
    server.on("tlsClientError", lambda e, s: errs.done() or errs.set_result(e))
    try:
        sock = tls.connect(port, {"host": "127.0.0.1", "ca": certs.root.cert_pem,
                                  "servername": "localhost"})
        sock.on("error", lambda e: None)
        err = await wait(errs)
        assert err.code == "ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE"
        sock.destroy()
    finally:
        await shut(server)


async def test_request_cert_without_reject(certs):
    got = asyncio.get_running_loop().create_future()
    opts = {**certs.server.options, "request_cert": True, "reject_unauthorized": False,
            "ca": certs.client_ca.cert_pem}
    server, port = await listen(opts, lambda s: got.set_result(
        (s.authorized, s.authorization_error)))
    try:
        sock = await connect(port, ca=certs.root.cert_pem, servername="localhost")
        assert await wait(got) == (False, "UNABLE_TO_GET_ISSUER_CERT")
        sock.destroy()
        got2 = asyncio.get_running_loop().create_future()
        server.remove_all_listeners("secureConnection")
        server.on("secureConnection", lambda s: got2.set_result(s.authorization_error))
        sock = await connect(port, ca=certs.root.cert_pem, servername="localhost",
                             **certs.client_self_signed.options)
        assert await wait(got2) == "DEPTH_ZERO_SELF_SIGNED_CERT"
        sock.destroy()
    finally:
        await shut(server)


async def test_alpn(certs, tls_version):
    got = asyncio.get_running_loop().create_future()
    server, port = await listen({**certs.server.options, **versions(tls_version),
                                 "ALPNProtocols": ["http/1.1", "h2"]},
                                lambda s: got.set_result(s.alpn_protocol))
    try:
        sock = await connect(port, ca=certs.root.cert_pem, servername="localhost",
                             alpn_protocols=["h2", "http/1.1"])
        assert sock.alpn_protocol == "http/1.1"  # the server's preference, as Node
        assert await wait(got) == "http/1.1"
        sock.destroy()
        errs = asyncio.get_running_loop().create_future()
        server.on("tlsClientError", lambda e, s: errs.done() or errs.set_result(e))
        with pytest.raises(tls.errors.TLSError) as info:
            await connect(port, ca=certs.root.cert_pem, servername="localhost",
                          alpn_protocols=["spdy/3"])
        assert info.value.code == "ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL"
        assert (await wait(errs)).code == "ERR_SSL_NO_APPLICATION_PROTOCOL"
    finally:
        await shut(server)


async def test_alpn_callback(certs):
    seen = []

    def choose(info):
        seen.append(info)
        return "b"

    server, port = await listen({**certs.server.options, "alpn_callback": choose})
    try:
        sock = await connect(port, ca=certs.root.cert_pem, servername="localhost",
                             alpn_protocols=["a", "b"])
        assert sock.alpn_protocol == "b"
        assert seen == [{"servername": "localhost", "protocols": ["a", "b"]}]
        sock.destroy()
    finally:
        await shut(server)
    with pytest.raises(TypeError):
        tls.create_server({**certs.server.options, "alpn_callback": choose,
                           "alpn_protocols": ["a"]})


async def test_sni_add_context_with_wildcard(certs):
    got = asyncio.get_running_loop().create_future()
    server, port = await listen(certs.server.options, lambda s: got.set_result(s.servername))
    server.add_context("*.example.com", certs.wildcard.options)
    try:
        sock = await connect(port, ca=certs.root.cert_pem, servername="www.example.com")
        assert sock.get_peer_certificate()["subject"]["CN"] == "*.example.com"
        assert await wait(got) == "www.example.com"
        sock.destroy()
        sock = await connect(port, ca=certs.root.cert_pem, servername="localhost")
        assert sock.get_peer_certificate()["subject"]["CN"] == "localhost"
        sock.destroy()
    finally:
        await shut(server)


async def test_async_sni_callback(certs, tls_version):
    calls = []

    async def sni(servername, cb):
        calls.append(servername)
        await asyncio.sleep(0.05)  # the handshake waits
        cb(None, tls.create_secure_context(certs.wildcard.options))

    server, port = await listen({**certs.server.options, **versions(tls_version),
                                 "SNICallback": sni})
    try:
        sock = await connect(port, ca=certs.root.cert_pem, servername="a.example.com")
        assert sock.get_peer_certificate()["subject"]["CN"] == "*.example.com"
        assert calls == ["a.example.com"]
        sock.destroy()
    finally:
        await shut(server)


async def test_sni_callback_error_destroys(certs):
    errs = asyncio.get_running_loop().create_future()

    def sni(servername, cb):
        cb(Exception("no such name"))

    server, port = await listen({**certs.server.options, "sni_callback": sni})
    server.on("tlsClientError", lambda e, s: errs.done() or errs.set_result(e))
    try:
        sock = tls.connect(port, {"host": "127.0.0.1", "ca": certs.root.cert_pem,
                                  "servername": "x.example"})
        with pytest.raises(ConnectionResetError):
            await wait(sock)
        err = await wait(errs)
        assert "no such name" in str(err)
    finally:
        await shut(server)


async def test_garbage_and_http_then_still_serving(certs):
    errors = []
    three = asyncio.get_running_loop().create_future()

    def on_error(err, sock):
        errors.append(err.code)
        if len(errors) == 3:
            three.set_result(None)

    server, port = await echo_server(certs.server.options)
    server.on("tlsClientError", on_error)
    try:
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        await w.drain()
        assert await asyncio.wait_for(r.read(), 5) == b""
        w.close()
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(b"\x16\x03\x01\x00\x05hello-garbage")
        await w.drain()
        await asyncio.wait_for(r.read(), 5)
        w.close()
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.close()  # vanishes before the ClientHello
        await wait(three)
        assert errors[0] == "ERR_SSL_HTTP_REQUEST"
        assert "ECONNRESET" in errors
        assert len(errors) == 3
        sock = await connect(port, ca=certs.root.cert_pem, servername="localhost")
        sock.write(b"still")
        assert await read_until(sock, 5) == b"still"
        sock.destroy()
    finally:
        await shut(server)


async def test_listener_that_raises_does_not_kill_server(certs):
    calls = []

    def bad(sock):
        calls.append(1)
        raise RuntimeError("listener bug")

    server, port = await listen(certs.server.options, bad)
    server.on("error", lambda e: None)
    try:
        for _ in range(2):
            sock = tls.connect(port, {"host": "127.0.0.1", "ca": certs.root.cert_pem,
                                      "servername": "localhost"})
            sock.on("error", lambda e: None)
            closed = event(sock, "close")
            await wait(closed)
        assert calls == [1, 1]
    finally:
        await shut(server)


async def test_handshake_timeout_destroys(certs):
    errs = asyncio.get_running_loop().create_future()
    server, port = await listen({**certs.server.options, "handshake_timeout": 0.2})
    server.on("tlsClientError", lambda e, s: errs.done() or errs.set_result(e))
    try:
        r, w = await asyncio.open_connection("127.0.0.1", port)
        err = await wait(errs)
        assert err.code == "ERR_TLS_HANDSHAKE_TIMEOUT"
        assert isinstance(err, TimeoutError)
        # Deliberately differs from Node: the TCP connection is closed.
        assert await asyncio.wait_for(r.read(), 5) == b""
        w.close()
    finally:
        await shut(server)


async def test_tls_over_duplex_pair(certs, tls_version):
    a, b = stream.duplex_pair()
    server = tls.create_server({**certs.server.options, **versions(tls_version)})
    got = asyncio.get_running_loop().create_future()

    def on_secure(s):
        s.on("data", lambda d: got.set_result(d))

    server.on("secureConnection", on_secure)
    server.emit("connection", b)  # inject a connection by hand
    sock = tls.connect({"socket": a, "ca": certs.root.cert_pem, "servername": "localhost"})
    await wait(sock)
    assert sock.authorized
    sock.write(b"over a duplex")
    assert await wait(got) == b"over a duplex"
    sock.destroy()


async def test_tlssocket_wrapping_duplex_directly(certs):
    a, b = stream.duplex_pair()
    srv_sock = tls.TLSSocket(b, {"is_server": True,
                                 "secure_context": tls.create_secure_context(certs.server.options)})
    secure = event(srv_sock, "secure")
    cli = tls.connect({"socket": a, "ca": certs.root.cert_pem, "servername": "localhost"})
    await wait(cli)
    await wait(secure)
    srv_sock.write(b"x" * 100000)
    assert len(await read_until(cli, 100000)) == 100000
    cli.destroy()
    srv_sock.destroy()


async def test_renegotiation_tls13_refused(certs):
    server, port = await listen(certs.server.options)
    try:
        sock = await connect(port, ca=certs.root.cert_pem, servername="localhost")
        res = asyncio.get_running_loop().create_future()
        assert sock.renegotiate({}, lambda err: res.set_result(err)) is False
        assert (await wait(res)).code == "ERR_SSL_WRONG_SSL_VERSION"
        sock.destroy()
    finally:
        await shut(server)


async def test_client_renegotiation_refused_by_default_tls12(certs):
    errs = []
    server, port = await echo_server({**certs.server.options, **versions("TLSv1.2")})
    server.on("tlsClientError", lambda e, s: errs.append(e))
    try:
        sock = await connect(port, ca=certs.root.cert_pem, servername="localhost")
        done = asyncio.get_running_loop().create_future()
        sock.on("error", lambda e: done.done() or done.set_result(e))
        sock.renegotiate({}, lambda err: done.done() or done.set_result(err))
        err = await wait(done)
        assert err is not None
        assert "NO_RENEGOTIATION" in err.code or "HANDSHAKE_FAILURE" in err.code
    finally:
        await shut(server)


async def test_renegotiation_allowed_then_limited(certs):
    server_errors = asyncio.get_running_loop().create_future()

    def on_secure(s):
        s.on("error", lambda e: server_errors.done() or server_errors.set_result(e))
        s.on("data", s.write)

    server, port = await listen({**certs.server.options, **versions("TLSv1.2"),
                                 "allow_client_renegotiation": True}, on_secure)
    try:
        sock = await connect(port, ca=certs.root.cert_pem, servername="localhost")
        sock.on("error", lambda e: None)
        closed = event(sock, "close")  # the server destroys the socket past the limit
        oks = 0
        for _ in range(tls.CLIENT_RENEG_LIMIT + 2):
            done = asyncio.get_running_loop().create_future()
            if not sock.renegotiate({}, lambda err, d=done: d.done() or d.set_result(err)):
                break
            sock.write(b"ping")
            # Past the limit the server reports ERR_TLS_SESSION_ATTACK and destroys its socket:
            # the client gets 'end' but no 'close' (as Node's), so the server's error ends it.
            await asyncio.wait({done, closed, server_errors}, timeout=TIMEOUT,
                               return_when=asyncio.FIRST_COMPLETED)
            if not done.done() or done.result() is not None:
                break
            oks += 1
        assert oks == tls.CLIENT_RENEG_LIMIT
        assert (await wait(server_errors)).code == "ERR_TLS_SESSION_ATTACK"
        sock.destroy()
    finally:
        await shut(server)


async def test_set_max_send_fragment(certs):
    server, port = await listen(certs.server.options)
    try:
        sock = await connect(port, ca=certs.root.cert_pem, servername="localhost")
        assert sock.set_max_send_fragment(512) is True
        assert sock.set_max_send_fragment(100) is False
        assert sock.set_max_send_fragment(16385) is False
        sock.destroy()
    finally:
        await shut(server)


async def test_export_keying_material_before_handshake():
    sock = tls.TLSSocket(None, {})
    with pytest.raises(tls.errors.NodeError) as info:
        sock.export_keying_material(10, "x")
    assert info.value.code == "ERR_TLS_INVALID_STATE"


async def test_unknown_option_names_closest(certs):
    with pytest.raises(TypeError, match="reject_unauthorized"):
        tls.connect(1, {"rejectUnauthorised": False})
    with pytest.raises(TypeError, match="request_cert"):
        tls.create_server({**certs.server.options, "requestCerts": True})


async def test_many_handshakes_do_not_leak(certs):
    """200 handshakes over TCP: once both ends are closed, every engine is freed (the engine is
    freed when its socket's handle closes, before 'close' reaches a waiting test)."""
    server, port = await echo_server(certs.server.options)
    try:
        base = live_engines()
        for _ in range(200):
            accepted = event(server, "secureConnection")
            sock = await connect(port, ca=certs.root.cert_pem, servername="localhost")
            peer = await wait(accepted)
            closed = asyncio.gather(event(sock, "close"), event(peer, "close"))
            sock.destroy()
            await wait(closed)
        assert live_engines() <= base
    finally:
        await shut(server)


async def test_many_in_memory_handshakes_leave_no_engine_alive(certs):
    """300 handshakes in memory, over duplex pairs: every engine is freed.  The count is exact,
    so a per-handshake leak shows at once; more handshakes only cost CPU (2,000 took over 60 s
    on a busy 2-core machine)."""
    import gc

    server_ctx = tls.create_secure_context(certs.server.options)
    client_ctx = tls.create_secure_context({"ca": certs.root.cert_pem})
    gc.collect()  # engines earlier tests left to the collector are not this test's
    base = live_engines()
    for _ in range(300):
        a, b = stream.duplex_pair()
        srv = tls.TLSSocket(b, {"is_server": True, "secure_context": server_ctx})
        cli = tls.connect({"socket": a, "secure_context": client_ctx, "servername": "localhost"})
        await wait(cli)
        closed = asyncio.gather(event(cli, "close"), event(srv, "close"))
        cli.destroy()
        srv.destroy()
        await wait(closed)
    gc.collect()
    assert live_engines() == base


async def test_callback_after_socket_closed_is_ignored(certs):
    held = asyncio.get_running_loop().create_future()
    server, port = await listen({**certs.server.options, **versions("TLSv1.2"),
                                 "secure_options": 0x4000})
    # (the second connection's callback is answered at once: its Finished waits for it)
    server.on("newSession", lambda sid, data, cb: cb() if held.done() else held.set_result(cb))
    try:
        sock = tls.connect(port, {"host": "127.0.0.1", "ca": certs.root.cert_pem,
                                  "servername": "localhost"})
        sock.on("error", lambda e: None)
        cb = await wait(held)
        closed = event(sock, "close")
        sock.destroy()
        await wait(closed)
        await asyncio.sleep(0.05)
        cb()  # the server socket is gone: ignored, no crash
        s2 = await connect(port, ca=certs.root.cert_pem, servername="localhost")
        s2.destroy()
    finally:
        await shut(server)


async def test_tls_over_unix_socket(certs, tmp_path):
    path = str(tmp_path / "tls.sock")
    server = tls.create_server(certs.server.options, lambda s: s.end(b"unix"))
    server.listen(path=path)
    await wait(server)
    try:
        assert server.address() == path
        sock = tls.connect(path, {"ca": certs.root.cert_pem, "servername": "localhost"})
        await wait(sock)
        assert await read_until(sock, 4) == b"unix"
        sock.destroy()
    finally:
        await shut(server)


async def test_max_connections_drop(certs):
    drops = []
    server, port = await listen(certs.server.options)
    server.max_connections = 1
    server.on("drop", drops.append)
    try:
        first = await connect(port, ca=certs.root.cert_pem, servername="localhost")
        second = tls.connect(port, {"host": "127.0.0.1", "ca": certs.root.cert_pem,
                                    "servername": "localhost"})
        with pytest.raises(ConnectionResetError) as info:
            await wait(second)
        assert info.value.code == "ECONNRESET"
        assert len(drops) == 1
        assert server.connections == 1
        first.destroy()
    finally:
        await shut(server)


async def test_ocsp_request_alias_on_socket(certs):
    server, port = await listen(certs.server.options)
    try:
        got = asyncio.get_running_loop().create_future()
        sock = tls.connect(port, {"host": "127.0.0.1", "ca": certs.root.cert_pem,
                                  "servername": "localhost", "request_ocsp": True})
        sock.on("OCSPRequest", got.set_result)  # seed-doc alias of 'OCSPResponse'
        await wait(sock)
        assert await wait(got) is None
        sock.destroy()
    finally:
        await shut(server)


async def test_default_server_refuses_static_rsa_and_old_versions(certs):
    from helpers.peers import run_openssl_client

    server, port = await listen(certs.server_rsa.options, lambda s: s.end(b"x"))
    try:
        res = await run_openssl_client(["-cipher", "AES128-GCM-SHA256", "-tls1_2"], stdin=b"",
                                       port=port)
        assert "Cipher is (NONE)" in res.stdout or res.rc != 0
        res = await run_openssl_client(["-tls1_1"], stdin=b"", port=port)
        assert res.rc != 0
        res = await run_openssl_client(["-cipher", "ECDHE-RSA-AES128-GCM-SHA256", "-tls1_2"],
                                       stdin=b"", port=port)
        assert "Cipher is ECDHE-RSA-AES128-GCM-SHA256" in res.stdout
    finally:
        await shut(server)


async def test_peer_vanishes_mid_record(certs):
    """A client that sends half a TLS record and disappears: that connection ends, the server
    keeps serving."""
    # (a TLS socket over a Duplex takes its allow_half_open, as in Node: False ends on 'end')
    a, b = stream.duplex_pair(allow_half_open=False)
    server = tls.create_server(certs.server.options)
    srv_events = []
    server.on("secureConnection", lambda s: (s.on("data", lambda d: srv_events.append(d)),
                                             s.on("error", lambda e: srv_events.append(e)),
                                             s.on("close", lambda *x: srv_events.append("close"))))
    server.emit("connection", b)
    cli = tls.connect({"socket": a, "ca": certs.root.cert_pem, "servername": "localhost"})
    await wait(cli)
    # write a record's first bytes underneath the TLS layer, then end the stream
    a.write(b"\x17\x03\x03\x00\x40" + b"\x00" * 10)
    a.end()
    for _ in range(100):
        if "close" in srv_events:
            break
        await asyncio.sleep(0.02)
    assert "close" in srv_events
    assert not [e for e in srv_events if isinstance(e, bytes)]
    # the same server object still serves a fresh connection
    a2, b2 = stream.duplex_pair()
    server.emit("connection", b2)
    cli2 = tls.connect({"socket": a2, "ca": certs.root.cert_pem, "servername": "localhost"})
    await wait(cli2)
    cli2.destroy()
    cli.destroy()


async def test_detailed_peer_certificate_and_secure_connection_alias(certs):
    a, b = stream.duplex_pair()
    srv = tls.TLSSocket(b, {"is_server": True,
                            "secure_context": tls.create_secure_context(certs.server.options)})
    alias = event(srv, "secureConnection")  # seed-doc alias of 'secure', with the socket
    cli = tls.connect({"socket": a, "ca": certs.root.cert_pem, "servername": "localhost"})
    await wait(cli)
    assert await wait(alias) is srv
    detailed = cli.get_peer_certificate(True)
    assert detailed["issuerCertificate"]["subject"]["CN"] == certs.intermediate.x509.subject \
        .rfc4514_string().split("CN=")[1].split(",")[0]
    root = detailed["issuerCertificate"]["issuerCertificate"]
    assert root["issuerCertificate"] is root  # self-signed root points to itself, as Node
    cli.destroy()
    srv.destroy()


async def test_disable_renegotiation_on_server_socket(certs):
    err = asyncio.get_running_loop().create_future()
    seen = []

    def on_secure(s):
        seen.append(s)
        if len(seen) == 1:  # (the second connection's server socket allows it)
            s.disable_renegotiation()
        s.on("error", lambda e: err.done() or err.set_result(e))

    server, port = await listen({**certs.server.options, **versions("TLSv1.2"),
                                 "allow_client_renegotiation": True}, on_secure)
    try:
        sock = await connect(port, ca=certs.root.cert_pem, servername="localhost")
        sock.on("error", lambda e: None)
        sock.renegotiate({}, lambda e: None)
        sock.write(b"x")
        assert (await wait(err)).code == "ERR_TLS_RENEGOTIATION_DISABLED"
        sock.destroy()  # (not reading, it would not see its server socket's end)
        # A client's disable_renegotiation() does not stop its own renegotiate() (Node's check
        # is the server's onhandshakestart): this server's socket, which did not disable it,
        # renegotiates.
        sock2 = await connect(port, ca=certs.root.cert_pem, servername="localhost")
        sock2.disable_renegotiation()
        res = asyncio.get_running_loop().create_future()
        assert sock2.renegotiate({}, lambda e=None: res.done() or res.set_result(e)) is True
        assert await wait(res) is None
        sock2.destroy()
    finally:
        await shut(server)


async def test_client_error_alias_connections_and_set_secure_context(certs):
    aliases = asyncio.get_running_loop().create_future()
    server, port = await listen(certs.server.options)
    server.on("clientError", lambda e, s: aliases.done() or aliases.set_result(e.code))
    try:
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(b"GET / HTTP/1.0\r\n\r\n")
        assert await wait(aliases) == "ERR_SSL_HTTP_REQUEST"
        w.close()
        sock = await connect(port, ca=certs.root.cert_pem, servername="localhost")
        await asyncio.sleep(0.05)
        assert server.connections == 1
        assert await wait(server.get_connections()) == 1
        server.set_secure_context(certs.server_rsa.options)
        sock2 = await connect(port, ca=certs.root.cert_pem, servername="localhost")
        assert sock2.get_peer_certificate()["raw"] == certs.server_rsa.der
        sock.destroy()
        sock2.destroy()
    finally:
        await shut(server)
