"""Run many seeds through both EventEmitter runners, list the divergent ones, minimise them.

``python -m tests.events.diff.batch FIRST COUNT [--minimise]``: one ``node`` process
for all the scripts, nodetls in this process; prints each divergent seed with its first
difference (minimised: ops dropped, listener actions made plain ``["log"]``, the emitter made
plain, while the script still diverges). ``... batch show SCRIPT_JSON`` prints one script's two
logs side by side. Needs ``node``. :data:`HARNESS` is the events harness
(:class:`tests.helpers.difftest.Harness`; no difference from Node is accepted).
"""

from __future__ import annotations

import os
import sys
from typing import Any

from ...helpers.difftest import Harness
from .gen import generate
from .runner import run_scripts

_HERE = os.path.dirname(os.path.abspath(__file__))


def candidates(script: dict[str, Any]) -> list[dict[str, Any]]:
    """The script with one op dropped, one listener's action made ``["log"]``, or a plain
    emitter."""
    ops = script["ops"]
    cands = [{**script, "ops": ops[:i] + ops[i + 1:]} for i in range(len(ops))]
    for i, act in enumerate(script["fns"]):
        if act != ["log"]:
            fns = list(script["fns"])
            fns[i] = ["log"]
            cands.append({**script, "fns": fns})
    if script["kind"] != "plain":
        cands.append({**script, "kind": "plain"})
    return cands


HARNESS = Harness(runner_js=os.path.join(_HERE, "runner.js"),
                  expected=os.path.join(_HERE, "expected.json"), run_scripts=run_scripts,
                  generate=generate, candidates=candidates, node_args=("--no-warnings",))


def main() -> None:
    HARNESS.batch(sys.argv[1:])


if __name__ == "__main__":
    main()
