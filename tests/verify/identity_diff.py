"""``check_server_identity`` against Node's ``tls.checkServerIdentity`` on seeded cases.

Every case of a batch goes to one ``node`` process (JSON on stdin); each side's outcome is
``{"ok": true}``, ``{"code", "message", "reason", "host"}`` of the returned error, or
``{"threw": code-or-name, "message"}`` of what it throws.

Usage: ``python -m tests.verify.identity_diff FIRST COUNT`` prints each divergent seed as a JSON
line (seed, host, cert, nodetls, node) and a count; exit status 1 when any diverges.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from nodetls._tls_identity import check_server_identity

from ..helpers.peers import run_node
from .identity_gen import cases

NODE_JS = r"""
const tls = require('tls');
const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const out = input.map(([host, cert]) => {
  try {
    const e = tls.checkServerIdentity(host, cert);
    if (!e) return {ok: true};
    if (e.cert !== cert) return {wrongCert: true};
    return {code: e.code, message: e.message, reason: e.reason, host: e.host};
  } catch (e) { return {threw: e.code || e.name, message: e.message}; }
});
process.stdout.write(JSON.stringify(out));
"""


def ours(host: str, cert: dict[str, Any]) -> dict[str, Any]:
    """nodetls's outcome, in the shape NODE_JS logs Node's."""
    try:
        err = check_server_identity(host, cert)
    except Exception as e:  # noqa: BLE001 - what it throws is the outcome
        return {"threw": getattr(e, "code", None) or type(e).__name__, "message": str(e)}
    if err is None:
        return {"ok": True}
    if getattr(err, "cert", None) is not cert:
        return {"wrongCert": True}
    return {"code": getattr(err, "code", None), "message": str(err),
            "reason": getattr(err, "reason", None), "host": getattr(err, "host", None)}


async def node_outcomes(pairs: list[tuple[str, dict[str, Any]]],
                        timeout: float = 60) -> list[dict[str, Any]]:
    """Node's outcome for each ``(host, cert)``, in one ``node`` process."""
    rc, out, err = await run_node(NODE_JS, stdin=json.dumps([list(p) for p in pairs]),
                                  timeout=timeout)
    if rc != 0:
        raise RuntimeError(f"node failed ({rc}): {err}")
    result: list[dict[str, Any]] = json.loads(out)
    return result


async def divergences(first: int, count: int) -> list[dict[str, Any]]:
    """The seeds in ``[first, first + count)`` where nodetls and Node disagree."""
    batch = cases(first, count)
    node = await node_outcomes([(h, c) for _s, h, c in batch])
    found = []
    for (seed, host, cert), theirs in zip(batch, node, strict=True):
        mine = ours(host, cert)
        if mine != theirs:
            found.append({"seed": seed, "host": host, "cert": cert, "nodetls": mine,
                          "node": theirs})
    return found


def main(argv: list[str]) -> int:
    first, count = int(argv[0]), int(argv[1])
    found = asyncio.run(divergences(first, count))
    for d in found:
        print(json.dumps(d))
    print(f"{len(found)} of {count} seeds diverge ({first}..{first + count - 1})")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
