"""OCSP responders for the tests: the real ``openssl ocsp -index ... -port`` and a loopback HTTP
server answering with chosen bytes (garbage, slow, another certificate's response, stale).

* :class:`OcspPKI` -- a test CA (the suite's :class:`PKI`) issuing leaves whose AIA names a
  responder on a port chosen up front (the responder may be started, stopped and restarted on it).
* :func:`openssl_responder` -- ``openssl ocsp`` serving an index file (``PeerProcess``). It
  listens on every interface (it has no bind option), on a free port, for the test's short life.
* :class:`CannedResponder` -- ``async with CannedResponder(port, answer)``: a minimal HTTP/1.1
  server on 127.0.0.1 whose ``answer(request_der)`` returns ``(delay_seconds, body)``.
* :func:`build_response` -- an OCSP response built and signed with ``cryptography``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Callable, Iterable
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from helpers.certs import LOCALHOST_SANS, PKI, CertBundle
from helpers.peers import PeerProcess, free_port, require_peer

UTC = dt.UTC


def now() -> dt.datetime:
    return dt.datetime.now(UTC).replace(microsecond=0)


def index_time(when: dt.datetime) -> str:
    """An index file's expiry date, as ``openssl ca`` writes it: the certificate's notAfter as
    encoded (``apps/ca.c`` copies the ASN1_TIME's text), so RFC 5280's UTCTime
    ``YYMMDDHHMMSSZ`` for 1950-2049 and GeneralizedTime ``YYYYMMDDHHMMSSZ`` from 2050."""
    if 1950 <= when.year < 2050:
        return when.strftime("%y%m%d%H%M%SZ")
    return when.strftime("%Y%m%d%H%M%SZ")


def utc_time(when: dt.datetime) -> str:
    """An index file's revocation date: UTCTime ``YYMMDDHHMMSSZ`` only (``openssl ocsp``/``ca``
    read it with ``ASN1_UTCTIME_set_string``, which takes no four-digit year)."""
    if not 1950 <= when.year < 2050:
        raise ValueError(f"{when}: openssl's index takes a revocation date in UTCTime's range")
    return when.strftime("%y%m%d%H%M%SZ")


class OcspPKI:
    """A CA whose leaves carry ``http://127.0.0.1:<port>/ocsp`` in their AIA."""

    def __init__(self, directory: Path, port: int | None = None) -> None:
        self.dir = directory
        self.pki = PKI(directory)
        self.ca = self.pki.intermediate
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/ocsp"

    def leaf(self, name: str, **kw: object) -> CertBundle:
        kw.setdefault("ocsp_url", self.url)
        return self.pki.make_leaf("localhost", LOCALHOST_SANS, name=name, **kw)  # type: ignore[arg-type]

    def responder_cert(self, name: str, *, ocsp_signing: bool = True,
                       issuer: CertBundle | None = None) -> CertBundle:
        """A responder certificate (OCSP-signing EKU unless ``ocsp_signing=False``)."""
        return self.pki.make_leaf(name, [], name=name, issuer=issuer or self.ca,
                                  eku=("OCSPSigning",) if ocsp_signing else ("serverAuth",))

    def index(self, name: str, good: Iterable[CertBundle] = (),
              revoked: Iterable[CertBundle] = ()) -> Path:
        """An ``openssl ca``-style index file: ``V`` lines for ``good``, ``R`` for ``revoked``."""
        lines = []
        rev_date = utc_time(now() - dt.timedelta(hours=1))
        for status, bundles in (("V", good), ("R", revoked)):
            for b in bundles:
                exp = index_time(b.x509.not_valid_after_utc)
                serial = format(b.x509.serial_number, "X")
                serial = serial if len(serial) % 2 == 0 else "0" + serial
                subject = "/CN=localhost"
                lines.append("\t".join([status, exp, rev_date if status == "R" else "", serial,
                                        "unknown", subject]))
        path = self.dir / f"{name}.index"
        path.write_text("".join(line + "\n" for line in lines))
        # Every test leaf is CN=localhost: let the index hold the same subject twice.
        Path(f"{path}.attr").write_text("unique_subject = no\n")
        return path


def openssl_responder(pki: OcspPKI, index: Path, *, signer: CertBundle | None = None,
                      nmin: int | None = 1) -> PeerProcess:
    """``openssl ocsp`` answering for ``pki.ca`` from ``index`` on ``pki.port``, signing with
    ``signer`` (default: the CA itself); ``next_update`` is ``nmin`` minutes ahead."""
    openssl = require_peer("openssl")
    signer = signer or pki.ca
    argv = [openssl, "ocsp", "-index", index, "-port", str(pki.port), "-CA", pki.ca.cert_path,
            "-rsigner", signer.cert_path, "-rkey", signer.key_path, "-ignore_err"]
    if nmin is not None:
        argv += ["-nmin", str(nmin)]
    return PeerProcess(argv, ready=r"ACCEPT \S*:(?P<port>\d+)", timeout=15)


def build_response(cert: CertBundle, issuer: CertBundle, *, status: str = "good",
                   this_update: dt.datetime | None = None,
                   next_update: dt.datetime | None | bool = True,
                   signer: CertBundle | None = None,
                   include_signer: bool = False) -> bytes:
    """A DER OCSP response for ``cert`` signed by ``signer`` (default the issuer)."""
    t = this_update or now() - dt.timedelta(minutes=1)
    nu = (t + dt.timedelta(days=1)) if next_update is True else (next_update or None)
    cert_status = {"good": ocsp.OCSPCertStatus.GOOD, "revoked": ocsp.OCSPCertStatus.REVOKED,
                   "unknown": ocsp.OCSPCertStatus.UNKNOWN}[status]
    signer = signer or issuer
    builder = ocsp.OCSPResponseBuilder().add_response(
        cert=cert.x509, issuer=issuer.x509, algorithm=hashes.SHA1(), cert_status=cert_status,
        this_update=t, next_update=nu,
        revocation_time=t if status == "revoked" else None, revocation_reason=None,
    ).responder_id(ocsp.OCSPResponderEncoding.HASH, signer.x509)
    if include_signer:
        builder = builder.certificates([signer.x509])
    resp = builder.sign(signer.key, hashes.SHA256())  # type: ignore[arg-type]
    return resp.public_bytes(serialization.Encoding.DER)


Answer = Callable[[bytes], tuple[float, bytes]]


class CannedResponder:
    """A loopback HTTP server answering every POST with ``answer(body)`` -> (delay, bytes), with
    HTTP status ``status``."""

    def __init__(self, port: int, answer: Answer, *, status: int = 200) -> None:
        self.port = port
        self.answer = answer
        self.status = status
        self.requests: list[bytes] = []
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> CannedResponder:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for t in list(self._tasks):
            t.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 5)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            body = await asyncio.wait_for(reader.readexactly(length), 10)
            self.requests.append(body)
            delay, data = self.answer(body)
            if delay:
                await asyncio.sleep(delay)  # the "slow responder" itself, not a synchronisation
            writer.write(b"HTTP/1.1 %d Canned\r\nContent-Type: application/ocsp-response\r\n"
                         b"Content-Length: %d\r\nConnection: close\r\n\r\n"
                         % (self.status, len(data)) + data)
            await writer.drain()
        except (asyncio.CancelledError, ConnectionError, asyncio.IncompleteReadError,
                TimeoutError):
            pass
        finally:
            writer.close()
            self._tasks.discard(task)


async def stapled(port: int, ca_pem: bytes, **opts: object) -> bytes | None:
    """Connect a nodetls client asking for a staple; what the server stapled (``None``: nothing).
    """
    import nodetls as tls

    got: list[bytes | None] = []
    sock = tls.connect(port, {"host": "127.0.0.1", "servername": "localhost", "ca": ca_pem,
                              "request_ocsp": True, **opts})
    sock.on("OCSPResponse", got.append)
    try:
        await asyncio.wait_for(sock, 10)
    finally:
        sock.destroy()
    assert len(got) == 1
    return got[0]


def status_of(der: bytes | None) -> str | None:
    """The certificate status a DER response states (``None`` for no response)."""
    if der is None:
        return None
    return ocsp.load_der_ocsp_response(der).certificate_status.name.lower()
