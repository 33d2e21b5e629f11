"""A half-open TLS server's connection whose client ended during the handshake closes when the
test destroys the raw socket of its ``'connection'`` event.

Node v20 (``allowHalfOpen: true``; the client ``end()``\\ s right after ``tls.connect()``, so
its ClientHello and its FIN come together; once the client is secure, the client is destroyed
and so is the raw socket the server's ``'connection'`` gave): the raw socket's TCP handle
closes, the server emits ``'tlsClientError'`` ECONNRESET and its ``'close'`` comes at once
(checked with node v20.20: ``'close'`` within a few ms of the destroy).

nodetls kept that connection open (the server's socket, still in its handshake, took the
raw socket's close for the peer's end, which ``allow_half_open`` keeps open): the server's
connection count stayed 1, its ``'close'`` never came, and the accepted socket's descriptor
stayed open until the garbage collector closed it, with a ResourceWarning (the differential
case ``server_half_open_eof_during_handshake`` met it: its harness's bounded wait for the
server's ``'close'`` ran out).
"""

from __future__ import annotations

import asyncio

from tlsutil import listen, wait

import nodetls as tls
from nodetls import net

#: The bound on the wait for the server's ``'close'`` (Node's comes within milliseconds).
CLOSE_BOUND = 2.0


async def test_destroying_the_raw_socket_closes_a_half_open_connection_ended_in_handshake(certs):
    # (up to five connections: the leak needs the server to read the client's FIN with its
    # ClientHello, which loopback nearly always gives; a leaked one fails the test)
    for _ in range(5):
        raws: list[net.Socket] = []
        server, port = await listen({**certs.server.options, "allow_half_open": True})
        server.on("connection", raws.append)
        client_errors: list[str] = []
        server.on("tlsClientError", lambda err, _sock, seen=client_errors: seen.append(err.code))
        client = tls.connect(port, {"host": "127.0.0.1", "ca": certs.root.cert_pem,
                                    "servername": "localhost"})
        client.end()
        await wait(client)  # (secure: the server has read the ClientHello and the FIN after it)
        client.destroy()
        (raw,) = raws
        raw.destroy()
        await wait(raw.wait_closed())
        await asyncio.wait_for(server.close(), CLOSE_BOUND)  # (Node: at once)
        assert client_errors == ["ECONNRESET"]  # (Node's onSocketClose)
