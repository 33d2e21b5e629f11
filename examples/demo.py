"""nodetls in one minute: a TLS echo server and a client on loopback, and what they negotiated.

Run it with ``make demo`` (or ``python examples/demo.py``). It

1. makes a fresh development CA and a ``localhost`` certificate (ECDSA P-256) in a temp dir,
2. starts a nodetls echo server on 127.0.0.1 (a free port; ALPN ``http/1.1``),
3. connects a nodetls client that trusts only that CA (ALPN ``h2``, ``http/1.1``; SNI
   ``localhost``), sends a line and reads the echo,
4. prints the protocol, the cipher, ALPN, the server certificate and the verification result,
5. closes both ends and exits 0 (non-zero, with the error, if anything fails).
"""

from __future__ import annotations

import asyncio
import tempfile
from typing import Any

from _devcert import make_dev_pki  # examples/_devcert.py (the script's own directory)

import nodetls as tls

MESSAGE = b"hello over TLS\n"
TIMEOUT = 15.0  # seconds; every wait below is bounded


def _dev_certificates() -> tuple[bytes, bytes, bytes]:
    """Write a fresh dev CA + localhost certificate into a temp dir and read them back, as an
    application reading its PEM files would: ``(key, cert, ca)``."""
    with tempfile.TemporaryDirectory(prefix="nodetls-demo-") as tmp:
        paths = make_dev_pki("localhost").write(tmp)
        return paths["key"].read_bytes(), paths["cert"].read_bytes(), paths["ca"].read_bytes()


def _show(label: str, value: object) -> None:
    print(f"  {label:<13} {value}")


async def _read_exactly(sock: tls.TLSSocket, n: int) -> bytes:
    """The first ``n`` bytes ``sock`` receives (or fewer if it ends first)."""
    buf = bytearray()
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def on_data(chunk: bytes) -> None:
        buf.extend(chunk)
        if len(buf) >= n and not done.done():
            done.set_result(None)

    def on_end(*_: Any) -> None:
        if not done.done():
            done.set_result(None)

    sock.on("data", on_data)
    sock.once("end", on_end)
    sock.once("close", on_end)
    try:
        await asyncio.wait_for(done, TIMEOUT)
    finally:
        sock.off("data", on_data)
    return bytes(buf)


async def main() -> None:
    """The demo (run by :func:`nodetls.run`)."""
    key, cert, ca = _dev_certificates()
    seen_by_server: dict[str, Any] = {}

    def on_secure_connection(sock: tls.TLSSocket) -> None:
        seen_by_server.update(servername=sock.servername, alpn=sock.alpn_protocol)
        sock.pipe(sock)  # echo, as in Node's tls.createServer example

    server = tls.create_server({"key": key, "cert": cert, "ALPNProtocols": ["http/1.1"]},
                               on_secure_connection)
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    port = server.address()["port"]
    print(f"nodetls demo: echo server on 127.0.0.1:{port} (dev CA, localhost cert, ECDSA P-256)")

    sock = tls.connect(port, host="127.0.0.1", servername="localhost", ca=[ca],
                       ALPNProtocols=["h2", "http/1.1"])
    await asyncio.wait_for(sock, TIMEOUT)  # 'secureConnect': handshake done, certificate verified
    sock.write(MESSAGE)
    echo = await _read_exactly(sock, len(MESSAGE))
    print(f"client sent {MESSAGE!r}, got back {echo!r}")
    if echo != MESSAGE:
        raise RuntimeError(f"echo mismatch: sent {MESSAGE!r}, got {echo!r}")

    cipher = sock.get_cipher()
    peer = sock.get_peer_certificate()
    _show("protocol", sock.get_protocol())
    _show("cipher", f"{cipher['name']} (standardName {cipher['standardName']})")
    kx = sock.get_ephemeral_key_info()
    _show("key exchange", f"{kx.get('name', kx.get('type'))} ({kx.get('size')} bits)")
    _show("ALPN", f"{sock.alpn_protocol} (client offered h2, http/1.1; server http/1.1)")
    _show("SNI", f"{seen_by_server.get('servername')} (as the server saw it)")
    _show("peer cert", f"CN={peer['subject']['CN']}, issued by CN={peer['issuer']['CN']}")
    _show("SHA-256", peer["fingerprint256"])
    _show("authorized", f"{sock.authorized} (authorization_error: {sock.authorization_error})")

    sock.end()  # the server's pipe ends its side in turn; then both sockets close
    await asyncio.wait_for(sock.wait_closed(), TIMEOUT)
    await asyncio.wait_for(server.close(), TIMEOUT)
    print("closed client and server")


if __name__ == "__main__":
    tls.run(main)
