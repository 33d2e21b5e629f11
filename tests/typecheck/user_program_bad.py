"""Mistakes ``mypy --strict`` must catch (tests/typing/test_mypy.py checks each ``# E:`` line
fails with that error code).  Type-checked, never run."""

from __future__ import annotations

import nodetls as tls
from nodetls import net


async def mistakes() -> None:
    tls.connect(8443, reject_unauthorized="no")  # E: arg-type
    tls.connect(8443, rejectUnauthorised=False)  # E: call-arg
    tls.connect(8443, min_version="TLSv1.4")  # E: arg-type
    tls.create_server(key=1234)  # E: arg-type
    tls.create_secure_context(ciphers=["AES"])  # E: arg-type
    sock = await tls.connect(8443)
    sock.get_peer_certificate()["subjectAltName"]  # E: typeddict-item
    port: str = sock.address()["port"]  # E: assignment
    chunk: bytes = sock.read()  # E: assignment
    s: tls.TLSSocket = await net.connect(80)  # E: assignment
    print(port, chunk, s)
