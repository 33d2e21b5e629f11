"""Run many seeds of the bad-arguments differential through Node and nodetls.

``python -m tests.options.batch FIRST COUNT [--all]``: one ``node`` process for all the calls
(running while nodetls runs them in this process); prints how many calls were alike, accepted
(by reason) and divergent, then one JSON line per divergence class (the first seed of each,
``--all``: every seed). Needs ``node``. Exit status 1 when a call diverges.
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import re
import subprocess
import sys
import tempfile
from typing import Any

from .compare import verdict
from .gen import generate
from .runner import run_calls

RUNNER_JS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "runner.js")


def run_both(calls: list[dict[str, Any]], timeout: float = 600
             ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Node's results and nodetls's for ``calls`` (the two running at the same time)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(calls, f)
    try:
        proc = subprocess.Popen(["node", RUNNER_JS, f.name], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        try:
            ours = asyncio.run(run_calls(calls))
            out, _ = proc.communicate(timeout=timeout)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    finally:
        os.unlink(f.name)
    return json.loads(out), ours


def compare(seeds: range) -> tuple[collections.Counter[str], list[tuple[int, str]]]:
    """Counters of the verdicts of ``seeds`` and the divergent ``(seed, verdict)``."""
    calls = [generate(s) for s in seeds]
    node, ours = run_both(calls)
    counts: collections.Counter[str] = collections.Counter()
    bad = []
    for seed, call, a, b in zip(seeds, calls, node, ours, strict=True):
        v = verdict(call, a, b)
        counts["alike" if v is None else v.split(" (")[0][:80]] += 1
        if v is not None and v.startswith("differs"):
            bad.append((seed, v))
    return counts, bad


def _signature(call: dict[str, Any], v: str) -> str:
    text = re.sub(r"Received .*?'( /|$)", r"Received ...'\1", v)
    return call["target"] + (call.get("method") or "") + re.sub(r"\d+", "#", text)[:160]


def main() -> None:
    first, count = int(sys.argv[1]), int(sys.argv[2])
    every = "--all" in sys.argv
    counts: collections.Counter[str] = collections.Counter()
    bad: list[tuple[int, str]] = []
    step = 5000
    for start in range(first, first + count, step):
        c, b = compare(range(start, min(start + step, first + count)))
        counts += c
        bad += b
    for key, n in counts.most_common():
        print(f"{n:7}  {key}", file=sys.stderr)
    seen: set[str] = set()
    for seed, v in bad:
        call = generate(seed)
        sig = _signature(call, v)
        if every or sig not in seen:
            seen.add(sig)
            print(json.dumps({"seed": seed, "verdict": v, "call": call}), flush=True)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
