"""Why a pair's records differ from node<->node's: each divergence gets a class.

* :func:`known` -- differences recognised from the records themselves (a Node defect);
* :func:`with_node_defaults` -- the counterfactual for nodetls's documented defaults (deliberate
  differences the README lists: ``DEFAULT_CIPHERS``, ``DEFAULT_ECDH_CURVE``): the case
  with every unset ``ciphers``/``ecdhCurve`` given Node's defaults; a divergence that vanishes
  there is class (c);
* the OpenSSL counterfactual (``batch.py``): the same pair with ``NODETLS_PURE=1`` (nodetls on the
  system's OpenSSL 3.0, as node v20): a divergence that vanishes there is class (b), OpenSSL
  3.5's.  What is left is a nodetls bug (class (a)).
"""

from __future__ import annotations

import copy
import functools
import subprocess
from typing import Any

DEFAULTS = "(c) nodetls's DEFAULT_CIPHERS / DEFAULT_ECDH_CURVE"
OPENSSL = "(b) OpenSSL 3.5 (bundled) vs 3.0 (node's)"
#: Node v20 throws ``Error('error:00000000:lib(0)::reason(0)')``, without a ``code``, for a
#: ``sigalgs`` OpenSSL refuses (``SetSigalgs`` reads an empty error queue); nodetls raises
#: ``ERR_CRYPTO_OPERATION_FAILED`` naming the option.
SIGALGS_ERROR = "(c) Node's bad-sigalgs error has no code"
#: README's deliberate difference: a server that rejects the client's certificate fails the
#: handshake with the matching alert (its ``'tlsClientError'`` names the verification error, the
#: client reads the alert); Node's verifies after the handshake and resets (``ECONNRESET`` on both
#: sides).  Reached when an SNI context lends its verify store, which lacks the client CA.
REJECT_ALERT = "(c) README: a server rejecting the client's certificate sends an alert"


@functools.cache
def node_default_ciphers() -> str:
    """Node's ``tls.DEFAULT_CIPHERS`` (from ``node``)."""
    return subprocess.run(["node", "-p", "require('tls').DEFAULT_CIPHERS"], capture_output=True,
                          text=True, check=True).stdout.strip()


def _ours(pair: tuple[str, str]) -> tuple[bool, bool]:
    return pair[0] == "ours", pair[1] == "ours"


def known(case: dict[str, Any], pair: tuple[str, str], node: dict[str, Any],
          ours: dict[str, Any]) -> str | None:
    """The class of a divergence the records show by themselves, or None."""
    client_ours, server_ours = _ours(pair)
    for side, is_ours in (("server", server_ours), ("client", client_ours)):
        if not is_ours:
            continue
        a, b = node[side], ours[side]
        a = a["create"] if side == "server" else (a or [{}])[0].get("create")
        b = b["create"] if side == "server" else (b or [{}])[0].get("create")
        if a == "<Error>" and b == "ERR_CRYPTO_OPERATION_FAILED" and case[side]["sigalgs"]:
            return SIGALGS_ERROR
    s = case["server"]
    reset = [{"ev": "tlsClientError", "code": "ECONNRESET"}]
    if server_ours and s["requestCert"] and s["rejectUnauthorized"] \
            and node["server"]["conns"] == reset and node["client"] == [{"err": "ECONNRESET"}]:
        conns, client = ours["server"]["conns"], ours["client"]
        if len(conns) == 1 and conns[0]["ev"] == "tlsClientError" and \
                conns[0]["code"] != "ECONNRESET" and len(client) == 1 and \
                str(client[0].get("err", "")).startswith("ERR_SSL_TLSV1_ALERT_"):
            return REJECT_ALERT
    return None


def with_node_defaults(case: dict[str, Any]) -> dict[str, Any] | None:
    """``case`` with Node's default ``ciphers`` and ``ecdhCurve`` written out wherever unset
    (None when nothing is unset: no counterfactual)."""
    out = copy.deepcopy(case)
    changed = False
    sides = [out["server"], out["client"]] + ([out["server"]["sni"]] if out["server"]["sni"] else [])
    for o in sides:
        if o.get("ciphers", 0) is None:
            o["ciphers"], changed = node_default_ciphers(), True
        if o.get("ecdhCurve", 0) is None:
            o["ecdhCurve"], changed = "auto", True
    return out if changed else None
