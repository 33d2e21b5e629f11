"""aiohttp's HTTP client with nodetls doing the TLS (``nodetls.aio.create_connection``).

aiohttp's ``TCPConnector`` opens the TCP connection itself (happy eyeballs) and then calls
``loop.create_connection(protocol_factory, sock=sock, ssl=ctx, server_hostname=...)`` from its
``_wrap_create_connection`` method. :class:`NodeTLSConnector` overrides that one method and hands
the connected socket to ``aio.create_connection(protocol_factory, sock=sock, **tls_options)``
instead, so every request runs over a Node-style ``TLSSocket`` (client certificates, sessions,
``ocsp``, PSK, keylog... from ``tls_options``). The override uses an aiohttp method that is not
part of its public API: pin aiohttp's version when you use it.

Usage::

    python examples/aio_aiohttp_client.py https://localhost:8443/ --ca certs/ca-cert.pem
"""

from __future__ import annotations

import argparse
import asyncio
import socket
from typing import Any

import aiohttp
from aiohttp.client_exceptions import ClientConnectorCertificateError, ClientConnectorError

from nodetls import aio, errors


class NodeTLSConnector(aiohttp.TCPConnector):
    """A ``TCPConnector`` whose https connections are nodetls connections."""

    def __init__(self, *, tls_options: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._tls_options = dict(tls_options or {})

    async def _wrap_create_connection(self, *args: Any, addr_infos: Any, req: Any, timeout: Any,
                                      client_error: type[Exception] = ClientConnectorError,
                                      **kwargs: Any) -> Any:
        if not kwargs.get("ssl"):  # plain http: aiohttp's own path
            return await super()._wrap_create_connection(
                *args, addr_infos=addr_infos, req=req, timeout=timeout,
                client_error=client_error, **kwargs)
        family, type_, proto, _, address = addr_infos[0]
        sock = socket.socket(family, type_, proto)
        try:
            sock.setblocking(False)
            await asyncio.wait_for(asyncio.get_running_loop().sock_connect(sock, address),
                                   timeout.sock_connect)
        except OSError as exc:
            sock.close()
            raise client_error(req.connection_key, exc) from exc
        options = {"servername": kwargs.get("server_hostname") or req.host}
        options.update(self._tls_options)
        try:
            return await aio.create_connection(args[0], sock=sock, **options)
        except errors.CertificateError as exc:  # what aiohttp raises for ssl's verify errors
            raise ClientConnectorCertificateError(req.connection_key, exc) from exc
        except (errors.NodeError, OSError) as exc:
            raise client_error(req.connection_key, OSError(str(exc))) from exc


async def fetch(url: str, ca: bytes | None) -> tuple[int, str]:
    connector = NodeTLSConnector(tls_options={"ca": ca} if ca else {})
    async with aiohttp.ClientSession(connector=connector) as session:
        async with session.get(url) as response:
            return response.status, await response.text()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="aiohttp client over nodetls.aio")
    p.add_argument("url")
    p.add_argument("--ca", help="PEM file of the CA to trust (default: the system roots)")
    args = p.parse_args(argv)
    ca = open(args.ca, "rb").read() if args.ca else None
    status, text = asyncio.run(fetch(args.url, ca))
    print(status)
    print(text)


if __name__ == "__main__":
    main()
