"""tls.connect(..., ocsp='require'|'if-present'): the client checks the staple before
'secureConnect' (servers: nodetls stapling chosen bytes, and openssl s_server -status_file)."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

import nodetls as tls
from helpers.peers import run_process, spawn_openssl_server
from nodetls.ocsp import OCSPError, inspect_staple

from .responder import OcspPKI, build_response, now, openssl_responder

TIMEOUT = 10.0


@pytest.fixture
def opki(tmp_path):
    return OcspPKI(tmp_path)


async def stapling_server(bundle, staple, **opts):
    server = tls.create_server({**bundle.options, **opts}, lambda s: s.end(b"hi"))
    server.on("OCSPRequest", lambda cert, issuer, cb: cb(None, staple))
    server.listen(0, "127.0.0.1")
    await asyncio.wait_for(server, TIMEOUT)
    return server, server.address()["port"]


async def attempt(port, bundle, mode, **opts):
    """Connect with ``ocsp=mode``: ``(None, events)`` on success, ``(error, events)`` else."""
    events = []
    sock = tls.connect(port, {"host": "127.0.0.1", "servername": "localhost",
                              "ca": bundle.ca_pem, "ocsp": mode, **opts})
    sock.on("OCSPResponse", lambda r: events.append(("OCSPResponse", r)))
    sock.on("secureConnect", lambda: events.append(("secureConnect",)))
    try:
        await asyncio.wait_for(sock, TIMEOUT)
        return None, events
    except OCSPError as err:
        assert sock.destroyed
        return err, events
    finally:
        sock.destroy()


def cases(opki, leaf):
    other = opki.leaf("other")
    rogue = OcspPKI(opki.dir / "rogue").pki.intermediate
    past = now() - dt.timedelta(days=2)
    return {
        "good": (build_response(leaf, opki.ca), None),
        "missing": (None, "ERR_TLS_OCSP_MISSING"),
        "malformed": (b"this is not DER", "ERR_TLS_OCSP_MALFORMED"),
        "wrong-certificate": (build_response(other, opki.ca), "ERR_TLS_OCSP_WRONG_CERTIFICATE"),
        "bad-signature": (build_response(leaf, opki.ca, signer=rogue, include_signer=True),
                          "ERR_TLS_OCSP_BAD_SIGNATURE"),
        "stale": (build_response(leaf, opki.ca, this_update=past,
                                 next_update=past + dt.timedelta(days=1)), "ERR_TLS_OCSP_STALE"),
        "revoked": (build_response(leaf, opki.ca, status="revoked"), "ERR_TLS_OCSP_REVOKED"),
        "unknown": (build_response(leaf, opki.ca, status="unknown"), "ERR_TLS_OCSP_UNKNOWN"),
    }


@pytest.mark.parametrize("version", ["TLSv1.2", "TLSv1.3"])
async def test_each_staple_under_require_and_if_present(opki, version):
    leaf = opki.leaf("leaf")
    for name, (staple, code) in cases(opki, leaf).items():
        server, port = await stapling_server(leaf, staple, min_version=version,
                                             max_version=version)
        try:
            err, events = await attempt(port, leaf, "require")
            assert (err.code if err else None) == code, name
            # 'OCSPResponse' (Node's) still comes first; 'secureConnect' only when accepted.
            assert events[0] == ("OCSPResponse", staple), name
            assert (("secureConnect",) in events) == (code is None), name
            err, _ = await attempt(port, leaf, "if-present")
            expected = None if name == "missing" else code
            assert (err.code if err else None) == expected, name
        finally:
            server.close()


async def failure(opki, case, **opts):
    """The error a ``require`` client gets from a server stapling ``cases()[case]``."""
    leaf = opki.leaf("leaf")
    staple, _ = cases(opki, leaf)[case]
    server, port = await stapling_server(leaf, staple)
    try:
        err, _ = await attempt(port, leaf, "require", **opts)
        return err
    finally:
        server.close()


async def test_the_error_says_what_was_wrong(opki):
    err = await failure(opki, "stale")
    assert err.reason == "stale" and "next_update" in str(err) and "has passed" in str(err)


async def test_check_applies_even_without_reject_unauthorized(opki):
    err = await failure(opki, "revoked", reject_unauthorized=False, ca=None)
    assert err.code == "ERR_TLS_OCSP_REVOKED"


async def test_bad_option_value():
    with pytest.raises(ValueError, match="ocsp"):
        tls.connect(1, {"ocsp": "always"})
    with pytest.raises(ValueError, match="ocsp"):
        tls.connect(1, ocsp=True)


async def test_inspect_staple(opki):
    leaf = opki.leaf("leaf")
    staple, _ = cases(opki, leaf)["revoked"]
    server, port = await stapling_server(leaf, staple)
    try:
        sock = tls.connect(port, {"host": "127.0.0.1", "servername": "localhost",
                                  "ca": leaf.ca_pem, "request_ocsp": True})
        await asyncio.wait_for(sock, TIMEOUT)  # no check asked for: it connects
        report = inspect_staple(sock)
        sock.destroy()
        assert report["stapled"] and report["status"] == "revoked"
        assert report["error"].code == "ERR_TLS_OCSP_REVOKED"
        assert report["this_update"] <= now() < report["next_update"]
    finally:
        server.close()


@pytest.mark.interop
async def test_against_openssl_s_server_with_a_real_response(opki, tmp_path):
    """The staple comes from `openssl ocsp` (client fetching from the `openssl ocsp` responder),
    the server is `openssl s_server -status_file`."""
    leaf = opki.leaf("leaf")
    respfile = tmp_path / "resp.der"
    async with openssl_responder(opki, opki.index("i", good=[leaf])):
        rc, out, errout = await run_process([
            "openssl", "ocsp", "-issuer", opki.ca.cert_path, "-cert", leaf.cert_path,
            "-url", opki.url, "-no_nonce", "-noverify", "-respout", respfile], timeout=TIMEOUT)
        assert rc == 0, errout
    async with spawn_openssl_server(["-cert", leaf.cert_path, "-cert_chain", leaf.chain_path,
                                     "-key", leaf.key_path,
                                     "-status_file", respfile, "-www"]) as srv:
        err, events = await attempt(srv.port, leaf, "require")
        assert err is None
        assert events[0] == ("OCSPResponse", respfile.read_bytes())
    async with spawn_openssl_server(["-cert", leaf.cert_path, "-cert_chain", leaf.chain_path,
                                     "-key", leaf.key_path,
                                     "-www"]) as srv:
        err, _ = await attempt(srv.port, leaf, "require")
        assert err.code == "ERR_TLS_OCSP_MISSING"
