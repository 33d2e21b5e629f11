"""Run negotiation cases with every client/server pair of node and nodetls, and compare.

``python -m tests.nego.batch FIRST COUNT [--pure] [--json]``: the cases of seeds FIRST..
(``gen.py``) run four times -- node client to node server (the reference), nodetls to nodetls,
node client to nodetls server, nodetls client to node server -- one process per side per run
(``peer.js`` / ``peer.py``: the server process starts every case's server, the client process
connects to each in turn). Prints each case whose records differ from the reference, after
:func:`classify` (the differences explained by OpenSSL's version or by nodetls's documented
defaults are counted, not printed). ``--pure`` runs nodetls with ``NODETLS_PURE=1`` (the
system's OpenSSL 3.0, as node's) instead of the bundled 3.5.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from typing import Any

from .certs import cert_dir
from .classify import DEFAULTS, OPENSSL, known, with_node_defaults
from .gen import generate

_HERE = os.path.dirname(os.path.abspath(__file__))
_ROOT = os.path.dirname(os.path.dirname(_HERE))
#: (client, server) pairs; the first is the reference
PAIRS = (("node", "node"), ("ours", "ours"), ("node", "ours"), ("ours", "node"))
TIMEOUT = 600


def _argv(impl: str, *args: str) -> list[str]:
    if impl == "node":
        return ["node", os.path.join(_HERE, "peer.js"), *args]
    return [sys.executable, "-m", "tests.nego.peer", *args]


def run_pair(cases: list[dict[str, Any]], client: str, server: str,
             pure: bool = False) -> list[dict[str, Any]]:
    """Each case's records (``server``: its creation error and connections, ``client``: the
    client's connections) with ``client`` connecting to ``server`` ("node" or "ours")."""
    cert_dir()
    env = dict(os.environ)
    if pure:
        env["NODETLS_PURE"] = "1"
    with tempfile.TemporaryDirectory(prefix="nego-run-") as d:
        cases_path, ports_path = os.path.join(d, "cases.json"), os.path.join(d, "ports.json")
        with open(cases_path, "w") as f:
            json.dump(cases, f)
        srv = subprocess.Popen(_argv(server, "server", cases_path), cwd=_ROOT, env=env,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
        try:
            assert srv.stdout is not None and srv.stdin is not None
            line = srv.stdout.readline()
            if not line:
                raise RuntimeError(f"{server} server failed: {srv.communicate(timeout=10)[1]}")
            with open(ports_path, "w") as f:
                f.write(line)
            cli = subprocess.run(_argv(client, "client", cases_path, ports_path), cwd=_ROOT,
                                 env=env, capture_output=True, text=True, timeout=TIMEOUT)
            out, err = srv.communicate("", timeout=30)
        finally:
            if srv.poll() is None:
                srv.kill()
                srv.wait()
    if cli.returncode or srv.returncode or cli.stderr or err:
        raise RuntimeError(f"client {client} rc={cli.returncode} {cli.stderr[-2000:]}\n"
                           f"server {server} rc={srv.returncode} {err[-2000:]}")
    servers, clients = json.loads(out), json.loads(cli.stdout)
    return [{"server": s, "client": c} for s, c in zip(servers, clients, strict=True)]


def run_all(cases: list[dict[str, Any]], pure: bool = False) -> dict[tuple[str, str], list[Any]]:
    """:func:`run_pair` for every pair of :data:`PAIRS`."""
    return {p: run_pair(cases, *p, pure=pure) for p in PAIRS}


def _rerun(items: list[tuple[dict[str, Any], tuple[str, str]]], pure: bool) -> list[bool]:
    """For each (case, pair): whether ``pair`` records what node<->node does for ``case``, or
    differs from it only as :func:`~.classify.known` explains."""
    by_pair: dict[tuple[str, str], list[int]] = {}
    for i, (_case, pair) in enumerate(items):
        by_pair.setdefault(pair, []).append(i)
    same = [False] * len(items)
    for pair, idx in by_pair.items():
        cases = [items[i][0] for i in idx]
        ref, ours = run_pair(cases, *PAIRS[0]), run_pair(cases, *pair, pure=pure)
        for i, case, a, b in zip(idx, cases, ref, ours, strict=True):
            same[i] = a == b or known(case, pair, a, b) is not None
    return same


def divergences(cases: list[dict[str, Any]], pure: bool = False
                ) -> tuple[list[dict[str, Any]], Counter[str]]:
    """The unexplained divergences (seed, pair, reference and ours: class (a) candidates),
    and a count of the explained ones by class (:mod:`.classify`). A divergence is explained
    by the records (:func:`~.classify.known`), else by a counterfactual run: with Node's
    default ciphers and curves written out (class (c)), then, unless ``pure``, with nodetls on
    OpenSSL 3.0 (class (b)), then both."""
    results = run_all(cases, pure)
    ref = results[PAIRS[0]]
    explained: Counter[str] = Counter()
    todo: list[dict[str, Any]] = []
    for pair in PAIRS[1:]:
        for case, a, b in zip(cases, ref, results[pair], strict=True):
            if a == b:
                continue
            reason = known(case, pair, a, b)
            if reason:
                explained[reason] += 1
            else:
                todo.append({"seed": case["seed"], "pair": pair, "node": a, "ours": b,
                             "case": case})
    tries: list[tuple[str, bool, bool]] = [(DEFAULTS, True, pure)]
    if not pure:
        tries += [(OPENSSL, False, True), (f"{OPENSSL} + {DEFAULTS}", True, True)]
    for reason, defaults, on_pure in tries:
        items = [((with_node_defaults(d["case"]) if defaults else d["case"]), d)
                 for d in todo]
        items = [(c, d) for c, d in items if c is not None]
        same = _rerun([(c, d["pair"]) for c, d in items], on_pure)
        for (_c, d), ok in zip(items, same, strict=True):
            if ok:
                explained[reason] += 1
                todo.remove(d)
    for d in todo:
        d["pair"] = "{}->{}".format(*d["pair"])
    return todo, explained


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    first, count = int(args[0]), int(args[1])
    cases = [generate(s) for s in range(first, first + count)]
    found, explained = divergences(cases, "--pure" in sys.argv)
    for d in found:
        print(json.dumps(d) if "--json" in sys.argv else
              f"seed {d['seed']} {d['pair']}\n  node {d['node']}\n  ours {d['ours']}\n"
              f"  case {d['case']}")
    print(f"{count} cases x {len(PAIRS) - 1} pairs: {len(found)} unexplained; explained: "
          f"{dict(explained)}")


if __name__ == "__main__":
    main()
