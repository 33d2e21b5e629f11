"""Differential testing against Node v20: what the areas' harnesses share.

An area's harness (``tests/stream/diff``, ``tests/events/diff``, ``tests/net/diff``) is a
script generator (``gen.py``: ``generate(seed)``, a JSON script), two runners of that script
language logging exactly the same strings for the same observable behaviour (``runner.js`` on
Node, requiring ``tests/helpers/difftest.js``; ``runner.py`` on nodetls: ``run_scripts``), the
differences accepted on purpose (``accepted(script, node_result=None)``: why the script is not
compared, or None), and a :class:`Harness` in ``batch.py`` (``HARNESS``) tying them together:

- ``python -m tests.AREA.diff.batch FIRST COUNT [--minimise]``: runs new seeds in both, prints
  each divergent one (a JSON line: seed, first difference, script, minimised with
  ``--minimise``); ``... batch show SCRIPT_JSON`` prints one script's logs side by side;
- ``python -m tests.AREA.diff.record [PATH]``: records Node's results for the fixed seeds and
  the named cases in ``expected.json`` (or PATH), one case a line;
- ``tests/AREA/test_AREA_differential.py`` compares nodetls's results with those records
  (:func:`load_cases`, :meth:`Harness.mismatches`), and, where ``node`` v20 is installed,
  the records with Node's (:meth:`Harness.stale_records`).

The socket harnesses (net, tls) share their runners' script language and logging too
(``difftest_sockets.py`` / ``difftest_sockets.js``).

A result is a dict: its logs (lists of strings, :attr:`Harness.logs`), then anything else
(final states, warnings), compared as a whole.

A harness with ``timing=True`` (net: real sockets, results may depend on timing) runs Node
and nodetls at the same time, reports a divergence only when a second run shows it again,
minimises keeping the divergence's class (:func:`signature`), and records only the seeds that
ran alike twice.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

Script = dict[str, Any]
Result = dict[str, Any]

#: marks a test that needs a live ``node``
needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


class BoomError(Exception):
    """The scripts' own errors (Node: ``new Error()`` with a ``code``)."""

    def __init__(self, code: str) -> None:
        super().__init__("boom " + code)
        self.code = code


def code_of(e: Any) -> str:
    """An error as the runners log it: its ``code``, else ``<TypeName>``; ``null`` for none."""
    if e is None:
        return "null"
    return getattr(e, "code", None) or f"<{type(e).__name__}>"


def node_version() -> str:
    """``node --version`` (``v20.20.2``)."""
    return subprocess.run(["node", "--version"], capture_output=True, text=True,
                          check=True).stdout.strip()


def node_v20() -> str:
    """This machine's Node version; skips the calling test unless it is a v20 (the records
    are Node v20's)."""
    version = node_version()
    if not version.startswith("v20."):
        pytest.skip(f"the records are Node v20's (node here: {version})")
    return version


def load_cases(path: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]],
                                   list[dict[str, Any]]]:
    """The records of ``expected.json``: all the cases, the seeded ones, the named ones (those
    with a ``doc``)."""
    with open(path, encoding="utf-8") as f:
        cases: list[dict[str, Any]] = json.load(f)["cases"]
    return cases, [c for c in cases if "doc" not in c], [c for c in cases if "doc" in c]


def write_cases(path: str, version: str, cases: list[dict[str, Any]]) -> None:
    """Write ``expected.json``: one case a line (a re-recording shows as a readable diff)."""
    with open(path, "w", encoding="utf-8") as f:
        f.write('{"node": ' + json.dumps(version) + ', "cases": [\n')
        f.write(",\n".join(json.dumps(c, ensure_ascii=False) for c in cases))
        f.write("\n]}\n")


def named_cases(named: dict[str, tuple[str, Script]]) -> list[dict[str, Any]]:
    """``{name: (doc, script)}`` as cases to record."""
    return [{"name": n, "doc": doc, "script": sc} for n, (doc, sc) in named.items()]


def _log_difference(key: str, a: list[str], b: list[str]) -> str | None:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return f"{key}[{i}]: node {x!r} / ours {y!r}"
    if len(a) != len(b):
        i = min(len(a), len(b))
        return f"{key}[{i}]: node {a[i:i + 1]} / ours {b[i:i + 1]}"
    return None


def _differences(path: str, x: Any, y: Any) -> Iterator[str]:
    """Where ``x`` (Node's) and ``y`` (ours) differ: a list of dicts item by item, a dict of
    dicts (or None) key by key, a flat dict as ``{key: (node's, ours)}``."""
    if x == y:
        return
    if isinstance(x, list) and isinstance(y, list) and len(x) == len(y) \
            and all(isinstance(v, dict) for v in x + y):
        for j, (a, b) in enumerate(zip(x, y, strict=True)):
            yield from _differences(f"{path}[{j}]", a, b)
    elif isinstance(x, dict) and isinstance(y, dict):
        keys = list(x) + [k for k in y if k not in x]
        if all(v is None or isinstance(v, dict) for v in (*x.values(), *y.values())):
            for k in keys:
                yield from _differences(f"{path}.{k}", x.get(k) or {}, y.get(k) or {})
        else:
            yield f"{path}: " + str({k: (x.get(k), y.get(k)) for k in keys
                                     if x.get(k) != y.get(k)})
    else:
        yield f"{path}: node {x} / ours {y}"


def signature(diff: str) -> str:
    """A divergence's class: its first difference, indexes, numbers and data left out."""
    return re.sub(r"\[\d+\]|@\d+|[0-9a-f]{2,}|len=\d+,sha=\w+|\d+", "#", diff)


def runner_main(run_scripts: Callable[[list[Script]], Awaitable[list[Result]]]) -> None:
    """``python -m tests.AREA.diff.runner scripts.json > results.json``."""
    with open(sys.argv[1]) as f:
        scripts = json.load(f)
    sys.stdout.write(json.dumps(asyncio.run(run_scripts(scripts))))  # type: ignore[arg-type]


def gen_main(generate: Callable[[int], Script]) -> None:
    """``python -m tests.AREA.diff.gen FIRST COUNT > scripts.json``."""
    first, count = int(sys.argv[1]), int(sys.argv[2])
    json.dump([generate(s) for s in range(first, first + count)], sys.stdout)


def _nothing_accepted(script: Script, node: Result | None = None) -> str | None:
    return None


@dataclass(frozen=True)
class Harness:
    """One area's differential harness (see the module's docstring)."""

    #: the Node side: ``node [node_args] runner_js scripts.json`` prints the results
    runner_js: str
    #: where the records are
    expected: str
    #: the nodetls side: the results of the scripts, run in turn on the running loop
    run_scripts: Callable[[list[Script]], Awaitable[list[Result]]]
    #: the script of a seed
    generate: Callable[[int], Script]
    #: the scripts one step simpler than a script (an op dropped, an option off), for
    #: :meth:`minimise`
    candidates: Callable[[Script], list[Script]]
    #: why a script (whose Node result is given, if known) is not compared, or None
    accepted: Callable[[Script, Result | None], str | None] = _nothing_accepted
    #: the keys of a result that are logs
    logs: tuple[str, ...] = ("log",)
    node_args: tuple[str, ...] = ()
    #: seconds a node run may take
    timeout: float = 600
    #: results depend on timing (see the module's docstring)
    timing: bool = False

    # -- running

    def run_node(self, scripts: list[Script]) -> list[Result]:
        """Node's results for ``scripts`` (one ``node`` process)."""
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(scripts, f)
        try:
            out = subprocess.run(["node", *self.node_args, self.runner_js, f.name],
                                 capture_output=True, text=True, check=True,
                                 timeout=self.timeout).stdout
        finally:
            os.unlink(f.name)
        return json.loads(out)  # type: ignore[no-any-return]

    def run_ours(self, scripts: list[Script]) -> list[Result]:
        """nodetls's results for ``scripts`` (in this process, a new loop)."""
        return asyncio.run(self.run_scripts(scripts))  # type: ignore[arg-type]

    def run_both(self, scripts: list[Script]) -> tuple[list[Result], list[Result]]:
        """Node's results and nodetls's (with ``timing``: the two runs at the same time)."""
        if not self.timing:
            return self.run_node(scripts), self.run_ours(scripts)
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(scripts, f)
        try:
            proc = subprocess.Popen(["node", *self.node_args, self.runner_js, f.name],
                                    stdout=subprocess.PIPE, text=True)
            ours = self.run_ours(scripts)
            out, _ = proc.communicate(timeout=self.timeout)
        finally:
            os.unlink(f.name)
        return json.loads(out), ours

    # -- comparing

    def first_difference(self, node: Result, ours: Result) -> str:
        """A short description of where the two results part (``same`` if they do not)."""
        for key in self.logs:
            d = _log_difference(key, node[key], ours[key])
            if d is not None:
                return d
        for key in [k for k in dict.fromkeys((*node, *ours)) if k not in self.logs]:
            for d in _differences(key, node.get(key), ours.get(key)):
                return d
        return "same"

    def bad(self, script: Script, node: Result, ours: Result) -> bool:
        """The results differ and the script is not an accepted difference."""
        return node != ours and self.accepted(script, node) is None

    async def mismatches(self, cases: list[dict[str, Any]]) -> list[str]:
        """For a test: ``NAME: first difference`` of each recorded case nodetls now runs
        otherwise than its record says Node did."""
        results = await self.run_scripts([c["script"] for c in cases])
        return [f"{c['name']}: {self.first_difference(c['node'], r)}"
                for c, r in zip(cases, results, strict=True) if r != c["node"]]

    def stale_records(self, cases: list[dict[str, Any]]) -> list[str]:
        """For a test: the names of the recorded cases whose record is not what this
        machine's node gives."""
        fresh = self.run_node([c["script"] for c in cases])
        return [c["name"] for c, r in zip(cases, fresh, strict=True) if r != c["node"]]

    # -- batch.py

    def minimise(self, script: Script) -> Script:
        """Take :attr:`candidates` one at a time while the script still diverges (with
        ``timing``: the same way, :func:`signature`, twice in a row); each round runs all the
        candidates in one batch."""
        sig = None
        if self.timing:
            (a,), (b,) = self.run_both([script])
            sig = signature(self.first_difference(a, b))
        while True:
            cands = self.candidates(script)
            if not cands:
                return script
            node, ours = self.run_both(cands)
            hits = [c for c, a, b in zip(cands, node, ours, strict=True)
                    if self.bad(c, a, b) and (sig is None
                                              or signature(self.first_difference(a, b)) == sig)]
            if not self.timing:
                if not hits:
                    return script
                script = hits[0]
                continue
            for c in hits[:3]:
                (a,), (b,) = self.run_both([c])
                if self.bad(c, a, b) and signature(self.first_difference(a, b)) == sig:
                    script = c
                    break
            else:
                return script

    def show(self, script: Script) -> None:
        """Print both logs side by side (``!!`` marks the lines that differ), then where the
        rest of the results differ."""
        (a,), (b,) = self.run_both([script])
        for key in self.logs:
            if len(self.logs) > 1:
                print(f"--- {key}")
            for x, y in itertools.zip_longest(a[key], b[key]):
                print(("   " if x == y else "!! ") + f"{x!s:44} {y!s}")
        for key in [k for k in dict.fromkeys((*a, *b)) if k not in self.logs]:
            for d in _differences(key, a.get(key), b.get(key)):
                print("!! " + d)

    def batch(self, argv: list[str]) -> None:
        """``batch.py``'s command line (see the module's docstring)."""
        if argv[0] == "show":
            self.show(json.loads(argv[1]))
            return
        first, count = int(argv[0]), int(argv[1])
        do_min = "--minimise" in argv
        seeds = [s for s in range(first, first + count)
                 if self.accepted(self.generate(s), None) is None]
        print(f"{count - len(seeds)} seeds skipped (accepted differences)", file=sys.stderr)
        scripts = [self.generate(s) for s in seeds]
        node, ours = self.run_both(scripts)
        print(f"{sum(self.accepted(sc, a) is not None for sc, a in zip(scripts, node, strict=True))}"
              " more skipped (Node's own bugs)", file=sys.stderr)
        bad = [(s, sc, a, b) for s, sc, a, b in zip(seeds, scripts, node, ours, strict=True)
               if self.bad(sc, a, b)]
        flaky = ""
        if self.timing and bad:
            node2, ours2 = self.run_both([sc for _, sc, _, _ in bad])
            confirmed = [(s, sc, a, b) for (s, sc, _, _), a, b in zip(bad, node2, ours2, strict=True)
                         if self.bad(sc, a, b)]
            flaky = f" ({len(bad) - len(confirmed)} more once: flaky)"
            bad = confirmed
        print(f"{len(bad)} of {count} seeds diverge{flaky}", file=sys.stderr)
        for s, sc, a, b in bad:
            if do_min:
                sc = self.minimise(sc)
                (a,), (b,) = self.run_both([sc])
            print(json.dumps({"seed": s, "diff": self.first_difference(a, b), "script": sc}),
                  flush=True)

    # -- record.py

    def record(self, seeds: Iterable[int], named: dict[str, tuple[str, Script]],
               argv: list[str], n_seeds: int | None = None) -> None:
        """``record.py``'s command line: record Node's results for ``seeds`` (those not
        accepted differences; with ``n_seeds``: the first ``n_seeds`` of them that ran alike in
        Node and nodetls twice) and the ``named`` cases, in ``argv[0]`` or :attr:`expected`."""
        path = argv[0] if argv else self.expected
        todo: list[dict[str, Any]] = [{"name": f"seed{s}", "script": sc} for s in seeds
                                      if self.accepted(sc := self.generate(s), None) is None]
        if n_seeds is None:
            todo += named_cases(named)
            results = self.run_node([c["script"] for c in todo])
            kept = [{**c, "node": r} for c, r in zip(todo, results, strict=True)
                    if self.accepted(c["script"], r) is None]
        else:
            kept = self._stable(todo, n_seeds)
            todo = named_cases(named)
            node, _ = self.run_both([c["script"] for c in todo])
            kept += [{**c, "node": r} for c, r in zip(todo, node, strict=True)]
        version = node_version()
        write_cases(path, version, kept)
        print(f"{len(kept)} cases recorded with node {version}")

    def _stable(self, todo: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
        """The first ``n`` of the cases that ran alike in Node and nodetls twice (run 50 at a
        time), with Node's results."""
        kept: list[dict[str, Any]] = []
        for i in range(0, len(todo), 50):
            if len(kept) >= n:
                break
            chunk = todo[i:i + 50]
            scripts = [c["script"] for c in chunk]
            node, ours = self.run_both(scripts)
            node2, ours2 = self.run_both(scripts)
            for c, a, b, a2, b2 in zip(chunk, node, ours, node2, ours2, strict=True):
                if a == b == a2 == b2 and len(kept) < n:
                    kept.append({**c, "node": a})
        return kept
