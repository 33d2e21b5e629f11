"""The negotiation differential's certificates, as files both peers' processes read.

``cert_dir()`` makes them once (in ``NODETLS_NEGO_CERTS`` if that names a complete set): for
each key type of :data:`KINDS`, ``server-K.{key,pem}`` (``localhost``, ``127.0.0.1``),
``other-K.{key,pem}`` (``other.example``, the SNI context's) and ``client-K.{key,pem}`` (the
client CA's); ``root.pem``, ``client-ca.pem`` and ``dh.pem`` (RFC 7919 ffdhe2048).
"""

from __future__ import annotations

import os
import tempfile

from cryptography.hazmat.primitives.asymmetric import ec

from ..helpers.certs import FFDHE2048, PKI
from ..helpers.temp_files import remove_at_session_end

ENV = "NODETLS_NEGO_CERTS"
KINDS = ("rsa", "ec256", "ec384", "ed25519")
DH2048 = FFDHE2048  # (RFC 7919's ffdhe2048)
_DONE = "complete"


def _kind(kind: str) -> dict[str, object]:
    if kind == "rsa":
        return {"key_type": "rsa"}
    if kind == "ed25519":
        return {"key_type": "ed25519"}
    return {"key_type": "ec", "curve": ec.SECP384R1() if kind == "ec384" else ec.SECP256R1()}


def cert_dir() -> str:
    """The directory of the certificates (made on the first call, removed at exit; also put in
    ``NODETLS_NEGO_CERTS`` for the peer processes started after it)."""
    d = os.environ.get(ENV)
    if d and os.path.exists(os.path.join(d, _DONE)):
        return d
    d = tempfile.mkdtemp(prefix="nego-")
    remove_at_session_end(d)  # (at exit outside pytest)
    pki = PKI(os.path.join(d, "pki"))
    files: dict[str, bytes] = {"root.pem": pki.root.cert_pem,
                               "client-ca.pem": pki.client_ca.cert_pem, "dh.pem": DH2048}
    for kind in KINDS:
        for role, cn, sans in (("server", "localhost", ("DNS:localhost", "IP:127.0.0.1")),
                               ("other", "other.example", ("DNS:other.example",))):
            b = pki.make_leaf(cn, sans, name=f"{role}-{kind}", **_kind(kind))  # type: ignore[arg-type]
            files[f"{role}-{kind}.key"], files[f"{role}-{kind}.pem"] = b.key_pem, b.chain_pem
        b = pki.make_client("client", name=f"client-{kind}", **_kind(kind))
        files[f"client-{kind}.key"], files[f"client-{kind}.pem"] = b.key_pem, b.cert_pem
    for name, data in files.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    open(os.path.join(d, _DONE), "w").close()
    os.environ[ENV] = d
    return d
