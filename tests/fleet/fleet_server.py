"""A nodetls server process for the fleet tests: ``python fleet_server.py CONFIG_JSON``.

CONFIG: ``port``, ``cert``, ``key`` (paths), ``version`` (optional), ``store`` (``memory``/``redis``),
``keys`` (``redis``), ``redis`` (URL), ``interval``/``keep`` (ticket keys), ``stateful`` (SSL_OP_NO_TICKET),
``store_timeout``, ``workers`` (N: run(main, workers=N)), ``grace``, ``echo`` (stay connected and echo).  Every connection gets one line,
``<worker index> <pid> <resumed>``, then the end.  Ready line: ``LISTENING <port> <index> <pid>``.
"""

from __future__ import annotations

import json
import os
import sys

import nodetls as tls
from nodetls._openssl import constants as C
from nodetls.sessions import MemorySessionStore, RedisSessionStore, RedisTicketKeys, TicketKeys

cfg = json.loads(sys.argv[1])


async def main() -> None:
    options = {"cert": open(cfg["cert"], "rb").read(), "key": open(cfg["key"], "rb").read(),
               "session_id_context": "fleet-tests", "session_timeout": 60}
    if cfg.get("version"):
        options.update(min_version=cfg["version"], max_version=cfg["version"])
    if cfg.get("stateful"):
        options["secure_options"] = C.SSL_OP_NO_TICKET

    def on_secure(sock: tls.TLSSocket) -> None:
        line = f"{tls.worker_index()} {os.getpid()} {sock.is_session_reused()}\n".encode()
        if cfg.get("echo"):  # stay connected: echo until the client ends
            sock.write(line)
            sock.on("data", sock.write)
            sock.on("end", sock.end)
        else:
            sock.end(line)

    server = tls.create_server(options, on_secure)
    server.on("tlsClientError", lambda err, _s: print("TLSCLIENTERROR", err, flush=True))
    # A generous store_timeout: these servers share a loaded 2-core machine with other suites.
    timeout = cfg.get("store_timeout", 2.0)
    if cfg.get("store") == "memory":
        server.use_session_store(MemorySessionStore(), store_timeout=timeout)
    elif cfg.get("store") == "redis":
        server.use_session_store(RedisSessionStore(cfg["redis"]), store_timeout=timeout)
    if cfg.get("keys") == "redis":
        keys = RedisTicketKeys(cfg["redis"], interval=cfg.get("interval", 3600),
                               keep=cfg.get("keep", 2))
        await keys.refresh()
        server.use_ticket_keys(keys)
    def ready() -> None:  # the bound port (port 0: the kernel's choice), one write per line
        port = server.address()["port"]
        os.write(1, f"LISTENING {port} {tls.worker_index()} {os.getpid()}\n".encode())

    server.listen(cfg["port"], "127.0.0.1", ready)


if cfg.get("workers"):
    shared = TicketKeys(interval=cfg.get("interval", 3600), keep=cfg.get("keep", 2))
    tls.run(main, workers=cfg["workers"], ticket_keys=shared, grace=cfg.get("grace", 5))
else:
    tls.run(main)
