"""Run a range of seeds through both oracles and print the differences, grouped.

``python -m tests.x509.batch FIRST COUNT [--hostile] [--show N]``: generates the certificates of
seeds FIRST..FIRST+COUNT-1 (``tests/x509/gen.py``), asks Node v20 for all of them in one
``node`` process per chunk of 2000 and CPython's ``ssl`` in this one, and compares with
nodetls's dicts (``compare.py``). Prints one line per difference class (oracle, first
differing key) with its count and the first N examples (default 3); exits 1 when a
non-accepted difference was found. Without ``node`` only the ``ssl`` half runs.
``--hostile`` adds the features cryptography refuses (OpenSSL reads them: compared too).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections import defaultdict

from .compare import ACCEPTED, Difference, compare, node_objects, ssl_objects
from .gen import generate

CHUNK = 2000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.x509.batch")
    parser.add_argument("first", type=int)
    parser.add_argument("count", type=int)
    parser.add_argument("--hostile", action="store_true")
    parser.add_argument("--show", type=int, default=3)
    args = parser.parse_args(argv)
    have_node = shutil.which("node") is not None
    if not have_node:
        print("node not found: comparing with ssl only")
    groups: dict[tuple[str, str], list[Difference]] = defaultdict(list)
    compared = node_refused = ssl_refused = 0
    for start in range(args.first, args.first + args.count, CHUNK):
        seeds = range(start, min(start + CHUNK, args.first + args.count))
        ders = [generate(s, hostile=args.hostile) for s in seeds]
        node = node_objects(ders) if have_node else None
        pyssl = ssl_objects(ders)
        node_refused += sum("$error" in o for o in node or ())
        ssl_refused += sum("$error" in o for o in pyssl)
        diffs, n = compare(seeds, ders, node, pyssl)
        compared += n
        for d in diffs:
            groups[(d.oracle, d.key)].append(d)
    print(f"seeds {args.first}..{args.first + args.count - 1}: {compared} compared, "
          f"refused by node {node_refused}, by ssl {ssl_refused}")
    real = 0
    for (oracle, key), diffs in sorted(groups.items()):
        accepted = oracle in ACCEPTED
        real += 0 if accepted else len(diffs)
        print(f"{oracle} {key or 'keys'}: {len(diffs)}" + (" (accepted)" if accepted else ""))
        for d in diffs[:args.show]:
            print("   ", str(d)[:1000])
    return 1 if real else 0


if __name__ == "__main__":
    sys.exit(main())
