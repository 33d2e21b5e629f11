"""What a handshake negotiates, nodetls against node v20 (the harness: ``tests/nego``, see
docs/fuzzing.md, "Negotiation differential").

Each case runs with every client/server pair of node and nodetls, each side its own process;
the records (outcome, error codes, protocol, cipher, ALPN, servername, ephemeral key, shared
sigalgs, resumption, authorization) must be node<->node's, or differ only as
:mod:`tests.nego.classify` explains (OpenSSL 3.5 against node's 3.0, proven by running nodetls
on the system's OpenSSL 3.0; nodetls's documented defaults, proven by writing Node's out).
"""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

import pytest

import nodetls as tls
from tests.helpers.difftest import needs_node

from .batch import PAIRS, divergences, run_pair
from .certs import cert_dir
from .classify import node_default_ciphers
from .gen import generate

SEEDS = range(0, 160)
TIMEOUT = 10.0

#: a plain case: every option at its default (gen.py's language)
_COMMON = {"minVersion": None, "maxVersion": None, "ciphers": None, "ecdhCurve": None,
           "sigalgs": None, "ALPNProtocols": None, "secureOptions": []}
PLAIN: dict[str, Any] = {
    "seed": -1,
    "server": {**_COMMON, "certs": "ec256", "honorCipherOrder": None, "requestCert": False,
               "rejectUnauthorized": False, "dhparam": None, "sni": None},
    "client": {**_COMMON, "servername": "localhost", "cert": None, "resume": False},
}


@pytest.fixture(scope="module", autouse=True)
def _cert_dir() -> None:
    """The certificates, made once for the module's tests and removed at the session's end (made
    by the first test that needs them, they would count as left by it: tests/conftest.py)."""
    cert_dir()


def case(server: dict[str, Any] | None = None, client: dict[str, Any] | None = None
         ) -> dict[str, Any]:
    c = copy.deepcopy(PLAIN)
    c["server"].update(server or {})
    c["client"].update(client or {})
    return c


@needs_node
def test_fixed_seeds_negotiate_as_node() -> None:
    found, explained = divergences([generate(s) for s in SEEDS])
    assert not found, "\n".join(json.dumps(d) for d in found[:5])
    assert explained  # (the classes are exercised: the generator reaches them)


@needs_node
@pytest.mark.parametrize("certs", ["ed25519", "rsa+ec256"])
def test_shared_sigalgs_are_named_as_in_node(certs: str) -> None:
    # Node's TLSWrap::GetSharedSigalgs: sign name, '+', the hash's short name or UNDEF:
    # 'Ed25519+UNDEF', 'Ed448+UNDEF' (nodetls said 'Ed25519', 'Ed448'). Same OpenSSL (3.0) on
    # both sides, so the whole list compares.
    c = case({"certs": certs})
    ref = run_pair([c], "node", "node")[0]
    for pair in PAIRS[1:]:
        got = run_pair([c], *pair, pure=True)[0]
        sigalgs = got["server"]["conns"][0]["sigalgs"]
        assert "Ed25519+UNDEF" in sigalgs and "Ed448+UNDEF" in sigalgs, sigalgs
        assert got == ref


async def _connect(port: int, ca: bytes, **opts: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {"log": []}
    done = asyncio.get_running_loop().create_future()
    s = tls.connect({"host": "127.0.0.1", "port": port, "servername": "localhost", **opts})
    s.on("secureConnect", lambda: rec["log"].append(
        f"secureConnect authorized={s.authorized} {s.authorization_error} "
        f"reused={s.is_session_reused()}"))
    s.on("session", lambda b: rec.__setitem__("session", b))
    s.on("error", lambda e: rec["log"].append(f"error {getattr(e, 'code', e)}"))
    s.on("data", lambda _d: None)
    s.on("close", lambda *_: done.done() or done.set_result(None))
    await asyncio.wait_for(done, TIMEOUT)
    return rec


@pytest.mark.parametrize("version", ["TLSv1.2", "TLSv1.3"])
async def test_a_resumed_session_keeps_its_failed_verification(version: str) -> None:
    # Node (checked with node v20, the same three connections): a session whose server
    # certificate failed verification (no `ca`: UNABLE_TO_GET_ISSUER_CERT_LOCALLY) fails again
    # when resumed -- SSL_get_verify_result() is the session's -- so rejectUnauthorized
    # destroys the socket, and without it `authorized` stays false. nodetls took the verify
    # callback's result only, which a resumption never runs: authorized, accepted.
    d = cert_dir()
    with open(f"{d}/server-ec256.key", "rb") as f1, open(f"{d}/server-ec256.pem", "rb") as f2:
        key, cert = f1.read(), f2.read()
    server = tls.create_server({"key": key, "cert": cert, "max_version": version},
                               lambda s: s.end(b"x"))
    await server.listen(0, "127.0.0.1")
    try:
        port = server.address()["port"]
        first = await _connect(port, b"", reject_unauthorized=False)
        assert first["log"] == ["secureConnect authorized=False "
                                "UNABLE_TO_GET_ISSUER_CERT_LOCALLY reused=False"]
        strict = await _connect(port, b"", session=first["session"])
        assert strict["log"] == ["error UNABLE_TO_GET_ISSUER_CERT_LOCALLY"]
        lax = await _connect(port, b"", session=first["session"], reject_unauthorized=False)
        assert lax["log"] == ["secureConnect authorized=False "
                              "UNABLE_TO_GET_ISSUER_CERT_LOCALLY reused=True"]
    finally:
        server.close()


@needs_node
@pytest.mark.parametrize("sni", [{"certs": "ec384", "ciphers": "TLS_AES_128_CCM_SHA256"},
                                 {"certs": "ec384", "ciphers": None}])
def test_an_sni_context_lends_only_its_certificate_as_in_node(sni: dict[str, Any]) -> None:
    # Node: a TLS 1.2 client naming the SNI context's host gets a handshake with the default
    # context's cipher list, and (RSA suites first in the client's list) the default context's
    # RSA certificate, which stays beside the SNI context's EC one (UseSNIContext lends the
    # certificate, key, chain, verify store and CA list only). nodetls switched the whole
    # SSL_CTX: the SNI context's CCM-only list failed the handshake (ERR_SSL_NO_SHARED_CIPHER),
    # and only its EC certificate was left. (The server's ciphers are Node's defaults: ours put
    # ECDSA first, a documented difference of its own.)
    c = case({"certs": "rsa", "sni": sni, "ciphers": node_default_ciphers()},
             {"servername": "other.example", "maxVersion": "TLSv1.2"})
    ref = run_pair([c], "node", "node")[0]
    assert ref["client"][0]["cipher"]["name"] == "ECDHE-RSA-AES128-GCM-SHA256"
    assert run_pair([c], "node", "ours", pure=True)[0] == ref


@needs_node
def test_a_resumed_tls13_session_without_client_certificate_is_authorized_as_in_node() -> None:
    c = case({"requestCert": True, "minVersion": "TLSv1.3"}, {"resume": True})
    ref = run_pair([c], "node", "node")[0]
    assert ref["server"]["conns"][1]["reused"] is True
    assert ref["server"]["conns"][1]["authorized"] is True
    assert run_pair([c], "node", "ours", pure=True)[0] == ref
