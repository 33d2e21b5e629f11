"""``run()`` and a socket whose peer has ended: libuv stops reading at EOF (``uv__stream_eof``),
so from then on the handle keeps Node's loop alive only while it writes or shuts down.

A half-open socket (``allowHalfOpen``) that the program never ends, or a TLS socket whose own
``end()`` waits behind a handshake that can no longer finish, lets a Node process exit; under
``nodetls.run`` both kept the program running for ever. Each scenario runs as a real process
under ``node`` and under ``nodetls.run`` on both loops (the harness of
``test_run_lifetime_paused.py``), except the renegotiation one, whose Node side needs a server
that allows client renegotiation (Node's OpenSSL 3 refuses it): it runs in this process, with
what a Node client does written out (checked with node v20 against a nodetls server: ``'end'``
at once, no ``'close'``, no ``'finish'``, and the process exits).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

import nodetls as tls

from .test_run_lifetime_paused import _check

pytestmark = pytest.mark.timeout(60)


#: (module, server options, client options) for the half-open scenario, in JavaScript and Python
_HALF_OPEN = {
    "net": ("net", "{allowHalfOpen: true}", "srv.address().port, '127.0.0.1', ",
            "{'allow_half_open': True}", "srv.address()['port'], '127.0.0.1', "),
    "tls": ("tls", "{key, cert, allowHalfOpen: true}",
            "{port: srv.address().port, host: '127.0.0.1', rejectUnauthorized: false}, ",
            "{'key': key, 'cert': cert, 'allow_half_open': True}",
            "{'port': srv.address()['port'], 'host': '127.0.0.1', 'reject_unauthorized': False}, "),
}


@pytest.mark.parametrize("kind", sorted(_HALF_OPEN))
def test_a_half_open_socket_never_ended_does_not_keep_the_program(
        certs: Any, node_bin: str, tmp_path: Path, kind: str) -> None:
    mod, js_server, js_client, py_server, py_client = _HALF_OPEN[kind]
    js = f"""
const srv = {mod}.createServer({js_server}, (s) => {{
  s.on('end', () => log('server end', s.readyState));
}});
srv.listen(0, '127.0.0.1', () => {{
  const c = {mod}.connect({js_client}() => c.end());
  c.on('finish', () => c.destroy());
}}).unref();
"""
    py = f"""
def main():
    def on_connection(s):
        s.on('end', lambda: log('server end', s.ready_state))
    srv = {mod}.create_server({py_server}, on_connection)
    def listening():
        c = {mod}.connect({py_client}lambda: c.end())
        c.on('finish', lambda: c.destroy())
    srv.listen(0, '127.0.0.1', listening).unref()
go(main)
"""
    _check(certs, node_bin, tmp_path, js, py, ["server end writeOnly", "exit"])


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_a_client_whose_renegotiation_the_server_cut_does_not_keep_the_program(
        certs: Any, loop: str) -> None:
    """The server destroys the connection at its renegotiation limit; the client's write made
    behind the renegotiation can never go, so its ``end()`` (after ``'end'``) never shuts the
    connection down: ``'end'``, no ``'close'``, and ``run()`` returns (as Node's process exits)."""
    if loop == "uvloop":
        pytest.importorskip("uvloop")
    events: list[str] = []
    fired: list[str] = []

    async def main() -> None:
        running = asyncio.get_running_loop()

        def watchdog() -> None:  # a regression fails, not hangs
            fired.append("watchdog")
            for s in list(socks):
                s.destroy()

        running.call_later(10, watchdog)
        server = tls.create_server({"key": certs.server.key_pem, "cert": certs.server.chain_pem,
                                    "min_version": "TLSv1.2", "max_version": "TLSv1.2",
                                    "allow_client_renegotiation": True},
                                   lambda s: (s.on("error", lambda e: None),
                                              s.on("data", s.write)))
        await server.listen(0, "127.0.0.1")
        server.unref()
        sock = await tls.connect(server.address()["port"], "127.0.0.1", ca=certs.root.cert_pem,
                                 servername="localhost")
        socks = [sock]
        for name in ("end", "finish", "close"):
            sock.on(name, lambda *a, name=name: events.append(name))
        sock.on("data", lambda d: None)
        sock.on("error", lambda e: events.append(f"error {e.code}"))

        def again(err: BaseException | None = None) -> None:
            if err is None and not sock.destroyed and sock.renegotiate({}, again):
                sock.write(b"ping")

        again()

    tls.run(main, loop=loop)
    assert fired == []
    assert events == ["end"]
