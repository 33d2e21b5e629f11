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


def test_the_x509_oracle_counts_openssl_objects_the_readers_leave():
    # The certificate readers have no live-object counter of their own: fuzz.ossl_count counts
    # what OpenSSL allocates for them against what they free.
    from fuzz.ossl_count import Counts, counting

    from fuzz import x509_harness
    from nodetls import _x509_ossl
    from nodetls._openssl import lib

    _, leaf = x509_harness._ders()
    counts = Counts()
    with counting(counts):
        x, owned = _x509_ossl.x509_of(leaf)  # (a reader that forgot to free it)
    assert owned and counts.leaked() == {"X509": 1}
    lib.X509_free(x)
    counts = Counts()
    with counting(counts):
        x509_harness.certificate_to_dict(leaf, detailed=True)
    assert counts.leaked() == {}
    assert {"X509", "BIO", "malloc", "extension"} <= set(counts.live)  # (each was counted)
    assert _x509_ossl.lib is lib  # (the real lib is back after the block)


def test_the_x509_oracle_catches_a_walk_that_disagrees_with_openssl(monkeypatch):
    from fuzz.oracle import OracleViolation

    from fuzz import x509_harness
    from nodetls import _x509

    _, leaf = x509_harness._ders()
    x509_harness.x509_der(b"\x00" + leaf)
    monkeypatch.setattr(_x509, "subject_and_san_der", lambda der: (bytes.fromhex("3000"), None))
    with pytest.raises(OracleViolation, match="identity_fields"):
        x509_harness.x509_der(b"\x00" + leaf)
