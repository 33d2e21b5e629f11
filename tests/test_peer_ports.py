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


def test_free_port_is_outside_the_ephemeral_range_and_free_everywhere():
    """Picked ports lie below the kernel's ephemeral range (no connect() or bind(0) of another
    process is handed one before the test's peer binds it) and bind on loopback and on every
    interface (``openssl ocsp`` has no bind address)."""
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        low = int(f.read().split()[0])
    ports = {peers.free_port() for _ in range(20)}
    assert len(ports) > 1  # random, not one fixed port for everybody
    for port in ports:
        assert port < low
        for host in ("0.0.0.0", "127.0.0.1"):
            with socket.socket() as s:
                s.bind((host, port))


def test_free_port_skips_a_port_bound_on_another_address(monkeypatch):
    """A port some process holds on the wildcard address is not offered for loopback."""
    held = socket.socket()
    held.bind(("0.0.0.0", 0))
    held.listen()
    with held:
        taken = held.getsockname()[1]
        seq = iter([taken, taken])
        real = peers._rng.randint
        monkeypatch.setattr(peers._rng, "randint", lambda a, b: next(seq, None) or real(a, b))
        assert peers.free_port() != taken
