"""Deterministic contexts and recorded handshakes the harnesses start from.

The certificate and key are derived from fixed numbers (no randomness), so the committed corpus
(the genuine ClientHello and server flights recorded by :func:`record`) stays valid across runs.
"""

from __future__ import annotations

import datetime
import functools
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from nodetls._context.secure_context import SecureContext
from nodetls._engine import DONE, PAUSED, TLSEngine

from .oracle import Hooks

PSK = b"\x07" * 32


@functools.cache
def pems() -> tuple[bytes, bytes, bytes]:
    """(ca, leaf, key) PEM, the same bytes on every run."""
    ca_key = ec.derive_private_key(0xC0FFEE, ec.SECP256R1())
    key = ec.derive_private_key(0xBEEF, ec.SECP256R1())
    start = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    end = datetime.datetime(2099, 1, 1, tzinfo=datetime.UTC)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fuzz CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(1)
          .not_valid_before(start).not_valid_after(end)
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(2)
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    return (ca.public_bytes(pem), leaf.public_bytes(pem),
            key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))


@functools.cache
def server_context(tls12: bool = False) -> SecureContext:
    ca, cert, key = pems()
    opts: dict[str, Any] = {"cert": cert, "key": key, "ca": ca}
    if tls12:
        opts["max_version"] = "TLSv1.2"
        opts["ciphers"] = "ECDHE-ECDSA-AES128-GCM-SHA256:PSK-AES128-GCM-SHA256"
    return SecureContext(opts)


@functools.cache
def client_context(tls12: bool = False) -> SecureContext:
    opts: dict[str, Any] = {"ca": pems()[0]}
    if tls12:
        opts["max_version"] = "TLSv1.2"
        opts["ciphers"] = "ECDHE-ECDSA-AES128-GCM-SHA256:PSK-AES128-GCM-SHA256"
    return SecureContext(opts)


def new_server(tls12: bool = False, hooks: Hooks | None = None, psk: bool = False) -> TLSEngine:
    eng = TLSEngine(server_context(tls12), server=True, hooks=hooks)
    if hooks is not None:
        if hooks.pause_hello:
            eng.enable_session_callbacks()
            eng.enable_client_hello()
        if hooks.pause_cert:
            eng.enable_cert_cb()
            eng.enable_ocsp_status()
        if psk:
            eng.enable_psk()
    eng.set_alpn_protocols([b"h2", b"http/1.1"])
    return eng


def new_client(tls12: bool = False, hooks: Hooks | None = None, psk: bool = False,
               session: bytes | None = None) -> TLSEngine:
    eng = TLSEngine(client_context(tls12), server=False, hooks=hooks)
    eng.set_servername("localhost")
    eng.set_alpn_protocols([b"h2", b"http/1.1"])
    eng.request_ocsp()
    eng.set_verify(True, True)
    if psk:
        eng.enable_psk()
    if session is not None:
        eng.set_session(session)
    return eng


def record(tls12: bool = False) -> dict[str, Any]:
    """Run one genuine handshake in memory and return its flights (client and server, in order)
    and the client's session bytes."""
    hooks = Hooks(psk=PSK)
    client = new_client(tls12, hooks=hooks, psk=tls12)
    server = new_server(tls12, hooks=Hooks(psk=PSK), psk=tls12)
    flights: list[tuple[str, bytes]] = []
    done = set()
    try:
        for _ in range(10):
            for name, eng, peer in (("client", client, server), ("server", server, client)):
                if name not in done and eng.do_handshake() == DONE:
                    done.add(name)
                eng.read()
                out = eng.take_output()
                if out:
                    flights.append((name, out))
                    peer.receive(out)
            if len(done) == 2 and not client.output_pending() and not server.output_pending():
                client.read()
                break
        client.write(b"ping")
        ping = client.take_output()
        return {"flights": flights, "session": client.session_der() or b"", "app": ping}
    finally:
        client.free()
        server.free()


def step(eng: TLSEngine, limit: int = 4) -> None:
    """Advance ``eng`` as its owner would (documented errors propagate)."""
    for _ in range(limit):
        r = eng.do_handshake()
        if r != PAUSED:
            break
    eng.read()
