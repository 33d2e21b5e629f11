"""What every Python benchmark server shares: its command line, the echo protocol, the ready line.

Every server script takes ``--cert FILE --key FILE [--host H] [--port P] [--loop asyncio|uvloop]``
(plus its own options), serves a TLS 1.3 echo service on ``host:port`` (port 0: any free port),
prints ``LISTENING <port>`` on stdout once it accepts connections, and runs until SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["EchoProtocol", "parser", "loop_factory", "raise_fd_limit", "ready", "quiet_loop",
           "serve", "serve_until_signalled"]


class EchoProtocol(asyncio.Protocol):
    """Writes back every byte it receives, with asyncio's flow control both ways.

    The same class serves asyncio's own SSL transport and ``nodetls.aio``'s, so the two are
    measured on identical application code.
    """

    transport: asyncio.Transport

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.transport.write(data)

    def eof_received(self) -> bool:
        return False  # close our side too

    def pause_writing(self) -> None:
        self.transport.pause_reading()

    def resume_writing(self) -> None:
        self.transport.resume_reading()


def parser(description: str) -> argparse.ArgumentParser:
    """The common command line of the benchmark servers."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--cert", required=True, help="certificate chain, PEM")
    ap.add_argument("--key", required=True, help="private key, PEM")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    return ap


def loop_factory(name: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """``None`` (asyncio's default loop) or uvloop's loop factory."""
    if name == "uvloop":
        import uvloop

        return uvloop.new_event_loop
    return None


def raise_fd_limit() -> None:
    """Soft RLIMIT_NOFILE up to the hard limit (the idle workload holds thousands of sockets)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def ready(port: int) -> None:
    """The line the harness waits for (one write: worker processes share the pipe)."""
    sys.stdout.write(f"LISTENING {port}\n")
    sys.stdout.flush()


def quiet_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Peers vanishing mid-connection are the load client's business: log nothing."""
    loop.set_exception_handler(lambda _loop, _context: None)


def serve(loop_name: str, start: Callable[[], Awaitable[Any]]) -> None:
    """On a new ``loop_name`` loop: await ``start()`` (an ``asyncio.Server``-like object,
    listening), print the ready line, serve until SIGTERM/SIGINT."""

    async def run() -> None:
        await serve_until_signalled(start)

    with asyncio.Runner(loop_factory=loop_factory(loop_name)) as runner:
        runner.run(run())


async def serve_until_signalled(start: Callable[[], Awaitable[Any]]) -> None:
    """Await ``start()``, print the ready line, then wait for SIGTERM/SIGINT."""
    loop = asyncio.get_running_loop()
    quiet_loop(loop)
    stop: asyncio.Future[None] = loop.create_future()

    def on_signal() -> None:
        if not stop.done():
            stop.set_result(None)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal)
    server = await start()
    ready(server.sockets[0].getsockname()[1])
    await stop
    server.close()
