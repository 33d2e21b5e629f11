"""The two oracles and the comparison of nodetls's certificate dicts with theirs.

* Node v20: ``new crypto.X509Certificate(der).toLegacyObject()`` -- the object
  ``tlsSocket.getPeerCertificate()`` returns -- for a whole batch in ONE ``node`` process
  (:func:`node_objects`). Buffers become ``{'$buffer': hex}`` on both sides (:func:`normalize`);
  keys, key order and values must be identical to ``nodetls._x509.certificate_to_dict``.
* CPython's ``ssl``: ``ssl._ssl._test_decode_cert(path)``, the dict ``getpeercert()`` returns
  (:func:`ssl_objects`), against ``nodetls.aio._sslobject.ssl_style_cert``, key order included.

A certificate ``cryptography`` cannot load is not compared (nodetls cannot read it at all; see
:data:`ACCEPTED`); nor is one OpenSSL refuses (neither oracle has a dict for it).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import ssl
import subprocess
import tempfile
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509

from nodetls._x509 import certificate_to_dict
from nodetls.aio._sslobject import ssl_style_cert

__all__ = ["ACCEPTED", "Difference", "compare", "load", "node_objects", "normalize",
           "ssl_objects"]

#: Differences accepted on purpose, each with its reason (a class name -> why).
ACCEPTED = {
    "unloadable": "cryptography refuses the certificate (fractional seconds in a "
                  "GeneralizedTime, a T61String that is not UTF-8...): nodetls parses peer "
                  "certificates with cryptography, so it has no dict to compare.",
    "node/extensions": "cryptography cannot decode the certificate's extensions (a duplicate "
                       "extension, an x400Address or ediPartyName): nodetls leaves out what "
                       "it cannot read -- without raising -- where Node prints it.",
    "ssl/extensions": "as node/extensions, for ssl's subjectAltName, OCSP, caIssuers and "
                      "crlDistributionPoints.",
}

JS_SERIALIZE = r"""
function ser(v, parent) {
  if (Buffer.isBuffer(v)) return {$buffer: v.toString('hex')};
  if (Array.isArray(v)) return v.map((x) => ser(x));
  if (v && typeof v === 'object') {
    const o = {};
    for (const k of Object.keys(v)) o[k] = v[k] === v ? '$circular' : ser(v[k], v);
    return o;
  }
  return v;
}
"""

JS_BATCH = JS_SERIALIZE + r"""
const { X509Certificate } = require('crypto'); const fs = require('fs');
const ders = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const out = ders.map((b64) => {
  try { return ser(new X509Certificate(Buffer.from(b64, 'base64')).toLegacyObject()); }
  catch (e) { return {$error: String(e.message)}; }
});
fs.writeFileSync(process.argv[3], JSON.stringify(out));
"""


def normalize(value: Any) -> Any:
    """Node-comparable form: bytes -> ``{'$buffer': hex}``, self-reference -> ``'$circular'``."""
    if isinstance(value, bytes | bytearray):
        return {"$buffer": bytes(value).hex()}
    if isinstance(value, dict):
        return {k: "$circular" if v is value else normalize(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [normalize(v) for v in value]
    return value


def node_objects(ders: Sequence[bytes], timeout: float = 120.0) -> list[Any]:
    """Node's ``toLegacyObject()`` of each certificate (``{'$error': msg}`` when it throws),
    all in one ``node`` process."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not installed")
    with tempfile.TemporaryDirectory(prefix="x509diff") as tmp:
        src, dst, script = (os.path.join(tmp, n) for n in ("in.json", "out.json", "run.js"))
        with open(src, "w") as f:
            json.dump([base64.b64encode(d).decode() for d in ders], f)
        with open(script, "w") as f:
            f.write(JS_BATCH)
        subprocess.run([node, script, src, dst], check=True, timeout=timeout,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        with open(dst) as f:
            result: list[Any] = json.load(f)
            return result


def ssl_objects(ders: Sequence[bytes]) -> list[Any]:
    """``ssl._ssl._test_decode_cert`` of each certificate (``{'$error': msg}`` when OpenSSL
    refuses it)."""
    out: list[Any] = []
    with tempfile.TemporaryDirectory(prefix="x509diff") as tmp:
        path = os.path.join(tmp, "cert.pem")
        for der in ders:
            with open(path, "w") as f:
                f.write(ssl.DER_cert_to_PEM_cert(der))
            try:
                out.append(ssl._ssl._test_decode_cert(path))  # type: ignore[attr-defined]
            except (ssl.SSLError, ValueError) as exc:  # ValueError: not UTF-8
                out.append({"$error": str(exc)})
    return out


def load(der: bytes) -> x509.Certificate | None:
    """The certificate as nodetls reads a peer's, or ``None`` when cryptography refuses it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # negative serials, empty or long attribute values
        try:
            cert = x509.load_der_x509_certificate(der)
            cert.subject, cert.issuer  # noqa: B018 -- parsed lazily
            return cert
        except ValueError:
            return None


def _extensions_decode(cert: x509.Certificate) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            cert.extensions  # noqa: B018
            return True
        except Exception:
            return False


@dataclass
class Difference:
    seed: int
    oracle: str  # 'node', 'ssl' (+ '/extensions': undecodable extensions) or 'unloadable'
    key: str  # the first differing key ('' when the key lists differ)
    ours: Any
    theirs: Any

    def __str__(self) -> str:
        return (f"seed {self.seed} [{self.oracle}] {self.key or 'keys'}: "
                f"ours={self.ours!r} theirs={self.theirs!r}")


def _node_dict(cert: x509.Certificate) -> Any:
    try:
        return normalize(certificate_to_dict(cert))
    except Exception as exc:  # a crash is a difference too
        return repr(exc)


def _ssl_dict(cert: x509.Certificate) -> Any:
    try:
        return ssl_style_cert(cert)
    except Exception as exc:
        return repr(exc)


def _first_difference(ours: dict[str, Any], theirs: dict[str, Any]) -> tuple[str, Any, Any]:
    if list(ours) != list(theirs):
        return "", list(ours), list(theirs)
    for k in ours:
        if ours[k] != theirs[k]:
            return k, ours[k], theirs[k]
    return "", None, None


def compare(seeds: Iterable[int], ders: Sequence[bytes], node: Sequence[Any] | None,
            pyssl: Sequence[Any] | None) -> tuple[list[Difference], int]:
    """Every difference (first key per certificate and oracle), and how many were compared."""
    diffs: list[Difference] = []
    compared = 0
    for i, (seed, der) in enumerate(zip(seeds, ders, strict=True)):
        cert = load(der)
        if cert is None:
            diffs.append(Difference(seed, "unloadable", "", None, None))
            continue
        compared += 1
        suffix = "" if _extensions_decode(cert) else "/extensions"
        for oracle, theirs, ours_of in (("node", node, _node_dict), ("ssl", pyssl, _ssl_dict)):
            if theirs is None or "$error" in theirs[i]:
                continue
            ours = ours_of(cert)
            if not isinstance(ours, dict):  # nodetls raised: never accepted
                diffs.append(Difference(seed, oracle, "$raises", ours, None))
                continue
            key, a, b = _first_difference(ours, theirs[i])
            if (a, b) != (None, None):
                diffs.append(Difference(seed, oracle + suffix, key, a, b))
    return diffs, compared
