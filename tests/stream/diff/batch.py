"""Run many seeds through both runners, list the divergent ones, minimise them.

``python -m tests.stream.diff.batch FIRST COUNT [--minimise]``: one ``node`` process
for all the scripts, nodetls in this process; prints each divergent seed with its first
difference (minimised: ops dropped while the script still diverges). ``... batch show
SCRIPT_JSON`` prints one script's two logs side by side. Needs ``node``.
:data:`HARNESS` is the stream harness (:class:`tests.helpers.difftest.Harness`).
"""

from __future__ import annotations

import os
import sys
from typing import Any

from ...helpers.difftest import Harness
from .compare import accepted
from .gen import generate
from .runner import run_scripts

_HERE = os.path.dirname(os.path.abspath(__file__))


def candidates(script: dict[str, Any]) -> list[dict[str, Any]]:
    """The script with one op dropped, one src chunk dropped, or one stream option unset."""
    ops = script["ops"]
    cands = [{**script, "ops": ops[:i] + ops[i + 1:]} for i in range(len(ops))]
    for si, spec in enumerate(script["streams"]):
        for i in range(len(spec.get("src") or [])):
            streams = [dict(s) for s in script["streams"]]
            streams[si]["src"] = spec["src"][:i] + spec["src"][i + 1:]
            cands.append({**script, "streams": streams})
        for key in ("construct", "final", "hwm", "autoDestroy", "allowHalfOpen"):
            if spec.get(key) is not None:
                streams = [dict(s) for s in script["streams"]]
                streams[si][key] = None
                cands.append({**script, "streams": streams})
    return cands


HARNESS = Harness(runner_js=os.path.join(_HERE, "runner.js"),
                  expected=os.path.join(_HERE, "expected.json"), run_scripts=run_scripts,
                  generate=generate, candidates=candidates, accepted=accepted)


def main() -> None:
    HARNESS.batch(sys.argv[1:])


if __name__ == "__main__":
    main()
