"""The peer helpers survive a port taken between picking and binding (two test runs sharing the
machine): gnutls-serv and redis-server, which cannot bind port 0 and report it, retry on another."""

from __future__ import annotations

import socket

import helpers.redis_server as redis_helper
from helpers import peers
from helpers.redis_server import RedisServer


def _taken_first(module, monkeypatch, host: str) -> tuple[socket.socket, int]:
    """Hold a listening port and make ``module.free_port`` return it once, then real ports."""
    held = socket.socket()
    held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    held.bind((host, 0))
    held.listen()
    taken = held.getsockname()[1]
    real, picks = module.free_port, []

    def pick(*args):
        picks.append(1)
        return taken if len(picks) == 1 else real(*args)

    monkeypatch.setattr(module, "free_port", pick)
    return held, taken


async def test_gnutls_server_moves_off_a_taken_port(certs, monkeypatch):
    held, taken = _taken_first(peers, monkeypatch, "0.0.0.0")  # gnutls-serv binds every address
    with held:
        srv = peers.spawn_gnutls_server(["--x509certfile", certs.server.chain_path,
                                         "--x509keyfile", certs.server.key_path, "--echo"])
        async with srv:
            assert srv.port != taken
            res = await peers.run_openssl_client(
                ["-brief", "-CAfile", certs.root.cert_path, "-servername", "localhost"],
                "", port=srv.port)
            assert res.rc == 0 and "Verification: OK" in res.stderr


async def test_redis_server_moves_off_a_taken_port(tmp_path, monkeypatch):
    held, taken = _taken_first(redis_helper, monkeypatch, "127.0.0.1")
    with held:
        async with RedisServer(tmp_path) as server:
            assert server.port != taken
            client = server.client()
            try:
                assert await client.ping()
            finally:
                await client.aclose()
