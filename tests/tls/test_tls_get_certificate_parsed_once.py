"""``TLSSocket.get_certificate()``: our own certificate, parsed once per certificate.

Node's ``getCertificate()`` builds a new object on every call.  nodetls parsed the DER on every
call too (~0.2 ms); it now keeps the parsed object per certificate (its DER) and returns a
copy: equal from one call to the next, and what a caller changes in one (a key, a nested dict
or list) is not in the next.  The certificate is the connection's: an ``SNICallback``'s context
lends its certificate, which is then the one returned.
"""

from __future__ import annotations

import asyncio
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding
from tlsutil import connect, listen, shut, wait

import nodetls as tls
from nodetls._tls import _socket_api
from nodetls._x509 import certificate_to_dict

SNI_NAME = "other.example"


async def _server_socket(certs: Any, options: dict[str, Any], **copts: Any
                         ) -> tuple[tls.Server, tls.TLSSocket, tls.TLSSocket]:
    got: asyncio.Future[tls.TLSSocket] = asyncio.get_running_loop().create_future()
    server, port = await listen(options, lambda s: got.done() or got.set_result(s))
    client = await connect(port, reject_unauthorized=False, **copts)
    return server, await wait(got), client


async def test_get_certificate_same_value_each_call_and_copies(certs: Any) -> None:
    """Each call: the same value as a parse of the DER, in a new object; a caller's changes
    (top level, nested dict, nested list) are not seen by the next call."""
    server, sock, client = await _server_socket(certs, certs.server.options)
    try:
        own = sock.get_x509_certificate()
        assert own is not None
        der = own.public_bytes(Encoding.DER)
        expected = certificate_to_dict(der)
        first = sock.get_certificate()
        assert first == expected
        first["subject"]["CN"] = "changed"
        first["ext_key_usage"].append("1.2.3")
        first["bits"] = 1
        del first["fingerprint"]
        second = sock.get_certificate()
        assert second == expected
        assert second is not first and second["subject"] is not first["subject"]
        assert second["ext_key_usage"] is not first["ext_key_usage"]
        # (the client's own certificate is none: {})
        assert client.get_certificate() == {}
    finally:
        client.destroy()
        sock.destroy()
        await shut(server)


async def test_get_certificate_parses_once_per_certificate(certs: Any, monkeypatch: Any) -> None:
    """Repeated calls parse the certificate once (nodetls parsed it on every call)."""
    calls: list[bytes] = []

    def counting(der: Any, *args: Any, **kw: Any) -> Any:
        calls.append(bytes(der))
        return certificate_to_dict(der, *args, **kw)

    monkeypatch.setattr(_socket_api, "certificate_to_dict", counting)
    _socket_api.__dict__.get("_OWN_CERTS", {}).clear()
    server, sock, client = await _server_socket(certs, certs.server.options)
    try:
        results = [sock.get_certificate() for _ in range(5)]
        assert all(r == results[0] for r in results)
        assert results[0]["subject"]["CN"] == "localhost"
        assert len(calls) == 1
    finally:
        client.destroy()
        sock.destroy()
        await shut(server)


async def test_get_certificate_of_an_sni_context(certs: Any) -> None:
    """A connection the ``SNICallback``'s context served returns that context's certificate;
    one without SNI the default context's, on the same server, in any order."""
    leaf = certs.pki.make_leaf(SNI_NAME, [f"DNS:{SNI_NAME}"], issuer=certs.root,
                               name="lent-sni")
    sni_ctx = tls.create_secure_context({"key": leaf.key_pem, "cert": leaf.chain_pem})

    def sni(name: str, cb: Any) -> None:
        cb(None, sni_ctx if name == SNI_NAME else None)

    opts = {**certs.server.options, "SNICallback": sni}
    for order in ((SNI_NAME, None, SNI_NAME), (None, SNI_NAME, None)):
        for name in order:
            copts = {"servername": name} if name else {}
            server, sock, client = await _server_socket(certs, opts, **copts)
            try:
                cn = SNI_NAME if name else "localhost"
                assert sock.get_certificate()["subject"]["CN"] == cn
                assert sock.get_certificate()["subject"]["CN"] == cn
                assert client.get_peer_certificate()["subject"]["CN"] == cn
            finally:
                client.destroy()
                sock.destroy()
                await shut(server)
