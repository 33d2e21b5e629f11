"""``batch.py`` for ``gen2.py``'s scripts (pipeline, finished, async iteration, Readable.from,
addAbortSignal): ``python -m tests.stream.diff.batch2 FIRST COUNT [--minimise]``, ``...
batch2 show SCRIPT_JSON``. Needs ``node``. :data:`HARNESS2` is the harness (records in
``expected2.json``; two logs: ``log`` and ``alog``, see ``gen2.py``).
"""

from __future__ import annotations

import os
import sys
from typing import Any

from ...helpers.difftest import Harness
from .batch import candidates as _candidates
from .compare import accepted
from .gen2 import generate
from .runner import run_scripts

_HERE = os.path.dirname(os.path.abspath(__file__))


def candidates(script: dict[str, Any]) -> list[dict[str, Any]]:
    """``batch.py``'s, plus: a pipeline stage's ``src``/generator chunk dropped."""
    cands = _candidates(script)
    for i, op in enumerate(script["ops"]):
        if op[0] == "pipeline":
            for j, st in enumerate(op[2]):
                if isinstance(st, list):
                    for m in range(len(st[1])):
                        stages = list(op[2])
                        stages[j] = [st[0], st[1][:m] + st[1][m + 1:]]
                        ops = list(script["ops"])
                        ops[i] = [*op[:2], stages, *op[3:]]
                        cands.append({**script, "ops": ops})
    return cands


HARNESS2 = Harness(runner_js=os.path.join(_HERE, "runner.js"),
                   expected=os.path.join(_HERE, "expected2.json"), run_scripts=run_scripts,
                   generate=generate, candidates=candidates, accepted=accepted,
                   logs=("log", "alog"))


def main() -> None:
    HARNESS2.batch(sys.argv[1:])


if __name__ == "__main__":
    main()
