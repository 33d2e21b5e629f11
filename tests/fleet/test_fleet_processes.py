"""Fleets across processes: two server processes sharing one real redis-server, and
run(main, workers=N) (issue 9: "Tests across processes")."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import sys
from pathlib import Path

import pytest

from helpers.peers import free_port, spawn_process

from .fleetutil import exchange

pytestmark = pytest.mark.slow
SERVER = Path(__file__).with_name("fleet_server.py")
T = 15.0

# Which server-side state each resumption mode needs.
MODES = {
    "tls12-ids": {"version": "TLSv1.2", "stateful": True, "store": "redis"},
    "tls13-stateful": {"version": "TLSv1.3", "stateful": True, "store": "redis"},
    "tls13-stateless": {"version": "TLSv1.3", "keys": "redis"},
    "tls12-stateless": {"version": "TLSv1.2", "keys": "redis"},
}


def server_process(certs, **cfg):
    cfg = {"cert": str(certs.server.chain_path), "key": str(certs.server.key_path), **cfg}
    # Workers share one port (SO_REUSEPORT): it must be known before they start.  A single
    # server takes port 0 and reports the kernel's choice (a port picked in advance could be
    # taken by a concurrent test run before the server binds it: EADDRINUSE).
    cfg.setdefault("port", free_port() if cfg.get("workers") else 0)
    return spawn_process([sys.executable, str(SERVER), json.dumps(cfg)],
                         ready=r"LISTENING (?P<port>\d+)", timeout=T)


@contextlib.asynccontextmanager
async def two_servers(certs, **cfg):
    """Servers A and B with the same configuration, started side by side."""
    a, b = server_process(certs, **cfg), server_process(certs, **cfg)
    try:
        await asyncio.gather(a.start(), b.start())
        yield a, b
    finally:
        await asyncio.gather(a.stop(), b.stop())


def served_by(line: bytes) -> tuple[int | None, int, bool]:
    index, pid, reused = line.decode().split()
    return (None if index == "None" else int(index)), int(pid), reused == "True"


async def stored_sessions(redis_client, n: int) -> None:
    """Wait (bounded) until the Redis store holds ``n`` sessions.  A's ``'newSession'`` writes
    to Redis while the client already has its ticket (TLS 1.3 tickets are not held back), so on
    a busy machine the client could otherwise reach B before A's write."""
    deadline = asyncio.get_running_loop().time() + T
    while len(await redis_client.keys("nodetls:session:*")) < n:
        assert asyncio.get_running_loop().time() < deadline, f"the store never held {n} sessions"
        await asyncio.sleep(0.01)


@pytest.mark.parametrize("mode", sorted(MODES))
async def test_a_session_from_server_a_resumes_on_server_b(certs, redis_server, redis_client,
                                                           mode):
    cfg = {**MODES[mode], "redis": redis_server.url}
    async with two_servers(certs, **cfg) as (a, b):
        reused, session, line = await exchange(a.port, certs.root.cert_pem)
        assert reused is False and session is not None
        if cfg.get("store"):  # one session (TLS 1.2) or one per ticket (TLS 1.3: two)
            await stored_sessions(redis_client, 1 if cfg["version"] == "TLSv1.2" else 2)
        reused, _, line = await exchange(b.port, certs.root.cert_pem, session)
        assert reused is True, (a.stdout, b.stdout, b.stderr)
        assert served_by(line)[2] is True


async def test_keys_rotate_under_load_without_a_failed_resumption(certs, redis_server):
    # interval 0.6 s, keep 1: about four rotations while four clients hop between A and B.
    cfg = {"version": "TLSv1.3", "keys": "redis", "redis": redis_server.url, "interval": 0.6,
           "keep": 1}
    async with two_servers(certs, **cfg) as (a, b):
        ports = [a.port, b.port]
        loop = asyncio.get_running_loop()
        end = loop.time() + 2.6
        counts = {"resumed": 0, "full": 0}

        async def client(k: int) -> None:
            _, session, _ = await exchange(ports[k % 2], certs.root.cert_pem)
            i = k
            while loop.time() < end:
                i += 1
                reused, new, _ = await exchange(ports[i % 2], certs.root.cert_pem, session)
                counts["resumed" if reused else "full"] += 1
                assert reused is True, f"a resumption failed after {counts}"
                session = new or session

        await asyncio.wait_for(asyncio.gather(*(client(k) for k in range(4))), 30)
        assert counts["resumed"] >= 20
        client = redis_server.client()
        try:
            stored = await client.get("nodetls:ticket-keys")
        finally:
            await client.aclose()
        assert stored is not None


async def test_redis_killed_and_restarted_mid_load(certs, redis_server):
    cfg = {"version": "TLSv1.2", "stateful": True, "store": "redis", "redis": redis_server.url}
    async with two_servers(certs, **cfg) as (a, b):
        ports = [a.port, b.port]
        failures: list[BaseException] = []
        stop = asyncio.Event()

        async def load(k: int) -> None:
            session = None
            i = k
            while not stop.is_set():
                i += 1
                try:
                    _, new, _ = await exchange(ports[i % 2], certs.root.cert_pem, session)
                    session = new or session
                except Exception as exc:  # noqa: BLE001 - collected, asserted below
                    failures.append(exc)

        tasks = [asyncio.create_task(load(k)) for k in range(3)]
        try:
            await asyncio.sleep(0.3)
            await redis_server.stop()  # SIGKILL
            await asyncio.sleep(0.6)
            await redis_server.start()
            # Resumption recovers: a session from A resumes on B again (bounded wait).
            recovered = False
            for _ in range(50):
                _, session, _ = await exchange(a.port, certs.root.cert_pem)
                reused, _, _ = await exchange(b.port, certs.root.cert_pem, session)
                if reused:
                    recovered = True
                    break
                await asyncio.sleep(0.05)
            assert recovered
        finally:
            stop.set()
            await asyncio.wait_for(asyncio.gather(*tasks), T)
        assert failures == []


def _gone_or_zombie(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except (FileNotFoundError, ProcessLookupError):  # reaped between open() and read()
        return True
    return state == "Z"


async def _wait_until(predicate, timeout=T, step=0.02):
    async def poll():
        while not predicate():
            await asyncio.sleep(step)
    await asyncio.wait_for(poll(), timeout)


def _workers_listening(proc) -> dict[int, int]:
    """worker index -> pid, from the LISTENING lines so far (the latest per index)."""
    found = {}
    for m in re.finditer(r"LISTENING \d+ (\d+) (\d+)", proc.stdout):
        found[int(m.group(1))] = int(m.group(2))
    return found


async def test_workers_share_the_port_and_the_ticket_keys(certs):
    async with server_process(certs, workers=2, version="TLSv1.3") as fleet:
        await _wait_until(lambda: len(_workers_listening(fleet)) == 2)
        seen: dict[int, bytes] = {}
        for _ in range(60):
            _, session, line = await exchange(fleet.port, certs.root.cert_pem)
            seen.setdefault(served_by(line)[0], session)
            if len(seen) == 2:
                break
        assert set(seen) == {0, 1}  # SO_REUSEPORT spreads connections over both workers
        # A ticket from worker 0 resumes on worker 1 (one key set, no Redis).
        for _ in range(60):
            reused, _, line = await exchange(fleet.port, certs.root.cert_pem, seen[0])
            if served_by(line)[0] == 1:
                assert reused is True
                break
        else:
            pytest.fail("worker 1 never answered")
        fleet.proc.send_signal(signal.SIGTERM)
        rc, _, err = await fleet.wait(T)
        assert rc == 0, err


async def test_a_killed_worker_is_restarted_and_the_others_keep_serving(certs):
    async with server_process(certs, workers=2) as fleet:
        await _wait_until(lambda: len(_workers_listening(fleet)) == 2)
        victim = _workers_listening(fleet)[1]
        os.kill(victim, signal.SIGKILL)
        await _wait_until(lambda: _gone_or_zombie(victim))
        for _ in range(10):  # worker 0 serves meanwhile; no connection fails
            await exchange(fleet.port, certs.root.cert_pem)
        await _wait_until(lambda: _workers_listening(fleet).get(1, victim) != victim)
        assert "worker 1 exited (signal 9); restarting" in fleet.stderr
        served = set()
        for _ in range(60):
            _, _, line = await exchange(fleet.port, certs.root.cert_pem)
            served.add(served_by(line)[1])
            if len(served) == 2:
                break
        assert served == set(_workers_listening(fleet).values())
        fleet.proc.send_signal(signal.SIGINT)
        rc, _, _ = await fleet.wait(T)
        assert rc == 0


async def run_script(script: Path) -> tuple[int | None, bytes, bytes]:
    """Run ``script`` with this Python; its status, stdout and stderr (bounded: 30 s)."""
    proc = await asyncio.create_subprocess_exec(sys.executable, str(script),
                                                stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    return proc.returncode, out, err


async def test_a_worker_that_keeps_crashing_makes_the_parent_fail(tmp_path):
    script = tmp_path / "crash.py"
    script.write_text("import nodetls\n"
                      "def main():\n    raise RuntimeError('broken main')\n"
                      "nodetls.run(main, workers=2)\n")
    rc, out, err = await run_script(script)
    assert rc == 1, (out, err)
    assert b"broken main" in err and b"keeps dying" in err


def test_worker_index_and_bad_arguments():
    import nodetls as tls

    assert tls.worker_index() is None
    with pytest.raises(ValueError, match="workers"):
        tls.run(lambda: None, workers=0)
    with pytest.raises(TypeError, match="workers"):
        tls.run(lambda: None, workers="2")
    with pytest.raises(TypeError, match="ticket_keys"):
        tls.run(lambda: None, workers=1, ticket_keys=b"k" * 48)


async def _connect_held(port, ca):
    import nodetls as tls

    sock = tls.connect(port, {"host": "127.0.0.1", "ca": ca, "servername": "localhost"})
    lines: asyncio.Queue[bytes] = asyncio.Queue()
    sock.on("data", lines.put_nowait)
    await asyncio.wait_for(sock, T)
    await asyncio.wait_for(lines.get(), T)
    return sock, lines


async def _refused(port) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except (ConnectionRefusedError, ConnectionResetError):
        # A listener closing while our SYN is in its accept queue answers with an RST.
        return True
    writer.close()
    return False


async def test_sigterm_stops_listening_and_lets_open_connections_finish(certs):
    async with server_process(certs, workers=2, echo=True) as fleet:
        await _wait_until(lambda: len(_workers_listening(fleet)) == 2)
        sock, lines = await _connect_held(fleet.port, certs.root.cert_pem)
        fleet.proc.send_signal(signal.SIGTERM)

        async def until_refused():
            while not await _refused(fleet.port):
                await asyncio.sleep(0.02)
        await asyncio.wait_for(until_refused(), T)  # every worker closed its listener
        sock.write(b"still here")
        assert await asyncio.wait_for(lines.get(), T) == b"still here"
        assert fleet.returncode is None  # waiting for this connection
        sock.end()
        rc, _, err = await fleet.wait(T)
        assert rc == 0, err


async def test_workers_still_busy_after_grace_are_killed_and_the_status_says_so(certs):
    async with server_process(certs, workers=1, echo=True, grace=0.3) as fleet:
        sock, _ = await _connect_held(fleet.port, certs.root.cert_pem)
        fleet.proc.send_signal(signal.SIGTERM)
        rc, _, _ = await fleet.wait(T)
        assert rc == 1
        sock.destroy()


async def test_workers_rotate_one_key_set_without_a_failed_resumption(certs):
    # The parent rotates every 0.5 s (keep 1) and pipes each new set to both workers.
    async with server_process(certs, workers=2, version="TLSv1.3", interval=0.5,
                              keep=1) as fleet:
        await _wait_until(lambda: len(_workers_listening(fleet)) == 2)
        loop = asyncio.get_running_loop()
        end = loop.time() + 2.0
        served, resumed = set(), 0
        _, session, _ = await exchange(fleet.port, certs.root.cert_pem)
        first = session
        while loop.time() < end:
            reused, new, line = await exchange(fleet.port, certs.root.cert_pem, session)
            assert reused is True, f"resumption failed after {resumed} (served by {line!r})"
            resumed += 1
            served.add(served_by(line)[0])
            session = new or session
            await asyncio.sleep(0.02)
        assert served == {0, 1} and resumed >= 10
        # The first ticket's key has been retired by the rotations the workers received.
        reused, _, _ = await exchange(fleet.port, certs.root.cert_pem, first)
        assert reused is False


async def test_a_worker_wipes_the_parents_keys_it_inherited(tmp_path):
    """fork() copies the parent's TicketKeys into each worker, where nothing would ever rotate or
    wipe it: the worker zeroes that copy once it has its own (PipedTicketKeys).  The parent's own
    object is untouched."""
    script = tmp_path / "inherit.py"
    script.write_text(
        "import nodetls\n"
        "from nodetls import _worker_state\n"
        "from nodetls.sessions import TicketKeys\n"
        "keys = TicketKeys(interval=3600, keep=1)\n"
        "held = [k for _, k in keys.entries()]\n"
        "want = keys.ticket_keys()\n"
        "def main():\n"
        "    print('worker', keys.entries() == [], all(k == bytearray(48) for k in held),\n"
        "          _worker_state.ticket_keys.ticket_keys() == want, flush=True)\n"
        "nodetls.run(main, workers=1, ticket_keys=keys)\n"
        "print('parent', keys.ticket_keys() == want, flush=True)\n")
    rc, out, err = await run_script(script)
    assert rc == 0, err
    assert out.decode().split("\n")[:2] == ["worker True True True", "parent True"]
