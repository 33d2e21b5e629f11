"""Run many seeds through both TLS runners, list the divergent ones, minimise them.

``python -m tests.tls.diff.batch FIRST COUNT [--minimise] [--loop asyncio|uvloop]``: one
``node`` process for all the scripts (running while nodetls runs them in this process, on
asyncio's loop, the differential tests' loop, or with ``--loop uvloop`` on uvloop, the default
loop of ``nodetls.run``); a divergent seed is run again in both, and reported only if it
diverges again (else counted as flaky: timing); prints each with its first difference
(minimised: ops dropped and options set back to their defaults while it still diverges the
same way). ``... batch show SCRIPT_JSON [--loop uvloop]`` prints one script's logs side by
side. Needs ``node``. :data:`HARNESS` is the TLS harness (:class:`tests.helpers.difftest.Harness`,
with ``timing``; the differences accepted on purpose: :func:`accepted`).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, fields
from typing import Any

from ...helpers.difftest import Harness
from .gen import generate
from .runner import cert_dir, run_scripts

_HERE = os.path.dirname(os.path.abspath(__file__))

#: each option's default (the value minimising sets it back to)
DEFAULTS: dict[str, dict[str, Any]] = {
    "server": {"allowHalfOpen": False, "pauseOnConnect": False, "requestCert": False,
               "rejectUnauthorized": True, "ALPNProtocols": None, "minVersion": None,
               "maxVersion": None, "handshakeTimeout": None, "tickets": True},
    "client": {"allowHalfOpen": False, "servername": None, "ALPNProtocols": None,
               "rejectUnauthorized": True, "ca": True, "cert": None, "minVersion": None,
               "maxVersion": None},
}


def candidates(script: dict[str, Any]) -> list[dict[str, Any]]:
    """The script with one op dropped, one server or client option set back to its default,
    or one big chunk made one byte."""
    cands = []
    for key in ("pre", "ops"):
        ops = script[key]
        cands += [{**script, key: ops[:i] + ops[i + 1:]} for i in range(len(ops))]
    for side, defaults in DEFAULTS.items():
        for key, default in defaults.items():
            if script[side][key] != default:
                cands.append({**script, side: {**script[side], key: default}})
    for key in ("pre", "ops"):
        ops = script[key]
        for i, op in enumerate(ops):
            if op[0] != "settle" and op[1] in ("write", "end") and isinstance(op[2], list):
                cands.append({**script, key: ops[:i] + [[*op[:2], "61"]] + ops[i + 1:]})
    return cands


def accepted(script: dict[str, Any], node: dict[str, Any] | None = None) -> str | None:
    """Why ``script`` is not compared (a difference from Node accepted on purpose, see
    docs/tls.md), or None."""
    c, s = script["client"], script["server"]
    if c["rejectUnauthorized"] and (not c["ca"] or c["servername"] == "bad.example"):
        return ("the client rejects the server's certificate: nodetls fails the handshake with "
                "the matching alert; Node completes it, emits 'secure', then destroys the socket "
                "(the server sees ECONNRESET)")
    if s["requestCert"] and s["rejectUnauthorized"] and c["cert"] == "self":
        return ("the server rejects the client's certificate: nodetls fails the handshake with "
                "the matching alert; Node completes it, then destroys the socket")
    if s["requestCert"] and s["rejectUnauthorized"] and c["cert"] is None \
            and "TLSv1.2" not in (s["maxVersion"], c["maxVersion"]):
        return ("TLS 1.3, the server requires a client certificate and gets none: the client's "
                "'certificate_required' alert comes after 'secureConnect'; nodetls destroys the "
                "socket with it ('close' true), Node emits 'error' and leaves the connection to "
                "end ('end', 'close' false; README: a TLS error after the handshake destroys "
                "the socket)")
    if node is not None and "tlsClientError ERR_TLS_HANDSHAKE_TIMEOUT" in node["s"]:
        return ("the handshake timed out: nodetls destroys the socket, Node leaves the "
                "connection open")
    if node is not None and any(line in node["s"] for line in (
            "error ERR_TLS_RENEGOTIATION_DISABLED", "error ERR_TLS_SESSION_ATTACK")):
        return ("the server refused a client's renegotiation (disableRenegotiation(), or "
                "over the limit): nodetls destroys the socket with the error, Node only emits "
                "'error' and, the runner's listener not destroying it, lets the renegotiation "
                "complete (tests/tls/test_tls_reneg_disabled.py)")
    return None


cert_dir()  # before any node process starts: runner.js reads the certificates' directory
HARNESS = Harness(runner_js=os.path.join(_HERE, "runner.js"),
                  expected=os.path.join(_HERE, "expected.json"), run_scripts=run_scripts,
                  generate=generate, candidates=candidates, accepted=accepted,
                  logs=("c", "s"), timeout=3600, timing=True)


@dataclass(frozen=True)
class _OnUvloop(Harness):
    """:data:`HARNESS` with nodetls's side on uvloop (``--loop uvloop``)."""

    def run_ours(self, scripts: list[dict[str, Any]]) -> list[dict[str, Any]]:
        import uvloop

        return uvloop.run(self.run_scripts(scripts))  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    harness = HARNESS
    if "--loop" in args:
        i = args.index("--loop")
        loop = args[i + 1] if i + 1 < len(args) else None
        if loop not in ("asyncio", "uvloop"):
            raise SystemExit(f"--loop asyncio|uvloop (got {loop!r})")
        del args[i:i + 2]
        if loop == "uvloop":
            harness = _OnUvloop(**{f.name: getattr(HARNESS, f.name) for f in fields(HARNESS)})
    harness.batch(args)


if __name__ == "__main__":
    main()
