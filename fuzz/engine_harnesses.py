"""Harnesses that feed hostile bytes to the sans-IO engine (server and client).

Input layout (every engine harness): byte 0 is flags — bit 0 TLS 1.2 instead of 1.3, bit 1 end
of stream after the input, bits 2..7 where the rest is split (``(flags >> 2) * 8`` bytes go
first: fed while paused for the pause-point harnesses, as a separate ``receive`` otherwise).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from nodetls._context.secure_context import SecureContext
from nodetls._engine import PAUSED, State, TLSEngine

from . import peers
from .oracle import ENGINE_ERRORS, Baseline, Hooks, OracleViolation


def _split(data: bytes) -> tuple[int, bytes, bytes]:
    if not data:
        return 0, b"", b""
    flags, rest = data[0], data[1:]
    cut = (flags >> 2) * 8
    return flags, rest[:cut], rest[cut:]


@functools.cache
def _recorded(tls12: bool) -> dict[str, Any]:
    return peers.record(tls12)


@functools.cache
def _psk_contexts() -> tuple[SecureContext, SecureContext]:
    opts = {"max_version": "TLSv1.2", "ciphers": "PSK-AES128-GCM-SHA256"}
    return SecureContext(opts), SecureContext(opts)


def _client_hello(tls12: bool) -> bytes:
    hello: bytes = _recorded(tls12)["flights"][0][1]
    return hello


@functools.cache
def warm() -> None:
    """Make every long-lived object (contexts, recorded flights) before any baseline is taken."""
    for tls12 in (False, True):
        peers.server_context(tls12)
        peers.client_context(tls12)
        _recorded(tls12)
    _psk_contexts()
    _psk_hello()


def _guarded(eng: TLSEngine, hooks: Hooks | None, body: Callable[[], None]) -> None:
    """Run ``body`` (which drives ``eng``), then close and free ``eng`` as its owner would and
    check the oracle: only documented errors, nothing leaked, nothing after destroy."""
    warm()
    base_engines_before = Baseline()
    base_engines_before.engines -= 1  # ``eng`` is already counted; after free it must be gone
    try:
        try:
            body()
        except ENGINE_ERRORS:
            if eng.state is not State.ERROR and eng.error is None and eng.alive:
                pass  # an error raised by a query, not a fatal TLS error: allowed
        try:
            eng.write(b"after")
        except ENGINE_ERRORS:
            pass
        eng.take_output()
        eng.shutdown()
        eng.take_output()
    finally:
        if hooks is not None:
            hooks.destroyed()
        eng.free()
    _after_free(eng)
    base_engines_before.check()


def _after_free(eng: TLSEngine) -> None:
    """A freed engine: every operation is refused or a no-op, never touches freed memory."""
    if eng.state is not State.FREED or eng.alive:
        raise OracleViolation("free() did not reach State.FREED")
    eng.receive(b"\x16\x03\x01\x00\x01\x01")
    eng.receive_eof()
    if eng.take_output() != b"" or eng.read_view() is not None:
        raise OracleViolation("a freed engine produced output")
    ops: list[Callable[[], object]] = [eng.do_handshake, lambda: eng.write(b"x")]
    for op in ops:
        try:
            op()
        except ENGINE_ERRORS:
            continue
        raise OracleViolation("a freed engine accepted an operation")


def _feed(eng: TLSEngine, chunk: bytes) -> None:
    if chunk:
        eng.receive(chunk)
    peers.step(eng)


def _server(data: bytes, genuine_hello: bool) -> None:
    flags, first, rest = _split(data)
    tls12 = bool(flags & 1)
    eng = peers.new_server(tls12)

    def body() -> None:
        if genuine_hello:
            _feed(eng, _client_hello(tls12))
            eng.take_output()
        _feed(eng, first)
        _feed(eng, rest)
        if flags & 2:
            eng.receive_eof()
            peers.step(eng)

    _guarded(eng, None, body)


def server_first_flight(data: bytes) -> None:
    """The server engine fed arbitrary bytes as the client's first flight."""
    _server(data, genuine_hello=False)


def server_later_flight(data: bytes) -> None:
    """A genuine recorded ClientHello, then arbitrary (mutated) later flights."""
    _server(data, genuine_hello=True)


def _paused_server(data: bytes, hooks: Hooks, answer: Callable[[TLSEngine, bytes], None],
                   ctx: SecureContext | None = None, hello: bytes | None = None) -> None:
    """Genuine ClientHello -> the engine pauses -> hostile bytes arrive while paused -> the owner
    answers late (``answer``, fed the same bytes) -> more hostile bytes."""
    flags, first, rest = _split(data)
    tls12 = bool(flags & 1)
    if ctx is None:
        eng = peers.new_server(tls12, hooks=hooks)
    else:
        eng = TLSEngine(ctx, server=True, hooks=hooks)
        eng.enable_psk()

    def body() -> None:
        eng.receive(hello if hello is not None else _client_hello(tls12))
        r = eng.do_handshake()
        if r == PAUSED:
            if eng.state is not State.PAUSED or eng.paused is None:
                raise OracleViolation("PAUSED returned but the engine is not paused")
            eng.receive(first)
            if eng.do_handshake() != PAUSED:  # still waiting for the owner's answer
                raise OracleViolation("a paused engine moved on before resume()")
            if flags & 2:
                eng.receive_eof()
            answer(eng, first)
            eng.resume()
        peers.step(eng)
        eng.take_output()
        _feed(eng, rest)

    _guarded(eng, hooks, body)


def server_pause_session(data: bytes) -> None:
    """Paused at the client-hello callback ('resumeSession'); answered with arbitrary session
    bytes."""
    _paused_server(data, Hooks(pause_hello=True),
                   lambda eng, b: eng.set_prefetched_session(b or None))


def server_pause_sni(data: bytes) -> None:
    """Paused at the cert callback (SNICallback answering late with another context)."""
    _paused_server(data, Hooks(pause_cert=True),
                   lambda eng, b: eng.use_context(peers.server_context(not b or b[0] & 1 == 0)))


def server_pause_ocsp(data: bytes) -> None:
    """Paused at the cert callback ('OCSPRequest'); answered with arbitrary response bytes."""
    _paused_server(data, Hooks(pause_cert=True),
                   lambda eng, b: eng.set_ocsp_response(b or None))


@functools.cache
def _psk_hello() -> bytes:
    sctx, cctx = _psk_contexts()
    client = TLSEngine(cctx, server=False, hooks=Hooks(psk=peers.PSK))
    try:
        client.enable_psk()
        client.do_handshake()
        return client.take_output()
    finally:
        client.free()


def server_psk(data: bytes) -> None:
    """A TLS 1.2 PSK server (the PSK callback answers) fed hostile later flights."""
    sctx = _psk_contexts()[0]
    hooks = Hooks(psk=peers.PSK)
    _paused_server(data, hooks, lambda eng, b: None, ctx=sctx, hello=_psk_hello())


def client_server_flight(data: bytes) -> None:
    """The client engine fed arbitrary server flights (bit 1 of flags: offer a saved session)."""
    flags, first, rest = _split(data)
    tls12 = bool(flags & 1)
    session = _recorded(tls12)["session"] if flags & 2 else None
    hooks = Hooks()
    eng = peers.new_client(tls12, hooks=hooks, session=session)

    def body() -> None:
        peers.step(eng)
        eng.take_output()
        _feed(eng, first)
        _feed(eng, rest)

    _guarded(eng, hooks, body)


HARNESSES: dict[str, Callable[[bytes], None]] = {
    "server_first_flight": server_first_flight,
    "server_later_flight": server_later_flight,
    "server_pause_session": server_pause_session,
    "server_pause_sni": server_pause_sni,
    "server_pause_ocsp": server_pause_ocsp,
    "server_psk": server_psk,
    "client_server_flight": client_server_flight,
}


def seeds() -> dict[str, list[bytes]]:
    """The seed corpus: recorded genuine flights, with the flags byte in front."""
    out: dict[str, list[bytes]] = {name: [] for name in HARNESSES}
    for tls12 in (False, True):
        rec = _recorded(tls12)
        f = int(tls12)
        client = [b for who, b in rec["flights"] if who == "client"]
        server = [b for who, b in rec["flights"] if who == "server"]
        out["server_first_flight"] += [bytes([f]) + client[0], bytes([f | 2]) + client[0][:40]]
        later = b"".join(client[1:]) + rec["app"]
        for name in ("server_later_flight", "server_pause_session", "server_pause_sni",
                     "server_pause_ocsp"):
            out[name] += [bytes([f]) + later, bytes([f | (2 << 2)]) + rec["session"] + later]
        out["client_server_flight"] += [bytes([f]) + b"".join(server),
                                        bytes([f | 2 | (4 << 2)]) + server[0]]
    out["server_psk"] += [b"\x01" + b"\x16\x03\x03\x00\x10" + bytes(16)]
    return out
