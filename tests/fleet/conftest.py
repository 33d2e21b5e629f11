"""Fixtures for the fleet tests: a real redis-server per test (its own port, its own tmp dir)."""

from __future__ import annotations

import pytest

from helpers.redis_server import RedisServer


@pytest.fixture
async def redis_server(tmp_path):
    """A fresh ``redis-server`` on a free loopback port, stopped after the test."""
    async with RedisServer(tmp_path / "redis") as server:
        yield server


@pytest.fixture
async def redis_client(redis_server):
    """A ``redis.asyncio.Redis`` on :func:`redis_server` for this test's loop."""
    client = redis_server.client()
    yield client
    await client.aclose()
