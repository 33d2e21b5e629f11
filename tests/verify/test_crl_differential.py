"""The ``crl`` option and servers verifying clients == Node v20's, on seeded PKIs.

``crl_gen``: a root, 0-2 intermediates, a leaf, one CRL per CA, and flaws (a revoked leaf,
intermediate or root, with any reason code; CRLs expired, not yet valid, signed by another
key, under another issuer name, missing for one CA, two from one CA, listing other serials;
every CRL in one PEM string; junk around the blocks; an expired leaf; an untrusted root).
``verify_diff.compare(seeds, crl_gen)``: node's and nodetls's clients given ``ca`` and ``crl``.
``client_diff``: node's and nodetls's ``requestCert`` servers, with a node client presenting
``pki_gen``'s flawed chains (no ``crl``) and ``crl_gen``'s (the servers get the ``crl``).

Accepted difference (README, "alerts on rejection"): a strict server rejecting a client fails
the handshake with the alert and emits ``'tlsClientError'`` with the verification's code; Node's
completes the handshake and destroys the socket, whose ``'tlsClientError'`` is ``ECONNRESET``,
or a stale OpenSSL error (``ERR_SSL_EVP_LIB``) when a CRL's signature failed to verify. So
strict servers are compared on accepting or not (``client_diff.diverges``).

Found and fixed: a ``crl`` string holding several CRLs gave nodetls all of them; Node's
``SecureContext::AddCRL`` reads the first PEM block only (``pem.read_crls``).
"""

from __future__ import annotations

from collections import Counter

import nodetls as tls
from helpers.peers import require_peer

from . import client_diff, crl_gen
from .verify_diff import compare

CLIENT_SEEDS = range(0, 200)
SERVER_SEEDS = range(0, 100)


async def test_seeded_crl_verification_matches_node() -> None:
    require_peer("node")
    rows = await compare(list(CLIENT_SEEDS), crl_gen)
    divergent = [r for r in rows if r["nodetls"] != r["node"]]
    assert not divergent, "\n".join(map(repr, divergent))
    codes = Counter(r["node"]["lax"].get("authorizationError") for r in rows)
    for code in ("CERT_REVOKED", "CRL_HAS_EXPIRED", "CRL_NOT_YET_VALID", "CRL_SIGNATURE_FAILURE",
                 "UNABLE_TO_GET_CRL", "CERT_HAS_EXPIRED", "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
                 None):
        assert codes[code] > 0, (code, codes)


async def test_a_crl_string_gives_its_first_crl_only() -> None:
    """One PEM string holding the root's CRL and a newer one listing the leaf: Node's client
    trusts the leaf (``AddCRL`` reads the first block only); nodetls read both and reported
    CERT_REVOKED. Seed 60: an intermediate whose CRL (second in the string) has expired:
    Node finds no CRL for it (UNABLE_TO_GET_CRL), nodetls reported CRL_HAS_EXPIRED."""
    require_peer("node")
    first, second = await compare([56, 60], crl_gen)
    assert first["flaws"] == ["concat", "crl_two_new:0"]
    assert first["node"]["strict"] == {"secure": True, "authorized": True,
                                       "authorizationError": None}
    assert second["flaws"] == ["concat", "crl_expired:1"]
    assert second["node"]["strict"]["error"] == "UNABLE_TO_GET_CRL"
    for row in (first, second):
        assert row["nodetls"] == row["node"]


async def test_seeded_servers_verify_clients_like_node() -> None:
    require_peer("node")
    rows = await client_diff.compare(list(SERVER_SEEDS))
    divergent = [r for r in rows if client_diff.diverges(r)]
    assert not divergent, "\n".join(map(repr, divergent))
    for kind, wanted in (("pki", ("CERT_HAS_EXPIRED", "DEPTH_ZERO_SELF_SIGNED_CERT",
                                  "INVALID_PURPOSE", "UNSPECIFIED", None)),
                         ("crl", ("CERT_REVOKED", "CRL_HAS_EXPIRED", "UNABLE_TO_GET_CRL", None))):
        codes = Counter(r["node"]["lax"].get("authorizationError")
                        for r in rows if r["kind"] == kind)
        for code in wanted:
            assert codes[code] > 0, (kind, code, codes)
    verdicts = Counter(client_diff.verdict(r["node"]["strict"]) for r in rows)
    assert verdicts["accepted"] > 10 and verdicts["rejected"] > 10, verdicts


def test_text_after_the_first_crl_is_ignored() -> None:
    """Node v20 (checked with the same PEM text in node): a malformed PEM block after the first CRL is
    accepted (never read); nodetls refused it ("Failed to parse CRL")."""
    crl = crl_gen.build(crl_gen.scenario(2)).crl[0]
    bad_tail = "junk\n" + crl + "-----BEGIN X509 CRL-----\nZ2FyYmFnZQ==\n-----END X509 CRL-----\n"
    tls.create_secure_context({"crl": bad_tail})
