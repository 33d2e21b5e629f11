"""Harnesses for the parsers that take user bytes: context options, PEM, the ALPN wire format and
saved session bytes (``session=``).  Bad input must raise ``TypeError``/``ValueError`` (Node's
``ERR_INVALID_ARG_*``) or a ``NodeError`` at creation, and free whatever it allocated."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nodetls._context.secure_context import SecureContext
from nodetls._engine import TLSEngine
from nodetls._engine.engine import decode_alpn, encode_alpn
from nodetls._tls.socket import alpn_list

from . import peers
from .oracle import ARG_ERRORS, Baseline, OracleViolation

_OPTIONS = ("ca", "cert", "key", "passphrase", "pfx", "crl", "ciphers", "ecdh_curve", "dhparam",
            "honor_cipher_order", "min_version", "max_version", "secure_options",
            "session_id_context", "sigalgs", "ticket_keys", "session_timeout", "minVersion",
            "sessionIdContext", "bogus")


def _value(kind: int, raw: bytes) -> Any:
    """One option value of the type ``kind`` selects, built from ``raw``."""
    text = raw.decode("latin-1")
    return [raw, text, int.from_bytes(raw[:8] or b"\0", "little", signed=True), bool(raw),
            None, [raw, text], [raw], {"pem": raw}, float(len(raw)), (text,)][kind % 10]


def context_options(data: bytes) -> None:
    """``SecureContext(options)`` from arbitrary option names, types and values."""
    opts: dict[str, Any] = {}
    chunks = data.split(b"\x00")
    for chunk in chunks[:8]:
        if len(chunk) < 2:
            continue
        opts[_OPTIONS[chunk[0] % len(_OPTIONS)]] = _value(chunk[1], chunk[2:])
    _make_context(opts)


def pem(data: bytes) -> None:
    """PEM/DER bytes as ``cert``/``key``/``ca``/``crl``/``dhparam``/``pfx`` (byte 0 selects)."""
    if not data:
        return
    ca, cert, key = peers.pems()
    which = data[0] % 6
    body = data[1:]
    opts: dict[str, Any] = [
        {"cert": body, "key": key}, {"cert": cert, "key": body}, {"ca": body},
        {"cert": cert, "key": key, "crl": body}, {"dhparam": body}, {"pfx": body},
    ][which]
    _make_context(opts)


def _make_context(opts: dict[str, Any]) -> None:
    base = Baseline()
    try:
        ctx = SecureContext(opts)
    except ARG_ERRORS:
        base.check()
        return
    ctx.close()
    base.check()


def alpn_wire(data: bytes) -> None:
    """The ALPN wire format (a ``Buffer`` given as ``ALPNProtocols``) decodes to names that encode
    back to the same bytes, or is refused with a ``ValueError``."""
    try:
        names = alpn_list(data)
    except ARG_ERRORS:
        return
    if not all(0 < len(n) < 256 for n in names):
        raise OracleViolation(f"ALPN wire {data!r} decoded to an invalid name list {names!r}")
    if encode_alpn(names) != data:
        raise OracleViolation(f"ALPN wire {data!r} does not round-trip: {names!r}")
    if decode_alpn(encode_alpn(names)) != names:
        raise OracleViolation("ALPN encode/decode disagree")


def session_bytes(data: bytes) -> None:
    """``session=`` with arbitrary bytes: a client engine offers it (or refuses it) and makes its
    ClientHello; nothing leaks."""
    ctx = peers.client_context(bool(data[:1] == b"\x01"))
    base = Baseline()
    eng = TLSEngine(ctx, server=False)
    try:
        eng.set_session(data)
        eng.do_handshake()
        eng.take_output()
    except ARG_ERRORS:
        pass
    finally:
        eng.free()
    base.check()


HARNESSES: dict[str, Callable[[bytes], None]] = {
    "context_options": context_options,
    "pem": pem,
    "alpn_wire": alpn_wire,
    "session_bytes": session_bytes,
}


def seeds() -> dict[str, list[bytes]]:
    ca, cert, key = peers.pems()
    rec = peers.record()
    return {
        "context_options": [b"\x00".join([bytes([i, j]) + b"TLSv1.2" for i, j in ((10, 1), (11, 1))]),
                            bytes([6, 1]) + b"HIGH:!aNULL", bytes([7, 1]) + b"P-256:X25519",
                            bytes([12, 2]) + b"\x01\x00\x00\x00", bytes([15, 0]) + bytes(48)],
        "pem": [b"\x00" + cert, b"\x01" + key, b"\x02" + ca + cert, b"\x03" + cert, b"\x05" + key],
        "alpn_wire": [b"\x02h2\x08http/1.1", b"\x08http/1.1", b"\x03abc\x00", b"\x05ab"],
        "session_bytes": [rec["session"], rec["session"][:100], b"\x01" + rec["session"][1:]],
    }
