"""Servers verifying clients: nodetls's ``request_cert`` server against Node's, on seeded chains.

Each seed gives two cases: ``pki_gen``'s flawed chain issued as a client's (``build(client=True)``,
no ``crl``) and ``crl_gen``'s chain with its CRLs (the servers get the ``crl``). Per case, node
(one ``node`` process per batch) and nodetls (this process) each run two servers with the case's
``ca`` (and ``crl``) and ``requestCert``: ``lax`` (``rejectUnauthorized: false``: the
``'secureConnection'``'s ``authorized`` and ``authorizationError``) and ``strict`` (``true``:
``'secureConnection'``, ``'tlsClientError'``'s code and message, or the connection closed
with neither). One node client process connects to all four with the case's chain and key
(``rejectUnauthorized: false``), so only the servers differ. Where a chain has an RSA-1024 key
node's servers run at ``@SECLEVEL=2``, nodetls's default (``verify_diff.seclevel2``).

Compared: ``lax`` as is; ``strict`` as accepted or not (:func:`verdict`): Node's server
destroys a rejected client's socket after the handshake without an event, nodetls's fails the
handshake with the alert and emits ``'tlsClientError'`` (README, "alerts on rejection"); that
error's code must be nodetls's own ``lax`` ``authorizationError``.

Usage: ``python -m tests.verify.client_diff FIRST COUNT [--all]``; exit status 1 when a seed
diverges.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

import nodetls as tls

from ..helpers.peers import run_node, spawn_node
from . import crl_gen, pki_gen
from .verify_diff import seclevel2

WAIT = 15.0  # seconds for every server outcome of a batch to arrive

SERVERS_JS = r"""
const tls = require('tls'), fs = require('fs');
const {cert, key, cases} = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const results = cases.map(() => ({}));
const record = (i, mode, r) => { if (!(mode in results[i])) results[i][mode] = r; };
const listen = (i, mode) => new Promise((resolve) => {
  const c = cases[i];
  const opts = {cert, key, requestCert: true, rejectUnauthorized: mode === 'strict', ca: c.ca};
  if (c.crl) opts.crl = c.crl;
  if (c.seclevel2) opts.ciphers = tls.DEFAULT_CIPHERS + ':@SECLEVEL=2';
  const server = tls.createServer(opts, (s) => {
    record(i, mode, {secure: true, authorized: s.authorized,
                     authorizationError: s.authorizationError ?? null});
    s.on('error', () => {});
    s.end();
  });
  server.on('tlsClientError', (e) => record(i, mode, {error: e.code ?? null, message: e.message}));
  server.on('connection', (raw) => raw.on('close', () => setImmediate(
    () => record(i, mode, {closed: true}))));
  server.listen(0, '127.0.0.1', () => resolve(server.address().port));
});
(async () => {
  const ports = [];
  for (let i = 0; i < cases.length; i++)
    ports.push({lax: await listen(i, 'lax'), strict: await listen(i, 'strict')});
  console.log('PORTS ' + JSON.stringify(ports));
  console.log('LISTENING 1');
  process.stdin.resume();
  process.stdin.on('end', () => {
    const deadline = Date.now() + 15000;
    const done = () => results.every((r) => 'lax' in r && 'strict' in r);
    const poll = () => {
      if (done() || Date.now() > deadline) {
        process.stdout.write('RESULTS ' + JSON.stringify(results) + '\n', () => process.exit(0));
      } else setTimeout(poll, 20);
    };
    poll();
  });
})();
"""

CLIENT_JS = r"""
const tls = require('tls');
const {cases} = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const once = (port, c) => new Promise((resolve) => {
  const s = tls.connect({port, host: '127.0.0.1', cert: c.chain, key: c.key,
                         rejectUnauthorized: false, ciphers: 'DEFAULT:@SECLEVEL=0'});
  s.on('error', () => {});
  s.resume();
  s.on('close', resolve);
  s.setTimeout(10000, () => s.destroy());
});
(async () => {
  for (const c of cases)
    for (const mode of ['lax', 'strict'])
      await Promise.all(c.ports.map((p) => once(p[mode], c)));
  process.stdout.write('done');
})();
"""


def _server_identity() -> tuple[str, str]:
    """A throwaway self-signed server certificate and key (the clients do not check it)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "verifying server")])
    now = _dt.datetime.now(_dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - _dt.timedelta(days=1))
            .not_valid_after(now + _dt.timedelta(days=30)).sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM).decode(),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode())


def cases_for(seeds: list[int]) -> list[dict[str, Any]]:
    """Two cases a seed: ``pki_gen``'s client chain without ``crl``, ``crl_gen``'s with."""
    out: list[dict[str, Any]] = []
    for seed in seeds:
        sc = pki_gen.scenario(seed)
        m = pki_gen.build(sc, client=True)
        out.append({"kind": "pki", **pki_gen.describe(sc), "chain": m.chain, "key": m.key,
                    "ca": m.ca, "crl": None, "seclevel2": seclevel2(sc)})
        csc = crl_gen.scenario(seed)
        cm = crl_gen.build(csc)
        out.append({"kind": "crl", **crl_gen.describe(csc), "chain": cm.chain, "key": cm.key,
                    "ca": cm.ca, "crl": cm.crl, "seclevel2": False})
    return out


class _Ours:
    """nodetls's two servers for one case, recording each one's first outcome."""

    def __init__(self, case: dict[str, Any], cert: str, key: str) -> None:
        self.results: dict[str, dict[str, Any]] = {}
        self.done = asyncio.Event()
        self.servers = {mode: self._server(case, cert, key, mode) for mode in ("lax", "strict")}

    def _record(self, mode: str, outcome: dict[str, Any]) -> None:
        self.results.setdefault(mode, outcome)
        if len(self.results) == 2:
            self.done.set()

    def _server(self, case: dict[str, Any], cert: str, key: str, mode: str) -> Any:
        opts: dict[str, Any] = {"cert": cert, "key": key, "request_cert": True,
                                "reject_unauthorized": mode == "strict"}
        if case["ca"]:
            opts["ca"] = case["ca"]
        if case["crl"]:
            opts["crl"] = case["crl"]

        def on_secure(s: Any) -> None:
            self._record(mode, {"secure": True, "authorized": s.authorized,
                                "authorizationError": s.authorization_error})
            s.on("error", lambda _e: None)
            s.end()

        def on_raw(raw: Any) -> None:
            raw.on("close", lambda *_: asyncio.get_running_loop().call_soon(
                self._record, mode, {"closed": True}))

        server = tls.create_server(opts, on_secure)
        server.on("tlsClientError", lambda e, _s: self._record(
            mode, {"error": getattr(e, "code", None), "message": str(e)}))
        server.on("connection", on_raw)
        server.listen(0, "127.0.0.1")
        return server

    async def ports(self) -> dict[str, int]:
        out = {}
        for mode, server in self.servers.items():
            await asyncio.wait_for(server, 10)
            out[mode] = server.address()["port"]
        return out

    def close(self) -> None:
        for server in self.servers.values():
            server.close()


def verdict(outcome: dict[str, Any]) -> str:
    """A strict server's outcome as ``accepted``/``rejected`` (how Node and nodetls reject
    differs: see the module's docstring)."""
    return "accepted" if outcome.get("secure") else "rejected"


async def compare(seeds: list[int]) -> list[dict[str, Any]]:
    """Each case (two a seed) with both servers' outcomes (``nodetls``, ``node``)."""
    cases = cases_for(seeds)
    cert, key = _server_identity()
    ours = [_Ours(c, cert, key) for c in cases]
    try:
        with tempfile.TemporaryDirectory(prefix="nodetls-verify-") as tmp:
            path = Path(tmp) / "cases.json"
            path.write_text(json.dumps({"cert": cert, "key": key, "cases": cases}))
            async with spawn_node(SERVERS_JS, path) as server:
                node_ports = json.loads((await server.wait_for_output(r"PORTS (.*)"))[1])
                our_ports = [await o.ports() for o in ours]
                client = [{"chain": c["chain"], "key": c["key"], "ports": [n, o]}
                          for c, n, o in zip(cases, node_ports, our_ports, strict=True)]
                rc, _out, err = await run_node(CLIENT_JS, stdin=json.dumps({"cases": client}),
                                               timeout=60 + len(cases))
                if rc != 0:
                    raise RuntimeError(f"node client failed ({rc}): {err}")
                server.close_stdin()
                node_results = json.loads(
                    (await server.wait_for_output(r"RESULTS (.*)", timeout=WAIT + 10))[1])
            await asyncio.wait_for(asyncio.gather(*(o.done.wait() for o in ours)), WAIT)
    finally:
        for o in ours:
            o.close()
    rows = []
    for c, o, n in zip(cases, ours, node_results, strict=True):
        desc = {k: v for k, v in c.items() if k not in ("chain", "key", "ca", "crl")}
        rows.append({**desc, "nodetls": o.results, "node": n})
    return rows


def diverges(row: dict[str, Any]) -> bool:
    ours, theirs = row["nodetls"], row["node"]
    if ours.get("lax") != theirs.get("lax"):
        return True
    if verdict(ours["strict"]) != verdict(theirs["strict"]):
        return True
    # nodetls's rejection names its own verdict (Node's server gives none)
    lax_code = ours["lax"].get("authorizationError")
    return verdict(ours["strict"]) == "rejected" and ours["strict"].get("error") != lax_code


def main(argv: list[str]) -> int:
    show_all = "--all" in argv
    first, count = (int(a) for a in argv if not a.startswith("--"))
    found = 0
    for start in range(first, first + count, 50):  # 200 servers a side per fifty seeds
        seeds = list(range(start, min(start + 50, first + count)))
        for row in asyncio.run(compare(seeds)):
            differs = diverges(row)
            found += differs
            if differs or show_all:
                print(json.dumps({"differs": differs, **row}), flush=True)
    print(f"{found} of {2 * count} cases diverge (seeds {first}..{first + count - 1})")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
