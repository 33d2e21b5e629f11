"""The shared fixtures and peer helpers are known-good: certificates verify (or fail) as intended
with Python's own ``ssl`` module and with Node, and each peer helper reaches a real process."""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key, pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID

from helpers.certs import PASSPHRASE, CertBundle, CertSet
from helpers.peers import (
    LOOPBACK,
    PeerTimeout,
    free_port,
    in_ci,
    require_peer,
    run_gnutls_client,
    run_node,
    run_openssl_client,
    run_process,
    spawn_gnutls_server,
    spawn_node,
    spawn_openssl_server,
)

TIMEOUT = 10


# -- the certificates themselves --------------------------------------------------------------


def test_files_match_pem_bytes(certs: CertSet) -> None:
    for name in ("root", "intermediate", "server", "server_rsa", "client", "self_signed"):
        b: CertBundle = getattr(certs, name)
        assert b.cert_path.read_bytes() == b.cert_pem
        assert b.key_path.read_bytes() == b.key_pem
        assert b.chain_path.read_bytes() == b.chain_pem
        assert b.ca_path.read_bytes() == b.ca_pem
        assert b.cert_path.parent == certs.dir
        assert x509.load_pem_x509_certificate(b.cert_pem) == b.x509


def test_server_shape(certs: CertSet) -> None:
    s = certs.server
    san = s.x509.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(n.value) for n in san] == ["localhost", "127.0.0.1", "::1"]
    assert isinstance(s.key, ec.EllipticCurvePrivateKey) and s.key.curve.name == "secp256r1"
    assert isinstance(certs.server_rsa.key, rsa.RSAPrivateKey)
    assert certs.server_rsa.key.key_size == 2048
    assert certs.server_rsa.x509.subject == s.x509.subject
    # chain = leaf + intermediate, trust anchor = root
    assert s.chain == (s.x509, certs.intermediate.x509)
    assert s.chain_pem == s.cert_pem + certs.intermediate.cert_pem
    assert s.ca_pem == certs.root.cert_pem
    s.x509.verify_directly_issued_by(certs.intermediate.x509)
    certs.intermediate.x509.verify_directly_issued_by(certs.root.x509)
    certs.server_direct.x509.verify_directly_issued_by(certs.root.x509)
    assert certs.server_direct.chain_pem == certs.server_direct.cert_pem


def test_validity_variants(certs: CertSet) -> None:
    now = dt.datetime.now(dt.UTC)
    assert certs.expired.x509.not_valid_after_utc < now
    assert certs.not_yet_valid.x509.not_valid_before_utc > now
    ss = certs.self_signed
    assert ss.x509.issuer == ss.x509.subject and ss.ca_pem == ss.cert_pem
    ss.x509.verify_directly_issued_by(ss.x509)


def test_client_certificates(certs: CertSet) -> None:
    for b in (certs.client, certs.client_rsa):
        eku = b.x509.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
        b.x509.verify_directly_issued_by(certs.client_ca.x509)
        assert b.ca_pem == certs.client_ca.cert_pem
    assert certs.client_self_signed.x509.issuer == certs.client_self_signed.x509.subject


def test_encrypted_key_pfx_crl(certs: CertSet) -> None:
    enc = certs.encrypted
    assert b"ENCRYPTED PRIVATE KEY" in enc.key_pem and enc.passphrase == PASSPHRASE
    with pytest.raises(TypeError):
        load_pem_private_key(enc.key_pem, None)
    key = load_pem_private_key(enc.key_pem, PASSPHRASE.encode())
    assert key.public_key() == certs.server.key.public_key()
    assert enc.options["passphrase"] == PASSPHRASE

    p12 = pkcs12.load_pkcs12(certs.pfx.data, PASSPHRASE.encode())
    assert p12.cert is not None and p12.cert.certificate == certs.server.x509
    assert [c.certificate for c in p12.additional_certs] == [certs.intermediate.x509]
    assert certs.pfx.path.read_bytes() == certs.pfx.data

    crl = x509.load_pem_x509_crl(certs.crl.pem)
    assert crl.get_revoked_certificate_by_serial_number(certs.revoked.x509.serial_number)
    assert crl.get_revoked_certificate_by_serial_number(certs.server.x509.serial_number) is None
    assert crl.is_signature_valid(certs.intermediate.key.public_key())  # type: ignore[arg-type]
    assert len(certs.crl.pems) == 2


def test_ocsp_leaf_and_factory(certs: CertSet, pki) -> None:
    aia = certs.ocsp.x509.extensions.get_extension_for_oid(
        ExtensionOID.AUTHORITY_INFORMATION_ACCESS).value
    assert [d.access_location.value for d in aia] == [
        "http://127.0.0.1:8888/ocsp", "http://127.0.0.1:8888/intermediate.crt"]
    leaf = pki.make_leaf("a.example", ["a.example", "10.0.0.1"], key_type="rsa",
                         issuer=certs.root, is_ca=True)
    assert leaf.x509.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    leaf.x509.verify_directly_issued_by(certs.root.x509)
    assert leaf.cert_path.exists() and leaf.name != "a.example-1"
    again = pki.make_leaf("a.example")
    assert again.cert_path != leaf.cert_path  # unique file names


# -- with Python's ssl module (an independent TLS stack, in process) ---------------------------


def _server_ctx(b: CertBundle, tmp: Path) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(b.chain_path, b.key_path, password=b.passphrase)
    return ctx


async def _handshake(server_ctx: ssl.SSLContext, client_ctx: ssl.SSLContext,
                     server_hostname: str = "localhost") -> None:
    async def on_conn(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        w.close()

    server = await asyncio.start_server(on_conn, LOOPBACK, 0, ssl=server_ctx)
    port = server.sockets[0].getsockname()[1]
    try:
        _r, w = await asyncio.wait_for(asyncio.open_connection(
            LOOPBACK, port, ssl=client_ctx, server_hostname=server_hostname), TIMEOUT)
        w.close()
    finally:
        server.close()
        await asyncio.wait_for(server.wait_closed(), TIMEOUT)


def _client_ctx(ca: bytes) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cadata=ca.decode())
    return ctx


@pytest.mark.parametrize("name", ["server", "server_rsa", "server_direct", "self_signed",
                                  "encrypted", "ocsp"])
async def test_ssl_module_accepts(certs: CertSet, tmp_path: Path, name: str) -> None:
    b: CertBundle = getattr(certs, name)
    await _handshake(_server_ctx(b, tmp_path), _client_ctx(b.ca_pem))
    await _handshake(_server_ctx(b, tmp_path), _client_ctx(b.ca_pem), "127.0.0.1")


@pytest.mark.parametrize(("name", "reason"), [
    ("expired", "certificate has expired"),
    ("not_yet_valid", "certificate is not yet valid"),
])
async def test_ssl_module_rejects(certs: CertSet, tmp_path: Path, name: str, reason: str) -> None:
    b: CertBundle = getattr(certs, name)
    with pytest.raises(ssl.SSLCertVerificationError, match=reason):
        await _handshake(_server_ctx(b, tmp_path), _client_ctx(b.ca_pem))


async def test_ssl_module_wrong_ca_and_name(certs: CertSet, tmp_path: Path) -> None:
    with pytest.raises(ssl.SSLCertVerificationError, match="self.signed certificate"):
        await _handshake(_server_ctx(certs.self_signed, tmp_path), _client_ctx(certs.root.cert_pem))
    with pytest.raises(ssl.SSLCertVerificationError, match="mismatch"):
        await _handshake(_server_ctx(certs.server, tmp_path), _client_ctx(certs.root.cert_pem),
                         "bad.example")


async def test_ssl_module_crl(certs: CertSet, tmp_path: Path) -> None:
    crls = tmp_path / "crls.pem"
    crls.write_bytes(b"".join(certs.crl.pems))

    def ctx_with_crls() -> ssl.SSLContext:
        ctx = _client_ctx(certs.root.cert_pem)
        ctx.load_verify_locations(cafile=crls)
        ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_CHAIN
        return ctx

    await _handshake(_server_ctx(certs.server, tmp_path), ctx_with_crls())
    with pytest.raises(ssl.SSLCertVerificationError, match="revoked"):
        await _handshake(_server_ctx(certs.revoked, tmp_path), ctx_with_crls())


async def test_ssl_module_client_cert(certs: CertSet, tmp_path: Path) -> None:
    server = _server_ctx(certs.server, tmp_path)
    server.verify_mode = ssl.CERT_REQUIRED
    server.load_verify_locations(cadata=certs.client_ca.cert_pem.decode())
    client = _client_ctx(certs.root.cert_pem)
    client.load_cert_chain(certs.client.chain_path, certs.client.key_path)
    await _handshake(server, client)


# -- with Node ---------------------------------------------------------------------------------

NODE_CONTEXTS = r"""
const tls = require('tls'); const fs = require('fs');
const [key, cert, enc, pfx, root, crl, rootCrl, pass] = process.argv.slice(2);
const r = (p) => fs.readFileSync(p);
tls.createSecureContext({key: r(key), cert: r(cert)});
tls.createSecureContext({key: r(enc), passphrase: pass, cert: r(cert)});
tls.createSecureContext({pfx: r(pfx), passphrase: pass});
tls.createSecureContext({ca: r(root), crl: [r(crl), r(rootCrl)]});
try { tls.createSecureContext({key: r(enc), passphrase: 'wrong', cert: r(cert)}); console.log('NO-THROW'); }
catch (e) { console.log('WRONG-PASS', e.message.includes('bad decrypt')); }
console.log('OK');
"""


async def test_node_loads_fixture_material(certs: CertSet) -> None:
    require_peer("node")
    rc, out, err = await run_node(
        NODE_CONTEXTS, certs.server.key_path, certs.server.chain_path, certs.encrypted.key_path,
        certs.pfx.path, certs.root.cert_path, certs.crl.path, certs.crl.root_path, PASSPHRASE,
        timeout=TIMEOUT)
    assert rc == 0, err
    assert out.split() == ["WRONG-PASS", "true", "OK"]


NODE_VERIFY = r"""
const tls = require('tls'); const fs = require('fs');
const [chain, key, ca, host, crl, rootCrl] = process.argv.slice(2);
const srv = tls.createServer({key: fs.readFileSync(key), cert: fs.readFileSync(chain)},
                             (s) => s.end('hi'));
srv.listen(0, '127.0.0.1', () => {
  const opts = {port: srv.address().port, host: '127.0.0.1', servername: host,
                ca: fs.readFileSync(ca), rejectUnauthorized: false};
  if (crl) opts.crl = [fs.readFileSync(crl), fs.readFileSync(rootCrl)];
  const c = tls.connect(opts, () => {
    const e = tls.checkServerIdentity(host, c.getPeerCertificate());
    console.log(JSON.stringify({authorized: c.authorized, error: c.authorizationError,
                                identity: e ? e.code : null}));
    c.destroy(); srv.close();
  });
  c.on('error', (e) => { console.log(JSON.stringify({connectError: e.code})); srv.close(); });
});
"""


@pytest.mark.parametrize(("name", "host", "expected"), [
    ("server", "localhost", {"authorized": True, "error": None, "identity": None}),
    ("server_rsa", "localhost", {"authorized": True, "error": None, "identity": None}),
    ("server_direct", "localhost", {"authorized": True, "error": None, "identity": None}),
    # tls.connect runs checkServerIdentity itself: a mismatch makes the socket unauthorized.
    ("server", "bad.example", {"authorized": False, "error": "ERR_TLS_CERT_ALTNAME_INVALID",
                               "identity": "ERR_TLS_CERT_ALTNAME_INVALID"}),
    ("expired", "localhost", {"authorized": False, "error": "CERT_HAS_EXPIRED", "identity": None}),
    ("not_yet_valid", "localhost",
     {"authorized": False, "error": "CERT_NOT_YET_VALID", "identity": None}),
    ("self_signed", "localhost",
     {"authorized": False, "error": "DEPTH_ZERO_SELF_SIGNED_CERT", "identity": None}),
    ("revoked", "localhost", {"authorized": False, "error": "CERT_REVOKED", "identity": None}),
])
async def test_node_verifies_fixtures(certs: CertSet, name: str, host: str,
                                      expected: dict[str, object]) -> None:
    import json

    require_peer("node")
    b: CertBundle = getattr(certs, name)
    ca = certs.root.cert_path  # self_signed is *not* trusted here: that is the point
    crl = [certs.crl.path, certs.crl.root_path] if name in ("revoked", "server") else []
    rc, out, err = await run_node(NODE_VERIFY, b.chain_path, b.key_path, ca, host, *crl,
                                  timeout=TIMEOUT)
    assert rc == 0, err
    assert json.loads(out) == expected


# -- peer helpers ------------------------------------------------------------------------------


def test_free_port_and_ci_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    assert 0 < port < 65536
    monkeypatch.setenv("CI", "true")
    assert in_ci()
    with pytest.raises(pytest.fail.Exception, match="CI must have"):
        require_peer("definitely-not-a-real-peer-binary")
    monkeypatch.setenv("CI", "false")
    assert not in_ci()
    with pytest.raises(pytest.skip.Exception, match="not found"):
        require_peer("definitely-not-a-real-peer-binary")


async def test_run_process_timeout_kills() -> None:
    with pytest.raises(PeerTimeout, match="did not exit"):
        await run_process(["sleep", "30"], timeout=0.5)


async def test_run_node_args_and_exit_code() -> None:
    rc, out, err = await run_node(
        "console.log(process.argv.slice(2).join('|')); console.error('E'); process.exit(3)",
        "a", "b c", timeout=TIMEOUT)
    assert (rc, out, err) == (3, "a|b c\n", "E\n")


NODE_ECHO = r"""
const net = require('net');
const srv = net.createServer((s) => s.pipe(s));
srv.listen(0, '127.0.0.1', () => console.log('LISTENING', srv.address().port));
"""


async def test_spawn_node_echo_server() -> None:
    async with spawn_node(NODE_ECHO, timeout=TIMEOUT) as srv:
        assert srv.port
        r, w = await asyncio.wait_for(asyncio.open_connection(LOOPBACK, srv.port), TIMEOUT)
        w.write(b"ping\n")
        assert await asyncio.wait_for(r.readline(), TIMEOUT) == b"ping\n"
        w.close()
        proc = srv.proc
    assert proc is not None and proc.returncode is not None  # killed on exit


async def test_spawn_node_not_ready_reports_output() -> None:
    with pytest.raises(PeerTimeout, match="closed without") as info:
        async with spawn_node("console.error('boom'); process.exit(2)", timeout=TIMEOUT):
            pass
    assert "boom" in str(info.value)


async def test_openssl_server_with_python_ssl(certs: CertSet) -> None:
    args = ["-cert", certs.server.cert_path, "-cert_chain", certs.intermediate.cert_path,
            "-key", certs.server.key_path, "-www"]
    async with spawn_openssl_server(args, timeout=TIMEOUT) as srv:
        r, w = await asyncio.wait_for(asyncio.open_connection(
            LOOPBACK, srv.port, ssl=_client_ctx(certs.root.cert_pem),
            server_hostname="localhost"), TIMEOUT)
        w.write(b"GET / HTTP/1.0\r\n\r\n")
        body = await asyncio.wait_for(r.read(), TIMEOUT)
        assert body.startswith(b"HTTP/1.0 200 ok")
        w.close()


async def test_openssl_client_against_node_server(certs: CertSet) -> None:
    js = r"""
    const tls = require('tls'); const fs = require('fs');
    const srv = tls.createServer({key: fs.readFileSync(process.argv[2]),
                                  cert: fs.readFileSync(process.argv[3])},
                                 (s) => s.end('hello from node\n'));
    srv.listen(0, '127.0.0.1', () => console.log('LISTENING', srv.address().port));
    """
    async with spawn_node(js, certs.server.key_path, certs.server.chain_path,
                          timeout=TIMEOUT) as srv:
        rc, out, err = await run_openssl_client(
            ["-CAfile", certs.root.cert_path, "-verify_return_error", "-servername", "localhost",
             "-ign_eof"],
            stdin=b"", port=srv.port, timeout=TIMEOUT)
        assert "hello from node" in out
        assert "Verify return code: 0 (ok)" in out


async def test_gnutls_peers(certs: CertSet) -> None:
    args = ["--x509certfile", certs.server.chain_path, "--x509keyfile", certs.server.key_path,
            "--echo", "--quiet"]
    async with spawn_gnutls_server(args, timeout=TIMEOUT) as srv:
        ctx = _client_ctx(certs.root.cert_pem)
        r, w = await asyncio.wait_for(asyncio.open_connection(
            LOOPBACK, srv.port, ssl=ctx, server_hostname="localhost"), TIMEOUT)
        w.write(b"echo me\n")
        assert await asyncio.wait_for(r.readline(), TIMEOUT) == b"echo me\n"
        w.close()
        rc, out, err = await run_gnutls_client(
            ["--x509cafile", certs.root.cert_path, "--verify-hostname", "localhost"],
            stdin=b"gnutls says hi\n", port=srv.port, timeout=TIMEOUT)
        assert rc == 0, err
        assert "gnutls says hi" in out
