"""``ssl_object.getpeercert()`` of a connection that does not verify the peer is ``{}``, as
CPython's (``_ssl__SSLSocket_getpeercert_impl``: the dict only when the context's verify mode
has ``SSL_VERIFY_PEER``; the DER always). Seen with CPython 3.11's ``ssl`` on both ends:
asyncio connections (``CERT_NONE``: ``{}``, and the DER)."""

from __future__ import annotations

import asyncio

from nodetls import aio

T = 10.0


async def _peer_views(certs, server: dict, client: dict):
    seen: asyncio.Future = asyncio.get_running_loop().create_future()

    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        so = writer.get_extra_info("ssl_object")
        if not seen.done():
            seen.set_result((so.getpeercert(), so.getpeercert(binary_form=True)))
        writer.close()

    opts = {**certs.server.options, **server}
    async with await aio.start_server(on_client, "127.0.0.1", 0, **opts) as srv:
        port = srv.sockets[0].getsockname()[1]
        reader, writer = await asyncio.wait_for(aio.open_connection(
            "127.0.0.1", port, servername="localhost", **client), T)
        so = writer.get_extra_info("ssl_object")
        mine = (so.getpeercert(), so.getpeercert(binary_form=True))
        theirs = await asyncio.wait_for(seen, T)
        writer.close()
    return mine, theirs


async def test_a_client_that_does_not_verify_gets_an_empty_dict(certs):
    # ssl: CERT_NONE -> getpeercert() == {}, getpeercert(True) the DER. nodetls: a client with
    # reject_unauthorized=False (was: the full dict).
    (d, der), _ = await _peer_views(certs, {}, {"reject_unauthorized": False})
    assert d == {}
    assert der == certs.server.der


async def test_a_verifying_client_and_a_requesting_server_get_the_dict(certs):
    # ssl: CERT_REQUIRED / CERT_OPTIONAL -> the decoded dict.
    client = {"ca": certs.server.ca_pem, "cert": certs.client.cert_pem,
              "key": certs.client.key_pem}
    (d, der), (sd, sder) = await _peer_views(
        certs, {"request_cert": True, "reject_unauthorized": False, "ca": certs.client.ca_pem},
        client)
    assert (("commonName", "localhost"),) in d["subject"] and der == certs.server.der
    assert sd and sd["subject"] and sder == certs.client.der
