"""``nodetls serve`` staples OCSP responses from the certificate's responder and ``nodetls connect
--ocsp`` checks them: both against the real ``openssl ocsp`` responder, in their own processes."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from helpers.peers import run_process, spawn_process

from ..ocsp.responder import OcspPKI, openssl_responder

pytestmark = pytest.mark.interop
T = 30.0
LISTENING = r"listening on https://127\.0\.0\.1:(?P<port>\d+)"


def nodetls(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "nodetls", *[str(a) for a in args]]


@pytest.mark.parametrize("revoked", [False, True])
async def test_serve_staples_and_connect_ocsp_checks_it(tmp_path: Path, revoked: bool) -> None:
    opki = OcspPKI(tmp_path)
    leaf = opki.leaf("leaf")
    index = opki.index("i", revoked=[leaf]) if revoked else opki.index("i", good=[leaf])
    async with openssl_responder(opki, index):
        serve = nodetls("serve", "--port", "0", "--cert", leaf.chain_path, "--key", leaf.key_path)
        async with spawn_process(serve, ready=LISTENING, timeout=T) as server:
            await server.wait_for_output(
                "stapling OCSP responses: " + ("revoked" if revoked else "good"), timeout=T)
            res = await run_process(nodetls("connect", f"localhost:{server.port}", "--ca",
                                            leaf.ca_path, "--ocsp", "--json",
                                            "--no-resume-check"), timeout=T)
    report = json.loads(res.stdout)
    assert report["ocsp"]["stapled"] is True, res.stderr
    if revoked:
        assert res.rc == 1
        assert report["ocsp"]["status"] == "revoked"
        assert report["ocsp"]["error"]["code"] == "ERR_TLS_OCSP_REVOKED"
    else:
        assert res.rc == 0, res.stderr
        assert report["ocsp"]["status"] == "good" and report["ocsp"]["error"] is None
        assert report["ocsp"]["next_update"]


async def test_connect_ocsp_says_what_is_missing(tmp_path: Path) -> None:
    """A server whose certificate names no responder staples nothing: ``--ocsp`` fails and the
    human report says so."""
    serve = nodetls("serve", "--port", "0", "--dev-dir", tmp_path)
    async with spawn_process(serve, ready=LISTENING, timeout=T) as server:
        res = await run_process(nodetls("connect", f"localhost:{server.port}", "--ca",
                                        tmp_path / "ca-cert.pem", "--ocsp"), timeout=T)
    assert res.rc == 1
    assert re.search(r"OCSP staple\s+none stapled", res.stderr), res.stderr
