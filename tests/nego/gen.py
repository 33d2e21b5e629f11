"""Seeded cases for the negotiation differential (``tests/nego``): what a server and a client
are configured with, drawn from a seed: ``python -m tests.nego.gen FIRST COUNT > cases.json``.

A case (JSON, Node's option names)::

    {"seed": N,
     "server": {"certs": CERTS, "minVersion": V|null, "maxVersion": V|null, "ciphers": S|null,
                "ecdhCurve": S|null, "sigalgs": S|null, "honorCipherOrder": bool|null,
                "ALPNProtocols": [str]|null, "requestCert": bool, "rejectUnauthorized": bool,
                "dhparam": null|"auto"|"given", "secureOptions": [NAME],
                "sni": null | {"certs": CERTS, "ciphers": S|null}},
     "client": {"minVersion", "maxVersion", "ciphers", "ecdhCurve", "sigalgs", "ALPNProtocols",
                "secureOptions": as the server's, "servername": null|"localhost"|"other.example"|
                "unknown.example", "cert": null|"rsa"|"ec256"|"ed25519", "resume": bool}}

``CERTS`` is one of :data:`CERTS` (``"rsa+ec256"``: both pairs on one context); ``sni`` is a
second context served by ``SNICallback`` for ``other.example`` (any other name: the default
context). ``secureOptions`` names ``SSL_OP_NO_*`` constants, or'ed together. ``resume``: the
client connects a second time with the first connection's session.
"""

from __future__ import annotations

import random
import sys
from typing import Any

#: the server certificates (key types) a case may use
CERTS = ("rsa", "ec256", "ec384", "ed25519", "rsa+ec256")
CLIENT_CERTS = (None, None, "rsa", "ec256", "ed25519")
TLS13 = ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
         "TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256", "TLS_BOGUS_SHA256")
TLS12 = ("ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
         "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
         "DHE-RSA-AES128-GCM-SHA256", "AES128-SHA", "AES256-GCM-SHA384",
         "ECDHE-RSA-AES128-SHA256", "ECDHE-ECDSA-AES128-SHA", "BOGUS-CIPHER")
CIPHER_EXTRAS = ("HIGH", "!aNULL", "@SECLEVEL=0", "@SECLEVEL=1", "@SECLEVEL=2", "@SECLEVEL=3",
                 "DEFAULT", "!kRSA")
CURVES = ("auto", "P-256", "P-384", "P-521", "X25519", "X448", "prime256v1", "secp384r1",
          "P-256:X25519", "X25519:P-384", "bogus", "X25519MLKEM768")
SIGALGS = ("ecdsa_secp256r1_sha256", "ecdsa_secp384r1_sha384", "rsa_pss_rsae_sha256",
           "rsa_pkcs1_sha256", "ed25519", "RSA+SHA256", "ECDSA+SHA384", "RSA-PSS+SHA256",
           "bogus_sig")
ALPN = (None, None, [], ["h2"], ["http/1.1"], ["h2", "http/1.1"], ["x", "h2"])
VERSIONS = ((None, None), (None, None), ("TLSv1.2", "TLSv1.2"), ("TLSv1.3", None),
            (None, "TLSv1.2"), ("TLSv1.2", "TLSv1.3"), ("TLSv1.3", "TLSv1.2"))
NO_OPTIONS = ("SSL_OP_NO_TLSv1_2", "SSL_OP_NO_TLSv1_3", "SSL_OP_NO_TICKET")
SERVERNAMES = (None, "localhost", "localhost", "other.example", "unknown.example")


def _maybe(r: random.Random, p: float, value: Any) -> Any:
    return value if r.random() < p else None


def _ciphers(r: random.Random) -> str | None:
    if r.random() < 0.45:
        return None
    parts: list[str] = []
    if r.random() < 0.6:
        parts += r.sample(TLS13, r.randint(1, 2))
    if r.random() < 0.7 or not parts:
        parts += r.sample(TLS12, r.randint(1, 3))
    if r.random() < 0.5:
        parts.append(r.choice(CIPHER_EXTRAS))
    r.shuffle(parts)
    return ":".join(parts)


def _sigalgs(r: random.Random) -> str | None:
    if r.random() < 0.7:
        return None
    return ":".join(r.sample(SIGALGS, r.randint(1, 3)))


def _versions(r: random.Random) -> tuple[str | None, str | None]:
    lo, hi = r.choice(VERSIONS)
    if (lo, hi) == ("TLSv1.3", "TLSv1.2") and r.random() < 0.7:
        lo, hi = None, None  # contradictory pairs: rarely
    return lo, hi


def _common(r: random.Random) -> dict[str, Any]:
    lo, hi = _versions(r)
    return {"minVersion": lo, "maxVersion": hi, "ciphers": _ciphers(r),
            "ecdhCurve": _maybe(r, 0.35, r.choice(CURVES)), "sigalgs": _sigalgs(r),
            "ALPNProtocols": r.choice(ALPN),
            "secureOptions": [o for o in NO_OPTIONS if r.random() < 0.1]}


def generate(seed: int) -> dict[str, Any]:
    """The case of ``seed``."""
    r = random.Random(seed * 7919 + 37)
    server = _common(r)
    server.update({
        "certs": r.choice(CERTS), "honorCipherOrder": r.choice((None, None, True, False)),
        "requestCert": r.random() < 0.3, "rejectUnauthorized": r.random() < 0.5,
        "dhparam": r.choice((None, None, "auto", "given")),
        "sni": _maybe(r, 0.35, {"certs": r.choice(CERTS), "ciphers": _maybe(r, 0.3, _ciphers(r))}),
    })
    client = _common(r)
    client.update({"servername": r.choice(SERVERNAMES), "cert": r.choice(CLIENT_CERTS),
                   "resume": r.random() < 0.3})
    return {"seed": seed, "server": server, "client": client}


if __name__ == "__main__":
    import json

    first, count = int(sys.argv[1]), int(sys.argv[2])
    json.dump([generate(s) for s in range(first, first + count)], sys.stdout)
