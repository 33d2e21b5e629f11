"""A server under hostile ClientHellos: what nodetls reads from them before OpenSSL parses them.

The engine's client-hello callback (``_engine/_wire.py``, ``_parse_client_hello``) reads
extension bodies OpenSSL has split but not yet parsed: the first TLS 1.3 PSK identity (the key
``'resumeSession'`` / a session store is asked for, with ``SSL_OP_NO_TICKET``), the
server_name list and supported_versions.  Each must be read only as OpenSSL's own parser
(``tls_parse_ctos_psk``, ``tls_parse_ctos_server_name``, ``ssl_choose_server_version``) will
accept it: until session 39 nodetls asked ``'resumeSession'`` for a truncated identity, for an
empty one, for the binders' bytes read as an identity, for a 16-byte identity, and for PSKs
OpenSSL ignores (no key exchange mode it uses) -- keys OpenSSL never looks up; the compiled
session path (``nodetls_sp_psk_id``, which a session store takes) took only 32-byte identities
but asked for the other cases too. The server name is read one character per byte, as Node's
``OneByteString`` (it was decoded as UTF-8: the byte 0xe9 failed the handshake).

The ClientHellos are genuine ones (Python's ``ssl`` over memory BIOs) with one extension
rewritten and the lengths fixed up, sent raw over TCP.  Node v20 was run on the same bytes
(a scratch node server with the same listeners, session 39): the same alerts and
``tlsClientError`` codes (OpenSSL's; the message text differs with the version, 3.0 vs 3.5),
``SNICallback`` called only for a name OpenSSL accepted.  Node asks ``'resumeSession'`` for
every ClientHello's legacy session id (its own parser runs before OpenSSL's) and never for a PSK
identity; nodetls deliberately differs there (README: nodejs/node#60847), so for PSKs the
reference is OpenSSL's stateful lookup, and for a malformed supported_versions Node's lookup
of the legacy id.
"""

from __future__ import annotations

import asyncio
import ssl
import struct
from typing import Any

import pytest
from tlsutil import TIMEOUT, listen

import nodetls as tls
from nodetls._openssl import constants as C

_SNI, _SV, _PSK, _KEX, _PADDING = 0, 43, 41, 45, 21
_ID = bytes(range(0x40, 0x60))  # a 32-byte identity: the length OpenSSL's stateful lookup takes


# ---------------------------------------------------------------- building ClientHellos
def _genuine(host: str | None = "example.com") -> bytes:
    """A genuine ClientHello (Python's ssl), with SNI ``host`` or none."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    i, o = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(i, o, server_hostname=host)
    with pytest.raises(ssl.SSLWantReadError):
        obj.do_handshake()
    return o.read()


def _split(rec: bytes) -> tuple[bytes, list[tuple[int, bytes]]]:
    """A ClientHello record -> (the body up to the extensions, [(type, body)])."""
    assert rec[0] == 0x16 and rec[5] == 1
    body = rec[9:]
    p = 2 + 32
    p += 1 + body[p]  # legacy session id
    p += 2 + struct.unpack(">H", body[p : p + 2])[0]  # cipher suites
    p += 1 + body[p]  # compression methods
    end = p + 2 + struct.unpack(">H", body[p : p + 2])[0]
    head, q, exts = body[:p], p + 2, []
    while q < end:
        t, n = struct.unpack(">HH", body[q : q + 4])
        exts.append((t, body[q + 4 : q + 4 + n]))
        q += 4 + n
    return head, exts


def _join(head: bytes, exts: list[tuple[int, bytes]]) -> bytes:
    e = b"".join(struct.pack(">HH", t, len(b)) + b for t, b in exts)
    body = head + struct.pack(">H", len(e)) + e
    hs = b"\x01" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x01" + struct.pack(">H", len(hs)) + hs


def _hello(*, sni: bytes | None = None, psk: bytes | None = None, kex: bytes | None = b"\x01\x01",
           sv: bytes | None = None) -> tuple[bytes, bytes]:
    """A genuine TLS 1.3 ClientHello with these extension bodies (psk: appended last, as it must
    be; kex None: psk_key_exchange_modes removed), and its legacy session id."""
    head, exts = _split(_genuine())
    out = []
    for t, b in exts:
        if t in (_PADDING, _KEX, _PSK):
            continue
        out.append((t, sni if t == _SNI and sni is not None else sv if t == _SV and sv else b))
    if kex is not None:
        out.append((_KEX, kex))
    if psk is not None:
        out.append((_PSK, psk))
    return _join(head, out), head[35 : 35 + head[34]]


def _sni(*entries: tuple[int, bytes], list_len: int | None = None, trailing: bytes = b"",
         name_len: int | None = None) -> bytes:
    lst = b"".join(bytes([t]) + struct.pack(">H", len(n) if name_len is None else name_len) + n
                   for t, n in entries)
    return struct.pack(">H", len(lst) if list_len is None else list_len) + lst + trailing


def _psk(ids: list[bytes], list_len: int | None = None) -> bytes:
    lst = b"".join(struct.pack(">H", len(i)) + i + b"\0\0\0\0" for i in ids)
    binders = b"".join(b"\x20" + b"\0" * 32 for _ in ids)
    return (struct.pack(">H", len(lst) if list_len is None else list_len) + lst
            + struct.pack(">H", len(binders)) + binders)


# ---------------------------------------------------------------- sending them
async def _send(port: int, data: bytes) -> bytes:
    """Send a raw ClientHello; the server's first answer (an alert, or its ServerHello)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        return await asyncio.wait_for(reader.read(65536), TIMEOUT)
    finally:
        writer.close()


def _alert(answer: bytes) -> int | None:
    """The alert description of a fatal alert record, None for a handshake record."""
    assert answer, "the server closed without an answer"
    if answer[0] == 0x16:
        return None
    assert answer[:2] == b"\x15\x03" and answer[5] == 2, answer[:8].hex()
    return answer[6]


class _Server:
    """A nodetls server recording ``'resumeSession'`` ids, ``SNICallback`` names and the
    ``tlsClientError`` of each connection (one connection at a time)."""

    def __init__(self, certs: Any, *, resume: bool = False, sni: bool = False,
                 store: bool = False) -> None:
        self.ids: list[bytes] = []
        self.store = store
        self.names: list[str] = []
        self.errors: asyncio.Queue[Any] = asyncio.Queue()
        self.opts: dict[str, Any] = {"key": certs.server.key_pem, "cert": certs.server.chain_pem,
                                     "secure_options": C.SSL_OP_NO_TICKET}
        if sni:
            self.opts["sni_callback"] = self._sni
        self.resume = resume

    def _sni(self, name: str, cb: Any) -> None:
        self.names.append(name)
        cb(None, None)

    def _resume(self, sid: bytes, cb: Any) -> None:
        self.ids.append(bytes(sid))
        cb(None, None)

    async def __aenter__(self) -> tuple[_Server, int]:
        self.server, port = await listen(self.opts)
        if self.resume:
            self.server.on("resumeSession", self._resume)
        if self.store:
            self.server.use_session_store(_RecordingStore(self.ids))
        self.server.on("tlsClientError", lambda err, sock: self.errors.put_nowait(err))
        return self, port

    async def __aexit__(self, *exc: Any) -> None:
        self.server.close()

    async def error_code(self) -> str:
        err = await asyncio.wait_for(self.errors.get(), TIMEOUT)
        return str(getattr(err, "code", type(err).__name__))


class _RecordingStore:
    """A session store that records the ids it is asked for and holds nothing (with the
    compiled binding, ``use_session_store`` alone takes the session path in C)."""

    def __init__(self, ids: list[bytes]) -> None:
        self.ids = ids

    async def get(self, session_id: bytes) -> bytes | None:
        self.ids.append(bytes(session_id))
        return None

    async def set(self, session_id: bytes, data: bytes, ttl: float | None = None) -> None:
        return None

    async def delete(self, session_id: bytes) -> None:
        return None


# ---------------------------------------------------------------- pre_shared_key
_BAD_EXT = 50  # decode_error
PSK_CASES = {
    # name: (psk body, kex modes, looked up?, alert, tlsClientError code (None: ServerHello))
    "one 32-byte identity": (_psk([_ID]), b"\x01\x01", True, None, None),
    "two identities": (_psk([_ID, b"y" * 32]), b"\x01\x01", True, None, None),
    "16-byte identity": (_psk([_ID[:16]]), b"\x01\x01", False, None, None),
    "empty identity": (_psk([b""]), b"\x01\x01", False, _BAD_EXT, "ERR_SSL_BAD_EXTENSION"),
    "identity past the end": (struct.pack(">HH", 38, 32) + _ID[:10], b"\x01\x01", False,
                              _BAD_EXT, "ERR_SSL_BAD_EXTENSION"),
    "no ticket age": (struct.pack(">HH", 34, 32) + _ID + b"\x00\x21\x20" + b"\0" * 32,
                      b"\x01\x01", False, _BAD_EXT, "ERR_SSL_BAD_EXTENSION"),
    "no identities, binders like one": (struct.pack(">HH", 0, 32) + _ID, b"\x01\x01", False,
                                        None, None),
    "identities past the end": (_psk([_ID], list_len=200), b"\x01\x01", False, _BAD_EXT,
                                "ERR_SSL_BAD_EXTENSION"),
    "no kex modes": (_psk([_ID]), None, False, 109, "ERR_SSL_MISSING_PSK_KEX_MODES_EXTENSION"),
    "psk_ke only": (_psk([_ID]), b"\x01\x00", False, None, None),
    "unknown kex mode only": (_psk([_ID]), b"\x01\x07", False, None, None),
    "kex modes malformed": (_psk([_ID]), b"\x05\x01", False, _BAD_EXT, "ERR_SSL_BAD_EXTENSION"),
}


def _psk_params() -> list[Any]:
    params = [pytest.param(c, "listener", id=f"{c}-listener") for c in PSK_CASES]
    params += [pytest.param(c, "store", id=f"{c}-store") for c in PSK_CASES]
    return params


@pytest.mark.parametrize(("case", "asker"), _psk_params())
def test_resume_session_asked_only_for_an_identity_openssl_looks_up(certs: Any, case: str,
                                                                     asker: str) -> None:
    """With ``SSL_OP_NO_TICKET`` (stateful TLS 1.3 tickets), ``'resumeSession'`` (a listener;
    or ``use_session_store``'s store) is asked for the first PSK identity only when OpenSSL's
    ``tls_parse_ctos_psk`` will look it up: a well-formed 32-byte first identity offered with
    psk_dhe_ke.  The handshake's outcome is OpenSSL's either way (Node's alerts and codes on
    the same bytes)."""
    body, kex, looked_up, alert, code = PSK_CASES[case]

    async def main() -> None:
        async with _Server(certs, resume=asker == "listener", store=asker == "store") as (srv,
                                                                                          port):
            hello, _ = _hello(psk=body, kex=kex)
            answer = await _send(port, hello)
            assert srv.ids == ([_ID] if looked_up else [])
            assert _alert(answer) == alert
            if code is not None:
                assert await srv.error_code() == code

    tls.run(main)


def test_resume_session_for_the_legacy_id_when_supported_versions_is_malformed(certs: Any) -> None:
    """A supported_versions list OpenSSL rejects (an odd byte: ``ssl_choose_server_version``'s
    length mismatch) is no TLS 1.3 offer: the legacy session id is looked up, as Node does (it
    asks ``'resumeSession'`` before OpenSSL parses anything), then the handshake fails with
    Node's protocol_version alert and ``ERR_SSL_LENGTH_MISMATCH``.  nodetls read ``03 04`` out
    of the malformed list and skipped the lookup."""

    async def main() -> None:
        async with _Server(certs, resume=True) as (srv, port):
            for sv in (b"\x05\x03\x04\x03\x03\x03", b"\x06\x03\x04"):
                hello, sid = _hello(sv=sv)
                assert len(sid) == 32
                srv.ids.clear()
                answer = await _send(port, hello)
                assert _alert(answer) == 70
                assert await srv.error_code() == "ERR_SSL_LENGTH_MISMATCH"
                assert srv.ids == [sid]
            # a well-formed TLS 1.3 offer: its random legacy id is not looked up
            hello, _ = _hello(sv=b"\x02\x03\x04")
            srv.ids.clear()
            assert _alert(await _send(port, hello)) is None
            assert srv.ids == []

    tls.run(main)


# ---------------------------------------------------------------- server_name
_HOST = (0, b"example.com")
SNI_CASES = {
    # name: (server_name body, SNICallback's name (None: not called), alert)
    "good": (_sni(_HOST), "example.com", None),
    "list length short": (_sni(_HOST, list_len=5), None, _BAD_EXT),
    "list length long": (_sni(_HOST, list_len=40), None, _BAD_EXT),
    "name past the end": (_sni(_HOST, name_len=30, list_len=14), None, _BAD_EXT),
    "two names": (_sni(_HOST, (0, b"other.com")), None, _BAD_EXT),
    "another type first": (_sni((1, b"example.com"), (0, b"other.com")), None, _BAD_EXT),
    "another type only": (_sni((1, b"example.com")), None, _BAD_EXT),
    "empty list": (b"\x00\x00", None, _BAD_EXT),
    "empty extension": (b"", None, _BAD_EXT),
    "trailing byte": (_sni(_HOST, trailing=b"\x00"), None, _BAD_EXT),
    "NUL inside": (_sni((0, b"exa\x00mple.com")), None, 112),  # unrecognized_name
    "256 bytes": (_sni((0, b"a" * 256)), None, 112),
    "255 bytes": (_sni((0, b"a" * 255)), "a" * 255, None),
    "empty name": (_sni((0, b"")), None, None),  # accepted; Node: '' is no SNICallback call
    "trailing dot, upper case": (_sni((0, b"EXAMPLE.com.")), "EXAMPLE.com.", None),
}
SNI_CASES_LATIN1 = {
    "Latin-1 byte": (_sni((0, b"caf\xe9.com")), "caf\xe9.com", None),
    "UTF-8 bytes": (_sni((0, "caf\xe9.com".encode())), "caf\xc3\xa9.com", None),
}


def _sni_case(body: bytes, name: str | None, alert: int | None, certs: Any) -> None:
    async def main() -> None:
        async with _Server(certs, sni=True) as (srv, port):
            hello, _ = _hello(sni=body)
            answer = await _send(port, hello)
            assert _alert(answer) == alert
            assert srv.names == ([] if name is None else [name])
            if alert is not None:
                assert await srv.error_code() == "ERR_SSL_BAD_EXTENSION"

    tls.run(main)


@pytest.mark.parametrize("case", list(SNI_CASES))
def test_sni_callback_only_for_a_name_openssl_accepted(certs: Any, case: str) -> None:
    """``SNICallback`` is called with the name OpenSSL accepted (``SSL_get_servername``), never
    for a server_name list it rejects: Node's alerts, codes and names on the same bytes."""
    _sni_case(*SNI_CASES[case], certs)


@pytest.mark.parametrize("case", list(SNI_CASES_LATIN1))
def test_sni_callback_name_is_latin1_as_node(certs: Any, case: str) -> None:
    """Node reads the name one character per byte (``OneByteString``): ``'caf\\xe9.com'``
    for the byte 0xe9, ``'caf\\xc3\\xa9.com'`` for UTF-8 bytes."""
    _sni_case(*SNI_CASES_LATIN1[case], certs)


@pytest.mark.parametrize("case", list(SNI_CASES) + list(SNI_CASES_LATIN1))
def test_client_hello_servername_is_what_openssl_accepts(case: str) -> None:
    """The engine's :class:`ClientHello` (``on_client_hello``'s argument) holds the name only
    when OpenSSL's ``tls_parse_ctos_server_name`` will accept the list, read as Node reads it
    (Latin-1); nodetls took the first entry of any list (two names, trailing bytes, a list
    length past the end, a name cut short, NUL)."""
    from engine.rawctx import RawContext, make_ca_and_leaf
    from nodetls._engine import TLSEngine
    from nodetls.errors import TLSError

    body, name, alert = {**SNI_CASES, **SNI_CASES_LATIN1}[case]
    if case == "empty name":
        name = ""  # (OpenSSL's SSL_get_servername says '' too; Node's SNICallback is not called)
    seen: list[Any] = []

    class Hooks:
        def on_client_hello(self, ch: Any) -> bool:
            seen.append(ch.servername)
            return False

    _, cert, key = make_ca_and_leaf("localhost")
    server = TLSEngine(RawContext(cert, key), server=True, hooks=Hooks())
    try:
        server.enable_client_hello()
        server.receive(_hello(sni=body)[0])
        try:
            server.do_handshake()
        except TLSError:
            assert alert is not None
        assert seen == [name]
    finally:
        server.free()
