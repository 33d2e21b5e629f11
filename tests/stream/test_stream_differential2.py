"""Differential tests of :mod:`nodetls.stream`'s composite APIs against Node v20: random
scripts (``tests/stream/diff/gen2.py``) building a ``pipeline`` of 2-4 streams and async
generator stages (callback and promise forms), calling ``finished`` with its options, iterating
a Readable with ``for await`` (``break`` or not, ``iterator({destroyOnReturn})``), reading a
``Readable.from``, aborting streams through ``addAbortSignal``, among ``gen.py``'s ordinary
ops. Node's results are stored in ``diff/expected2.json`` (``python -m
tests.stream.diff.record2``), so these tests need no ``node``; ``python -m
tests.stream.diff.batch2 FIRST COUNT --minimise`` runs new seeds against a live node.
"""

from __future__ import annotations

from typing import Any

import pytest

from ..helpers.difftest import load_cases, needs_node, node_v20
from .diff.batch2 import HARNESS2
from .diff.record2 import XFAIL

_CASES, _SEEDED, _NAMED = load_cases(HARNESS2.expected)


async def test_seeded_scripts_match_node() -> None:
    """The recorded seeds: nodetls's logs and final state equal Node's."""
    bad = await HARNESS2.mismatches(_SEEDED)
    assert not bad, "\n".join(bad)
    assert len(_SEEDED) >= 75


@pytest.mark.parametrize("case", [
    pytest.param(c, marks=pytest.mark.xfail(strict=True, reason=c["doc"]))
    if c["name"] in XFAIL else c for c in _NAMED], ids=[c["name"] for c in _NAMED])
async def test_named_case(case: dict[str, Any]) -> None:
    """A divergence the differential runs found (minimised): see its doc."""
    bad = await HARNESS2.mismatches([case])
    assert not bad, f"{case['doc']}\n{bad[0]}"


@needs_node
def test_records_are_nodes() -> None:
    """The stored results are what this machine's Node v20 gives (else re-record them)."""
    version = node_v20()
    stale = HARNESS2.stale_records(_CASES)
    assert not stale, f"expected2.json differs from node {version} for {stale}"
