"""A bounded run of the socket chaos harness (``chaos.py``): random writes, pauses, ends,
destroys, resets, timeouts and renegotiations at random moments, on both loops and both forms,
each seed's program in a child process -- which must live (no signal: libuv's ``abort()`` on a
failed epoll change killed the process once, see ``close_fin.py``), close every socket
(``'close'`` for each, no descriptor left), see no exception in its loop and finish in bounded
time. Run more seeds with ``python -m tests.faults.chaos run --loop uvloop --form net --seeds
0-999``."""

from __future__ import annotations

import pytest

from .chaos import generate, run_one, run_seeds

#: The seeds the suite runs per loop and form (a few seconds in all; the runner runs thousands).
SEEDS = {"net": range(0, 12), "tls": range(0, 6)}


@pytest.mark.parametrize("form", ["net", "tls"])
@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_chaos_seeds_keep_the_process_alive_and_close_everything(loop: str, form: str) -> None:
    if loop == "uvloop":
        pytest.importorskip("uvloop")
    failures = run_seeds(loop, form, list(SEEDS[form]), batch=len(SEEDS[form]))
    assert failures == {}, failures


def test_plans_are_reproducible() -> None:
    # A seed is a plan: the runner's minimiser and a report's seed number depend on it.
    assert generate(7, "tls") == generate(7, "tls")
    assert generate(7, "net") != generate(8, "net")


def test_a_killed_child_is_reported_by_its_signal() -> None:
    # The harness's own check: a plan whose child dies is a failure naming the signal, not a
    # lost test run (a plan with an unknown op makes the child kill itself with SIGABRT).
    plan = generate(0, "net")
    plan["conns"] = [{"kind": "net", "creads": True, "sreads": True, "half_open": False}]
    plan["actions"] = [{"at": ["tick", 0], "on": "c0", "op": "abort_process", "arg": None}]
    outcome, _ = run_one("asyncio", plan, verbose=False)
    assert outcome == "signal SIGABRT"


def test_the_harness_never_resizes_a_buffer_it_gave_to_write() -> None:
    # Seeds 4500 and 4517 (uvloop, net): the harness's write_kind resized a bytearray right
    # after write(); uvloop keeps a bytearray waiting to be sent exported, so the resize raised
    # BufferError in the harness's own step. A buffer given to write() is not copied (Node's
    # rule, docs/net.md): the harness now changes it in place only.
    pytest.importorskip("uvloop")
    assert run_seeds("uvloop", "net", [4500, 4517], batch=2) == {}


def test_a_raw_peer_closed_while_it_connects_leaves_the_loop_clean() -> None:
    # Seed 8140 (asyncio, tls): an action at the first connection's 'secureConnect' closed the
    # third (raw) peer while the harness's own loop.sock_connect() for it still waited, its
    # descriptor registered for writing. The loop never hears of a closed descriptor: the
    # accepted server socket that took the same number next inherited that registration, lost
    # its own when the connect gave up (5 s later), and the server's close() waited for it
    # past the bound ("not all closed within 8.0 s"). The harness now removes the raw peer's
    # descriptor from the loop before closing it and cancels the connect.
    plan = generate(8140, "tls")
    plan["conns"] = [{"kind": "tls", "creads": False, "sreads": True, "half_open": False},
                     {"kind": "raw", "creads": False, "sreads": False, "half_open": True},
                     {"kind": "raw", "creads": False, "sreads": True, "half_open": True}]
    plan.update(server_half_open=True, pause_on_connect=True, tls12=False, finale="destroy")
    plan["actions"] = [{"at": ["ev", "c0", "secureConnect", 1, False], "on": "c2",
                        "op": "raw_close", "arg": None}]
    outcome, _ = run_one("asyncio", plan, verbose=False)
    assert outcome == "ok"
