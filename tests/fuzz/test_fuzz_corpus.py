"""The short form of the fuzzers (docs/fuzzing.md): every harness over its committed corpus plus
a fixed number of seeded mutations, with the invariant oracle (documented errors only, every
``SSL*``/``SSL_CTX`` freed, an empty OpenSSL error queue, no callback after free)."""

from __future__ import annotations

import random

import pytest

from fuzz import run

NAMES = sorted(run.harnesses())
MUTATIONS = 200


def test_every_harness_has_a_committed_corpus():
    assert set(NAMES) == set(run.seeds())
    for name in NAMES:
        assert run.corpus(name), name


@pytest.mark.parametrize("name", NAMES)
def test_corpus_and_seeded_mutations_pass_the_oracle(name):
    fn = run.harnesses()[name]
    pool = run.corpus(name)
    for data in pool:
        fn(data)
    rng = random.Random(name)
    for _ in range(MUTATIONS):
        fn(run.mutate(rng, rng.choice(pool), pool))


def test_the_oracle_catches_a_leak():
    from fuzz.oracle import Baseline, OracleViolation

    from fuzz import peers
    from nodetls._engine import TLSEngine

    ctx = peers.server_context()
    base = Baseline()
    eng = TLSEngine(ctx, server=True)
    with pytest.raises(OracleViolation, match="SSL\\* leaked"):
        base.check()
    eng.free()
    base.check()
