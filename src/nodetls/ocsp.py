"""OCSP stapling a server can trust, and checking what a server staples (beyond Node).

Node hands the work to the user: the server's ``'OCSPRequest'`` listener must produce a response
and the client's ``'OCSPResponse'`` listener gets raw bytes. Here:

* :class:`Stapler` fetches, validates, caches (in memory and, optionally, in a shared store),
  refreshes and serves OCSP responses; ``server.use_ocsp_stapler(stapler)`` wires it to a server;
* :func:`verify_response` checks a DER response as a client should;
* ``tls.connect(..., ocsp='require'|'if-present')`` checks the staple before ``'secureConnect'``;
* :func:`inspect_staple` reports what a connected client socket was stapled (for tools).

The Stapler fetches over HTTP with aiohttp, an optional dependency (``pip install
'nodetls[ocsp]'``); everything else needs only ``cryptography``. docs/ocsp.md is the user's guide.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as _dt
import functools
import hashlib
import logging
import random
import struct
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp as _ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID

from ._ocsp_check import (
    REASON_CODES,
    Checked,
    OCSPError,
    check_response,
    check_staple,
    find_issuer,
    load_certificate,
    verify_response,
)
from .events import EventEmitter

__all__ = ["Stapler", "OCSPError", "verify_response", "inspect_staple", "REASON_CODES"]

log = logging.getLogger("nodetls.ocsp")

#: Refresh period assumed for a response without ``next_update`` ("newer information is always
#: available", RFC 6960): it is re-fetched this often and served at most this long.
DEFAULT_WINDOW = _dt.timedelta(hours=1)
#: Retry delays after a failure: from 1 s (nothing held) or ``window / 100`` (at least 1 s, at
#: most 1 min), doubling, capped at 1 hour and at a quarter of the held response's remaining
#: life; each with up to 20 % jitter.
MAX_BACKOFF = 3600.0
#: A response body larger than this is not an OCSP response.
MAX_RESPONSE_SIZE = 64 * 1024
_STORE_PREFIX = b"nodetls-ocsp:"
_FINAL = frozenset({"no-url", "unknown-issuer"})
_STORE_MAGIC = b"NTO1"


def _utcnow() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def _ocsp_urls(cert: x509.Certificate) -> list[str]:
    try:
        aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except x509.ExtensionNotFound:
        return []
    return [d.access_location.value for d in aia
            if d.access_method == AuthorityInformationAccessOID.OCSP
            and isinstance(d.access_location, x509.UniformResourceIdentifier)
            and d.access_location.value.lower().startswith(("http://", "https://"))]


@dataclass(eq=False)
class _Entry:
    """What the stapler holds for one certificate."""

    cert: x509.Certificate
    issuer: x509.Certificate | None
    key: bytes                               # sha256 of the certificate's DER
    urls: list[str]                          # the AIA OCSP responders, in the certificate's order
    held: Checked | None = None              # the last good (valid) response
    fetched_at: _dt.datetime | None = None
    error: OCSPError | None = None
    failures: int = 0
    task: asyncio.Task[None] | None = None
    first: asyncio.Future[None] | None = None

    def valid(self, now: _dt.datetime) -> Checked | None:
        """The held response while it may still be served."""
        held = self.held
        if held is None:
            return None
        if now >= _expiry(held):
            return None
        return held


def _resolve(fut: asyncio.Future[None] | None) -> None:
    if fut is not None and not fut.done():
        fut.set_result(None)


async def _all_done(futures: list[asyncio.Future[None]]) -> None:
    if futures:
        await asyncio.wait(futures)


def _window(held: Checked) -> _dt.timedelta:
    if held.next_update is None:
        return DEFAULT_WINDOW
    return max(held.next_update - held.this_update, _dt.timedelta(seconds=1))


def _expiry(held: Checked) -> _dt.datetime:
    return held.next_update if held.next_update is not None else held.this_update + DEFAULT_WINDOW


class Stapler(EventEmitter):
    """Fetches, validates, caches and refreshes OCSP responses for a server's certificates.

    A certificate's responders (its AIA OCSP URLs) are asked in order until one gives a valid
    response; the server's own ``'OCSPRequest'`` listener, when it has one, answers instead of
    the stapler (docs/ocsp.md).

    Beyond Node. Args (keywords only):
        store: ``None`` or an object with ``async get(key: bytes) -> bytes | None``,
            ``async set(key: bytes, data: bytes, ttl: float)`` and ``async delete(key: bytes)``
            (a ``SessionStore``: ``MemorySessionStore``, ``RedisSessionStore``...): responses are
            shared through it, so a fleet of servers fetches each one once.
        refresh: fraction of a response's validity window (``this_update`` .. ``next_update``)
            after which a fresh one is fetched; 0 < refresh < 1 (default 0.5, as certmagic).
        timeout: seconds allowed for one HTTP exchange (and for one store call).

    Events: ``'fetched'(cert, status)`` (a new valid response is held), ``'revoked'(cert,
    status)`` (it says the certificate is revoked), ``'error'(err)`` (an :class:`OCSPError`; its
    ``cert`` attribute names the certificate; emitted only while someone listens, always logged on
    the ``nodetls.ocsp`` logger).
    """

    def __init__(self, *, store: Any = None, refresh: float = 0.5, timeout: float = 5.0) -> None:
        super().__init__()
        if isinstance(refresh, bool) or not isinstance(refresh, (int, float)) \
                or not 0 < refresh < 1:
            raise ValueError(f"refresh must be a number between 0 and 1 (exclusive), got "
                             f"{refresh!r}")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        if store is not None and not all(callable(getattr(store, m, None))
                                         for m in ("get", "set", "delete")):
            raise TypeError("store must have async get(key), set(key, data, ttl) and "
                            "delete(key) methods (a SessionStore)")
        try:
            import aiohttp
        except ImportError:
            raise ImportError("nodetls.ocsp.Stapler fetches OCSP responses with aiohttp, which "
                              "is not installed: pip install 'nodetls[ocsp]'") from None
        self._aiohttp = aiohttp
        self.store = store
        self.refresh = float(refresh)
        self.timeout = float(timeout)
        self._entries: dict[bytes, _Entry] = {}
        self._session: Any = None
        self._servers: list[Any] = []
        self._answerers: dict[int, Any] = {}  # id(server) -> this stapler's listener on it
        self._warned: set[int] = set()  # id(server): the user-listener warning was logged

    # ------------------------------------------------------------------ public
    def status(self, cert: Any) -> dict[str, Any]:
        """What the stapler holds for ``cert`` (an ``x509.Certificate``, DER or PEM).

        ``{'status': 'good'|'revoked'|'unknown'|None, 'this_update', 'next_update',
        'fetched_at', 'error'}``: ``status`` and the times describe the response being stapled
        (``None`` when there is none: never fetched, or the last good one expired); ``error`` is
        the :class:`OCSPError` of the last failed attempt, ``None`` once an attempt succeeds.
        """
        entry = self._entries.get(hashlib.sha256(_der(load_certificate(cert))).digest())
        out: dict[str, Any] = {"status": None, "this_update": None, "next_update": None,
                               "fetched_at": None, "error": None}
        if entry is None:
            return out
        held = entry.valid(_utcnow())
        if held is not None:
            out.update(status=held.status, this_update=held.this_update,
                       next_update=held.next_update, fetched_at=entry.fetched_at)
        out["error"] = entry.error
        return out

    def _response_for(self, cert: Any) -> bytes | None:
        """The DER response to staple for ``cert`` now, from memory only (never waits)."""
        der = bytes(cert) if isinstance(cert, (bytes, bytearray, memoryview)) else \
            _der(load_certificate(cert))
        entry = self._entries.get(hashlib.sha256(der).digest())
        held = entry.valid(_utcnow()) if entry is not None else None
        return held.der if held is not None else None

    async def close(self) -> None:
        """Stop refreshing and close the HTTP client (also done when the last server using the
        stapler emits ``'close'``). Responses held stay readable through :meth:`status`."""
        tasks = [e.task for e in self._entries.values() if e.task is not None]
        for entry in self._entries.values():
            entry.task = None
            _resolve(entry.first)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    # ------------------------------------------------------------------ servers
    def _attach(self, server: Any) -> asyncio.Task[None]:
        """``server.use_ocsp_stapler(self)``: answer its ``'OCSPRequest'``, prefetch for each of
        its certificates; the future resolves once each has had its first attempt.

        One listener answers ``'OCSPRequest'`` (in Node a second answer destroys the socket with
        ``ERR_MULTIPLE_CALLBACK``). The rule: while the server has an ``'OCSPRequest'`` listener
        of the user's (added before or after this call), that listener answers and the stapler
        stands aside for that server, still tracking and refreshing its certificates
        (:meth:`status` stays current); a warning is logged once per server. Once the user's
        listeners are removed, the stapler answers again. Called again (say after
        ``remove_all_listeners('OCSPRequest')``), it puts its listener back."""
        loop = asyncio.get_running_loop()
        if server not in self._servers:
            self._servers.append(server)
            self._answerers[id(server)] = functools.partial(self._on_ocsp_request, server)
            server.once("close", lambda *_: self._detach(server))
        answer = self._answerers[id(server)]
        if not any(fn is answer for fn in server.listeners("OCSPRequest")):
            server.on("OCSPRequest", answer)
        if self._user_listeners(server):
            self._warn_user_listener(server)
        contexts = [server._context] + [ctx for _, ctx in server._sni_contexts]
        entries = [e for ctx in contexts for e in self._track_context(ctx)]
        firsts = [e.first for e in entries if e.first is not None and not e.first.done()]
        return loop.create_task(_all_done(firsts))

    def _detach(self, server: Any) -> None:
        if server in self._servers:
            self._servers.remove(server)
            self._warned.discard(id(server))
            answer = self._answerers.pop(id(server), None)
            if answer is not None:
                server.remove_listener("OCSPRequest", answer)
        if not self._servers:
            asyncio.ensure_future(self.close())

    def _user_listeners(self, server: Any) -> bool:
        """Whether ``server`` has an ``'OCSPRequest'`` listener other than this stapler's."""
        mine = self._answerers.get(id(server))
        return any(fn is not mine for fn in server.listeners("OCSPRequest"))

    def _warn_user_listener(self, server: Any) -> None:
        if id(server) in self._warned:
            return
        self._warned.add(id(server))
        log.warning("OCSP: the server has an 'OCSPRequest' listener besides its stapler's: that "
                    "listener answers (one listener answers 'OCSPRequest'), and the stapler "
                    "staples nothing on this server until it is removed")

    def _track_context(self, context: Any) -> list[_Entry]:
        """Start keeping responses for every certificate of a ``SecureContext`` (called for each
        context of an attached server, and by ``add_context``/``set_secure_context``)."""
        out = []
        for chain in getattr(context, "cert_chain_der", None) or []:
            if not chain:
                continue
            leaf = x509.load_der_x509_certificate(chain[0])
            pool = [x509.load_der_x509_certificate(d)
                    for d in list(chain[1:]) + list(getattr(context, "ca_der", None) or [])]
            out.append(self._track(leaf, find_issuer(leaf, pool)))
        return out

    def _on_ocsp_request(self, server: Any, cert: bytes, issuer: bytes | None,
                         callback: Any) -> None:
        """The server's ``'OCSPRequest'``: answer from memory; a certificate never seen (an
        ``sni_callback`` context) is tracked from now on and goes unstapled this once. A user's
        ``'OCSPRequest'`` listener on the server answers instead (see :meth:`_attach`)."""
        user = self._user_listeners(server)
        if user:
            self._warn_user_listener(server)
        try:
            key = hashlib.sha256(cert).digest()
            if key not in self._entries and cert:
                leaf = x509.load_der_x509_certificate(cert)
                iss = x509.load_der_x509_certificate(issuer) if issuer else None
                self._track(leaf, iss if iss is not None and find_issuer(leaf, [iss]) else None)
            response = self._response_for(cert) if cert else None
        except ValueError:
            response = None
        if not user:
            callback(None, response)

    def _track(self, cert: x509.Certificate, issuer: x509.Certificate | None) -> _Entry:
        key = hashlib.sha256(_der(cert)).digest()
        entry = self._entries.get(key)
        if entry is None:
            entry = _Entry(cert, issuer, key, _ocsp_urls(cert))
            self._entries[key] = entry
        elif entry.issuer is None and issuer is not None:
            entry.issuer = issuer
        if entry.task is None or entry.task.done():
            loop = asyncio.get_running_loop()
            if entry.first is None or entry.first.done():
                entry.first = loop.create_future()
            entry.task = loop.create_task(self._run(entry))
        return entry

    # ------------------------------------------------------------------ the refresh loop
    async def _run(self, entry: _Entry) -> None:
        while True:
            try:
                await self._attempt(entry)
                entry.failures = 0
                entry.error = None
                delay = self._refresh_delay(entry)
            except OCSPError as err:
                entry.failures += 1
                delay = self._fail(entry, err)
                if err.reason in _FINAL:  # retrying cannot help: stop (until re-tracked)
                    _resolve(entry.first)
                    return
            except Exception as exc:  # noqa: BLE001 - a bug must not stop the refreshing
                entry.failures += 1
                delay = self._fail(entry, OCSPError("unreachable", f"OCSP fetch failed: {exc!r}"))
            _resolve(entry.first)
            await asyncio.sleep(delay)

    def _refresh_delay(self, entry: _Entry) -> float:
        held = entry.held
        assert held is not None
        window = _window(held)
        due = held.this_update + window * self.refresh
        jitter = random.random() * 0.1 * (window * self.refresh).total_seconds()
        return max((due - _utcnow()).total_seconds() - jitter, 1.0)

    def _fail(self, entry: _Entry, err: OCSPError) -> float:
        err.cert = entry.cert  # type: ignore[attr-defined]
        entry.error = err
        now = _utcnow()
        held = entry.valid(now)
        if held is None:
            entry.held = None  # expired: stop stapling it
        subject = entry.cert.subject.rfc4514_string()
        kept = f"; still stapling the response valid until {_expiry(held)}" if held else ""
        log.warning("OCSP for %s (serial %X) failed: %s [%s]%s", subject,
                    entry.cert.serial_number, err, err.reason, kept)
        if self.listener_count("error"):
            self.emit("error", err)
        # Nothing to staple: retry soon (1 s, doubling); else pace by the response's window.
        base = min(max(_window(held).total_seconds() / 100, 1.0), 60.0) if held else 1.0
        delay = min(base * 2 ** (entry.failures - 1), MAX_BACKOFF)
        if held is not None:  # retry well before the held response expires
            delay = min(delay, max((_expiry(held) - now).total_seconds() / 4, base))
        return float(delay * (1 - random.random() * 0.2))

    async def _attempt(self, entry: _Entry) -> None:
        if entry.issuer is None:
            raise OCSPError("unknown-issuer", "the certificate's issuer is not in the chain or ca "
                            "of the context: its OCSP request cannot be built")
        if not entry.urls:
            raise OCSPError("no-url", "the certificate has no OCSP responder URL (AIA)")
        now = _utcnow()
        stored = await self._store_get(entry)
        if stored is not None:
            self._adopt(entry, *stored)
        held = entry.valid(now)
        if held is not None and now < held.this_update + _window(held) * self.refresh:
            return  # what we (or the fleet, through the store) hold is not due for refresh
        checked = await self._ask_responders(entry.urls, entry.cert, entry.issuer)
        fetched_at = _utcnow()
        self._adopt(entry, checked, fetched_at)
        await self._store_set(entry, checked, fetched_at)

    def _adopt(self, entry: _Entry, checked: Checked, fetched_at: _dt.datetime) -> None:
        held = entry.held
        if held is not None and held.der == checked.der:
            return
        if held is not None and checked.this_update < held.this_update:
            return  # never go back to an older response
        entry.held, entry.fetched_at, entry.error = checked, fetched_at, None
        status = self.status(entry.cert)
        subject = entry.cert.subject.rfc4514_string()
        if checked.status == "revoked":
            log.error("OCSP: certificate %s (serial %X) is REVOKED (since %s)", subject,
                      entry.cert.serial_number, checked.revocation_time)
        else:
            log.info("OCSP: %s for %s (serial %X), next update %s", checked.status, subject,
                     entry.cert.serial_number, checked.next_update)
        self.emit("fetched", entry.cert, status)
        if checked.status == "revoked":
            self.emit("revoked", entry.cert, status)

    # ------------------------------------------------------------------ HTTP
    async def _ask_responders(self, urls: list[str], cert: x509.Certificate,
                              issuer: x509.Certificate) -> Checked:
        """The first valid response from the certificate's responders, asked in the order its
        AIA lists them: a responder that times out, refuses, answers an HTTP error or a response
        that fails a check is passed over for the next. When all fail, the error is the last
        one's reason with every responder's failure in its message."""
        errors: list[OCSPError] = []
        for url in urls:
            if errors:
                log.info("OCSP: %s; trying the next responder, %s", errors[-1], url)
            try:
                der = await self._fetch(url, cert, issuer)  # its errors name the URL
            except OCSPError as err:
                errors.append(err)
                continue
            try:
                return check_response(der, cert, issuer)
            except OCSPError as err:
                errors.append(err if len(urls) == 1 else
                              OCSPError(err.reason, f"the OCSP responder {url} answered: {err}"))
        if len(errors) == 1:
            raise errors[0]
        raise OCSPError(errors[-1].reason, f"all {len(errors)} OCSP responders failed: "
                        + "; ".join(str(e) for e in errors))

    async def _fetch(self, url: str, cert: x509.Certificate, issuer: x509.Certificate) -> bytes:
        aiohttp = self._aiohttp
        request = _ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1()).build()
        body = request.public_bytes(serialization.Encoding.DER)
        if self._session is None or self._session.closed:
            # No keep-alive: refreshes are minutes apart, and responders (openssl ocsp) close.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(force_close=True))
        headers = {"Content-Type": "application/ocsp-request",
                   "Accept": "application/ocsp-response"}
        try:
            async with asyncio.timeout(self.timeout):
                async with self._session.post(url, data=body, headers=headers,
                                              allow_redirects=False) as resp:
                    if resp.status != 200:
                        raise OCSPError("unreachable", f"the OCSP responder {url} answered "
                                        f"HTTP {resp.status}")
                    data = await resp.content.read(MAX_RESPONSE_SIZE + 1)
                    while len(data) <= MAX_RESPONSE_SIZE and not resp.content.at_eof():
                        more = await resp.content.read(MAX_RESPONSE_SIZE + 1 - len(data))
                        if not more:
                            break
                        data += more
        except TimeoutError:
            raise OCSPError("timeout", f"the OCSP responder {url} did not answer within "
                            f"{self.timeout:g} s") from None
        except aiohttp.ClientError as exc:
            raise OCSPError("unreachable", f"the OCSP responder {url} is unreachable: "
                            f"{exc}") from None
        if len(data) > MAX_RESPONSE_SIZE:
            raise OCSPError("malformed", f"the OCSP responder {url} answered more than "
                            f"{MAX_RESPONSE_SIZE} bytes")
        return bytes(data)

    # ------------------------------------------------------------------ the store
    async def _store_call(self, what: str, call: Awaitable[Any]) -> Any:
        try:
            return await asyncio.wait_for(call, self.timeout)
        except Exception as exc:  # noqa: BLE001 - a failing store never stops stapling
            log.warning("OCSP: store %s failed: %r", what, exc)
            return None

    async def _store_get(self, entry: _Entry) -> tuple[Checked, _dt.datetime] | None:
        if self.store is None or entry.issuer is None:
            return None
        data = await self._store_call("get", self.store.get(_STORE_PREFIX + entry.key))
        return _stored_record(data, entry.cert, entry.issuer)

    async def _store_set(self, entry: _Entry, checked: Checked, fetched_at: _dt.datetime) -> None:
        if self.store is None:
            return
        ttl = (_expiry(checked) - _utcnow()).total_seconds()
        if ttl <= 0:
            return
        data = _STORE_MAGIC + struct.pack("!d", fetched_at.timestamp()) + checked.der
        await self._store_call("set", self.store.set(_STORE_PREFIX + entry.key, data, ttl))


def _stored_record(data: Any, cert: x509.Certificate, issuer: x509.Certificate, *,
                   now: _dt.datetime | None = None) -> tuple[Checked, _dt.datetime] | None:
    """A record a store gave back (``_STORE_MAGIC``, the fetch time as a big-endian double,
    the response's DER), checked: ``(checked, fetched_at)``, or None for anything else -- not
    bytes, another format, cut short, a fetch time that is no date, a response that fails a
    check (logged). A store is shared (a fleet's Redis): what it holds is never trusted, and
    never raises here (the refresh would fail before asking the responders)."""
    if not isinstance(data, (bytes, bytearray)) or not bytes(data).startswith(_STORE_MAGIC):
        return None
    data = bytes(data)
    if len(data) < 12:
        return None
    (stamp,) = struct.unpack("!d", data[4:12])
    try:
        fetched_at = _dt.datetime.fromtimestamp(stamp, _dt.UTC)
    except (ValueError, OverflowError, OSError):  # NaN, infinite, beyond year 9999
        return None
    try:
        checked = check_response(data[12:], cert, issuer, now=now)
    except OCSPError as err:
        log.warning("OCSP: ignoring the stored response for %s: %s",
                    cert.subject.rfc4514_string(), err)
        return None
    return checked, fetched_at


def inspect_staple(sock: Any, *, now: _dt.datetime | None = None) -> dict[str, Any]:
    """What a connected client ``TLSSocket`` (made with ``request_ocsp`` or ``ocsp``) was
    stapled, checked as ``ocsp='require'`` would: ``{'stapled': bool, 'status':
    'good'|'revoked'|'unknown'|None, 'this_update', 'next_update', 'produced_at', 'error':
    OCSPError | None}`` (for tools such as ``nodetls connect --ocsp``)."""
    staple = getattr(sock, "_ocsp_staple", None)
    eng = getattr(sock, "_engine", None)
    chain = (eng.verified_chain_der() or eng.peer_chain_der()) if eng is not None else []
    checked, err = check_staple(staple, chain, now=now)
    return {"stapled": bool(staple), "status": checked.status if checked else None,
            "this_update": checked.this_update if checked else None,
            "next_update": checked.next_update if checked else None,
            "produced_at": checked.produced_at if checked else None, "error": err}

