"""Real clients see what the Stapler staples: `openssl s_client -status` and a Node client with
`requestOCSP`, against a nodetls server fed by the real `openssl ocsp` responder."""

from __future__ import annotations

import asyncio

import pytest

import nodetls as tls
from helpers.peers import run_node, run_openssl_client
from nodetls.ocsp import Stapler

from .responder import OcspPKI, openssl_responder

pytestmark = pytest.mark.interop

NODE_CLIENT = r"""
const tls = require('tls');
const fs = require('fs');
const [port, ca] = process.argv.slice(2);
const s = tls.connect({host: '127.0.0.1', port: +port, servername: 'localhost',
                       ca: fs.readFileSync(ca), requestOCSP: true});
s.on('OCSPResponse', (r) => console.log('OCSP', r ? r.toString('hex') : 'none'));
s.on('secureConnect', () => { console.log('SECURE', s.authorized); s.destroy(); });
s.on('error', (e) => { console.log('ERROR', e.code); process.exit(1); });
"""


@pytest.fixture
def opki(tmp_path):
    return OcspPKI(tmp_path)


async def stapling_server(leaf, stapler):
    server = tls.create_server(leaf.options, lambda s: s.end(b"hi\n"))
    await asyncio.wait_for(server.use_ocsp_stapler(stapler), 15)
    server.listen(0, "127.0.0.1")
    await asyncio.wait_for(server, 10)
    return server, server.address()["port"]


async def s_client_status(port, leaf):
    """What `openssl s_client -status` prints about the connection (stdout and stderr)."""
    _rc, out, err = await run_openssl_client(
        ["-status", "-servername", "localhost", "-CAfile", leaf.ca_path], port=port, stdin=b"")
    return out + err


@pytest.mark.parametrize("revoked", [False, True])
async def test_openssl_s_client_status(opki, revoked):
    leaf = opki.leaf("leaf")
    index = opki.index("i", revoked=[leaf]) if revoked else opki.index("i", good=[leaf])
    st = Stapler()
    try:
        async with openssl_responder(opki, index):
            server, port = await stapling_server(leaf, st)
        try:
            out = await s_client_status(port, leaf)
            assert "OCSP Response Status: successful" in out, out
            assert ("Cert Status: revoked" if revoked else "Cert Status: good") in out
            serial = f"{leaf.x509.serial_number:X}"
            serial = serial if len(serial) % 2 == 0 else "0" + serial  # as openssl prints it
            assert f"Serial Number: {serial}" in out
            assert st.status(leaf.x509)["status"] == ("revoked" if revoked else "good")
        finally:
            server.close()
    finally:
        await st.close()


async def test_openssl_s_client_sees_no_staple_when_the_responder_is_down(opki):
    leaf = opki.leaf("leaf")
    st = Stapler()
    try:
        server, port = await stapling_server(leaf, st)
        try:
            out = await s_client_status(port, leaf)
            assert "OCSP response: no response sent" in out, out
            assert st.status(leaf.x509)["error"].reason == "unreachable"
        finally:
            server.close()
    finally:
        await st.close()


async def test_node_client_request_ocsp(opki, node_bin):
    leaf = opki.leaf("leaf")
    st = Stapler()
    try:
        async with openssl_responder(opki, opki.index("i", good=[leaf])):
            server, port = await stapling_server(leaf, st)
        try:
            rc, out, err = await run_node(NODE_CLIENT, str(port), str(leaf.ca_path))
            assert rc == 0, out + err
            held = st._response_for(leaf.der)
            assert held is not None
            assert f"OCSP {held.hex()}" in out
            assert "SECURE true" in out
        finally:
            server.close()
    finally:
        await st.close()
