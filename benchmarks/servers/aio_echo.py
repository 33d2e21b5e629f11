"""``nodetls.aio.create_server`` serving :class:`EchoProtocol` (the same class asyncio_echo.py serves).

    python servers/aio_echo.py --cert C --key K [--port 0] [--loop asyncio|uvloop]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from _common import EchoProtocol, parser, raise_fd_limit, serve


def main() -> None:
    from nodetls import aio

    args = parser(__doc__.splitlines()[0]).parse_args()
    raise_fd_limit()

    async def start() -> Any:
        return await aio.create_server(EchoProtocol, args.host, args.port,
                                       key=Path(args.key).read_bytes(),
                                       cert=Path(args.cert).read_bytes(),
                                       min_version="TLSv1.3", backlog=511)

    serve(args.loop, start)


if __name__ == "__main__":
    main()
