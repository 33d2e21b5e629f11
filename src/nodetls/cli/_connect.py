"""``nodetls connect HOST[:PORT]``: a readable ``openssl s_client``."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import sys
import threading
from pathlib import Path
from typing import Any

from ._output import Output
from ._report import chain_of, connection_report, render_report

DEFAULT_PORT = 443


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "connect", help="connect, show what was negotiated, then join stdin and the connection",
        description="Connect to HOST[:PORT] (default port 443), print what was negotiated "
                    "(protocol, cipher, key exchange group, ALPN, SNI), the server's chain, the "
                    "verification result, the stapled OCSP status and whether a second "
                    "connection resumes; then send standard input and print what arrives until "
                    "EOF. The report goes to standard error, the connection's bytes to standard "
                    "output. Exit status 1 when the connection or the verification fails.")
    p.add_argument("target", metavar="HOST[:PORT]")
    p.add_argument("--servername", help="SNI to send (default: HOST unless it is an IP address)")
    p.add_argument("--alpn", help="ALPN protocols to offer, comma-separated (e.g. h2,http/1.1)")
    p.add_argument("--ca", action="append", metavar="FILE",
                   help="trust these CA certificates (PEM) instead of the default roots; repeatable")
    p.add_argument("--cert", metavar="FILE", help="client certificate (PEM)")
    p.add_argument("--key", metavar="FILE", help="client private key (PEM)")
    p.add_argument("--insecure", action="store_true",
                   help="go on when the server's certificate does not verify (reported all the same)")
    version = p.add_mutually_exclusive_group()
    version.add_argument("--tls1.2", dest="tls12", action="store_true", help="TLS 1.2 only")
    version.add_argument("--tls1.3", dest="tls13", action="store_true", help="TLS 1.3 only")
    p.add_argument("--sess-out", metavar="FILE", help="write the session (bytes) to FILE")
    p.add_argument("--sess-in", metavar="FILE", help="offer the session read from FILE")
    p.add_argument("--ocsp", action="store_true",
                   help="require a valid stapled OCSP response (exit 1 when it is missing, "
                        "invalid, stale or revoked)")
    p.add_argument("--json", action="store_true",
                   help="print the report as JSON on standard output and close (no joining)")
    p.add_argument("--no-resume-check", action="store_true",
                   help="do not make the second connection that checks resumption")
    p.add_argument("--timeout", type=float, default=10.0,
                   help="seconds allowed for the connection and handshake (default 10)")
    p.set_defaults(run=run)


def split_target(target: str) -> tuple[str, int]:
    """``'host'``, ``'host:port'``, ``'[v6]:port'`` or a bare IPv6 address -> ``(host, port)``."""
    host, port = target, DEFAULT_PORT
    if target.startswith("["):
        end = target.find("]")
        if end < 0:
            raise ValueError(f"bad address {target!r}: missing ']'")
        host, rest = target[1:end], target[end + 1:]
        if rest:
            if not rest.startswith(":"):
                raise ValueError(f"bad address {target!r}")
            port = _port(rest[1:])
    elif target.count(":") == 1:
        host, port_text = target.split(":")
        port = _port(port_text)
    if not host:
        raise ValueError(f"bad address {target!r}: no host")
    return host, port


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"bad port {text!r}")
    return int(text)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def tls_options(args: argparse.Namespace, host: str) -> dict[str, Any]:
    """The ``tls.connect`` options the command-line flags stand for."""
    opts: dict[str, Any] = {"host": host, "reject_unauthorized": False, "request_ocsp": True}
    servername = args.servername or (None if _is_ip(host) else host)
    if servername:
        opts["servername"] = servername
    if args.alpn:
        opts["alpn_protocols"] = [p for p in args.alpn.split(",") if p]
    if args.ca:
        opts["ca"] = [Path(f).read_bytes() for f in args.ca]
    if args.cert:
        opts["cert"] = Path(args.cert).read_bytes()
    if args.key:
        opts["key"] = Path(args.key).read_bytes()
    if args.tls12:
        opts["min_version"] = opts["max_version"] = "TLSv1.2"
    if args.tls13:
        opts["min_version"] = "TLSv1.3"
    if args.sess_in:
        opts["session"] = Path(args.sess_in).read_bytes()
    return opts


async def _open(port: int, opts: dict[str, Any], timeout: float) -> tuple[Any, dict[str, Any]]:
    """Connect and wait for 'secureConnect'; also collects the session and the OCSP response."""
    import nodetls as tls

    seen: dict[str, Any] = {"session": None, "ocsp": None}
    got_session = asyncio.get_running_loop().create_future()

    def on_session(session: bytes) -> None:
        seen["session"] = session
        if not got_session.done():
            got_session.set_result(None)

    sock = tls.connect(port, **opts)
    sock.on("session", on_session)
    sock.on("OCSPResponse", lambda response: seen.__setitem__("ocsp", response))
    sock.on("error", lambda _err: None)   # awaited below: the failure is the await's exception
    seen["got_session"] = got_session
    await asyncio.wait_for(sock, timeout)
    return sock, seen


async def _session_of(sock: Any, seen: dict[str, Any], wait: float) -> bytes | None:
    """The session to resume: TLS 1.3 tickets arrive just after the handshake, so wait briefly."""
    if seen["session"] is None:
        try:
            await asyncio.wait_for(asyncio.shield(seen["got_session"]), wait)
        except TimeoutError:
            pass
    session = seen["session"] or sock.get_session()
    return session if isinstance(session, bytes) else None


async def _closed(sock: Any) -> None:
    if sock.destroyed:
        return
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    def on_close(*_: Any) -> None:
        if not done.done():
            done.set_result(None)

    sock.once("close", on_close)
    await done


async def _resumes(port: int, opts: dict[str, Any], session: bytes, timeout: float) -> bool:
    second, _ = await _open(port, {**opts, "session": session}, timeout)
    try:
        return bool(second.is_session_reused())
    finally:
        second.destroy()


def _join_stdin(sock: Any) -> None:
    """Send standard input to ``sock`` from a daemon thread (any kind of stdin, even a file);
    end the socket at EOF. The thread dies with the process if the server closes first."""
    loop = asyncio.get_running_loop()

    def pump() -> None:
        stdin: Any = sys.stdin.buffer
        while True:
            chunk = stdin.read1(65536)
            if not chunk:
                loop.call_soon_threadsafe(sock.end)
                return
            loop.call_soon_threadsafe(sock.write, chunk)

    threading.Thread(target=pump, name="nodetls-connect-stdin", daemon=True).start()


def _write_stdout(chunk: bytes) -> None:
    sys.stdout.buffer.write(chunk)
    sys.stdout.buffer.flush()


async def connect_main(args: argparse.Namespace, out: Output) -> int:
    """The ``connect`` command, inside the event loop; returns the exit status."""
    try:
        host, port = split_target(args.target)
        opts = tls_options(args, host)
    except (ValueError, OSError) as exc:
        out.fail(f"connect: {exc}")
        return 2
    try:
        sock, seen = await _open(port, opts, args.timeout)
    except TimeoutError:
        out.fail(f"connect: no handshake with {host}:{port} within {args.timeout:g} s")
        return 1
    except Exception as exc:  # a NodeError (ECONNREFUSED, ERR_SSL_*...) or an OSError
        code = getattr(exc, "code", None) or type(exc).__name__
        out.fail(f"connect: {exc} ({code})")
        return 1
    sock.on("data", _write_stdout)
    session = await _session_of(sock, seen, 1.0)
    if args.sess_out and session:
        Path(args.sess_out).write_bytes(session)
    resumed: bool | None = None
    if session and not args.no_resume_check:
        try:
            resumed = await _resumes(port, opts, session, args.timeout)
        except Exception as exc:
            out.note(f"second connection failed: {exc}")
    report = connection_report(sock, host=host, port=port, servername=opts.get("servername"),
                               resumed=resumed, offered_session=bool(args.sess_in),
                               chain=chain_of(sock))
    status = 0
    if not report["verification"]["authorized"] and not args.insecure:
        status = 1
    if args.ocsp and report["ocsp"]["status"] != "good":
        status = 1
    if args.json:
        print(json.dumps(report, indent=2, default=str))
        sock.destroy()
        return status
    render_report(out, report, insecure=args.insecure, require_ocsp=args.ocsp)
    if status:
        sock.destroy()
        return status
    out.note("joined: standard input is sent, what arrives is printed; EOF (Ctrl-D) ends")
    _join_stdin(sock)
    await _closed(sock)
    return 0


def run(args: argparse.Namespace) -> int:
    import nodetls as tls

    out = Output()
    result: list[int] = []

    async def main() -> None:
        result.append(await connect_main(args, out))

    tls.run(main)
    return result[0] if result else 1
