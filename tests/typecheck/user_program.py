"""A small typed user program: must pass ``mypy --strict`` (tests/typing/test_mypy.py).

It is type-checked, not run.  ``assert_type`` pins the precise types nodetls promises.
"""

from __future__ import annotations

from typing import Literal, assert_type

import nodetls as tls
from nodetls import net
from nodetls.types import AddressInfo, Chunk, DetailedPeerCertificate, PeerCertificate


async def client(ca: bytes) -> None:
    sock = await tls.connect(8443, "localhost", ca=ca, servername="localhost",
                             alpn_protocols=["h2", "http/1.1"], min_version="TLSv1.2")
    assert_type(sock, tls.TLSSocket)
    cert = sock.get_peer_certificate()
    assert_type(cert, PeerCertificate | None)
    if cert:
        subject: dict[str, str | list[str]] = cert["subject"]
        print(subject.get("CN"), cert["valid_to"], cert["fingerprint256"], len(cert["raw"]))
    chain = sock.get_peer_certificate(True)
    assert_type(chain, DetailedPeerCertificate | None)
    if chain and "issuerCertificate" in chain:
        assert_type(chain["issuerCertificate"], DetailedPeerCertificate)
    addr = sock.address()
    assert_type(addr, AddressInfo)
    port: int = addr["port"]
    family: Literal["IPv4", "IPv6"] = addr["family"]
    print(port, family)

    def on_data(chunk: bytes | str) -> None:
        print(len(chunk))

    sock.on("data", on_data)
    async for chunk in sock:
        assert_type(chunk, Chunk)
        assert_type(chunk, bytes | str)
    sock.end(b"bye")


async def plain() -> None:
    s = net.connect(80, "localhost")
    assert_type(s, net.Socket)
    s2 = await s
    assert_type(s2, net.Socket)
    s3 = net.create_connection(80, "localhost")
    assert_type(s3, net.Socket)
    s2.destroy()
    s3.destroy()


async def serve(key: bytes, cert: bytes) -> None:
    def on_secure(sock: tls.TLSSocket) -> None:
        sock.end(b"hello\n")

    server = tls.create_server(key=key, cert=cert, request_cert=True, reject_unauthorized=False,
                               handshake_timeout=5.0, ticket_keys=bytes(48))
    assert_type(server, tls.Server)
    server.on("secureConnection", on_secure)
    server2 = tls.create_server({"key": key, "cert": cert, "ALPNProtocols": ["h2"]}, on_secure)
    await server.listen(0, "127.0.0.1")
    where = server.address()
    if isinstance(where, dict):
        print(where["port"])
    ctx = tls.create_secure_context(key=key, cert=cert, max_version="TLSv1.3")
    assert_type(ctx, tls.SecureContext)
    await server.close()
    await server2.close()
