"""A/B of the session-ticket key paths on OpenSSL alone: server CPU per TLS 1.3 handshake.

Two ``SSL*`` talk over memory BIOs in this process (no sockets, no event loop, no engine); only
the server side's calls are timed (``time.thread_time``: ``SSL_new``, the binding the engine
would make, ``SSL_do_handshake``, ``SSL_shutdown``, ``SSL_free``).  Server contexts (ECDSA P-256):

* ``own``: no ticket keys, OpenSSL's own keys (what a one-process server uses), its no-renewal
  callback in C (compiled binding) or Python (ABI mode);
* ``own-py``: the same with the Python no-renewal callback (compiled binding only);
* ``c``: ``ticket_keys`` given, the C ticket-key callback (compiled binding only: what a
  ``ticket_keys``/``TicketKeys`` server and every ``workers=N`` worker use);
* ``python``: ``ticket_keys`` given, the Python callback (ABI mode's; the compiled binding's before
  session 8), with the engine's ``bind_ssl``/``unbind_ssl`` per connection.

Full handshakes (two tickets encrypted each) and resumptions (one ticket decrypted; the client
offers a fresh copy of one session each time).  Each round runs every context once, in an order
reversed every other round; medians and the median of per-round ratios to ``own`` are printed.
Pin it to one CPU (``taskset -c 1``).  See benchmarks/README.md, "Session 8: ticket keys in C".

    python benchmarks/ticket_keys_ab.py [--rounds 9] [--handshakes 300]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.engine.rawctx import make_ca_and_leaf  # noqa: E402

from nodetls._context import SecureContext, ticket_keys  # noqa: E402
from nodetls._openssl import BINDING, ffi, lib  # noqa: E402

NATIVE = ticket_keys.NATIVE
_BUF = ffi.new("char[]", 65536)


def _mem_ssl(ctx: Any, server: bool) -> tuple[Any, Any, Any]:
    ssl = lib.SSL_new(ctx)
    rbio, wbio = lib.BIO_new(lib.BIO_s_mem()), lib.BIO_new(lib.BIO_s_mem())
    lib.SSL_set_bio(ssl, rbio, wbio)
    (lib.SSL_set_accept_state if server else lib.SSL_set_connect_state)(ssl)
    return ssl, rbio, wbio


def _move(src: Any, dst: Any) -> None:
    n = lib.BIO_read(src, _BUF, 65536)
    if n > 0:
        lib.BIO_write(dst, _BUF, n)


def _session_der(ssl: Any) -> bytes:
    sess = lib.SSL_get1_session(ssl)
    n = lib.i2d_SSL_SESSION(sess, ffi.NULL)
    out = ffi.new("unsigned char[]", n)
    lib.i2d_SSL_SESSION(sess, ffi.new("unsigned char **", out))
    lib.SSL_SESSION_free(sess)
    return bytes(ffi.buffer(out, n))


def run(srv: SecureContext, cli: SecureContext, n: int, resume: bool) -> float:
    """Server CPU µs per handshake over ``n`` handshakes (the first one full when ``resume``)."""
    tt = time.thread_time
    got = ffi.new("size_t *")
    der = b""
    spent = 0.0
    for _ in range(n):
        c, cr, cw = _mem_ssl(cli.ctx, False)
        if der:
            src = ffi.from_buffer(der)
            pp = ffi.new("const unsigned char **", ffi.cast("const unsigned char *", src))
            fresh = lib.d2i_SSL_SESSION(ffi.NULL, pp, len(der))
            lib.SSL_set_session(c, fresh)
            lib.SSL_SESSION_free(fresh)
        t0 = tt()
        s, sr, sw = _mem_ssl(srv.ctx, True)
        if srv.binds_ssl:
            srv.bind_ssl(s)
        spent += tt() - t0
        for _ in range(6):
            lib.SSL_do_handshake(c)
            _move(cw, sr)
            t0 = tt()
            lib.SSL_do_handshake(s)
            spent += tt() - t0
            _move(sw, cr)
            if lib.SSL_is_init_finished(c) and lib.SSL_is_init_finished(s):
                break
        lib.SSL_read_ex(c, _BUF, 100, got)  # the tickets
        lib.ERR_clear_error()
        if resume and not der:
            der = _session_der(c)
        elif resume and not lib.SSL_session_reused(c):
            raise SystemExit("a handshake was not resumed")
        lib.SSL_shutdown(c)
        t0 = tt()
        lib.SSL_shutdown(s)
        if srv.binds_ssl:
            srv.unbind_ssl(s)
        lib.SSL_free(s)
        spent += tt() - t0
        lib.SSL_free(c)
    return spent / n * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--handshakes", type=int, default=300)
    args = ap.parse_args()
    ca, cert, key = make_ca_and_leaf("localhost")
    cli = SecureContext(ca=ca, max_version="TLSv1.3")
    kinds = ["own", "own-py", "c", "python"] if NATIVE else ["own", "python"]
    servers = {}
    for kind in kinds:
        ticket_keys.NATIVE = NATIVE and kind in ("own", "c")
        keys = {"ticket_keys": os.urandom(48)} if kind in ("c", "python") else {}
        servers[kind] = SecureContext(cert=cert, key=key, **keys)  # type: ignore[arg-type]
    ticket_keys.NATIVE = NATIVE
    res: dict[tuple[str, bool], list[float]] = {(k, r): [] for k in kinds for r in (False, True)}
    for rnd in range(args.rounds):
        for resume in (False, True):
            for kind in kinds if rnd % 2 else kinds[::-1]:
                res[(kind, resume)].append(run(servers[kind], cli, args.handshakes, resume))
    print(f"binding {BINDING}, {args.rounds} rounds of {args.handshakes} handshakes, server CPU")
    for resume in (False, True):
        own = res[("own", resume)]
        for kind in kinds:
            mine = res[(kind, resume)]
            ratio = statistics.median(a / b for a, b in zip(mine, own, strict=True))
            print(f"{'resumed' if resume else 'full':8s} {kind:7s} {statistics.median(mine):7.1f} "
                  f"µs/hs  {ratio:.3f}× own")


if __name__ == "__main__":
    main()
