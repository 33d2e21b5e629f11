"""``NODE_EXTRA_CA_CERTS``: each scenario runs in a real child process, a nodetls client and a Node
v20 client side by side, against one nodetls server whose chain ends at the test root CA (which
no default store trusts).  Both children must agree on the verdict, the error code, whether the
extra root shows in the root certificates, and on stderr byte for byte (Node's one warning line).

Ports of Node's tests:

* test-tls-env-extra-ca.js -- a client without ``ca`` trusts the file's CA (``extra``).
* test-tls-env-bad-extra-ca.js -- a missing file prints ``Warning: Ignoring extra certs from
  `<file>`, load failed: ...No such file or directory`` and the process goes on (``missing``).
* test-tls-env-extra-ca-file-load.js -- the file counts as loaded with the variable, not without
  it, even after ``createServer({})``; Node loads it at startup, nodetls when its default store is
  first built (documented in ``nodetls._context.extra_ca``): :func:`test_loaded_flag`.
* test-tls-env-extra-ca-no-crypto.js -- skipped: it is about a Node built without OpenSSL.

The other scenarios pin what Node v20 does beyond its tests (each checked against node here).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from tlsutil import listen

from helpers.peers import require_peer, run_process

# A client child: argv[1] is a JSON config {port, root, ca?, crl?, secure_context?, server?}.
# It prints one JSON line: whether the root is in the root certificates, then the verdict.
PY_CHILD = r"""
import asyncio, json, sys
import nodetls as tls
from nodetls._context import extra_ca

async def main():
    cfg = json.loads(sys.argv[1])
    out = {"in_roots": cfg["root"] in tls.root_certificates}
    if cfg.get("server"):
        tls.create_server({})
        out["loaded"] = extra_ca.extra_ca_certs_loaded()
        print(json.dumps(out)); return
    opts = {"port": cfg["port"], "host": "127.0.0.1", "servername": "localhost"}
    for name in ("ca", "crl"):
        if name in cfg:
            opts[name] = cfg[name]
    if cfg.get("secure_context"):
        opts["secure_context"] = tls.create_secure_context({})
    fut = asyncio.get_running_loop().create_future()
    sock = tls.connect(opts)
    sock.on("secureConnect", lambda: fut.done() or fut.set_result(
        {"authorized": sock.authorized, "error": None}))
    sock.on("error", lambda e: fut.done() or fut.set_result(
        {"authorized": False, "error": e.code}))
    out.update(await asyncio.wait_for(fut, 10))
    sock.destroy()
    print(json.dumps(out))

asyncio.run(main())
"""

NODE_CHILD = r"""
const tls = require('tls');
const cfg = JSON.parse(process.argv[2]);
const out = {in_roots: tls.rootCertificates.includes(cfg.root)};
if (cfg.server) {
  const { internalBinding } = require('internal/test/binding');
  tls.createServer({});
  out.loaded = internalBinding('crypto').isExtraRootCertsFileLoaded();
  console.log(JSON.stringify(out));
} else {
  const opts = {port: cfg.port, host: '127.0.0.1', servername: 'localhost'};
  if (cfg.ca) opts.ca = cfg.ca;
  if (cfg.crl) opts.crl = cfg.crl;
  if (cfg.secure_context) opts.secureContext = tls.createSecureContext({});
  let done = false;
  const sock = tls.connect(opts);
  sock.on('secureConnect', () => {
    if (done) return; done = true;
    console.log(JSON.stringify({...out, authorized: sock.authorized, error: null}));
    sock.destroy();
  });
  sock.on('error', (e) => {
    if (done) return; done = true;
    console.log(JSON.stringify({...out, authorized: false, error: e.code}));
  });
}
"""

BAD_BASE64 = b"-----BEGIN CERTIFICATE-----\n!!!not base64!!!\n-----END CERTIFICATE-----\n"
BAD_DER = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
UNTRUSTED = "UNABLE_TO_GET_ISSUER_CERT_LOCALLY"  # the chain's root is unknown (node agrees)


def _root_pem(certs: Any) -> str:
    return certs.root.cert_pem.decode().strip()


async def _children(tmp_path: Path, env: dict[str, str], cfg: dict[str, Any]
                    ) -> tuple[tuple[int, dict[str, Any], str], tuple[int, dict[str, Any], str]]:
    """Run the nodetls child and the node child with ``env`` added (``NODE_EXTRA_CA_CERTS`` is
    dropped from the inherited environment first); each one's (rc, result, stderr)."""
    script = tmp_path / "child.py"
    script.write_text(PY_CHILD)
    js = tmp_path / "child.js"
    js.write_text(NODE_CHILD)
    arg = json.dumps(cfg)
    py = await run_process([sys.executable, script, arg], env=env, timeout=20)
    nd = await run_process([require_peer("node"), "--no-warnings", "--expose-internals", js, arg],
                           env=env, timeout=20)
    out = []
    for res in (py, nd):
        assert res.rc == 0, res
        out.append((res.rc, json.loads(res.stdout.strip().splitlines()[-1]), res.stderr))
    return out[0], out[1]


def _file(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


Scenario = tuple[dict[str, str], dict[str, Any], "bool | str", "str | None"]


def _scenarios(certs: Any, tmp_path: Path) -> dict[str, Scenario]:
    """name -> (env, extra client options, verdict, expected warning prefix); the verdict is
    True (authorized), False (the root is unknown: ``UNTRUSTED``) or the error code."""
    root = certs.root.cert_pem
    root_file = str(certs.root.cert_path)
    trusted = root.replace(b"BEGIN CERTIFICATE", b"BEGIN TRUSTED CERTIFICATE").replace(
        b"END CERTIFICATE", b"END TRUSTED CERTIFICATE")
    der = certs.root.x509.public_bytes(__import__(
        "cryptography.hazmat.primitives.serialization", fromlist=["Encoding"]).Encoding.DER)
    crls = [c.decode() for c in certs.crl.pems]
    missing = str(tmp_path / "no-such-file-exists-\N{TURTLE}")
    warn = "Warning: Ignoring extra certs from `{}`, load failed: "
    return {
        # test-tls-env-extra-ca.js: the extra root is trusted by a client without `ca`.
        "extra": ({"NODE_EXTRA_CA_CERTS": root_file}, {}, True, None),
        # ...and by an explicit secure context made without `ca`.
        "extra_secure_context": ({"NODE_EXTRA_CA_CERTS": root_file},
                                 {"secure_context": True}, True, None),
        "unset": ({}, {}, False, None),
        "empty_value": ({"NODE_EXTRA_CA_CERTS": ""}, {}, False, None),
        # `ca` replaces the default roots and the extra ones.
        "ca_replaces": ({"NODE_EXTRA_CA_CERTS": root_file},
                        {"ca": certs.client_ca.cert_pem.decode()}, False, None),
        # Node v20 quirk (nodejs/node#32010): `crl` copies the bundled roots only, so the
        # extra root is lost, while the same CRLs with `ca` verify.
        # (the chain has no anchor, so the last check to fail is the CRL lookup, as in node)
        "crl_drops_extra": ({"NODE_EXTRA_CA_CERTS": root_file}, {"crl": crls},
                            "UNABLE_TO_GET_CRL", None),
        "crl_with_ca": ({}, {"crl": crls, "ca": root.decode()}, True, None),
        # test-tls-env-bad-extra-ca.js
        "missing": ({"NODE_EXTRA_CA_CERTS": missing}, {}, False,
                    warn.format(missing) + "error:80000002:system library::"
                    "No such file or directory\n"),
        # Certificates before a malformed block stay trusted; the warning still shows.
        "good_then_bad": ({"NODE_EXTRA_CA_CERTS": _file(tmp_path, "gb.pem", root + BAD_BASE64)},
                          {}, True, warn.format(tmp_path / "gb.pem")),
        "bad_then_good": ({"NODE_EXTRA_CA_CERTS": _file(tmp_path, "bg.pem", BAD_BASE64 + root)},
                          {}, False, warn.format(tmp_path / "bg.pem")),
        "bad_der": ({"NODE_EXTRA_CA_CERTS": _file(tmp_path, "der.pem", BAD_DER)},
                    {}, False, warn.format(tmp_path / "der.pem")),
        # No PEM block at all is no error: silent, nothing added.
        "empty_file": ({"NODE_EXTRA_CA_CERTS": _file(tmp_path, "empty.pem", b"")},
                       {}, False, None),
        "der_file": ({"NODE_EXTRA_CA_CERTS": _file(tmp_path, "root.der", der)}, {}, False, None),
        "directory": ({"NODE_EXTRA_CA_CERTS": str(tmp_path)}, {}, False, None),
        # Text around the blocks is skipped; a TRUSTED CERTIFICATE block is not read.
        "text_then_cert": ({"NODE_EXTRA_CA_CERTS": _file(tmp_path, "t.pem", b"junk\n" + root)},
                           {}, True, None),
        "trusted_block": ({"NODE_EXTRA_CA_CERTS": _file(tmp_path, "tr.pem", trusted)},
                          {}, False, None),
    }


SCENARIOS = ["extra", "extra_secure_context", "unset", "empty_value", "ca_replaces",
             "crl_drops_extra", "crl_with_ca", "missing", "good_then_bad", "bad_then_good", "bad_der",
             "empty_file", "der_file", "directory", "text_then_cert", "trusted_block"]


@pytest.mark.parametrize("name", SCENARIOS)
async def test_extra_ca_scenario_matches_node(name: str, certs: Any, tmp_path: Path) -> None:
    env, opts, verdict, warning = _scenarios(certs, tmp_path)[name]
    server, port = await listen({"key": certs.server.key_pem, "cert": certs.server.chain_pem})
    try:
        cfg = {"port": port, "root": _root_pem(certs), **opts}
        (_, py, py_err), (_, nd, nd_err) = await _children(tmp_path, env, cfg)
    finally:
        server.close()
    assert py == nd  # verdict, error code, root certificates: as node
    assert py_err == nd_err  # the warning line, byte for byte, or nothing
    assert py["in_roots"] is False  # never in tls.root_certificates
    assert py["authorized"] is (verdict is True)
    assert py["error"] == (None if verdict is True else UNTRUSTED if verdict is False
                           else verdict)
    if warning is None:
        assert py_err == ""
    else:
        assert py_err.startswith(warning) and py_err.endswith("\n") and py_err.count("\n") == 1


@pytest.mark.parametrize("with_env", [True, False])
async def test_loaded_flag(with_env: bool, certs: Any, tmp_path: Path) -> None:
    """test-tls-env-extra-ca-file-load.js: loaded with the variable, not without it, even once
    ``create_server({})`` built the default store (Node: ``isExtraRootCertsFileLoaded``)."""
    env = {"NODE_EXTRA_CA_CERTS": str(certs.root.cert_path)} if with_env else {}
    (_, py, py_err), (_, nd, nd_err) = await _children(
        tmp_path, env, {"root": _root_pem(certs), "server": True})
    assert py == nd == {"in_roots": False, "loaded": with_env}
    assert py_err == nd_err == ""


RUNTIME_CHILD = r"""
import asyncio, os, sys
import nodetls as tls
from nodetls._context import extra_ca

async def verdict(port):
    fut = asyncio.get_running_loop().create_future()
    sock = tls.connect({"port": port, "host": "127.0.0.1", "servername": "localhost"})
    sock.on("secureConnect", lambda: fut.done() or fut.set_result("authorized"))
    sock.on("error", lambda e: fut.done() or fut.set_result(e.code))
    try:
        return await asyncio.wait_for(fut, 10)
    finally:
        sock.destroy()

async def main():
    port, root_file, when = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    assert not extra_ca.extra_ca_certs_loaded()  # nothing read at import
    if when == "before":
        os.environ["NODE_EXTRA_CA_CERTS"] = root_file
    first = await verdict(port)
    os.environ["NODE_EXTRA_CA_CERTS"] = root_file if when == "after" else "/no/such/file"
    print(first, await verdict(port), extra_ca.extra_ca_certs_loaded())

asyncio.run(main())
"""


@pytest.mark.parametrize("when", ["before", "after"])
async def test_read_once_when_default_store_is_built(when: str, certs: Any,
                                                     tmp_path: Path) -> None:
    """The variable is read once, when the first context without ``ca`` is made: a value put
    in ``os.environ`` before that counts (Node reads it at startup, before any script runs:
    the documented difference), and later changes have no effect, as in Node ("changing the
    value at runtime ... has no effect on the current process"; checked with node)."""
    script = tmp_path / "runtime.py"
    script.write_text(RUNTIME_CHILD)
    server, port = await listen({"key": certs.server.key_pem, "cert": certs.server.chain_pem})
    try:
        res = await run_process([sys.executable, script, str(port), str(certs.root.cert_path),
                                 when], timeout=20)
    finally:
        server.close()
    assert res.rc == 0, res
    assert res.stderr == ""  # the later bad value is never read: no warning
    expected = ("authorized authorized True" if when == "before"
                else f"{UNTRUSTED} {UNTRUSTED} False")
    assert res.stdout.split() == expected.split()


def test_setuid_process_ignores_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Node's ``SafeGetenv``: a set-uid process ignores ``NODE_EXTRA_CA_CERTS``."""
    from nodetls._context import extra_ca

    monkeypatch.setenv("NODE_EXTRA_CA_CERTS", "/etc/hostname")
    assert extra_ca._safe_getenv("NODE_EXTRA_CA_CERTS") == "/etc/hostname"
    monkeypatch.setattr(os, "geteuid", lambda: os.getuid() + 1)
    assert extra_ca._safe_getenv("NODE_EXTRA_CA_CERTS") is None
