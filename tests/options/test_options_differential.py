"""The bad-arguments differential (``tests/options/gen.py``) on a fixed range of seeds.

Each seed is one call (``create_secure_context``, ``tls.create_server``, ``TLSSocket``,
``tls.connect``, ``net.Socket``, ``net.connect``, ``net.create_server``, ``listen`` and their
positional forms, socket and server methods) with good values and values from a menu of wrong
ones. With ``node`` installed, the calls run in one ``node`` process (``runner.js``) and here
(``runner.py``), and every call must give the same outcome: returns, or throws with Node's class
(TypeError -> TypeError, RangeError -> ValueError), ``code`` and argument name; the differences
accepted on purpose are listed with their reason in ``compare.py`` (and docs/errors.md, "Bad
arguments"). Without ``node``, nodetls's half still runs: every error must carry a code, except
Python's own for a missing required argument and the known bugs of ``compare.known_bug``.
``python -m tests.options.batch FIRST COUNT`` runs any other range.
"""

from __future__ import annotations

import asyncio
import shutil

import pytest

from .batch import compare
from .compare import known_bug
from .gen import generate
from .runner import run_calls

SEEDS = range(0, 3000)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_seeded_calls_match_node() -> None:
    counts, bad = compare(SEEDS)
    assert counts["alike"] > len(SEEDS) // 2  # (the comparison compares something)
    assert not bad, "\n".join(f"seed {s}: {v}" for s, v in bad[:20])


def test_every_error_has_a_code() -> None:
    calls = [generate(s) for s in SEEDS]
    results = asyncio.run(run_calls(calls))
    missing = []
    for seed, call, r in zip(SEEDS, calls, results, strict=True):
        if not r["threw"] or r["code"] or "required positional argument" in r["msg"]:
            continue
        if known_bug(call, {"threw": False}, {"cls": None, "code": None, "msg": "", **r}):
            continue
        missing.append(f"seed {seed}: {r['cls']} {r['msg'][:100]}")
    assert not missing, "\n".join(missing[:20])
