"""A/B of the OpenSSL binding on the engine alone: compiled (cffi API mode) against ABI mode.

Two ``TLSEngine``s talk in memory in a fresh process per measurement (no sockets, no event loop):
CPU per full TLS 1.3 handshake (both sides, ECDSA P-256) and per 64 B round trip (both sides:
``seal`` and ``read_view``, the data path's two engine calls, each way).  Modes: ``abi`` (``NODETLS_PURE=1``), ``api`` (the compiled
binding) and ``api-loops`` (the compiled binding with the engine's Python data-path loops instead
of its C helpers).  Each repetition runs every mode once, pinned to one CPU; medians and the
median of per-repetition ratios are printed.  See benchmarks/README.md, "The compiled binding".

    python benchmarks/binding_ab.py [--reps 10] [--handshakes 300] [--round-trips 60000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.append(str(ROOT / "benchmarks"))  # appended: benchmarks/profile.py must not shadow stdlib

from harness.procs import run  # noqa: E402

CHILD = r"""
import json, os, sys, time
sys.path.insert(0, sys.argv[3])
from tests.engine.pair import handshake
from tests.engine.rawctx import RawContext, make_ca_and_leaf
import nodetls._engine._records as R
import nodetls._engine.engine as E
from nodetls import _openssl
if os.environ.get("AB_LOOPS"):
    R._c_read = R._c_seal = None
ca, cert, key = make_ca_and_leaf("localhost")
sctx, cctx = RawContext(cert, key), RawContext(ca=ca)
def hs():
    c, s = E.TLSEngine(cctx, server=False), E.TLSEngine(sctx, server=True)
    handshake(c, s)
    return c, s
for _ in range(50):
    hs()
n = int(sys.argv[1]); t = time.process_time()
for _ in range(n):
    c, s = hs(); c.free(); s.free()
hs_us = (time.process_time() - t) / n * 1e6
c, s = hs(); msg = bytes(64)
def rt():
    s.read_view(c.seal(msg)); c.read_view(s.seal(msg))
for _ in range(2000):
    rt()
m = int(sys.argv[2]); t = time.process_time()
for _ in range(m):
    rt()
print(json.dumps({"binding": _openssl.BINDING, "hs": hs_us,
                  "rr": (time.process_time() - t) / m * 1e6}))
"""

MODES = {"abi": {"NODETLS_PURE": "1"}, "api": {}, "api-loops": {"AB_LOOPS": "1"}}


def measure(mode: str, handshakes: int, round_trips: int) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if k not in ("NODETLS_PURE", "AB_LOOPS")}
    env.update(MODES[mode])
    res = run(["taskset", "-c", "1", sys.executable, "-c", CHILD, str(handshakes),
               str(round_trips), str(ROOT)],
              capture_output=True, text=True, env=env, check=True, timeout=600)
    out: dict[str, float] = json.loads(res.stdout.splitlines()[-1])
    if out["binding"] != mode[:3]:
        raise SystemExit(f"{mode}: the binding in use is {out['binding']} (not built?)")
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=10)
    p.add_argument("--handshakes", type=int, default=300)
    p.add_argument("--round-trips", type=int, default=60000)
    args = p.parse_args()
    runs: dict[str, list[dict[str, float]]] = {m: [] for m in MODES}
    for i in range(args.reps):
        for mode in MODES:
            r = measure(mode, args.handshakes, args.round_trips)
            runs[mode].append(r)
            print(f"rep {i + 1} {mode:9} hs {r['hs']:8.1f} µs  rr {r['rr']:6.2f} µs", flush=True)
    for k, what in (("hs", "handshake (both sides)"), ("rr", "64 B round trip (both sides)")):
        med = {m: statistics.median(r[k] for r in runs[m]) for m in MODES}
        print(f"{what}: " + ", ".join(f"{m} {v:.2f} µs" for m, v in med.items()))
        for m in ("api", "api-loops"):
            ratio = statistics.median(b[k] / a[k] for a, b in zip(runs["abi"], runs[m], strict=True))
            print(f"   {m} / abi: {ratio:.3f}")


if __name__ == "__main__":
    main()
