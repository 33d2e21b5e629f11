"""The ``nodetls`` command line (also ``python -m nodetls``).

* ``nodetls connect HOST[:PORT]`` -- a readable ``openssl s_client``: what was negotiated, the
  peer's chain, the verification result, the stapled OCSP status and whether a second connection
  resumes; then standard input and the connection are joined until EOF. ``--json`` prints the
  report as JSON instead (and does not join).
* ``nodetls serve`` -- a TLS echo server (or ``--http``, a hello-world HTTP/1.1 server), with a
  development certificate made on the fly unless ``--cert``/``--key`` are given.
* ``nodetls devcert NAME... [--dir DIR]`` -- a development CA kept in DIR and a certificate for the
  names, like mkcert.
* ``nodetls ticket-keys [--count N]`` -- fresh random 48-byte session-ticket keys, in hex.
* ``nodetls --version`` -- the version, the OpenSSL in use and how it is bound (cffi API or ABI mode),
  whether the compiled core (mypyc) is in use, and whether net.Socket's data path runs in C.

Human output is coloured when it goes to a terminal (with rich); errors are one line on stderr
with Node's error code, and a non-zero exit status.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand (``nodetls --help``)."""
    from . import _connect, _misc, _serve

    parser = argparse.ArgumentParser(
        prog="nodetls", description="Node.js's tls for Python asyncio, from the command line.")
    parser.add_argument("--version", action=_Version,
                        help="print the version, the OpenSSL in use, how it is bound and "
                             "whether the compiled core is used; exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _connect.add_parser(sub)
    _serve.add_parser(sub)
    _misc.add_devcert_parser(sub)
    _misc.add_ticket_keys_parser(sub)
    return parser


class _Version(argparse.Action):
    """``nodetls --version``: ours, OpenSSL's (``process.versions.openssl`` in Node), and whether
    the compiled binding (cffi API mode) or its fallback (ABI mode) calls it (and which
    library: the shared one's path, or "statically linked"), and whether the
    compiled core (``_compiled.py``) or the pure-Python modules run, and whether net.Socket's two
    per-message methods run in C (``_net/fastpath.py``); one line, unwrapped."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kw: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, **kw)

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        from .. import __version__, _compiled, _openssl
        from .._net import fastpath

        where = "statically linked" if _openssl.STATIC else _openssl.LIBSSL_PATH
        socket_path = "C socket data path" if fastpath.reason is None else \
            f"Python socket data path ({fastpath.reason})"
        print(f"nodetls {__version__} ({_openssl.OPENSSL_VERSION}, {where}, "
              f"cffi {_openssl.BINDING.upper()} mode, {_compiled.describe()}, {socket_path})")
        parser.exit()


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``nodetls`` command; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else list(argv))
    try:
        status: int = args.run(args)
    except KeyboardInterrupt:
        return 130
    return status
