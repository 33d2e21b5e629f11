"""The two oracles and the comparison of nodetls's certificate dicts with theirs.

* Node v20: ``new crypto.X509Certificate(der).toLegacyObject()`` -- the object
  ``tlsSocket.getPeerCertificate()`` returns -- for a whole batch in ONE ``node`` process
  (:func:`node_objects`). Buffers become ``{'$buffer': hex}`` on both sides (:func:`normalize`);
  keys, key order and values must be identical to ``nodetls._x509.certificate_to_dict``.
* CPython's ``ssl``: ``ssl._ssl._test_decode_cert(path)``, the dict ``getpeercert()`` returns
  (:func:`ssl_objects`), against ``nodetls.aio._sslobject.ssl_style_cert``, key order included.

nodetls reads certificates through OpenSSL (``nodetls._x509_ossl``), as both oracles do: a
certificate OpenSSL refuses is compared only in that every oracle refuses it too.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import ssl
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from nodetls._x509 import certificate_to_dict
from nodetls.aio._sslobject import ssl_style_cert

__all__ = ["ACCEPTED", "Difference", "compare", "node_objects", "normalize", "parses",
           "ssl_objects"]

#: Differences accepted on purpose, each with its reason (a class name -> why). None since
#: nodetls reads certificates through OpenSSL (it had cryptography's refusals before).
ACCEPTED: dict[str, str] = {}

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


def parses(der: bytes) -> bool:
    """Whether OpenSSL parses the certificate (``d2i_X509``), as nodetls reads a peer's."""
    from nodetls._x509_ossl import opened

    try:
        with opened(der):
            return True
    except ValueError:
        return False


@dataclass
class Difference:
    seed: int
    oracle: str  # 'node', 'ssl' or 'unparsed' (OpenSSL refused it, an oracle did not)
    key: str  # the first differing key ('' when the key lists differ)
    ours: Any
    theirs: Any

    def __str__(self) -> str:
        return (f"seed {self.seed} [{self.oracle}] {self.key or 'keys'}: "
                f"ours={self.ours!r} theirs={self.theirs!r}")


def _node_dict(der: bytes) -> Any:
    try:
        return normalize(certificate_to_dict(der))
    except Exception as exc:  # a crash is a difference too
        return repr(exc)


def _ssl_dict(der: bytes) -> Any:
    try:
        return ssl_style_cert(der)
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
        refused = not parses(der)
        if refused:
            if any(o is not None and "$error" not in o[i] for o in (node, pyssl)):
                diffs.append(Difference(seed, "unparsed", "", None, None))
            continue
        compared += 1
        for oracle, theirs, ours_of in (("node", node, _node_dict), ("ssl", pyssl, _ssl_dict)):
            if theirs is None or "$error" in theirs[i]:
                continue
            ours = ours_of(der)
            if not isinstance(ours, dict):  # nodetls raised: never accepted
                diffs.append(Difference(seed, oracle, "$raises", ours, None))
                continue
            key, a, b = _first_difference(ours, theirs[i])
            if (a, b) != (None, None):
                diffs.append(Difference(seed, oracle, key, a, b))
    return diffs, compared
