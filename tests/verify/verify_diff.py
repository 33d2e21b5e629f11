"""Certificate verification, nodetls's client against Node's, on seeded flawed PKIs.

One ``node`` server per batch holds every scenario's chain and routes by SNI (its contexts at
``@SECLEVEL=0``, so it can load and send any flawed chain). For each scenario a node client (one
``node`` process for the batch) and a nodetls client connect with the same ``ca`` and
``servername``: first with ``rejectUnauthorized: false`` (``authorized``, ``authorizationError``),
then with ``true`` (the ``'error'``'s code and message, or a connection). Both clients run at the
same time against the same server. Where a scenario has an RSA-1024 key, node's client runs at
nodetls's security level (:func:`seclevel2`).

With ``--crl`` the scenarios are ``crl_gen``'s (CRLs given to both clients as ``crl``).

Usage: ``python -m tests.verify.verify_diff FIRST COUNT [--crl]`` prints each divergent seed as a JSON
line (seed, flaws, nodetls, node) and the count; ``--all`` prints every seed's outcome; exit
status 1 when a seed diverges.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import nodetls as tls

from ..helpers.peers import run_node, spawn_node
from . import crl_gen, pki_gen

SERVER_JS = r"""
const tls = require('tls'), fs = require('fs');
const chains = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const ctxs = new Map();
const ctxFor = (name) => {
  if (!ctxs.has(name)) {
    const {chain, key} = chains[name];
    ctxs.set(name, tls.createSecureContext({cert: chain, key, ciphers: 'DEFAULT:@SECLEVEL=0'}));
  }
  return ctxs.get(name);
};
// No certificate of its own: Node's SNI context switch keeps the default context's key of
// another type (an EC default cert would be served for an RSA scenario).
const server = tls.createServer({
  ciphers: 'DEFAULT:@SECLEVEL=0',
  SNICallback: (name, cb) => cb(null, chains[name] ? ctxFor(name) : undefined),
}, (s) => { s.on('error', () => {}); s.end(); });
server.on('tlsClientError', () => {});
server.listen(0, '127.0.0.1', () => console.log('LISTENING', server.address().port));
"""

CLIENT_JS = r"""
const tls = require('tls');
const {port, cases} = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const once = (c, rejectUnauthorized) => new Promise((resolve) => {
  const opts = {port, host: '127.0.0.1', servername: c.servername, rejectUnauthorized};
  if (c.ca) opts.ca = c.ca;
  if (c.crl) opts.crl = c.crl;
  if (c.seclevel2) opts.ciphers = tls.DEFAULT_CIPHERS + ':@SECLEVEL=2';
  const s = tls.connect(opts, () => {
    resolve({secure: true, authorized: s.authorized, authorizationError: s.authorizationError ?? null});
    s.destroy();
  });
  s.on('error', (e) => { resolve({error: e.code ?? null, message: e.message}); s.destroy(); });
  s.setTimeout(10000, () => { resolve({timeout: true}); s.destroy(); });
});
(async () => {
  const out = [];
  for (const c of cases) out.push({lax: await once(c, false), strict: await once(c, true)});
  process.stdout.write(JSON.stringify(out));
})();
"""


async def _nodetls_once(port: int, m: Any, reject: bool) -> dict[str, Any]:
    opts: dict[str, Any] = {"port": port, "host": "127.0.0.1", "servername": m.servername,
                            "reject_unauthorized": reject}
    if m.ca:
        opts["ca"] = m.ca
    if getattr(m, "crl", None):
        opts["crl"] = m.crl
    sock = tls.connect(opts)
    sock.on("error", lambda _e: None)
    try:
        await asyncio.wait_for(sock, 10)
        return {"secure": True, "authorized": sock.authorized,
                "authorizationError": sock.authorization_error}
    except TimeoutError:
        return {"timeout": True}
    except Exception as e:  # noqa: BLE001 - the error is the outcome
        return {"error": getattr(e, "code", None), "message": str(e)}
    finally:
        sock.destroy()


async def nodetls_outcomes(port: int, materials: list[Any]) -> list[dict[str, Any]]:
    return [{"lax": await _nodetls_once(port, m, False), "strict": await _nodetls_once(port, m, True)}
            for m in materials]


def seclevel2(sc: Any) -> bool:
    """Whether node's client runs at OpenSSL security level 2, nodetls's default (README,
    "OpenSSL security level 2 by default"; Node v20's is 1): for the RSA-1024 keys, which only
    the level tells apart (level 1 accepts them, level 2 reports CA_KEY_TOO_SMALL or
    EE_KEY_TOO_SMALL, both UNSPECIFIED in Node's codes)."""
    return any(f.startswith("rsa1024:") for f in sc.flaws)


async def node_outcomes(port: int, scenarios: list[Any],
                        materials: list[Any]) -> list[dict[str, Any]]:
    cases = [{"servername": m.servername, "ca": m.ca, "crl": getattr(m, "crl", None),
              "seclevel2": seclevel2(sc)}
             for sc, m in zip(scenarios, materials, strict=True)]
    rc, out, err = await run_node(CLIENT_JS, stdin=json.dumps({"port": port, "cases": cases}),
                                  timeout=30 + 2 * len(cases))
    if rc != 0:
        raise RuntimeError(f"node client failed ({rc}): {err}")
    result: list[dict[str, Any]] = json.loads(out)
    return result


async def compare(seeds: list[int], gen: Any = pki_gen) -> list[dict[str, Any]]:
    """Each seed's scenario with both clients' outcomes (``nodetls``, ``node``). ``gen``: the
    generator module (``scenario``, ``build``, ``describe``): ``pki_gen``, or ``crl_gen`` (its
    materials carry a ``crl``, given to both clients)."""
    scenarios = [gen.scenario(s) for s in seeds]
    materials = [gen.build(sc) for sc in scenarios]
    with tempfile.TemporaryDirectory(prefix="nodetls-verify-") as tmp:
        path = Path(tmp) / "chains.json"
        path.write_text(json.dumps({m.servername: {"chain": m.chain, "key": m.key}
                                    for m in materials}))
        async with spawn_node(SERVER_JS, path) as server:
            assert server.port is not None
            ours, theirs = await asyncio.gather(nodetls_outcomes(server.port, materials),
                                                node_outcomes(server.port, scenarios, materials))
    return [{**gen.describe(sc), "nodetls": a, "node": b}
            for sc, a, b in zip(scenarios, ours, theirs, strict=True)]


def main(argv: list[str]) -> int:
    show_all = "--all" in argv
    gen = crl_gen if "--crl" in argv else pki_gen
    first, count = (int(a) for a in argv if not a.startswith("--"))
    found = 0
    for start in range(first, first + count, 100):  # one server per hundred seeds
        seeds = list(range(start, min(start + 100, first + count)))
        for row in asyncio.run(compare(seeds, gen)):
            differs = row["nodetls"] != row["node"]
            found += differs
            if differs or show_all:
                print(json.dumps({"differs": differs, **row}), flush=True)
    print(f"{found} of {count} seeds diverge ({first}..{first + count - 1})")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
