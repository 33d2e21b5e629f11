"""What a context ``SNICallback`` returns lends the connection, as in Node v20.

Node's ``CertCbDone`` (``UseSNIContext`` + ``SetCACerts``) copies into the connection the SNI
context's certificate, key and chain (the chain only when the context has one), its verify store
and its client CA list; the connection's ``SSL_CTX`` stays the default context (ciphers, other
key types' certificates, ticket keys: ``tests/nego/test_nego.py``,
``tests/tls/test_tls_sni_ticket_keys.py``).  Each expectation below was observed with node v20
on the same scenario (a default context whose certificate comes with its intermediate and whose
``ca`` is the root; an SNI context whose certificate, issued by the root itself, comes alone,
with the client CA as ``ca``; ``openssl s_client`` as the client, with a client certificate).
nodetls used to switch the whole ``SSL_CTX`` (``SSL_set_SSL_CTX``).
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from tlsutil import TIMEOUT, listen

import nodetls as tls

SNI_NAME = "other.example"


async def _s_client(port: int, certs: Any, *extra: str) -> str:
    """``openssl s_client`` naming ``SNI_NAME``, with the client certificate: its output."""
    proc = await asyncio.create_subprocess_exec(
        "openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", SNI_NAME,
        "-showcerts", "-cert", str(certs.client.cert_path), "-key", str(certs.client.key_path),
        *extra, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL)
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), TIMEOUT)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    return out.decode("utf-8", "replace")


async def _serve(certs: Any, sni_options: dict[str, Any], *client_args: str
                 ) -> tuple[dict[str, Any], str]:
    """The scenario: what the server saw (``'secureConnection'`` or ``'tlsClientError'``) and
    what ``s_client`` printed."""
    direct = certs.pki.make_leaf(SNI_NAME, [f"DNS:{SNI_NAME}"], issuer=certs.root,
                                 name="sni-direct")
    sni_ctx = tls.create_secure_context({"key": direct.key_pem, "cert": direct.chain_pem,
                                         "ca": certs.client_ca.cert_pem, **sni_options})
    seen: dict[str, Any] = {}
    done = asyncio.get_running_loop().create_future()

    def on_secure(sock: tls.TLSSocket) -> None:
        own = sock.get_certificate() or {}
        seen.update(own=own.get("subject", {}).get("CN"), authorized=sock.authorized,
                    error=sock.authorization_error)
        sock.end(b"x")
        done.done() or done.set_result(None)

    def on_client_error(err: Any, *_: Any) -> None:
        seen["tlsClientError"] = getattr(err, "code", None)
        done.done() or done.set_result(None)

    server, port = await listen({
        "key": certs.server.key_pem, "cert": certs.server.chain_pem, "ca": certs.root.cert_pem,
        "request_cert": True, "reject_unauthorized": False,
        "sni_callback": lambda name, cb: cb(None, sni_ctx if name == SNI_NAME else None)},
        on_secure)
    server.on("tlsClientError", on_client_error)
    try:
        out = await _s_client(port, certs, *client_args)
        await asyncio.wait_for(done, TIMEOUT)
    finally:
        server.close()
    return seen, out


async def test_the_sni_context_lends_its_certificate_and_verify_store(certs):
    # node v20: the SNI certificate goes out with the default context's intermediate (the SNI
    # context has no chain: SSL_set1_chain is skipped, the connection's stays), so s_client gets
    # 2 certificates and cannot verify the leaf (21); the client's certificate verifies against
    # the SNI context's store (its `ca`: the client CA), getCertificate() is the SNI one.
    # nodetls (SSL_set_SSL_CTX) sent the leaf alone.
    seen, out = await _serve(certs, {})
    assert seen == {"own": SNI_NAME, "authorized": True, "error": None}
    assert out.count("BEGIN CERTIFICATE") == 2
    assert re.search(r" 0 s:.*CN ?= ?other\.example", out)
    assert re.search(r" 1 s:.*CN ?= ?nodetls Test Intermediate", out), out
    assert "Verify return code: 21 " in out


async def test_the_sni_context_lends_its_client_ca_list(certs):
    # node v20: the CertificateRequest names the SNI context's `ca` (the client CA), not the
    # default context's (the root).
    _seen, out = await _serve(certs, {})
    names = out.split("Acceptable client certificate CA names")[1].split("Requested")[0]
    assert "Test Client CA" in names and "Test Root CA" not in names


async def test_the_sni_contexts_ciphers_do_not_apply(certs):
    # node v20: the SNI context's cipher list is not lent (only TLS 1.3 CCM there; a TLS 1.2
    # client still gets the default context's ECDHE-ECDSA suite). nodetls (SSL_set_SSL_CTX)
    # applied it: no shared cipher.
    seen, out = await _serve(certs, {"ciphers": "TLS_AES_128_CCM_SHA256"}, "-tls1_2")
    assert seen.get("own") == SNI_NAME, seen
    assert re.search(r"Cipher is ECDHE-ECDSA-", out), out


async def test_an_sni_context_without_certificate_fails_as_in_node(certs):
    # node v20: CertCbDone's SSL_use_certificate(NULL) -> 'tlsClientError'
    # ERR_SSL_PASSED_A_NULL_PARAMETER (the error stays queued; the flight goes out with the
    # default certificate first: docs/DESIGN.md). nodetls switched to the certificate-less
    # SSL_CTX: ERR_SSL_NO_SUITABLE_SIGNATURE_ALGORITHM or the like.
    sni_ctx = tls.create_secure_context({"ca": certs.client_ca.cert_pem})
    errors: list[Any] = []
    failed = asyncio.get_running_loop().create_future()

    def on_client_error(err: Any, *_: Any) -> None:
        errors.append(getattr(err, "code", None))
        failed.done() or failed.set_result(None)

    server, port = await listen({"key": certs.server.key_pem, "cert": certs.server.chain_pem,
                                 "sni_callback": lambda name, cb: cb(None, sni_ctx)})
    server.on("tlsClientError", on_client_error)
    try:
        await _s_client(port, certs)
        await asyncio.wait_for(failed, TIMEOUT)
    finally:
        server.close()
    assert errors == ["ERR_SSL_PASSED_A_NULL_PARAMETER"]
