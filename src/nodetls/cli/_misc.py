"""``nodetls devcert`` and ``nodetls ticket-keys``."""

from __future__ import annotations

import argparse
import secrets
from pathlib import Path
from typing import Any

from ._output import Output


def add_devcert_parser(sub: Any) -> None:
    p = sub.add_parser(
        "devcert", help="a development CA (kept and reused) and a certificate for some names",
        description="Make (or reuse) a local development CA in DIR (ca-cert.pem, ca-key.pem) and "
                    "a certificate it signs for NAME... (DNS names or IP addresses), like mkcert. "
                    "Trust ca-cert.pem in your clients (nodetls: ca=[...]; curl: --cacert). "
                    "The keys are unencrypted: for development only.")
    p.add_argument("names", nargs="*", metavar="NAME",
                   help="names for the certificate (default: localhost 127.0.0.1 ::1)")
    p.add_argument("--dir", default=".", metavar="DIR",
                   help="where the CA is kept and the files are written (default: .)")
    p.add_argument("--node-examples", action="store_true",
                   help="instead, write the four self-signed files of Node's tls docs examples "
                        "(server-key.pem, server-cert.pem, client-key.pem, client-cert.pem)")
    p.add_argument("--days", type=int, default=30, help="validity of the certificate (default 30)")
    p.set_defaults(run=run_devcert)


def run_devcert(args: argparse.Namespace) -> int:
    from .. import devcert

    out = Output()
    directory = Path(args.dir)
    if args.node_examples:
        if args.names:
            out.fail("devcert: --node-examples takes no NAME")
            return 2
        for path in devcert.write_echo_files(directory).values():
            print(path)
        return 0
    names = args.names or list(devcert.LOCAL_NAMES)
    if args.days < 1:
        out.fail("devcert: --days must be at least 1")
        return 2
    ca, created = devcert.dev_ca(directory)
    try:
        leaf = devcert.issue(ca, names, days=args.days)
    except ValueError as exc:
        out.fail(f"devcert: {exc}")
        return 2
    stem = names[0].replace(":", "_").replace("*", "_wildcard")
    cert_path, key_path = directory / f"{stem}-cert.pem", directory / f"{stem}-key.pem"
    key_path.write_bytes(leaf.key_pem)
    key_path.chmod(0o600)
    cert_path.write_bytes(leaf.cert_pem)
    out.note(f"{'created' if created else 'reused'} the development CA in {directory}; "
             f"certificate for {', '.join(names)}")
    for path in (directory / "ca-cert.pem", cert_path, key_path):
        print(path)
    return 0


def add_ticket_keys_parser(sub: Any) -> None:
    p = sub.add_parser("ticket-keys", help="fresh random 48-byte session-ticket keys, in hex",
                       description="Print N fresh random 48-byte keys (hex), one a line, for "
                                   "the ticket_keys option / server.set_ticket_keys.")
    p.add_argument("--count", type=int, default=1, metavar="N", help="how many (default 1)")
    p.set_defaults(run=run_ticket_keys)


def run_ticket_keys(args: argparse.Namespace) -> int:
    if args.count < 1:
        Output().fail("ticket-keys: --count must be at least 1")
        return 2
    for _ in range(args.count):
        print(secrets.token_hex(48))
    return 0
