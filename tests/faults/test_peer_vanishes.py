"""The peer vanishes (FIN or RST) before, inside and after each handshake message: the error
reaches the right object with Node's code, the server keeps serving, nothing leaks."""

from __future__ import annotations

import gc

import pytest

from nodetls._engine import live_engines

from ..tls.tlsutil import close_server, echo_server, event, wait
from .faultutil import (
    BEFORE_SECURE,
    STEPS,
    ScriptedClient,
    ServerLog,
    drive_to,
    engines_settle,
    still_serves,
)


@pytest.mark.parametrize("version", ["TLSv1.3", "TLSv1.2"])
@pytest.mark.parametrize("how", ["fin", "rst"])
@pytest.mark.parametrize("step", STEPS)
async def test_peer_vanishes_at_each_step(certs, step, how, version):
    gc.collect()
    before = live_engines()
    server, port = await echo_server({**certs.server.options, "max_version": version})
    log = ServerLog(server)
    try:
        client = ScriptedClient(port, certs.root.cert_pem, version)
        await drive_to(client, step)
        if step in ("after_finished", "after_data"):
            await wait(log.got_secure)  # the server completed its side before the peer goes
        client.vanish(how)
        sock = await wait(log.closed)
        client.close()
        if step in BEFORE_SECURE:
            # Node's onSocketClose before the handshake finished: 'tlsClientError' ECONNRESET on
            # the server, with the half-made socket; never 'secureConnection'.
            assert log.secure == []
            [(err, errsock)] = log.client_errors
            assert errsock is sock
            assert err.code == "ECONNRESET"
            if how == "fin":
                assert str(err) == "socket hang up" or "disconnected" in str(err)
        else:
            # Secure first: a FIN is a plain end; an RST is an 'error' ECONNRESET on that socket
            # (never a 'tlsClientError' once 'secureConnection' was emitted).
            assert log.client_errors == []
            assert log.secure == [sock]
            codes = [getattr(e, "code", None) for e in log.socket_errors]
            assert set(codes) <= {"ECONNRESET", "EPIPE"} and len(codes) <= 1, codes
            if how == "fin":
                assert codes == []
        await still_serves(port, certs.root.cert_pem)
    finally:
        closed = event(server, "close")
        close_server(server)
    await wait(closed)  # every connection is gone
    engines_settle(before)
