"""Run many seeds through both net runners, list the divergent ones, minimise them.

``python -m tests.net.diff.batch FIRST COUNT [--minimise]``: one ``node`` process for all the
scripts (running while nodetls runs them in this process); a divergent seed is run again in
both, and reported only if it diverges again (else counted as flaky: timing); prints each with
its first difference (minimised: ops dropped and options simplified while it still diverges).
``... batch show SCRIPT_JSON`` prints one script's logs side by side. Needs ``node``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile
from typing import Any

from .compare import accepted, diverges, first_difference
from .gen import generate
from .runner import run_scripts

RUNNER_JS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "runner.js")


def run_both(scripts: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Node's results and nodetls's, for ``scripts`` (the two runs at the same time)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(scripts, f)
    try:
        proc = subprocess.Popen(["node", RUNNER_JS, f.name], stdout=subprocess.PIPE, text=True)
        ours = asyncio.run(run_scripts(scripts))
        out, _ = proc.communicate(timeout=3600)
    finally:
        os.unlink(f.name)
    return json.loads(out), ours


def run_node(scripts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(scripts, f)
    try:
        out = subprocess.run(["node", RUNNER_JS, f.name], capture_output=True, text=True,
                             check=True, timeout=3600).stdout
    finally:
        os.unlink(f.name)
    return json.loads(out)  # type: ignore[no-any-return]


def _bad(script: dict[str, Any], a: dict[str, Any], b: dict[str, Any]) -> bool:
    return diverges(a, b) and accepted(script, a) is None


def signature(diff: str) -> str:
    """A divergence's class: its first difference, indexes, numbers and data left out."""
    return re.sub(r"\[\d+\]|@\d+|[0-9a-f]{2,}|len=\d+,sha=\w+|\d+", "#", diff)


def minimise(script: dict[str, Any]) -> dict[str, Any]:
    """Drop ops, and turn options off, one at a time while the script still diverges the same
    way (:func:`signature`), twice in a row (a timing accident does not count); each round runs
    all the candidates in one batch."""
    (a,), (b,) = run_both([script])
    sig = signature(first_difference(a, b))
    while True:
        ops = script["ops"]
        cands = [{**script, "ops": ops[:i] + ops[i + 1:]} for i in range(len(ops))]
        for side in ("server", "client"):
            for key, on in script[side].items():
                if on:
                    cands.append({**script, side: {**script[side], key: False}})
        for i, op in enumerate(ops):  # a big chunk made small
            if op[0] != "settle" and op[1] in ("write", "end") and isinstance(op[2], list):
                cands.append({**script, "ops": ops[:i] + [[*op[:2], "61"]] + ops[i + 1:]})
        if not cands:
            return script
        node, ours = run_both(cands)
        hits = [c for c, a, b in zip(cands, node, ours, strict=True)
                if _bad(c, a, b) and signature(first_difference(a, b)) == sig]
        for c in hits[:3]:
            (a,), (b,) = run_both([c])
            if _bad(c, a, b) and signature(first_difference(a, b)) == sig:
                script = c
                break
        else:
            return script


def show(script: dict[str, Any]) -> None:
    """Print both runtimes' logs side by side (``!!`` marks the lines that differ), then the
    states' differences."""
    (a,), (b,) = run_both([script])
    for side in ("c", "s"):
        print(f"--- {side}")
        for x, y in itertools.zip_longest(a[side], b[side]):
            print(("   " if x == y else "!! ") + f"{x!s:44} {y!s}")
    for side in ("c", "s"):
        x, y = a["state"][side] or {}, b["state"][side] or {}
        print(side, {k: (x.get(k), y.get(k)) for k in x.keys() | y.keys() if x.get(k) != y.get(k)})


def main() -> None:
    if sys.argv[1] == "show":
        show(json.loads(sys.argv[2]))
        return
    first, count = int(sys.argv[1]), int(sys.argv[2])
    do_min = "--minimise" in sys.argv
    seeds = [s for s in range(first, first + count) if accepted(generate(s)) is None]
    scripts = [generate(s) for s in seeds]
    node, ours = run_both(scripts)
    bad = [(s, sc) for s, sc, a, b in zip(seeds, scripts, node, ours, strict=True)
           if _bad(sc, a, b)]
    node2, ours2 = run_both([sc for _, sc in bad]) if bad else ([], [])
    confirmed = [(s, sc, a, b) for (s, sc), a, b in zip(bad, node2, ours2, strict=True)
                 if _bad(sc, a, b)]
    print(f"{len(confirmed)} of {count} seeds diverge ({len(bad) - len(confirmed)} more once:"
          " flaky)", file=sys.stderr)
    for s, sc, a, b in confirmed:
        if do_min:
            sc = minimise(sc)
            (a,), (b,) = run_both([sc])
        print(json.dumps({"seed": s, "diff": first_difference(a, b), "script": sc}), flush=True)


if __name__ == "__main__":
    main()
