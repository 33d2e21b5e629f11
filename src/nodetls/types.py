"""Typed shapes of nodetls's dicts: options (``TypedDict``s for ``**kwargs: Unpack[...]``), the
certificate object of ``get_peer_certificate()`` and the ``address()`` dict.

The option TypedDicts list the snake_case names each entry point accepts (Node's camelCase names
are accepted at run time too, in the ``options`` dict, which is typed ``Mapping[str, Any]`` for that
reason); ``tests/typing/test_mypy.py`` checks that they list exactly the names the option
normaliser accepts.  Annotations only: nothing here runs on a hot path.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypedDict

if TYPE_CHECKING:
    from ._context import SecureContext
    from .net import Socket

__all__ = [
    "AddressInfo", "PeerCertificate", "DetailedPeerCertificate", "Chunk", "BytesLike", "PemInput",
    "TLSVersion", "SecureContextOptions", "ServerOptions", "ConnectOptions", "TLSSocketOptions",
]

BytesLike = bytes | bytearray | memoryview
"""What Node calls a Buffer, on input."""
PemInput = str | BytesLike | os.PathLike[str]
"""A PEM (or DER) item: ``str`` or bytes-like."""
Chunk = bytes | str
"""A ``'data'`` chunk: ``bytes``, or ``str`` after ``set_encoding()``."""
TLSVersion = Literal["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]


class AddressInfo(TypedDict, total=False):
    """Node's ``address()`` object (``{}`` before the socket is bound/connected)."""

    address: str
    family: Literal["IPv4", "IPv6"]
    port: int


class PeerCertificate(TypedDict, total=False):
    """Node's certificate object (``get_peer_certificate()``, ``check_server_identity``'s ``cert``).

    Name dicts map an attribute (``'CN'``, ``'O'``...) to its value, or to a list when repeated.
    ``{}`` (no key at all) when the peer sent no certificate."""

    subject: dict[str, str | list[str]]
    issuer: dict[str, str | list[str]]
    subjectaltname: str | None  # (None: the extension is there but cannot be decoded)
    infoAccess: dict[str, list[str]]
    ca: bool
    modulus: str
    bits: int
    exponent: str
    pubkey: bytes
    asn1Curve: str
    nistCurve: str
    valid_from: str
    valid_to: str
    fingerprint: str
    fingerprint256: str
    fingerprint512: str
    ext_key_usage: list[str]
    serialNumber: str
    raw: bytes


class DetailedPeerCertificate(PeerCertificate, total=False):
    """``get_peer_certificate(True)``: each certificate links its issuer's, up to the root (which
    links itself)."""

    issuerCertificate: DetailedPeerCertificate


# -- options -------------------------------------------------------------------------------------

KeyInput = PemInput | Sequence[PemInput | dict[str, Any]]
"""``key``/``cert``/``pfx``: one PEM item, or a list (items or ``{'pem', 'passphrase'}`` dicts)."""


class SecureContextOptions(TypedDict, total=False):
    """``tls.create_secure_context`` options (every TLS entry point accepts them)."""

    key: KeyInput
    cert: KeyInput
    ca: PemInput | Sequence[PemInput]
    allow_partial_trust_chain: bool
    passphrase: str | bytes
    pfx: KeyInput
    crl: PemInput | Sequence[PemInput]
    ciphers: str
    ecdh_curve: str
    dhparam: PemInput
    honor_cipher_order: bool
    min_version: TLSVersion
    max_version: TLSVersion
    secure_options: int
    session_id_context: str | bytes
    sigalgs: str
    ticket_keys: BytesLike
    session_timeout: float


_AlpnList = Sequence[str | bytes] | BytesLike
_Callback = Callable[..., Any]


class _NetServerOptions(TypedDict, total=False):
    allow_half_open: bool
    pause_on_connect: bool
    no_delay: bool
    keep_alive: bool
    keep_alive_initial_delay: float
    high_water_mark: int


class ServerOptions(SecureContextOptions, _NetServerOptions, total=False):
    """``tls.create_server`` / ``tls.Server`` options."""

    request_cert: bool
    reject_unauthorized: bool
    alpn_protocols: _AlpnList
    alpn_callback: _Callback
    sni_callback: _Callback
    handshake_timeout: float
    allow_client_renegotiation: bool
    psk_callback: _Callback
    psk_identity_hint: str
    enable_trace: bool
    npn_protocols: _AlpnList


class ConnectOptions(SecureContextOptions, total=False):
    """``tls.connect`` options."""

    host: str
    port: int | str
    path: str
    socket: Socket | None
    allow_half_open: bool
    reject_unauthorized: bool
    psk_callback: _Callback
    alpn_protocols: _AlpnList
    servername: str
    check_server_identity: Callable[[str, PeerCertificate], Exception | None]
    session: bytes | None
    min_dh_size: int
    secure_context: SecureContext
    enable_trace: bool
    request_ocsp: bool
    timeout: float
    family: int
    local_address: str
    local_port: int
    npn_protocols: _AlpnList
    no_delay: bool
    keep_alive: bool
    keep_alive_initial_delay: float
    high_water_mark: int
    hints: int
    lookup: _Callback
    auto_select_family: bool
    auto_select_family_attempt_timeout: float
    ocsp: Literal["require", "if-present"] | None
    onread: dict[str, Any]


class TLSSocketOptions(SecureContextOptions, total=False):
    """``tls.TLSSocket(socket, options)`` options."""

    is_server: bool
    server: Any
    request_cert: bool
    request_ocsp: bool
    reject_unauthorized: bool
    alpn_protocols: _AlpnList
    alpn_callback: _Callback
    sni_callback: _Callback
    session: bytes | None
    secure_context: SecureContext
    enable_trace: bool
    psk_callback: _Callback
    psk_identity_hint: str
    min_dh_size: int
    servername: str
    check_server_identity: Callable[[str, PeerCertificate], Exception | None]
    handshake_timeout: float
    npn_protocols: _AlpnList
    allow_half_open: bool
    pause_on_connect: bool
    high_water_mark: int
    allow_client_renegotiation: bool
    host: str
    port: int | str
    path: str
    ocsp: Literal["require", "if-present"] | None
    onread: dict[str, Any]
