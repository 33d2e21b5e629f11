"""asyncio's own TLS (``ssl`` module) serving :class:`EchoProtocol`, on asyncio's loop or uvloop.

    python servers/asyncio_echo.py --cert C --key K [--port 0] [--loop asyncio|uvloop]
"""

from __future__ import annotations

import asyncio
import ssl

from _common import EchoProtocol, parser, raise_fd_limit, serve


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    raise_fd_limit()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(args.cert, args.key)

    async def start() -> asyncio.Server:
        return await asyncio.get_running_loop().create_server(EchoProtocol, args.host, args.port,
                                                              ssl=ctx, backlog=511)

    serve(args.loop, start)


if __name__ == "__main__":
    main()
