"""nodetls's Node-style TLS echo server (Node's ``tls.createServer`` docs server: ``pipe(socket)``).

    python servers/nodetls_echo.py --cert C --key K [--port 0] [--loop asyncio|uvloop]
        [--store memory|redis|redis-py --redis URL] [--ticket-keys] [--workers N]
        [--ecdh-curve GROUPS]

``--store`` serves resumption from a ``nodetls.sessions`` session store (TLS 1.3 stateful
tickets: ``SSL_OP_NO_TICKET``), ``--ticket-keys`` from rotating ``nodetls.sessions.TicketKeys``, ``--workers N`` runs N worker processes sharing the port
(``nodetls.run(main, workers=N)``; give a fixed ``--port``).  ``--ecdh-curve`` is the server's
``ecdh_curve`` (e.g. ``X25519MLKEM768:X25519`` for a post-quantum hybrid client; default
``nodetls.DEFAULT_ECDH_CURVE``).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from _common import parser, quiet_loop, raise_fd_limit, ready


def attach_resumption(server: Any, store: str | None, redis_url: str | None,
                      ticket_keys: bool) -> None:
    """Wire the ``nodetls.sessions`` variant asked for on the command line to ``server``."""
    if store is None and not ticket_keys:
        return
    from nodetls import sessions

    if store == "memory":
        server.use_session_store(sessions.MemorySessionStore())
    elif store == "redis":
        server.use_session_store(sessions.RedisSessionStore(redis_url))
    elif store == "redis-py":  # the same store through a redis.asyncio.Redis client
        import redis.asyncio as aioredis

        server.use_session_store(sessions.RedisSessionStore(aioredis.from_url(redis_url)))
    if ticket_keys:
        server.use_ticket_keys(sessions.TicketKeys())


def _port(server: Any) -> int:
    return int(server.address()["port"])


def make_server(args: Any, on_listening: Any = None) -> Any:
    """The echo server for ``args`` (see :func:`_common.parser`), listening; Node's docs server."""
    import asyncio

    import nodetls as tls

    quiet_loop(asyncio.get_running_loop())

    def on_secure_connection(socket: Any) -> None:
        socket.on("error", lambda err: None)  # a load client going away is not our problem
        socket.pipe(socket)

    options: dict[str, Any] = {"key": Path(args.key).read_bytes(),
                               "cert": Path(args.cert).read_bytes(), "min_version": "TLSv1.3"}
    if getattr(args, "ecdh_curve", None):
        options["ecdh_curve"] = args.ecdh_curve
    if getattr(args, "store", None):
        from nodetls import constants

        options["secure_options"] = constants.SSL_OP_NO_TICKET  # TLS 1.3 stateful tickets
    server = tls.create_server(options, on_secure_connection)
    server.on("tlsClientError", lambda err, socket: None)
    attach_resumption(server, getattr(args, "store", None), getattr(args, "redis", None),
                      getattr(args, "ticket_keys", False))
    server.listen(args.port, args.host, backlog=511, reuse_port=bool(getattr(args, "workers", 0)),
                  callback=on_listening or (lambda: ready(_port(server))))
    return server


def main() -> None:
    import nodetls as tls

    ap = parser(__doc__.splitlines()[0])
    ap.add_argument("--store", choices=("memory", "redis", "redis-py"))
    ap.add_argument("--redis", help="redis://host:port URL for --store redis")
    ap.add_argument("--ticket-keys", action="store_true")
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--ecdh-curve", help="the server's ecdh_curve (default: nodetls's)")
    args = ap.parse_args()
    raise_fd_limit()
    kwargs: dict[str, Any] = {"loop": args.loop}
    if args.workers:
        kwargs["workers"] = args.workers
    with contextlib.suppress(KeyboardInterrupt):
        tls.run(lambda: make_server(args), **kwargs)


if __name__ == "__main__":
    main()
