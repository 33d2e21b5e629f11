"""Differential tests of :mod:`nodetls.events` against Node v20's ``events``.

Random scripts (``tests/events/diff/gen.py``) of on / once / prependListener /
prependOnceListener / off / removeAllListeners / emit / setMaxListeners / listenerCount /
eventNames / listeners / rawListeners calls, on a plain emitter or a Readable, with listeners
that add or remove listeners (themselves too), emit, or remove all during an emit,
'newListener' / 'removeListener' / errorMonitor listeners and emit('error') with and without
a listener, run in nodetls (``diff/runner.py``) and were run in Node v20 (``diff/runner.js``):
every call's result, every listener call, the final table and the MaxListenersExceededWarnings
must be the same. The Node results are stored in ``diff/expected.json`` (``python -m
tests.events.diff.record`` re-records them), so these tests need no ``node``; where ``node`` is
installed, one more test checks the records are still what Node gives. ``python -m
tests.events.diff.batch FIRST COUNT --minimise`` runs any number of new seeds against a live
node.

Cases: 500 fixed seeds, plus each divergence found and fixed, minimised, as its own named case
(its ``doc`` says which Node behaviour it pins).
"""

from __future__ import annotations

import json
import os
import shutil
from typing import Any

import pytest

from .diff.compare import first_difference
from .diff.runner import run_scripts

_EXPECTED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "diff", "expected.json")

with open(_EXPECTED, encoding="utf-8") as _f:
    _RECORDS = json.load(_f)

_CASES: list[dict[str, Any]] = _RECORDS["cases"]
_SEEDED = [c for c in _CASES if "doc" not in c]
_NAMED = [c for c in _CASES if "doc" in c]


async def test_seeded_scripts_match_node() -> None:
    """The fixed seeds (random scripts): nodetls's log, table and warnings equal Node's."""
    results = await run_scripts([c["script"] for c in _SEEDED])
    bad = [f"{c['name']}: {first_difference(c['node'], r)}"
           for c, r in zip(_SEEDED, results, strict=True) if r != c["node"]]
    assert not bad, "\n".join(bad)
    assert len(_SEEDED) == 500


@pytest.mark.parametrize("case", _NAMED, ids=[c["name"] for c in _NAMED])
async def test_fixed_divergence(case: dict[str, Any]) -> None:
    """A divergence the differential runs found (minimised) and nodetls fixed: see its doc."""
    (result,) = await run_scripts([case["script"]])
    assert result == case["node"], f"{case['doc']}\n{first_difference(case['node'], result)}"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_records_are_nodes() -> None:
    """The stored results are what this machine's Node v20 gives (else re-record them)."""
    from .diff.batch import run_node

    version = os.popen("node --version").read().strip()
    if not version.startswith("v20."):
        pytest.skip(f"the records are Node v20's (node here: {version})")
    fresh = run_node([c["script"] for c in _CASES])
    stale = [c["name"] for c, r in zip(_CASES, fresh, strict=True) if r != c["node"]]
    assert not stale, f"expected.json differs from node {version} for {stale}"
