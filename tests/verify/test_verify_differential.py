"""Certificate verification == Node v20's, on seeded flawed PKIs (``verify_diff``, ``pki_gen``).

For each seed a root, 0-2 intermediates and a leaf with random flaws (expired / not yet valid at
any level, a missing intermediate, a wrong signing key, CA:FALSE, pathlen exceeded, keyUsage
without keyCertSign, the leaf's EKU, name constraints, a self-signed leaf, SHA-1 signatures,
RSA-1024 keys, an untrusted root, an extra CA, no ``ca``, a wrong name); one node server sends
every chain (by SNI); node's and nodetls's clients connect with the same ``ca`` and
``servername``, with ``rejectUnauthorized`` false (``authorized``, ``authorizationError``) and
true (the error's ``code`` and ``message``).

Accepted differences:

* RSA-1024 keys: nodetls runs OpenSSL at security level 2 by default, Node v20 at 1 (README,
  "OpenSSL security level 2 by default"), so node's client is given ``@SECLEVEL=2`` in those
  scenarios (``verify_diff.seclevel2``) and must then agree (``CA_KEY_TOO_SMALL`` and
  ``EE_KEY_TOO_SMALL`` are ``UNSPECIFIED`` in Node's codes).

Found and fixed: a rejecting nodetls client failed the handshake at the leaf's last verify
callback with the error found so far; OpenSSL checks name constraints (RFC 3779, policies) after
that callback, and Node (which accepts every error in its verify callback and reads
``SSL_get_verify_result()`` after the handshake) reports that later error
(``test_rejecting_client_reports_the_last_error``; the engine's tests hold the server's side).

Otherwise OpenSSL 3.5 (nodetls) and 3.0 (node v20) verified alike in every seed run so far.
"""

from __future__ import annotations

from collections import Counter

from helpers.peers import require_peer
from nodetls._openssl.verify_codes import (
    NODE_VERIFY_CODES,
    OPENSSL_VERIFY_ERROR_NAMES,
    VERIFY_ERROR_NAMES,
    node_verify_code,
)

from .verify_diff import compare

SEEDS = range(0, 150)

async def test_seeded_verification_matches_node() -> None:
    require_peer("node")
    rows = await compare(list(SEEDS))
    divergent = [r for r in rows if r["nodetls"] != r["node"]]
    assert not divergent, "\n".join(map(repr, divergent))
    # The seeds reach the outcomes they are meant to (a sanity check on the generator).
    codes = Counter(r["node"]["lax"].get("authorizationError") for r in rows)
    for code in ("CERT_HAS_EXPIRED", "CERT_NOT_YET_VALID", "DEPTH_ZERO_SELF_SIGNED_CERT",
                 "UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "CERT_SIGNATURE_FAILURE",
                 "INVALID_PURPOSE", "UNSPECIFIED", "ERR_TLS_CERT_ALTNAME_INVALID", None):
        assert codes[code] > 0, (code, codes)
    assert sum(1 for r in rows if r["node"]["strict"].get("secure")) > 10


async def test_rejecting_client_reports_the_last_error() -> None:
    """An expired root whose name constraints the leaf violates: Node's rejecting client
    reports UNSPECIFIED 'permitted subtree violation' (OpenSSL's last error, its
    ``authorizationError`` without rejecting too), and so does nodetls's (it reported the
    first, CERT_HAS_EXPIRED)."""
    require_peer("node")
    (row,) = await compare([86])
    assert row["flaws"] == ["expired:0", "nc_permitted:0"]
    assert row["node"]["strict"] == {"error": "UNSPECIFIED",
                                     "message": "permitted subtree violation"}
    assert row["nodetls"]["lax"] == row["node"]["lax"]
    assert row["nodetls"]["strict"] == row["node"]["strict"]


def test_node_verify_codes() -> None:
    """Node's names: OpenSSL's for the 28 results Node lists, else UNSPECIFIED."""
    assert len(NODE_VERIFY_CODES) == 28
    assert node_verify_code(10) == VERIFY_ERROR_NAMES[10] == "CERT_HAS_EXPIRED"
    assert node_verify_code(62) == "HOSTNAME_MISMATCH"
    for code, name in ((32, "KEYUSAGE_NO_CERTSIGN"), (47, "PERMITTED_VIOLATION"),
                       (67, "CA_KEY_TOO_SMALL"), (68, "CA_MD_TOO_WEAK"), (200, None)):
        assert OPENSSL_VERIFY_ERROR_NAMES.get(code) == name
        assert VERIFY_ERROR_NAMES[code] == "UNSPECIFIED"
    assert set(VERIFY_ERROR_NAMES.values()) == NODE_VERIFY_CODES | {"UNSPECIFIED"}
