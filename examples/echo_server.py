"""The echo server of Node's ``tls.createServer`` docs, ported to nodetls.

Node's original::

    const options = {
      key: fs.readFileSync('server-key.pem'),
      cert: fs.readFileSync('server-cert.pem'),
      requestCert: true,                       // only if using client certificate authentication
      ca: [ fs.readFileSync('client-cert.pem') ],  // only if the client's cert is self-signed
    };
    const server = tls.createServer(options, (socket) => {
      console.log('server connected', socket.authorized ? 'authorized' : 'unauthorized');
      socket.write('welcome!\\n');
      socket.setEncoding('utf8');
      socket.pipe(socket);
    });
    server.listen(8000, () => { console.log('server bound'); });

Usage::

    nodetls devcert --node-examples --dir certs   # server-key.pem, server-cert.pem, client-*.pem
    python examples/echo_server.py --dir certs [--request-cert] [--port 8000] [--host 127.0.0.1]

``--request-cert`` asks for a client certificate and trusts ``client-cert.pem`` (Node's
``requestCert`` and ``ca`` lines). The server listens on 127.0.0.1 unless ``--host`` says otherwise
(Node's example listens on every interface); ``--port 0`` picks a free port. It prints
``server bound <host>:<port>`` once listening and runs until interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nodetls as tls


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line (see the module docstring)."""
    p = argparse.ArgumentParser(description="Node's tls.createServer docs example, in nodetls.")
    p.add_argument("--dir", type=Path, default=Path("."),
                   help="directory holding the PEM files (default: the current directory)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0: a free one)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--request-cert", action="store_true",
                   help="request a client certificate, trusting client-cert.pem")
    return p.parse_args(argv)


def main(args: argparse.Namespace) -> None:
    """Start the server (run by :func:`nodetls.run`, which keeps running while it listens)."""
    options: dict[str, Any] = {
        "key": (args.dir / "server-key.pem").read_bytes(),
        "cert": (args.dir / "server-cert.pem").read_bytes(),
    }
    if args.request_cert:
        options["requestCert"] = True  # only if using client certificate authentication
        options["ca"] = [(args.dir / "client-cert.pem").read_bytes()]  # client cert self-signed

    def on_secure_connection(socket: tls.TLSSocket) -> None:
        print("server connected", "authorized" if socket.authorized else "unauthorized")
        socket.write("welcome!\n")
        socket.set_encoding("utf8")
        socket.pipe(socket)

    server = tls.create_server(options, on_secure_connection)

    def on_listening() -> None:
        address = server.address()
        assert isinstance(address, dict)  # a TCP server: {'address', 'family', 'port'}
        print(f"server bound {address['address']}:{address['port']}")

    server.listen(args.port, args.host, callback=on_listening)


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # one line at a time
    arguments = parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        tls.run(lambda: main(arguments))
