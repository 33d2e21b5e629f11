"""``run()`` and unreferenced sockets: requests keep Node's loop alive whatever ``unref()`` says.

libuv counts a loop alive while it has a referenced active handle *or an active request*; a
write request (data not yet written), a connect request and a ``getaddrinfo`` request are
requests, which ``socket.unref()`` does not touch. So an unreferenced socket keeps Node running
until its pending writes are written, and until its connection attempt (with its host lookup)
ends; then it stops counting. Each scenario runs under node and under ``nodetls.run`` (both
loops) as real processes, with :mod:`test_run_lifetime_paused`'s harness: the outputs must be
equal (``alive``: still running after its watch time, ``exit``: the program ended by itself).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .test_run_lifetime_paused import _check

pytestmark = pytest.mark.timeout(60)

#: Large enough that the kernel's socket buffers cannot take it all (loopback: a few MB each).
BIG = 64 * 1024 * 1024


def test_an_unreferenced_socket_with_a_pending_write_keeps_the_program(
        certs: Any, node_bin: str, tmp_path: Path) -> None:
    # node v20.20: the peer never reads, so the write request stays pending: 'alive'
    js = f"""
net.createServer({{pauseOnConnect: true}}, (c) => c.unref()).listen(0, '127.0.0.1', function() {{
  const s = net.connect(this.address().port, '127.0.0.1', () => {{
    log('write returned', s.write(Buffer.alloc({BIG}), (e) => log('write cb', e)));
    s.unref();
  }});
}}).unref();
"""
    py = f"""
def main():
    def listening():
        def connected():
            log('write returned', s.write(bytes({BIG}), lambda e=None: log('write cb', e)))
            s.unref()
        s = net.connect(srv.address()['port'], '127.0.0.1', connected)
    srv = net.create_server({{'pause_on_connect': True}}, lambda c: c.unref())
    srv.listen(0, '127.0.0.1', listening).unref()
go(main)
"""
    _check(certs, node_bin, tmp_path, js, py, ["write returned false", "alive"])


def test_an_unreferenced_socket_lets_the_program_end_once_its_writes_are_written(
        certs: Any, node_bin: str, tmp_path: Path) -> None:
    # node v20.20: the peer starts reading later (an unreferenced timer, which runs because
    # the write keeps the loop alive); once the two writes are written the program ends,
    # the socket still open
    js = f"""
net.createServer({{pauseOnConnect: true}}, (c) => {{
  c.unref();
  c.on('data', () => {{}});
  setTimeout(() => c.resume(), 50).unref();
}}).listen(0, '127.0.0.1', function() {{
  const s = net.connect(this.address().port, '127.0.0.1', () => {{
    s.unref();
    s.write(Buffer.alloc({BIG}), (e) => log('write 1 cb', e === null ? 'none' : e));
    s.write(Buffer.alloc(1000), (e) => log('write 2 cb', e === null ? 'none' : e, s.writableLength));
  }});
}}).unref();
"""
    py = f"""
def main():
    def on_conn(c):
        c.unref()
        c.on('data', lambda _d: None)
        later(0.05, c.resume)
    def listening():
        def connected():
            s.unref()
            s.write(bytes({BIG}), lambda e=None: log('write 1 cb', 'none' if e is None else e))
            s.write(bytes(1000),
                    lambda e=None: log('write 2 cb', 'none' if e is None else e, s.writable_length))
        s = net.connect(srv.address()['port'], '127.0.0.1', connected)
    srv = net.create_server({{'pause_on_connect': True}}, on_conn)
    srv.listen(0, '127.0.0.1', listening).unref()
go(main)
"""
    _check(certs, node_bin, tmp_path, js, py, ["write 1 cb none", "write 2 cb none 0", "exit"])


@pytest.mark.parametrize("outcome", ["connect", "refused"])
def test_an_unreferenced_socket_keeps_the_program_while_it_connects(
        certs: Any, node_bin: str, tmp_path: Path, outcome: str) -> None:
    # node v20.20: net.connect(port, 'localhost').unref(): the lookup and the connect requests
    # keep the loop alive, so 'connect' (or the connection's 'error') comes, then the end
    close = "srv.close(go_on)" if outcome == "refused" else "go_on()"
    js = f"""
const srv = net.createServer((c) => c.unref()).listen(0, function() {{
  const port = this.address().port;
  const go_on = () => {{
    const s = net.connect(port, 'localhost', () => log('connect'));
    s.on('error', (e) => log('error', e.code));
    s.unref();
  }};
  {close};
}}).unref();
"""
    py = f"""
def main():
    def listening():
        port = srv.address()['port']
        def go_on(*_):
            s = net.connect(port, 'localhost', lambda: log('connect'))
            s.on('error', lambda e: log('error', e.code))
            s.unref()
        {close}
    srv = net.create_server(lambda c: c.unref())
    srv.listen(0, listening).unref()
go(main)
"""
    expected = ["connect", "exit"] if outcome == "connect" else ["error ECONNREFUSED", "exit"]
    _check(certs, node_bin, tmp_path, js, py, expected)
