"""Run many seeds through both net runners, list the divergent ones, minimise them.

``python -m tests.net.diff.batch FIRST COUNT [--minimise] [--loop uvloop|asyncio]``: one
``node`` process for all the
scripts (running while nodetls runs them in this process); a divergent seed is run again in
both, and reported only if it diverges again (else counted as flaky: timing); prints each with
its first difference (minimised: ops dropped and options simplified while it still diverges
the same way). ``... batch show SCRIPT_JSON`` prints one script's logs side by side. Needs
``node``. ``--loop uvloop`` runs nodetls's side under ``nodetls.run(loop="uvloop")``
(:class:`UvloopHarness`) instead of asyncio's loop (the default, which the records are
compared on). :data:`HARNESS` is the net harness (:class:`tests.helpers.difftest.Harness`, with
``timing``; no difference from Node is accepted).
"""

from __future__ import annotations

import dataclasses
import os
import sys
from typing import Any

from nodetls import run

from ...helpers.difftest import Harness, Result, Script
from .gen import generate
from .runner import run_scripts

_HERE = os.path.dirname(os.path.abspath(__file__))


def candidates(script: dict[str, Any]) -> list[dict[str, Any]]:
    """The script with one op dropped, one server or client option off, or one big chunk
    made one byte."""
    ops = script["ops"]
    cands = [{**script, "ops": ops[:i] + ops[i + 1:]} for i in range(len(ops))]
    for side in ("server", "client"):
        for key, on in script[side].items():
            if on:
                cands.append({**script, side: {**script[side], key: False}})
    for i, op in enumerate(ops):
        if op[0] != "settle" and op[1] in ("write", "end") and isinstance(op[2], list):
            cands.append({**script, "ops": ops[:i] + [[*op[:2], "61"]] + ops[i + 1:]})
    return cands


HARNESS = Harness(runner_js=os.path.join(_HERE, "runner.js"),
                  expected=os.path.join(_HERE, "expected.json"), run_scripts=run_scripts,
                  generate=generate, candidates=candidates, logs=("c", "s"), timeout=3600,
                  timing=True)


class UvloopHarness(Harness):
    """A harness whose nodetls side runs under ``nodetls.run(loop="uvloop")``."""

    def run_ours(self, scripts: list[Script]) -> list[Result]:
        return run(lambda: self.run_scripts(scripts), loop="uvloop")  # type: ignore[no-any-return]


def harness_for(loop: str) -> Harness:
    """:data:`HARNESS` with nodetls's side on ``loop`` (``asyncio`` or ``uvloop``)."""
    if loop == "asyncio":
        return HARNESS
    if loop == "uvloop":
        return UvloopHarness(**{f.name: getattr(HARNESS, f.name)
                                for f in dataclasses.fields(HARNESS)})
    raise SystemExit(f"--loop: uvloop or asyncio, not {loop!r}")


def main(argv: list[str] | None = None) -> None:
    """The command line (see the module's docstring)."""
    args = list(sys.argv[1:] if argv is None else argv)
    loop = "asyncio"
    if "--loop" in args:
        i = args.index("--loop")
        if i + 1 >= len(args):
            raise SystemExit("--loop needs a value: uvloop or asyncio")
        loop = args[i + 1]
        del args[i:i + 2]
    harness_for(loop).batch(args)


if __name__ == "__main__":
    main()
