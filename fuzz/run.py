"""Run one harness: ``python -m fuzz.run NAME [--runs N] [--seconds S] [--builtin]``.

With atheris installed (``pip install -e '.[fuzz]'``) the harness runs under libFuzzer with the
nodetls and harness modules instrumented for coverage; ``--builtin`` (or no atheris) uses a seeded
mutation fuzzer with the same harness interface.  Inputs start from ``fuzz/corpus/NAME`` (the
committed seeds, never written); new inputs libFuzzer keeps go to ``fuzz/work/NAME`` (untracked)
and crashing inputs to ``fuzz/crashes/``.  ``--make-corpus`` rewrites the committed seeds (of
``NAME`` only, when given).

Under atheris the core runs from its ``.py`` files (``NODETLS_PURE=1`` unless set otherwise):
coverage guidance needs Python code, and a compiled module is invisible to it.  Those modules are
loaded by the compiled core's own finder (``nodetls._compiled``), ahead of atheris's import hook,
so :func:`instrument_core` instruments them after the import.  The builtin fuzzer is the one for
the compiled core.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import os
import random
import sys
import time
import traceback
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"


def harnesses() -> dict[str, Callable[[bytes], None]]:
    from . import engine_harnesses, ocsp_harness, parser_harnesses, store_harness, x509_harness

    return {**engine_harnesses.HARNESSES, **parser_harnesses.HARNESSES,
            **x509_harness.HARNESSES, **ocsp_harness.HARNESSES, **store_harness.HARNESSES}


def seeds() -> dict[str, list[bytes]]:
    from . import engine_harnesses, ocsp_harness, parser_harnesses, store_harness, x509_harness

    return {**engine_harnesses.seeds(), **parser_harnesses.seeds(), **x509_harness.seeds(),
            **ocsp_harness.seeds(), **store_harness.seeds()}


def corpus(name: str) -> list[bytes]:
    """The committed corpus of ``name`` (sorted, so a pass over it is deterministic)."""
    d = CORPUS / name
    return [p.read_bytes() for p in sorted(d.iterdir())] if d.is_dir() else []


def make_corpus(only: str | None = None) -> None:
    """Write the seeds of every harness (or of ``only``) into the committed corpus."""
    for name, items in seeds().items():
        if only is not None and name != only:
            continue
        d = CORPUS / name
        d.mkdir(parents=True, exist_ok=True)
        for data in items:
            (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


def mutate(rng: random.Random, data: bytes, pool: list[bytes]) -> bytes:
    """A few libFuzzer-style mutations: flip, set, insert, erase, duplicate, splice, truncate."""
    b = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        op = rng.randrange(8)
        i = rng.randrange(len(b) + 1)
        if op == 0 and b:
            b[i % len(b)] ^= 1 << rng.randrange(8)
        elif op == 1 and b:
            b[i % len(b)] = rng.choice((0, 1, 0x7F, 0x80, 0xFF, rng.randrange(256)))
        elif op == 2:
            b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif op == 3 and b:
            del b[i : i + rng.randint(1, 16)]
        elif op == 4 and b:
            j = rng.randrange(len(b))
            b[i:i] = b[j : j + rng.randint(1, 32)]
        elif op == 5:
            other = rng.choice(pool)
            j = rng.randrange(len(other) + 1)
            b[i:] = other[j:]
        elif op == 6:
            del b[i:]
        elif op == 7 and len(b) >= 2:  # a 16-bit length field somewhere: make it lie
            v = rng.choice((0, 1, 0xFFFF, len(b), rng.randrange(65536)))
            b[i % (len(b) - 1) : i % (len(b) - 1) + 2] = v.to_bytes(2, "big")
    return bytes(b)


def builtin(name: str, fn: Callable[[bytes], None], runs: int, seconds: float, seed: int) -> int:
    """The fallback fuzzer: mutate the corpus with a seeded RNG; stop at the first crash."""
    rng = random.Random(seed)
    pool = corpus(name) or [b""]
    start = last = time.monotonic()
    n = 0
    while n < runs and time.monotonic() - start < seconds:
        data = mutate(rng, rng.choice(pool), pool)
        n += 1
        try:
            fn(data)
        except Exception:
            crash = HERE / "crashes" / f"{name}-{hashlib.sha1(data).hexdigest()}"
            crash.parent.mkdir(exist_ok=True)
            crash.write_bytes(data)
            traceback.print_exc()
            print(f"#{n} CRASH {crash}", flush=True)
            return 1
        if len(pool) < 4096 and rng.random() < 0.01:
            pool.append(data)
        if time.monotonic() - last > 30:
            last = time.monotonic()
            print(f"#{n} builtin {name} {n / (last - start):.0f} exec/s", flush=True)
    print(f"Done {n} runs in {time.monotonic() - start:.0f} second(s) ({name}, builtin)", flush=True)
    return 0


def instrument_core(atheris: Any) -> int:
    """Instrument the functions of the compiled core's modules that were imported from their
    ``.py`` files (``atheris.instrument_imports`` never sees them: ``nodetls._compiled``'s finder
    loads them first); nested code (closures, lambdas) with them.  Returns how many."""
    from nodetls import _compiled

    pure = {name for name in _compiled.MODULES
            if (getattr(sys.modules.get(name), "__file__", None) or "").endswith(".py")}
    funcs = [obj for obj in gc.get_objects()
             if isinstance(obj, types.FunctionType) and obj.__module__ in pure]
    for fn in funcs:
        atheris.instrument_func(fn)
    return len(funcs)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("name", nargs="?")
    ap.add_argument("--runs", type=int, default=-1)
    ap.add_argument("--seconds", type=float, default=0)
    ap.add_argument("--builtin", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--make-corpus", action="store_true")
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args(argv)
    if args.make_corpus:
        make_corpus(args.name)
        return 0
    if args.list or not args.name:
        print("\n".join(harnesses()))
        return 0
    try:
        import atheris  # type: ignore[import-untyped]
    except ImportError:
        atheris = None
    if atheris is None or args.builtin:
        fn = harnesses()[args.name]
        runs = args.runs if args.runs > 0 else sys.maxsize
        return builtin(args.name, fn, runs, args.seconds or float("inf"), args.seed)
    os.environ.setdefault("NODETLS_PURE", "1")
    with atheris.instrument_imports(include=["nodetls", "fuzz"]):
        fn = harnesses()[args.name]
    print(f"INFO: instrumented {instrument_core(atheris)} function(s) of the core", flush=True)
    for data in corpus(args.name):  # warm the caches (contexts, recorded flights) first
        fn(data)
    work = HERE / "work" / args.name
    work.mkdir(parents=True, exist_ok=True)
    (HERE / "crashes").mkdir(exist_ok=True)
    flags = [sys.argv[0], str(work), str(CORPUS / args.name), f"-seed={args.seed}",
             f"-artifact_prefix={HERE / 'crashes'}/{args.name}-", "-print_final_stats=1",
             "-rss_limit_mb=4096"]
    if args.runs > 0:
        flags.append(f"-runs={args.runs}")
    if args.seconds:
        flags.append(f"-max_total_time={int(args.seconds)}")
    atheris.Setup(flags, fn)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
