"""keylog, OCSP stapling, PSK, trace, min_dh_size, NPN (issue: the rest of the tls surface)."""

from __future__ import annotations

import asyncio
import datetime
import subprocess
import sys
import textwrap

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from cryptography.x509 import ocsp
from tlsutil import connect, event, listen, read_until, shut, wait

import nodetls as tls
from helpers.peers import run_openssl_client, spawn_openssl_server
from nodetls import stream


def versions(v):
    return {"min_version": v, "max_version": v}


# ------------------------------------------------------------------ keylog
@pytest.mark.parametrize("ver,n", [("TLSv1.2", 1), ("TLSv1.3", 5)])
async def test_keylog_events_both_sides(certs, ver, n):
    server_lines, client_lines = [], []
    server, port = await listen({**certs.server.options, **versions(ver)})
    server.on("keylog", lambda line, sock: server_lines.append((line, sock)))
    try:
        accepted = event(server, "secureConnection")   # after the server's last keylog line
        sock = tls.connect(port, {"host": "127.0.0.1", "ca": certs.root.cert_pem,
                                  "servername": "localhost"})
        sock.on("keylog", client_lines.append)
        await wait(sock)
        await wait(accepted)
        assert len(client_lines) == n
        assert len(server_lines) == n
        assert all(isinstance(line, bytes) and line.endswith(b"\n") for line in client_lines)
        assert isinstance(server_lines[0][1], tls.TLSSocket)
        assert sorted(client_lines) == sorted(line for line, _ in server_lines)
        label = b"CLIENT_RANDOM" if ver == "TLSv1.2" else b"CLIENT_TRAFFIC_SECRET_0"
        assert any(line.startswith(label + b" ") for line in client_lines)
        sock.destroy()
    finally:
        await shut(server)


async def test_keylog_matches_openssl_keylogfile(certs, tmp_path, tls_version):
    lines = []
    server, port = await listen({**certs.server.options, **versions(tls_version)},
                                lambda s: s.end(b"bye"))
    server.on("keylog", lambda line, sock: lines.append(line))
    try:
        keyfile = tmp_path / "ossl.keys"
        await run_openssl_client(["-CAfile", certs.root.cert_path, "-servername", "localhost",
                                  "-keylogfile", keyfile], stdin=b"", port=port)
        theirs = {ln for ln in keyfile.read_bytes().splitlines(keepends=True)
                  if not ln.startswith(b"#")}
        assert set(lines) == theirs
    finally:
        await shut(server)


def _hkdf_label(secret: bytes, label: bytes, length: int, hash_alg) -> bytes:
    full = b"tls13 " + label
    info = length.to_bytes(2, "big") + bytes([len(full)]) + full + b"\x00"
    return HKDFExpand(hash_alg, length, info).derive(secret)


async def test_keylog_lines_decrypt_captured_traffic(certs):
    """The TLS 1.3 CLIENT_TRAFFIC_SECRET_0 line decrypts the first application record the
    client sends, captured between the two ends."""
    a, b = stream.duplex_pair()
    captured = bytearray()
    orig_write = a.write

    def tap(data, *args, **kw):
        captured.extend(bytes(data))
        return orig_write(data, *args, **kw)

    a.write = tap
    server = tls.create_server({**certs.server.options, "ciphers": "TLS_AES_128_GCM_SHA256"})
    got = asyncio.get_running_loop().create_future()
    server.on("secureConnection", lambda s: s.on("data", lambda d: got.done() or
                                                   got.set_result(d)))
    server.emit("connection", b)
    lines = []
    sock = tls.connect({"socket": a, "ca": certs.root.cert_pem, "servername": "localhost"})
    sock.on("keylog", lines.append)
    await wait(sock)
    start = len(captured)
    sock.write(b"secret message")
    assert await wait(got) == b"secret message"
    secret_line = next(ln for ln in lines if ln.startswith(b"CLIENT_TRAFFIC_SECRET_0 "))
    secret = bytes.fromhex(secret_line.split()[2].decode())
    key = _hkdf_label(secret, b"key", 16, hashes.SHA256())
    iv = _hkdf_label(secret, b"iv", 12, hashes.SHA256())
    record = bytes(captured[start:])
    assert record[0] == 23  # application_data
    length = int.from_bytes(record[3:5], "big")
    body = record[5 : 5 + length]
    nonce = bytes(x ^ y for x, y in zip(iv, (0).to_bytes(12, "big"), strict=True))
    plain = AESGCM(key).decrypt(nonce, body, record[:5])
    assert plain[:-1] == b"secret message" and plain[-1] == 23
    sock.destroy()
    assert ChaCha20Poly1305  # imported for symmetry with other suites


async def test_sslkeylogfile_environment(certs, tmp_path):
    path = tmp_path / "keys.log"
    server, port = await listen(certs.server.options, lambda s: s.end(b"x"))
    try:
        script = textwrap.dedent(f"""
            import asyncio, nodetls as tls
            async def main():
                s = tls.connect({port}, {{'host': '127.0.0.1', 'servername': 'localhost',
                    'ca': open({str(certs.root.cert_path)!r}, 'rb').read()}})
                await asyncio.wait_for(s, 10)
                s.destroy()
            asyncio.run(main())
        """)
        env = dict(__import__("os").environ, SSLKEYLOGFILE=str(path))
        proc = await asyncio.create_subprocess_exec(sys.executable, "-c", script, env=env,
                                                    stderr=subprocess.PIPE)
        _, err = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == 0, err.decode()
        text = path.read_bytes()
        assert text.count(b"\n") == 5
        assert b"CLIENT_TRAFFIC_SECRET_0 " in text
        assert (path.stat().st_mode & 0o777) == 0o600
    finally:
        await shut(server)


# ------------------------------------------------------------------ OCSP
def build_ocsp_response(certs, bundle) -> bytes:
    now = datetime.datetime.now(datetime.UTC)
    issuer = certs.intermediate
    builder = ocsp.OCSPResponseBuilder().add_response(
        cert=bundle.x509, issuer=issuer.x509, algorithm=hashes.SHA256(),
        cert_status=ocsp.OCSPCertStatus.GOOD, this_update=now,
        next_update=now + datetime.timedelta(days=1), revocation_time=None,
        revocation_reason=None,
    ).responder_id(ocsp.OCSPResponderEncoding.HASH, issuer.x509)
    from cryptography.hazmat.primitives.serialization import Encoding

    return builder.sign(issuer.key, hashes.SHA256()).public_bytes(Encoding.DER)


@pytest.mark.parametrize("ver", ["TLSv1.2", "TLSv1.3"])
async def test_ocsp_stapling(certs, ver):
    response = build_ocsp_response(certs, certs.ocsp)
    seen = []

    async def on_ocsp(cert, issuer, cb):
        seen.append((cert, issuer))
        await asyncio.sleep(0.02)
        cb(None, response)

    server, port = await listen({**certs.ocsp.options, **versions(ver)})
    server.on("OCSPRequest", on_ocsp)
    try:
        order = []
        sock = tls.connect(port, {"host": "127.0.0.1", "ca": certs.root.cert_pem,
                                  "servername": "localhost", "request_ocsp": True})
        sock.on("OCSPResponse", lambda r: order.append(("resp", r)))
        sock.on("secureConnect", lambda: order.append(("secure", None)))
        await wait(sock)
        assert order[0] == ("resp", response) and order[1][0] == "secure"
        assert seen[0][0] == certs.ocsp.der
        assert seen[0][1] == certs.intermediate.der
        parsed = ocsp.load_der_ocsp_response(order[0][1])
        assert parsed.certificate_status == ocsp.OCSPCertStatus.GOOD
        sock.destroy()
        # without request_ocsp the listener is not asked
        seen.clear()
        s2 = await connect(port, ca=certs.root.cert_pem, servername="localhost")
        assert seen == []
        s2.destroy()
    finally:
        await shut(server)


async def test_ocsp_nothing_stapled_and_bad_values(certs):
    server, port = await listen(certs.ocsp.options)
    server.on("OCSPRequest", lambda cert, issuer, cb: cb(None, None))
    try:
        resp = asyncio.get_running_loop().create_future()
        sock = tls.connect(port, {"host": "127.0.0.1", "ca": certs.root.cert_pem,
                                  "servername": "localhost", "request_ocsp": True})
        sock.on("OCSPResponse", resp.set_result)
        await wait(sock)
        assert await wait(resp) is None
        sock.destroy()
        server.remove_all_listeners("OCSPRequest")
        errs = asyncio.get_running_loop().create_future()
        server.on("tlsClientError", lambda e, s: errs.done() or errs.set_result(e))
        server.on("OCSPRequest", lambda cert, issuer, cb: cb(None, "not bytes"))
        s2 = tls.connect(port, {"host": "127.0.0.1", "ca": certs.root.cert_pem,
                                "servername": "localhost", "request_ocsp": True})
        s2.on("error", lambda e: None)
        assert isinstance(await wait(errs), TypeError)
    finally:
        await shut(server)


async def test_ocsp_with_sni_uses_chosen_certificate(certs):
    response = build_ocsp_response(certs, certs.wildcard)
    seen = []
    server, port = await listen(certs.ocsp.options)
    server.add_context("*.example.com", certs.wildcard.options)
    server.on("OCSPRequest", lambda cert, issuer, cb: (seen.append(cert), cb(None, response)))
    try:
        resp = asyncio.get_running_loop().create_future()
        sock = tls.connect(port, {"host": "127.0.0.1", "ca": certs.root.cert_pem,
                                  "servername": "a.example.com", "request_ocsp": True})
        sock.on("OCSPResponse", resp.set_result)
        await wait(sock)
        assert seen == [certs.wildcard.der]
        assert await wait(resp) == response
        sock.destroy()
    finally:
        await shut(server)


async def test_ocsp_openssl_client_status(certs):
    response = build_ocsp_response(certs, certs.ocsp)
    server, port = await listen(certs.ocsp.options, lambda s: s.end(b"x"))
    server.on("OCSPRequest", lambda cert, issuer, cb: cb(None, response))
    try:
        res = await run_openssl_client(["-CAfile", certs.root.cert_path, "-servername",
                                        "localhost", "-status"], stdin=b"", port=port)
        assert "OCSP Response Status: successful" in res.stdout
        assert "Cert Status: good" in res.stdout
    finally:
        await shut(server)


# ------------------------------------------------------------------ PSK
PSK = bytes.fromhex("1a2b3c4d5e6f708192a3b4c5d6e7f801")


@pytest.mark.parametrize("ver", ["TLSv1.2", "TLSv1.3"])
async def test_psk_nodetls_both_sides(ver):
    identities = []

    def server_psk(sock, identity):
        identities.append(identity)
        return PSK if identity == "alice" else None

    ciphers = "PSK-AES128-GCM-SHA256" if ver == "TLSv1.2" else "TLS_AES_128_GCM_SHA256"
    server, port = await listen({"psk_callback": server_psk, "psk_identity_hint": "hint-1",
                                 "ciphers": ciphers, **versions(ver)}, lambda s: s.end(b"ok"))
    try:
        hints = []

        def client_psk(hint):
            hints.append(hint)
            return {"psk": PSK, "identity": "alice"}

        sock = tls.connect(port, {"host": "127.0.0.1", "psk_callback": client_psk,
                                  "ciphers": ciphers, "check_server_identity": lambda h, c: None,
                                  **versions(ver)})
        await wait(sock)
        assert await read_until(sock, 2) == b"ok"
        assert identities == ["alice"]
        assert hints == (["hint-1"] if ver == "TLSv1.2" else [None])
        sock.destroy()
    finally:
        await shut(server)


async def test_psk_wrong_key_fails(certs):
    errs = asyncio.get_running_loop().create_future()
    server, port = await listen({"psk_callback": lambda s, i: PSK,
                                 "ciphers": "PSK-AES128-GCM-SHA256", **versions("TLSv1.2")})
    server.on("tlsClientError", lambda e, s: errs.done() or errs.set_result(e))
    try:
        sock = tls.connect(port, {"host": "127.0.0.1", "ciphers": "PSK-AES128-GCM-SHA256",
                                  "psk_callback": lambda h: {"psk": b"\x00" * 16,
                                                             "identity": "x"},
                                  **versions("TLSv1.2")})
        with pytest.raises(tls.errors.TLSError) as info:
            await wait(sock)
        assert info.value.code == "ERR_SSL_SSLV3_ALERT_BAD_RECORD_MAC"
        # (Node v20: the first error of OpenSSL's queue, the AES-GCM tag's failure)
        assert (await wait(errs)).code == "ERR_SSL_CIPHER_OPERATION_FAILED"
    finally:
        await shut(server)


async def test_psk_callback_raising_is_reported():
    errs = asyncio.get_running_loop().create_future()

    def bad(sock, identity):
        raise RuntimeError("psk store broken")

    server, port = await listen({"psk_callback": bad, "ciphers": "PSK-AES128-GCM-SHA256",
                                 **versions("TLSv1.2")})
    server.on("tlsClientError", lambda e, s: errs.done() or errs.set_result(e))
    try:
        sock = tls.connect(port, {"host": "127.0.0.1", "ciphers": "PSK-AES128-GCM-SHA256",
                                  "psk_callback": lambda h: {"psk": PSK, "identity": "x"},
                                  **versions("TLSv1.2")})
        sock.on("error", lambda e: None)
        err = await wait(errs)
        assert isinstance(err, RuntimeError) and "psk store broken" in str(err)
    finally:
        await shut(server)


@pytest.mark.parametrize("ver", ["TLSv1.2", "TLSv1.3"])
async def test_psk_interop_openssl(ver):
    ciphers = "PSK-AES128-GCM-SHA256" if ver == "TLSv1.2" else "TLS_AES_128_GCM_SHA256"
    flag = "-tls1_2" if ver == "TLSv1.2" else "-tls1_3"
    server, port = await listen({"psk_callback": lambda s, i: PSK if i == "bob" else None,
                                 "ciphers": ciphers, **versions(ver)},
                                lambda s: s.end(b"psk-ok\n"))
    try:
        args = ["-psk", PSK.hex(), "-psk_identity", "bob", flag, "-ign_eof"]
        args += ["-cipher", ciphers] if ver == "TLSv1.2" else ["-ciphersuites", ciphers]
        res = await run_openssl_client(args, stdin=b"", port=port)
        assert "psk-ok" in res.stdout, res.stdout + res.stderr
    finally:
        await shut(server)
    sargs = ["-psk", PSK.hex(), "-psk_identity", "bob", "-nocert", flag, "-rev"]
    sargs += ["-cipher", ciphers] if ver == "TLSv1.2" else ["-ciphersuites", ciphers]
    async with spawn_openssl_server(sargs) as srv:
        sock = tls.connect(srv.port, {"host": "127.0.0.1", "ciphers": ciphers,
                                      "psk_callback": lambda h: {"psk": PSK, "identity": "bob"},
                                      **versions(ver)})
        await wait(sock)
        sock.write(b"abc\n")
        assert (await read_until(sock, 4)).strip() == b"cba"
        sock.destroy()


# ------------------------------------------------------------------ trace
async def test_enable_trace_writes_protocol_trace_to_stderr(certs):
    server, port = await listen(certs.server.options, lambda s: s.end(b"x"))
    try:
        script = textwrap.dedent(f"""
            import asyncio, nodetls as tls
            async def main():
                s = tls.connect({port}, {{'host': '127.0.0.1', 'servername': 'localhost',
                    'enable_trace': True,
                    'ca': open({str(certs.root.cert_path)!r}, 'rb').read()}})
                await asyncio.wait_for(s, 10)
                s.destroy()
            asyncio.run(main())
        """)
        proc = await asyncio.create_subprocess_exec(sys.executable, "-c", script,
                                                    stderr=subprocess.PIPE)
        _, err = await asyncio.wait_for(proc.communicate(), 30)
        # (OpenSSL's own text: 'Sent Record' under 3.0, 'Sent TLS Record' from 3.2 on)
        assert b"ClientHello" in err and (b"Sent Record" in err or b"Sent TLS Record" in err)
    finally:
        await shut(server)


# ------------------------------------------------------------------ min_dh_size
async def test_min_dh_size(certs, tmp_path):
    proc = await asyncio.create_subprocess_exec(
        "openssl", "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:ffdhe2048",
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    dh, _ = await asyncio.wait_for(proc.communicate(), 30)
    server, port = await listen({**certs.server_rsa.options, "dhparam": dh,
                                 "ciphers": "DHE-RSA-AES128-GCM-SHA256", **versions("TLSv1.2")})
    try:
        with pytest.raises(tls.errors.NodeError) as info:
            await connect(port, ca=certs.root.cert_pem, servername="localhost",
                          ciphers="DHE-RSA-AES128-GCM-SHA256", min_dh_size=4096)
        assert info.value.code == "ERR_TLS_DH_PARAM_SIZE"
        sock = await connect(port, ca=certs.root.cert_pem, servername="localhost",
                             ciphers="DHE-RSA-AES128-GCM-SHA256")
        assert sock.get_ephemeral_key_info() == {"type": "DH", "size": 2048}
        sock.destroy()
    finally:
        await shut(server)


# ------------------------------------------------------------------ NPN
async def test_npn_tls12(certs):
    got = asyncio.get_running_loop().create_future()
    server, port = await listen({**certs.server.options, **versions("TLSv1.2"),
                                 "npn_protocols": ["spdy/2", "http/1.1"]},
                                lambda s: got.set_result(s.npn_protocol))
    try:
        sock = await connect(port, ca=certs.root.cert_pem, servername="localhost",
                             npn_protocols=["http/1.1"], max_version="TLSv1.2")
        assert sock.npn_protocol == "http/1.1"
        assert await wait(got) == "http/1.1"
        sock.destroy()
    finally:
        await shut(server)


async def test_ocsp_from_openssl_responder(certs, tmp_path):
    """The server fetches a real response from `openssl ocsp` running as a responder on
    loopback, and staples it."""
    import urllib.request

    from cryptography.hazmat.primitives.serialization import Encoding

    from helpers.peers import free_port, spawn_process

    leaf, issuer = certs.ocsp, certs.intermediate
    expiry = leaf.x509.not_valid_after_utc.strftime("%y%m%d%H%M%SZ")
    subject = "/" + "/".join(a.rfc4514_string() for a in reversed(leaf.x509.subject.rdns))
    index = tmp_path / "index.txt"
    index.write_text(f"V\t{expiry}\t\t{leaf.x509.serial_number:X}\tunknown\t{subject}\n")
    port = free_port()
    argv = ["openssl", "ocsp", "-index", str(index), "-port", str(port),
            "-rsigner", str(issuer.cert_path), "-rkey", str(issuer.key_path),
            "-CA", str(issuer.cert_path), "-ignore_err"]
    async with spawn_process(argv, ready=r"waiting for OCSP client connections",
                             ready_on="any"):
        def fetch(cert_der, issuer_der):
            from cryptography import x509

            req = ocsp.OCSPRequestBuilder().add_certificate(
                x509.load_der_x509_certificate(cert_der),
                x509.load_der_x509_certificate(issuer_der), hashes.SHA1(),
            ).build().public_bytes(Encoding.DER)
            http = urllib.request.Request(f"http://127.0.0.1:{port}/", data=req,
                                          headers={"Content-Type": "application/ocsp-request"})
            with urllib.request.urlopen(http, timeout=10) as r:  # noqa: S310 - loopback
                return r.read()

        async def on_ocsp(cert, iss, cb):
            cb(None, await asyncio.to_thread(fetch, cert, iss))

        server, sport = await listen(leaf.options)
        server.on("OCSPRequest", on_ocsp)
        try:
            resp = asyncio.get_running_loop().create_future()
            sock = tls.connect(sport, {"host": "127.0.0.1", "ca": certs.root.cert_pem,
                                       "servername": "localhost", "request_ocsp": True})
            sock.on("OCSPResponse", resp.set_result)
            await wait(sock)
            parsed = ocsp.load_der_ocsp_response(await wait(resp))
            assert parsed.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
            assert parsed.certificate_status == ocsp.OCSPCertStatus.GOOD
            assert parsed.serial_number == leaf.x509.serial_number
            sock.destroy()
        finally:
            await shut(server)
