"""``nodetls serve``: a TLS echo (or hello-world HTTP/1.1) server for trying clients against."""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from pathlib import Path
from typing import Any

from ._output import Output, _escape

HELLO = b"hello from nodetls\n"


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "serve", help="a TLS echo server (or --http: a hello-world HTTPS server)",
        description="Serve TLS on HOST:PORT: echo what each client sends, or with --http answer "
                    "every HTTP/1.1 request with a short text. Without --cert/--key a development "
                    "certificate for localhost is made on the fly, signed by the development CA "
                    "in --dev-dir (made there once, then reused: trust its ca-cert.pem). Ctrl-C "
                    "stops it gracefully.")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8443, help="port (default 8443; 0: any free port)")
    p.add_argument("--cert", metavar="FILE", help="certificate chain (PEM)")
    p.add_argument("--key", metavar="FILE", help="private key (PEM)")
    p.add_argument("--dev-dir", metavar="DIR",
                   default=os.environ.get("NODETLS_DEV_DIR", str(Path.home() / ".local/share/nodetls")),
                   help="where the development CA is kept (default ~/.local/share/nodetls, "
                        "or $NODETLS_DEV_DIR)")
    p.add_argument("--http", action="store_true", help="answer HTTP/1.1 requests instead of echoing")
    p.add_argument("--alpn", help="ALPN protocols, comma-separated (default with --http: http/1.1)")
    p.add_argument("--keylog", metavar="FILE",
                   help="append the TLS secrets (NSS key log format) to FILE, for Wireshark")
    p.add_argument("--workers", type=int, metavar="N",
                   help="N worker processes sharing the port and the ticket keys")
    p.add_argument("--redis", metavar="URL",
                   help="share sessions and rotating ticket keys through Redis (a fleet)")
    p.add_argument("--quiet", "-q", action="store_true", help="no line per connection")
    p.set_defaults(run=run)


def _credentials(args: argparse.Namespace, out: Output) -> tuple[bytes, bytes]:
    if args.cert or args.key:
        if not (args.cert and args.key):
            raise ValueError("--cert and --key go together")
        return Path(args.key).read_bytes(), Path(args.cert).read_bytes()
    from .. import devcert

    ca, created = devcert.dev_ca(args.dev_dir)
    leaf = devcert.issue(ca, list(devcert.LOCAL_NAMES))
    out.note(f"development certificate for localhost; {'made' if created else 'using'} the "
             f"development CA {Path(args.dev_dir) / 'ca-cert.pem'} (trust it with --ca / --cacert)")
    return leaf.key_pem, leaf.cert_pem + ca.cert_pem


def _http(sock: Any) -> None:
    """Answer each request (headers up to a blank line; bodies are not supported) with HELLO."""
    buf = bytearray()

    def on_data(chunk: bytes) -> None:
        buf.extend(chunk)
        while (end := buf.find(b"\r\n\r\n")) >= 0:
            head = bytes(buf[:end]).lower()
            del buf[:end + 4]
            close = b"connection: close" in head
            sock.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: "
                       + str(len(HELLO)).encode() + b"\r\nconnection: "
                       + (b"close" if close else b"keep-alive") + b"\r\n\r\n" + HELLO)
            if close:
                sock.end()
                return
        if len(buf) > 65536:
            sock.destroy()

    sock.on("data", on_data)


def _describe(sock: Any) -> str:
    reused = " resumed" if sock.is_session_reused() else ""
    alpn = f" alpn={sock.alpn_protocol}" if sock.alpn_protocol else ""
    sni = f" sni={sock.servername}" if sock.servername else ""
    cipher = (sock.get_cipher() or {}).get("standardName", "?")
    return (f"{sock.remote_address}:{sock.remote_port} {sock.get_protocol()} {cipher}"
            f"{alpn}{sni}{reused}")


async def serve_main(args: argparse.Namespace, out: Output, key: bytes, cert: bytes) -> None:
    """The server, inside the event loop (in each worker with --workers)."""
    import nodetls as tls

    # One session_id_context for every server of a fleet (the default depends on the command
    # line, which may differ between servers).
    options: dict[str, Any] = {"key": key, "cert": cert, "session_id_context": "nodetls serve"}
    alpn = args.alpn or ("http/1.1" if args.http else None)
    if alpn:
        options["alpn_protocols"] = [p for p in alpn.split(",") if p]

    def on_secure(sock: Any) -> None:
        sock.on("error", lambda err: out.note(f"connection error: {err}"))
        if not args.quiet:
            # (the servername is the client's: text, never markup)
            out.info(f"[green]+[/green] {time.strftime('%H:%M:%S')} {_escape(_describe(sock))}")
        if args.http:
            _http(sock)
        else:
            sock.pipe(sock)

    server = tls.create_server(options, on_secure)
    def on_client_error(err: BaseException, _sock: Any) -> None:
        if not args.quiet:
            out.info(f"[yellow]![/yellow] {time.strftime('%H:%M:%S')} handshake failed: "
                     + _escape(f"{getattr(err, 'code', '')} {err}"))

    server.on("tlsClientError", on_client_error)
    if args.keylog:
        keylog = open(args.keylog, "ab")  # noqa: SIM115 - lives as long as the server

        def on_keylog(line: bytes, _sock: Any) -> None:
            keylog.write(line)
            keylog.flush()

        server.on("keylog", on_keylog)
        server.on("close", keylog.close)
    if args.redis:
        from ..sessions import RedisSessionStore, RedisTicketKeys

        server.use_session_store(RedisSessionStore(args.redis))
        keys = RedisTicketKeys(args.redis)
        await keys._refresh()  # the fleet's current keys before the first connection (no copy)
        server.use_ticket_keys(keys)
    await _staple(server, cert, out)
    await server.listen(args.port, args.host)
    address: Any = server.address()
    host = address["address"]
    shown = f"[{host}]" if ":" in host else host
    worker = tls.worker_index() if hasattr(tls, "worker_index") else None
    who = f" (worker {worker})" if worker is not None else ""
    out.info(f"nodetls serve{who}: listening on https://{shown}:{address['port']} "
             f"({'HTTP/1.1 hello' if args.http else 'echo'}; Ctrl-C stops)")


async def _staple(server: Any, cert: bytes, out: Output) -> None:
    """Staple OCSP responses when the certificate names an OCSP responder."""
    from cryptography import x509
    from cryptography.x509.oid import AuthorityInformationAccessOID

    leaf = x509.load_pem_x509_certificate(cert)
    try:
        aia = leaf.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except x509.ExtensionNotFound:
        return
    if not any(d.access_method == AuthorityInformationAccessOID.OCSP for d in aia):
        return
    try:
        from ..ocsp import Stapler
    except ImportError as exc:
        out.note(f"not stapling OCSP: {exc}")
        return
    stapler = Stapler()
    stapler.on("error", lambda err, *_: out.note(f"OCSP: {err}"))
    try:  # the first fetch before listening, so that the first connection is stapled
        await asyncio.wait_for(server.use_ocsp_stapler(stapler), stapler.timeout + 1)
    except TimeoutError:
        out.note("OCSP: no response yet; stapling once the responder answers")
    out.note(f"stapling OCSP responses: {stapler.status(leaf).get('status') or 'none yet'}")


def run(args: argparse.Namespace) -> int:
    import nodetls as tls

    out = Output(quiet=False)
    if args.workers is not None and (args.workers < 1 or args.port == 0):
        out.fail("serve: --workers needs N >= 1 and a fixed --port")
        return 2
    try:
        key, cert = _credentials(args, out)
    except (ValueError, OSError) as exc:
        out.fail(f"serve: {exc}")
        return 2

    async def main() -> None:
        try:
            await serve_main(args, out, key, cert)
        except Exception as exc:
            out.fail(f"serve: {exc} ({getattr(exc, 'code', type(exc).__name__)})")
            raise SystemExit(1) from None

    try:
        if args.workers:
            tls.run(main, workers=args.workers)
        else:
            tls.run(main)
    except KeyboardInterrupt:
        out.note("stopped")
        return 130
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


__all__ = ["add_parser", "run", "serve_main"]
