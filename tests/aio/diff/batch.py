"""Run many seeds through the five runs (asyncio's SSL transport and nodetls.aio, each on the
asyncio loop and on uvloop, and asyncio's transport on uvloop's loop: ``compare.THIRD``), print
the divergent seeds, minimised.

``python -m tests.aio.diff.batch FIRST COUNT [--loop asyncio|uvloop] [--streams]``: nodetls on
that loop only (default both); ``--streams``: the stream scripts (``streams.py``); a seed whose nodetls run differs from both references is run again, and
printed (a JSON line: seed, first difference, minimised script) only if it diverges the same way
again (else counted as flaky). Also counts the seeds where asyncio and uvloop disagree (and
which one nodetls followed) and the accepted ones. ``... batch show SCRIPT_JSON`` prints one
script's four results.
"""

from __future__ import annotations

import collections
import json
import logging
import sys
import tempfile
from typing import Any

from ...helpers.certs import LOCALHOST_SANS, PKI
from ...helpers.temp_files import remove_at_session_end
from .compare import REFS, THIRD, divergent, signature, verdict
from .gen import generate
from .runner import LOOPS, run, run_many
from .streams import generate_stream

Runs = dict[tuple[str, str], dict[str, Any]]


def server_bundle() -> Any:
    """A localhost leaf (issued by a fresh test PKI's intermediate; its files removed at exit)."""
    directory = tempfile.mkdtemp(prefix="aiodiff-")
    remove_at_session_end(directory)
    return PKI(directory).make_leaf(
        "localhost", LOCALHOST_SANS, name="server")


def configs(loops: tuple[str, ...]) -> list[tuple[str, str]]:
    """The runs a verdict of nodetls on ``loops`` needs: the references (the third when
    nodetls runs on uvloop), then nodetls."""
    third = [THIRD[1]] if "uvloop" in loops else []
    return list(REFS.values()) + third + [("nodetls-aio", loop) for loop in loops]


def run_one(script: dict[str, Any], bundle: Any, loops: tuple[str, ...] = LOOPS) -> Runs:
    return {key: run(script, *key, bundle) for key in configs(loops)}


def check(script: dict[str, Any], bundle: Any, loops: tuple[str, ...] = LOOPS
          ) -> dict[str, Any]:
    return verdict(script, run_one(script, bundle, loops), loops)


def candidates(script: dict[str, Any]) -> list[dict[str, Any]]:
    """The script with one op dropped, a side's protocol plain or eof_received None, one big
    chunk made one byte."""
    ops = script["ops"]
    cands = [{**script, "ops": ops[:i] + ops[i + 1:]} for i in range(len(ops))]
    for t in ("c", "s") if "proto" in script else ():
        if script["proto"][t] != "plain":
            cands.append({**script, "proto": {**script["proto"], t: "plain"}})
        if script["eof"][t] is not None:
            cands.append({**script, "eof": {**script["eof"], t: None}})
    if script["tls"] != "TLSv1.3":
        cands.append({**script, "tls": "TLSv1.3"})
    for i, op in enumerate(ops):
        if op[0] != "settle" and op[1] == "write" and isinstance(op[2], list):
            cands.append({**script, "ops": ops[:i] + [[*op[:2], "61"]] + ops[i + 1:]})
    return cands


def minimise(script: dict[str, Any], sig: str, bundle: Any,
             loops: tuple[str, ...]) -> dict[str, Any]:
    """Drop what the divergence does not need (keeping its class, :func:`signature`)."""
    changed = True
    while changed:
        changed = False
        for cand in candidates(script):
            v = check(cand, bundle, loops)
            if divergent(v) and signature(v) == sig:
                script, changed = cand, True
                break
    return script


def batch(first: int, count: int, loops: tuple[str, ...], out: Any = sys.stdout,
          streams: bool = False) -> int:
    """Run seeds ``first``..; print the divergent ones; return how many."""
    bundle = server_bundle()
    seeds = list(range(first, first + count))
    scripts = [(generate_stream if streams else generate)(s) for s in seeds]
    all_runs = {key: run_many(scripts, *key, bundle) for key in configs(loops)}
    stats: collections.Counter[str] = collections.Counter()
    found = 0
    for i, (seed, script) in enumerate(zip(seeds, scripts, strict=True)):
        v = verdict(script, {key: rs[i] for key, rs in all_runs.items()}, loops)
        if v["accepted"]:
            stats["accepted"] += 1
        for loop, x in v["loops"].items():
            if x["follows"] == [THIRD[0]]:
                stats[f"nodetls@{loop} follows {THIRD[0]} alone"] += 1
        if not v["refs_agree"]:
            for loop, x in v["loops"].items():
                stats[f"refs disagree; nodetls@{loop} follows {'+'.join(x['follows']) or '-'}"] += 1
        if not divergent(v):
            continue
        sig = signature(v)
        again = check(script, bundle, loops)
        if not divergent(again) or signature(again) != sig:
            stats["flaky"] += 1
            continue
        found += 1
        small = minimise(script, sig, bundle, loops)
        print(json.dumps({"seed": seed, "diff": sig, "verdict": check(small, bundle, loops),
                          "script": small}), file=out, flush=True)
    print(json.dumps({"seeds": count, "divergent": found, **stats}), file=out)
    return found


def show(script: dict[str, Any]) -> None:
    bundle = server_bundle()
    runs = run_one(script, bundle)
    for key, r in runs.items():
        print(key, json.dumps(r))
    print(json.dumps(verdict(script, runs)))


def main(argv: list[str] | None = None) -> None:
    # (the scripts write to closed transports: nodetls.aio's warning after five, as asyncio's,
    # which runner._quiet_asyncio keeps off stderr; so here, outside pytest, is nodetls's)
    logging.getLogger("nodetls.aio").addHandler(logging.NullHandler())
    logging.getLogger("nodetls.aio").propagate = False
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "show":
        show(json.loads(args[1]))
        return
    loops: tuple[str, ...] = LOOPS
    if "--loop" in args:
        i = args.index("--loop")
        loops = (args[i + 1],)
        del args[i:i + 2]
    streams = "--streams" in args
    if streams:
        args.remove("--streams")
    batch(int(args[0]), int(args[1]), loops, streams=streams)


if __name__ == "__main__":
    main()
