"""The write flow control at read steps that deliver no application data.

asyncio's and uvloop's SSL transports check the write flow control (``_control_app_writing``)
at the end of every read step: each TCP read (``buffer_updated`` -> ``_do_read`` ->
``_process_outgoing``), and the step that completes the handshake (``_on_handshake_complete``
calls ``connection_made()``, then ``_do_read()``), whether or not application data came. A
check changes anything only while writing is paused or with a high-water mark of 0 (at 0,
each check toggles ``pause_writing()`` / ``resume_writing()``).

* The handshake's step: nodetls.aio checks after ``connection_made()`` too (fixed; it did not).
* A later read with no application data (a TLS 1.3 session ticket, a KeyUpdate, a TCP read
  holding part of a record): nodetls.aio checks there too (fixed: it checked after the reads
  that delivered plaintext only; the TLS wrap now calls its ``quiet_read`` after a read that
  hands on none).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from typing import Any

import pytest

from nodetls import aio

from .diff.runner import new_loop

T = 10.0  # bound of every wait
IMPLS = ("asyncio-ssl", "nodetls-aio")
LOOPS = ("asyncio", "uvloop")


class HighZero(asyncio.Protocol):
    """Sets a high-water mark of 0 in ``connection_made()`` (``pause_writing()`` at once);
    logs the flow-control calls."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.made: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: Any) -> None:
        self.log.append("made")
        transport.set_write_buffer_limits(0, 0)
        self.made.set_result(transport)

    def pause_writing(self) -> None:
        self.log.append("pause_writing")

    def resume_writing(self) -> None:
        self.log.append("resume_writing")

    def data_received(self, data: bytes) -> None:
        self.log.append("data")


class HighZeroBuffered(HighZero, asyncio.BufferedProtocol):
    """``HighZero`` as a ``BufferedProtocol`` (its buffers logged as ``data``)."""

    def get_buffer(self, sizehint: int) -> bytearray:
        return bytearray(65536)

    def buffer_updated(self, nbytes: int) -> None:
        self.log.append("data")


async def _pair(impl: str, certs: Any, version: str, proto: type[HighZero] = HighZero
                ) -> tuple[Any, HighZero, HighZero, Any]:
    """A server and a client of ``impl`` (both ``proto``), TLS ``version``: (server,
    server protocol, client protocol, client transport)."""
    loop = asyncio.get_running_loop()
    protos: list[HighZero] = []

    def factory() -> HighZero:
        protos.append(proto())
        return protos[-1]

    if impl == "asyncio-ssl":
        sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        sctx.load_cert_chain(certs.server.chain_path, certs.server.key_path)
        sctx.minimum_version = sctx.maximum_version = getattr(
            ssl.TLSVersion, version.replace("TLSv1.", "TLSv1_"))
        cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        cctx.load_verify_locations(cadata=certs.server.ca_pem.decode())
        server: Any = await loop.create_server(factory, "127.0.0.1", 0, ssl=sctx)
        port = server.sockets[0].getsockname()[1]
        ct, cp = await asyncio.wait_for(loop.create_connection(
            proto, "127.0.0.1", port, ssl=cctx, server_hostname="localhost"), T)
    else:
        server = await aio.create_server(factory, "127.0.0.1", 0, key=certs.server.key_pem,
                                         cert=certs.server.chain_pem, min_version=version,
                                         max_version=version)
        port = server.sockets[0].getsockname()[1]
        ct, cp = await asyncio.wait_for(aio.create_connection(
            proto, "127.0.0.1", port, servername="localhost", ca=certs.server.ca_pem), T)
    deadline = time.monotonic() + T
    while not protos:  # (the server's protocol: a state of the server, not an event)
        assert time.monotonic() < deadline, "no server protocol"
        await asyncio.sleep(0.005)
    await asyncio.wait_for(protos[0].made, T)
    return server, protos[0], cp, ct


async def _close(server: Any, ct: Any) -> None:
    ct.abort()
    server.close()
    if hasattr(server, "abort_clients"):
        server.abort_clients()
    await asyncio.wait_for(server.wait_closed(), T)


@pytest.mark.parametrize("loop_name", LOOPS)
@pytest.mark.parametrize("impl", IMPLS)
def test_handshake_step_checks_write_flow_control(certs: Any, impl: str,
                                                  loop_name: str) -> None:
    """TLS 1.2 (no record follows the handshake on either side): the step that called
    ``connection_made()`` checks once more, which resumes the writing the high-water mark of 0
    paused; both sides. A write then checks again (pauses)."""
    async def main() -> None:
        server, sp, cp, ct = await _pair(impl, certs, "TLSv1.2")
        try:
            # (uvloop's SSL transport checks a loop step after connection_made(): on 3.12+,
            # whose wait_for returns a step sooner, that step may not have run yet)
            deadline = time.monotonic() + T
            while len(cp.log) < 3 or len(sp.log) < 3:  # (protocols' states, not events)
                assert time.monotonic() < deadline, (cp.log, sp.log)
                await asyncio.sleep(0.005)
            assert cp.log == ["made", "pause_writing", "resume_writing"]
            assert sp.log == ["made", "pause_writing", "resume_writing"]
            ct.write(b"x")
            assert cp.log[3:] == ["pause_writing"]
        finally:
            await _close(server, ct)

    with asyncio.Runner(loop_factory=lambda: new_loop(loop_name)) as runner:
        runner.run(main())


@pytest.mark.parametrize("loop_name", LOOPS)
@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("proto", [HighZero, HighZeroBuffered], ids=["Protocol", "Buffered"])
def test_session_ticket_read_checks_write_flow_control(certs: Any, impl: str, loop_name: str,
                                                       proto: type[HighZero]) -> None:
    """TLS 1.3: the server's session tickets come after the client's handshake step, in a
    read of their own with no application data; asyncio's and uvloop's clients check the write
    flow control there (the high-water mark of 0: one more ``pause_writing()``, or more, one
    toggle per read), for a ``Protocol`` and a ``BufferedProtocol`` alike."""
    async def main() -> None:
        server, _sp, cp, ct = await _pair(impl, certs, "TLSv1.3", proto)
        try:
            deadline = time.monotonic() + T
            while len(cp.log) < 4:  # (a state of the client's protocol, not an event)
                assert time.monotonic() < deadline, cp.log
                await asyncio.sleep(0.005)
            assert cp.log[:4] == ["made", "pause_writing", "resume_writing", "pause_writing"]
            assert "data" not in cp.log
        finally:
            await _close(server, ct)

    with asyncio.Runner(loop_factory=lambda: new_loop(loop_name)) as runner:
        runner.run(main())
