"""Run many seeds through both EventEmitter runners, list the divergent ones, minimise them.

``python -m tests.events.diff.batch FIRST COUNT [--minimise]``: one ``node`` process
for all the scripts, nodetls in this process; prints each divergent seed with its first
difference (minimised: ops dropped while the script still diverges). ``... batch show
SCRIPT_JSON`` prints one script's two logs side by side. Needs ``node``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import subprocess
import sys
import tempfile
from typing import Any

from .compare import accepted, diverges, first_difference
from .gen import generate
from .runner import run_scripts

RUNNER_JS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "runner.js")


def run_node(scripts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(scripts, f)
    try:
        out = subprocess.run(["node", "--no-warnings", RUNNER_JS, f.name], capture_output=True, text=True,
                             check=True, timeout=600).stdout
    finally:
        os.unlink(f.name)
    return json.loads(out)  # type: ignore[no-any-return]


def run_ours(scripts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return asyncio.run(run_scripts(scripts))


def minimise(script: dict[str, Any]) -> dict[str, Any]:
    """Drop ops one at a time, and make listener actions plain ``["log"]``, while the script
    still diverges; each round runs all the candidates in one batch."""
    while True:
        cands = []
        ops = script["ops"]
        for i in range(len(ops)):
            cands.append({**script, "ops": ops[:i] + ops[i + 1:]})
        for i, act in enumerate(script["fns"]):
            if act != ["log"]:
                fns = list(script["fns"])
                fns[i] = ["log"]
                cands.append({**script, "fns": fns})
        if script["kind"] != "plain":
            cands.append({**script, "kind": "plain"})
        if not cands:
            return script
        node, ours = run_node(cands), run_ours(cands)
        for c, a, b in zip(cands, node, ours, strict=True):
            if diverges(a, b) and accepted(c, a) is None:
                script = c
                break
        else:
            return script


def show(script: dict[str, Any]) -> None:
    """Print both logs side by side (``!!`` marks the lines that differ), then the states and
    warnings."""
    a, b = run_node([script])[0], run_ours([script])[0]
    for x, y in itertools.zip_longest(a["log"], b["log"]):
        print(("   " if x == y else "!! ") + f"{x!s:44} {y!s}")
    for k in ("state", "warnings"):
        print(("   " if a[k] == b[k] else "!! ") + f"{k}: {a[k]} / {b[k]}")


def main() -> None:
    if sys.argv[1] == "show":
        show(json.loads(sys.argv[2]))
        return
    first, count = int(sys.argv[1]), int(sys.argv[2])
    do_min = "--minimise" in sys.argv
    seeds = list(range(first, first + count))
    scripts = [generate(s) for s in seeds]
    skipped = [s for s, sc in zip(seeds, scripts, strict=True) if accepted(sc) is not None]
    seeds = [s for s, sc in zip(seeds, scripts, strict=True) if accepted(sc) is None]
    scripts = [sc for sc in scripts if accepted(sc) is None]
    print(f"{len(skipped)} seeds skipped (accepted differences)", file=sys.stderr)
    node, ours = run_node(scripts), run_ours(scripts)
    bad = [(s, sc, a, b) for s, sc, a, b in zip(seeds, scripts, node, ours, strict=True)
           if diverges(a, b) and accepted(sc, a) is None]
    print(f"{sum(accepted(sc, a) is not None for sc, a in zip(scripts, node, strict=True))} more skipped"
          " (Node's own bugs)", file=sys.stderr)
    print(f"{len(bad)} of {count} seeds diverge", file=sys.stderr)
    for s, sc, a, b in bad:
        if do_min:
            sc = minimise(sc)
            a, b = run_node([sc])[0], run_ours([sc])[0]
        print(json.dumps({"seed": s, "diff": first_difference(a, b), "script": sc}))


if __name__ == "__main__":
    main()
