"""A server socket's ``disable_renegotiation()`` stops a client's renegotiation even when its
``'error'`` listener only logs: a deliberate difference from Node v20 (docs/tls.md, the
README's "a TLS error after the handshake destroys the socket").

Node's ``onhandshakestart`` only emits ``'error'`` (``ERR_TLS_RENEGOTIATION_DISABLED``) and
leaves the socket as it is, so unless that listener destroys the socket the renegotiation
completes and the connection goes on (with no listener of the user's, the server's own
``onSocketTLSError`` takes the error and nothing at all happens; checked against node v20 in
differential round 11, seed 4536). nodetls destroys the socket with the error, which is what
``disableRenegotiation()`` is for.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tlsutil import connect, event, listen, shut, wait


async def test_disabled_renegotiation_destroys_the_server_socket(certs: Any) -> None:
    errors: list[str] = []
    accepted: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    def on_secure(sock: Any) -> None:
        sock.disable_renegotiation()
        sock.on("error", lambda e: errors.append(e.code))  # logs only, as the harness's
        accepted.set_result(sock)

    server, port = await listen({**certs.server.options, "min_version": "TLSv1.2",
                                 "max_version": "TLSv1.2",
                                 "allow_client_renegotiation": True}, on_secure)
    try:
        client = await connect(port, ca=certs.root.cert_pem, servername="localhost")
        client.on("error", lambda e: errors.append("client " + e.code))
        srv = await wait(accepted)
        srv_closed, cli_closed = event(srv, "close"), event(client, "close")
        renegotiated: list[Any] = []
        assert client.renegotiate({}, lambda err=None: renegotiated.append(err)) is True
        assert await wait(srv_closed) is True  # destroyed with the error
        assert errors == ["ERR_TLS_RENEGOTIATION_DISABLED"]
        assert srv.destroyed and srv.errored.code == "ERR_TLS_RENEGOTIATION_DISABLED"
        # The client sees the connection end (nothing more sent: the FIN), the renegotiation
        # never completes: no callback.
        assert await wait(cli_closed) is False
        assert renegotiated == []
    finally:
        await shut(server)
