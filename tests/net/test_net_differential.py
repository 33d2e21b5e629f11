"""Differential tests of :mod:`nodetls.net` sockets against Node v20's ``net``, over loopback.

A script (``tests/net/diff/gen.py``) is one server (``allow_half_open``, ``pause_on_connect``)
and one client in the same process, and ops on the client or the accepted socket (write, end,
destroy, destroy_soon, pause, resume, set_encoding, set_timeout, set_no_delay, ref / unref,
and "settle": wait until neither socket logged anything for 30 ms). Each socket's events,
every op's result and both final states were recorded from Node v20 (``diff/runner.js``) in
``diff/expected.json`` (``python -m tests.net.diff.record``), so these tests need no ``node``;
``python -m tests.net.diff.batch FIRST COUNT --minimise`` runs new seeds against a live node.

The fixed seeds are ones nodetls ran like Node (a regression guard); each divergence class the
runs found is a named case, minimised, its ``doc`` saying what Node does: a strict xfail until
nodetls's net is changed (``_FIXED`` lists the ones that were).
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest

from nodetls import run

from ..helpers.difftest import Harness, load_cases
from ..helpers.difftest_sockets import known_divergence_test, seeded_test
from ..tls.diff.batch import HARNESS as TLS_HARNESS
from .diff.batch import HARNESS, harness_for, main

_CASES, _SEEDED, _NAMED = load_cases(HARNESS.expected)

#: Named cases fixed since they were found (each passes); the others are strict xfails.
_FIXED = {"set_timeout_zero_property", "end_then_destroy_same_tick_no_fin",
          "finish_before_peer_data", "peer_closed_then_write_reads_eof",
          "write_error_sync_returns_false", "destroy_soon_before_peer_fin",
          "write_to_reset_peer_econnreset", "close_with_data_unread_resets",
          "paused_shutdown_fails_after_peer_fin", "paused_shutdown_fails_after_peer_reset",
          "timeout_restarted_by_peer_eof", "short_read_hup_is_eof", "hup_stop_paused_resets",
          "hup_stop_paused_no_end_resets", "hup_paused_below_mark_ends",
          "hup_paused_two_reads_ends", "shutdown_fails_after_peer_reset_full_read_resets",
          "end_data_after_peer_fin_write_after_end"}

test_seeded_scripts_match_node = seeded_test(HARNESS, _SEEDED, 60)
test_known_divergence = known_divergence_test(HARNESS, _NAMED, _FIXED, "net")


#: Named cases, net's and TLS's (whose TLS socket reads through the same TCP handle), that
#: are run on uvloop too: the harnesses run on asyncio's loop, whose loop steps are not
#: uvloop's (uvloop runs its ``call_soon`` callbacks before its poll, asyncio after it).
#: (The seeded scripts are not: the runner's first ops run in a listener and the rest after
#: an ``await``, which on uvloop comes after a poll, so the peer's data is logged before
#: the runner's ``~``.)
_ON_UVLOOP = [("net", HARNESS, "finish_before_peer_data"),
              ("tls", TLS_HARNESS, "finish_before_peer_data"),
              ("net", HARNESS, "paused_shutdown_fails_after_peer_fin"),
              ("net", HARNESS, "paused_shutdown_fails_after_peer_reset"),
              ("net", HARNESS, "hup_stop_paused_resets"),
              ("net", HARNESS, "hup_paused_below_mark_ends"),
              ("net", HARNESS, "hup_paused_two_reads_ends"),
              ("net", HARNESS, "end_data_after_peer_fin_write_after_end"),
              ("tls", TLS_HARNESS, "end_data_after_peer_fin_write_after_end")]


@pytest.mark.parametrize(("area", "harness", "name"), _ON_UVLOOP,
                         ids=[f"{a}-{n}" for a, _, n in _ON_UVLOOP])
def test_named_case_on_uvloop(area: str, harness: Harness, name: str) -> None:
    """A named case, fixed, run under :func:`nodetls.run` on uvloop: as Node's record."""
    pytest.importorskip("uvloop")
    (case,) = [c for c in load_cases(harness.expected)[2] if c["name"] == name]
    assert run(lambda: harness.mismatches([case]), loop="uvloop") == []


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_batch_loop_option(loop: str) -> None:
    """``batch.py --loop LOOP`` runs nodetls's side of the scripts on that loop."""
    if loop == "uvloop":
        pytest.importorskip("uvloop")
    seen: list[str] = []

    async def probe(scripts: list[Any]) -> list[Any]:
        seen.append(type(asyncio.get_running_loop()).__module__.split(".")[0])
        return []

    assert dataclasses.replace(harness_for(loop), run_scripts=probe).run_ours([]) == []
    assert seen == [loop]


def test_batch_loop_option_checked() -> None:
    """An unknown ``--loop`` (or none given) stops the command line before any run."""
    with pytest.raises(SystemExit, match="uvloop or asyncio"):
        main(["1", "1", "--loop", "trio"])
    with pytest.raises(SystemExit, match="uvloop or asyncio"):
        main(["1", "1", "--loop"])
