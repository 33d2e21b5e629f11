"""A TCP proxy between a TLS client and its server that can hold back the server's bytes: the
renegotiation tests' way to make "the renegotiation waits for the server's answer" last as long
as a test wants, with no timing."""

from __future__ import annotations

import asyncio
import socket
import struct
from typing import Any

TIMEOUT = 10.0


def records(buf: bytes) -> list[tuple[int, int]]:
    """(content type, length with header) of the whole TLS records at the start of ``buf``."""
    out, off = [], 0
    while len(buf) - off >= 5:
        n = 5 + int.from_bytes(buf[off + 3:off + 5], "big")
        if len(buf) - off < n:
            break
        out.append((buf[off], n))
        off += n
    return out


class HoldingProxy:
    """127.0.0.1 -> the server at ``upstream``. Once ``secure`` is set, the client's bytes are
    also kept in ``up``; once ``hold`` is set, the server's bytes are kept in ``held`` and reach
    the client only by :meth:`send`. ``forward_eof``: the server's FIN is passed on (else the
    client's side stays open until :meth:`end` or :meth:`reset`)."""

    def __init__(self, upstream: int, *, forward_eof: bool = True) -> None:
        self.upstream = upstream
        self.forward_eof = forward_eof
        self.hold = False
        self.secure = False
        self.held = b""
        self.up = b""
        self.changed = asyncio.Event()
        self.to_client: asyncio.StreamWriter | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port: int = self.server.sockets[0].getsockname()[1]
        return port

    async def close(self) -> None:
        """Stop listening and close both sides of every connection the proxy made, waiting
        (bounded) until they are closed: none is left for the garbage collector."""
        self.server.close()
        for w in self._writers:
            w.close()
        waits = [w.wait_closed() for w in self._writers] + [self.server.wait_closed()]
        await asyncio.wait_for(asyncio.gather(*waits, return_exceptions=True), TIMEOUT)

    async def until(self, pred: Any) -> None:
        """Wait (bounded) until ``pred()`` holds, looking again whenever bytes pass."""
        while not pred():
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), TIMEOUT)

    def send(self, data: bytes) -> None:
        assert self.to_client is not None
        self.to_client.write(data)

    def reset(self) -> None:
        """Reset the client's connection (an RST, not a FIN)."""
        assert self.to_client is not None
        sock = self.to_client.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.to_client.transport.abort()

    def end(self) -> None:
        """End the client's connection (a FIN)."""
        assert self.to_client is not None
        self.to_client.close()

    async def _handle(self, cr: asyncio.StreamReader, cw: asyncio.StreamWriter) -> None:
        self._writers.append(cw)
        sr, sw = await asyncio.open_connection("127.0.0.1", self.upstream)
        self._writers.append(sw)
        self.to_client = cw

        async def up() -> None:
            try:
                while data := await cr.read(65536):
                    sw.write(data)
                    if self.secure:
                        self.up += data
                        self.changed.set()
            finally:
                sw.close()

        async def down() -> None:
            while data := await sr.read(65536):
                if self.hold:
                    self.held += data
                    self.changed.set()
                else:
                    cw.write(data)
            if self.forward_eof:
                cw.close()

        await asyncio.gather(up(), down(), return_exceptions=True)
