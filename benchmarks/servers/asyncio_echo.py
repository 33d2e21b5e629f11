"""asyncio's own TLS (``ssl`` module) serving :class:`EchoProtocol`, on asyncio's loop or uvloop.

    python servers/asyncio_echo.py --cert C --key K [--port 0] [--loop asyncio|uvloop]
"""

from __future__ import annotations

import asyncio
import ssl

from _common import EchoProtocol, loop_factory, parser, raise_fd_limit, ready, serve_until_signalled


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    raise_fd_limit()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(args.cert, args.key)

    async def start() -> asyncio.Server:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(EchoProtocol, args.host, args.port, ssl=ctx,
                                          backlog=511)
        ready(server.sockets[0].getsockname()[1])
        return server

    with asyncio.Runner(loop_factory=loop_factory(args.loop)) as runner:
        runner.run(serve_until_signalled(start))


if __name__ == "__main__":
    main()
