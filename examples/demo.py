"""nodetls in one minute, through its command line: a server, a client, and what they negotiated.

Run it with ``make demo`` (or ``python examples/demo.py``). It

1. starts ``nodetls serve --port 0 --dev-dir TMP --alpn http/1.1`` (a TLS echo server on
   127.0.0.1 with a development certificate for ``localhost``, signed by a development CA that it
   makes in TMP),
2. runs ``nodetls connect localhost:PORT --ca TMP/ca-cert.pem --alpn h2,http/1.1`` with a line on
   its standard input: the client prints what was negotiated (protocol, cipher, key exchange,
   ALPN, SNI), the server's chain, the verification result, the OCSP staple and whether a second
   connection resumes, then sends the line and prints the echo,
3. stops the server with Ctrl-C (SIGINT: it closes gracefully) and exits 0 -- non-zero, with
   the reason, if anything fails. Every wait is bounded.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import threading

MESSAGE = b"hello over TLS\n"
TIMEOUT = 30.0  # seconds


def _nodetls(*args: str) -> list[str]:
    return [sys.executable, "-m", "nodetls", *args]


def _listening_port(server: subprocess.Popen[bytes], seen: list[str]) -> int:
    """Read the server's standard error until its 'listening on' line; returns the port."""
    assert server.stderr is not None
    for raw in server.stderr:
        line = raw.decode(errors="replace").rstrip()
        seen.append(line)
        print(f"  [server] {line}")
        if m := re.search(r"listening on https://127\.0\.0\.1:(\d+)", line):
            return int(m.group(1))
    raise RuntimeError("nodetls serve exited before listening:\n" + "\n".join(seen))


def _relay(server: subprocess.Popen[bytes]) -> None:
    assert server.stderr is not None
    for raw in server.stderr:
        print(f"  [server] {raw.decode(errors='replace').rstrip()}")


def main() -> int:
    env = {**os.environ, "COLUMNS": "120"}
    with tempfile.TemporaryDirectory(prefix="nodetls-demo-") as tmp:
        print("$ nodetls serve --port 0 --dev-dir TMP --alpn http/1.1")
        server = subprocess.Popen(_nodetls("serve", "--port", "0", "--dev-dir", tmp,
                                           "--alpn", "http/1.1"),
                                  stderr=subprocess.PIPE, env=env)
        seen: list[str] = []
        timer = threading.Timer(TIMEOUT, server.kill)
        timer.start()
        try:
            port = _listening_port(server, seen)
            # The server's later lines (one per connection) are shown as they come.
            threading.Thread(target=_relay, args=(server,), daemon=True).start()
            print(f"$ echo 'hello over TLS' | nodetls connect localhost:{port} "
                  "--ca TMP/ca-cert.pem --alpn h2,http/1.1")
            client = subprocess.run(_nodetls("connect", f"localhost:{port}", "--ca",
                                             os.path.join(tmp, "ca-cert.pem"),
                                             "--alpn", "h2,http/1.1"),
                                    input=MESSAGE, capture_output=True, timeout=TIMEOUT, env=env)
            sys.stdout.write(client.stderr.decode(errors="replace"))
            print(f"client sent {MESSAGE!r}, got back {client.stdout!r}")
            if client.returncode != 0 or client.stdout != MESSAGE:
                print(f"demo failed: nodetls connect exited {client.returncode}", file=sys.stderr)
                return 1
        finally:
            server.send_signal(signal.SIGINT)  # Ctrl-C: close gracefully
            try:
                server.wait(TIMEOUT)
            finally:
                timer.cancel()
        print(f"server stopped by Ctrl-C (exit status {server.returncode})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
