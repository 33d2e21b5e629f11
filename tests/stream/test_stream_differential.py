"""Differential tests of :mod:`nodetls.stream` against Node v20's streams.

Random scripts of stream operations (``tests/stream/diff/gen.py``: pushes, reads, writes,
cork/uncork, pause/resume, setEncoding, destroy, unshift, listeners, pipes, construct hooks and
loop ticks) run in nodetls (``diff/runner.py``) and were run in Node v20 (``diff/runner.js``);
every event, return value and the streams' final state must be the same. The Node results are
stored in ``diff/expected.json`` (``python -m tests.stream.diff.record`` re-records them), so
these tests need no ``node``; where ``node`` is installed, one more test checks the records are
still what Node (and the runner) give. ``python -m tests.stream.diff.batch FIRST COUNT
--minimise`` runs any number of new seeds against a live node.

Cases: 300 fixed seeds, plus each divergence found and fixed, minimised, as its own named case
(its ``doc`` says which Node behaviour it pins).
"""

from __future__ import annotations

from typing import Any

import pytest

from ..helpers.difftest import load_cases, needs_node, node_v20
from .diff.batch import HARNESS

_CASES, _SEEDED, _NAMED = load_cases(HARNESS.expected)


async def test_seeded_scripts_match_node() -> None:
    """The fixed seeds (random scripts): nodetls's log and final state equal Node's."""
    bad = await HARNESS.mismatches(_SEEDED)
    assert not bad, "\n".join(bad)
    assert len(_SEEDED) >= 290  # (the 300 seeds less those left out as accepted differences)


@pytest.mark.parametrize("case", _NAMED, ids=[c["name"] for c in _NAMED])
async def test_fixed_divergence(case: dict[str, Any]) -> None:
    """A divergence the differential runs found (minimised) and nodetls fixed: see its doc."""
    bad = await HARNESS.mismatches([case])
    assert not bad, f"{case['doc']}\n{bad[0]}"


@needs_node
def test_records_are_nodes() -> None:
    """The stored results are what this machine's Node v20 gives (else re-record them)."""
    version = node_v20()
    stale = HARNESS.stale_records(_CASES)
    assert not stale, f"expected.json differs from node {version} for {stale}"
