"""A scripted TLS client that can vanish at any step, and the server-side bookkeeping the fault
tests check (which object got which error, whether the server still serves, leaks).

The client is Python's own ``ssl`` over memory BIOs (a real, independent TLS peer) on a raw
loopback socket, so the test decides exactly how many bytes of each flight reach the server
before the connection goes away, by FIN (``shutdown(SHUT_WR)``) or RST (``SO_LINGER`` 0).
"""

from __future__ import annotations

import asyncio
import gc
import socket
import ssl
import struct
from typing import Any

import nodetls as tls
from nodetls._engine import live_engines

from ..tls.tlsutil import TIMEOUT, connect, read_until, wait

STEPS = ["connect", "in_hello", "after_hello", "in_finished", "after_finished", "after_data"]
BEFORE_SECURE = {"connect", "in_hello", "after_hello", "in_finished"}


class ScriptedClient:
    """One connection driven flight by flight; :meth:`vanish` ends it by FIN or RST."""

    def __init__(self, port: int, ca_pem: bytes, version: str = "TLSv1.3") -> None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(cadata=ca_pem.decode())
        ctx.maximum_version = getattr(ssl.TLSVersion, version.replace("v", "v").replace(".", "_"))
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.obj = ctx.wrap_bio(self.incoming, self.outgoing, server_hostname="localhost")
        self.port = port
        self.sock = socket.socket()
        self.sock.setblocking(False)
        self.loop = asyncio.get_running_loop()

    async def open(self) -> None:
        await wait(self.loop.sock_connect(self.sock, ("127.0.0.1", self.port)))

    def _step(self) -> bool:
        try:
            self.obj.do_handshake()
            return True
        except ssl.SSLWantReadError:
            return False

    def client_hello(self) -> bytes:
        self._step()
        return self.outgoing.read()

    async def send(self, data: bytes) -> None:
        await wait(self.loop.sock_sendall(self.sock, data))

    async def finished_flight(self) -> bytes:
        """Read the server's flight until the handshake completes here; return what the client
        must send next (its Finished)."""
        while not self._step() and not self.outgoing.pending:  # TLS 1.2: before its Finished
            await self._recv()
        return self.outgoing.read()

    async def _recv(self) -> None:
        data = await wait(self.loop.sock_recv(self.sock, 65536))
        if not data:
            raise ConnectionError("server closed during the handshake")
        self.incoming.write(data)

    async def complete(self) -> None:
        """TLS 1.2: read the server's Finished."""
        while not self._step():
            await self._recv()

    def app_data(self, data: bytes) -> bytes:
        self.obj.write(data)
        return self.outgoing.read()

    def vanish(self, how: str) -> None:
        """RST: close with ``SO_LINGER`` 0.  FIN: half-close only (a close with unread data
        would send an RST); :meth:`close` later."""
        if how == "rst":
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.sock.close()
        else:
            self.sock.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self.sock.close()


async def drive_to(client: ScriptedClient, step: str) -> None:
    """Send exactly what the client would have sent when it vanishes at ``step``."""
    await client.open()
    if step == "connect":
        return
    hello = client.client_hello()
    if step == "in_hello":
        await client.send(hello[: len(hello) // 2])
        return
    await client.send(hello)
    if step == "after_hello":
        return
    fin = await client.finished_flight()
    if step == "in_finished":
        await client.send(fin[: len(fin) // 2])
        return
    await client.send(fin)
    if step == "after_data":
        await client.complete()
        await client.send(client.app_data(b"ping"))


class ServerLog:
    """What the server reported, per object: 'tlsClientError' (err, socket), 'secureConnection'
    sockets and the errors each of those emitted."""

    def __init__(self, server: tls.Server) -> None:
        loop = asyncio.get_running_loop()
        self.client_errors: list[tuple[BaseException, Any]] = []
        self.secure: list[Any] = []
        self.socket_errors: list[BaseException] = []
        self.closed: asyncio.Future[Any] = loop.create_future()
        self.got_secure: asyncio.Future[Any] = loop.create_future()
        server.on("tlsClientError", self._client_error)
        server.on("secureConnection", self._secure)

    def _done(self, sock: Any) -> None:
        if sock.destroyed:
            if not self.closed.done():
                self.closed.set_result(sock)
        else:
            sock.once("close", lambda *a: self.closed.done() or self.closed.set_result(sock))

    def _client_error(self, err: BaseException, sock: Any) -> None:
        self.client_errors.append((err, sock))
        self._done(sock)

    def _secure(self, sock: Any) -> None:
        self.secure.append(sock)
        sock.on("error", self.socket_errors.append)
        if not self.got_secure.done():
            self.got_secure.set_result(sock)
        self._done(sock)


async def still_serves(port: int, ca_pem: bytes) -> None:
    """A normal client still gets a handshake and its echo."""
    sock = await connect(port, ca=ca_pem, servername="localhost")
    try:
        sock.write(b"still serving")
        assert await read_until(sock, 13) == b"still serving"
    finally:
        sock.destroy()


def engines_settle(before: int) -> None:
    """Every engine the faulted connection made is freed (others' engines may go meanwhile)."""
    gc.collect()
    assert live_engines() <= before, (live_engines(), before)


__all__ = ["STEPS", "BEFORE_SECURE", "ScriptedClient", "drive_to", "ServerLog", "still_serves",
           "engines_settle", "TIMEOUT"]
