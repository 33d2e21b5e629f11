"""The echo client of Node's ``tls.connect`` docs, ported to nodetls.

Node's original::

    const options = {
      key: fs.readFileSync('client-key.pem'),      // only if the server wants a client cert
      cert: fs.readFileSync('client-cert.pem'),
      ca: [ fs.readFileSync('server-cert.pem') ],  // only if the server's cert is self-signed
      checkServerIdentity: () => { return null; }, // only if the server's cert isn't for "localhost"
    };
    const socket = tls.connect(8000, options, () => {
      console.log('client connected', socket.authorized ? 'authorized' : 'unauthorized');
      process.stdin.pipe(socket);
      process.stdin.resume();
    });
    socket.setEncoding('utf8');
    socket.on('data', (data) => { console.log(data); });
    socket.on('end', () => { console.log('server ends connection'); });

Usage (against ``echo_server.py`` or Node's server, files from ``nodetls devcert --node-examples``)::

    python examples/echo_client.py --dir certs [--port 8000] [--host localhost]

What you type (or pipe in) is sent line by line; at the end of input the client ends its side,
the echo server ends its side in turn, and the client prints ``server ends connection`` and exits.
Exit status 1 if the connection failed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nodetls as tls


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line (see the module docstring)."""
    p = argparse.ArgumentParser(description="Node's tls.connect docs example, in nodetls.")
    p.add_argument("--dir", type=Path, default=Path("."),
                   help="directory holding the PEM files (default: the current directory)")
    p.add_argument("--port", type=int, default=8000, help="server port (default 8000)")
    p.add_argument("--host", default="localhost", help="server host (default localhost)")
    return p.parse_args(argv)


def pipe_stdin(sock: tls.TLSSocket) -> None:
    """Node's ``process.stdin.pipe(socket)``: a daemon thread reads stdin (a tty, a pipe or a
    file alike) and hands each line to the loop, then ends the socket at end of input."""
    loop = asyncio.get_running_loop()

    def call(fn: Any, *args: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is gone: nothing left to write to
            loop.call_soon_threadsafe(fn, *args)

    def reader() -> None:
        for line in iter(sys.stdin.buffer.readline, b""):
            call(sock.write, line)
        call(sock.end)

    threading.Thread(target=reader, name="stdin", daemon=True).start()


def main(args: argparse.Namespace, errors: list[BaseException]) -> None:
    """Connect (run by :func:`nodetls.run`, which returns once the socket has closed)."""
    options = {
        "key": (args.dir / "client-key.pem").read_bytes(),  # only if the server wants a client cert
        "cert": (args.dir / "client-cert.pem").read_bytes(),
        "ca": [(args.dir / "server-cert.pem").read_bytes()],  # only for a self-signed server cert
        "checkServerIdentity": lambda servername, cert: None,
    }

    def on_secure() -> None:
        print("client connected", "authorized" if sock.authorized else "unauthorized")
        pipe_stdin(sock)

    def on_error(err: BaseException) -> None:
        errors.append(err)
        print(f"error: {err}", file=sys.stderr)

    sock = tls.connect(args.port, args.host, options, on_secure)
    sock.set_encoding("utf8")
    sock.on("data", print)
    sock.on("end", lambda: print("server ends connection"))
    sock.on("error", on_error)  # beyond Node's example: a clean message and exit status 1


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # one line at a time
    arguments = parse_args()
    failures: list[BaseException] = []
    with contextlib.suppress(KeyboardInterrupt):
        tls.run(lambda: main(arguments, failures))
    sys.exit(1 if failures else 0)
