"""A real ``redis-server`` for the tests: its own process, on a free loopback port (or a Unix socket)
in a temporary directory, with no persistence; stopped (and restartable on the same address).

    async with RedisServer(tmp_path) as redis:
        client = redis.client()          # redis.asyncio.Redis for this loop
        redis.url                        # redis://127.0.0.1:PORT/0 (or unix://...)
        await redis.stop(); await redis.start()   # "Redis killed and restarted"
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
from pathlib import Path
from typing import Any

import pytest

from .peers import LOOPBACK, free_port, in_ci

TIMEOUT = 10.0


def require_redis_server() -> str:
    """Path of ``redis-server`` (skip, or fail in CI, when missing: Debian package
    ``redis-server``)."""
    path = shutil.which("redis-server")
    if path is None:
        reason = "'redis-server' not found on PATH (Debian package 'redis-server')"
        if in_ci():
            pytest.fail(f"{reason}; CI must have every test peer installed", pytrace=False)
        pytest.skip(reason)
    return path


class RedisServer:
    """One ``redis-server`` process; ``unix=True`` listens on a socket file instead of TCP."""

    def __init__(self, directory: Path, *, unix: bool = False) -> None:
        self.binary = require_redis_server()
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.unix = unix
        self.port = 0 if unix else free_port()
        self.socket_path = self.dir / "redis.sock"
        self.proc: asyncio.subprocess.Process | None = None
        self._started = False

    @property
    def url(self) -> str:
        if self.unix:
            return f"unix://{self.socket_path}"
        return f"redis://{LOOPBACK}:{self.port}/0"

    def client(self, **kwargs: Any) -> Any:
        import redis.asyncio as aioredis

        return aioredis.from_url(self.url, **kwargs)

    async def start(self) -> None:
        """Start (or restart, on the same port) and wait until it answers PING.

        The first start on TCP retries on another free port when the server exits at once: the
        port picked in advance can be taken by a concurrent test run before redis binds it.
        """
        attempts = 3 if self.proc is None and not self.unix and not self._started else 1
        for attempt in range(attempts):
            args = ["--bind", LOOPBACK, "--port", str(self.port), "--save", "", "--appendonly",
                    "no", "--dir", str(self.dir), "--loglevel", "warning"]
            if self.unix:
                args += ["--unixsocket", str(self.socket_path), "--unixsocketperm", "700"]
            self.proc = await asyncio.create_subprocess_exec(
                self.binary, *args, stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL)
            try:
                await asyncio.wait_for(self._until_ready(), TIMEOUT)
            except AssertionError:  # exited before answering (EADDRINUSE): another port
                if attempt + 1 == attempts:
                    raise
                self.proc = None
                self.port = free_port()
                continue
            self._started = True
            return

    async def _until_ready(self) -> None:
        client = self.client(socket_connect_timeout=0.5)
        try:
            while True:
                assert self.proc is not None and self.proc.returncode is None, "redis died"
                try:
                    if await client.ping():
                        return
                except Exception:  # noqa: BLE001 - not listening yet
                    await asyncio.sleep(0.02)
        finally:
            await client.aclose()

    async def stop(self, sig: int = signal.SIGKILL) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
        await asyncio.wait_for(proc.wait(), TIMEOUT)

    async def __aenter__(self) -> RedisServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
