"""Node's pause points: where a server handshake waits for user callbacks.

Node (``lib/internal/tls/wrap.js``) lets three user callbacks answer *later*, while the handshake
waits: ``loadSession`` (``'resumeSession'``), ``loadSNI`` (``SNICallback``) and ``requestOCSP``
(``'OCSPRequest'``).  The engine pauses at two OpenSSL callbacks (``_engine/protocol.py``,
:class:`~nodetls._engine.Pause`); everything the TLS layer does there is in this module:

* **Deciding** runs *inside* the OpenSSL callback and must not call user code:
  :func:`client_hello` (is there an id an external cache can resume?) and
  :func:`wants_cert_pause` (cert callback: an ``SNICallback`` with a servername, or an
  ``'OCSPRequest'`` listener with a status request; an ``add_context`` match is applied at once).
  With the compiled binding, a connection whose only ``'resumeSession'`` listener is
  ``use_session_store``'s has that decision made in C instead (``TLSEngine.enable_session_path``:
  the same rules, no Python callback, no :class:`ClientHello`); :func:`run` reads the id from the
  engine.
* **Running** happens after the OpenSSL call returned (:func:`run`): ``Pause.CLIENT_HELLO`` ->
  :func:`load_session`; ``Pause.CERT`` -> :func:`load_sni`, then :func:`request_ocsp`.  Each ends
  by resuming the handshake, or by destroying the socket.

Every callback handed to a listener has Node's three guards (:class:`OnceCallback`): a second call
destroys the socket with ``ERR_MULTIPLE_CALLBACK``; a call after the socket is gone is ignored; an
error argument destroys the connection through ``'tlsClientError'``.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._engine import ClientHello, Pause, TLSEngine
from ..errors import InvalidArgTypeError, NodeTypeError, node_error
from ..events import _TASKS

if TYPE_CHECKING:
    from .socket import TLSSocket

__all__ = ["OnceCallback", "once_callback", "client_hello", "wants_cert_pause", "run", "load_session",
           "load_sni", "request_ocsp", "save_session"]


class OnceCallback:
    """The callback handed to a ``'resumeSession'``/``'OCSPRequest'``/``'newSession'`` listener
    or an ``SNICallback``, with Node's guards (``lib/_tls_wrap.js``):

    * a second call destroys the socket with ``ERR_MULTIPLE_CALLBACK`` and returns normally:
      ``'tlsClientError'`` while the handshake is still running, the socket's ``'error'`` after,
      nothing once the socket is gone (``'newSession'``'s second call is ignored, as Node's);
    * a call after the socket is gone is ignored (Node: ``ERR_SOCKET_CLOSED`` on a destroyed
      socket, which goes nowhere), so nothing touches a freed engine;
    * an error argument, or an exception raised while applying the answer, fails the handshake
      (``'tlsClientError'``).

    :attr:`socket` is the connection it answers for: a listener that raises instead of calling
    it has that connection destroyed (``tls.Server._listener_failed``).
    """

    __slots__ = ("socket", "_done", "_called", "_repeat_ignored", "__name__")

    def __init__(self, sock: TLSSocket, name: str, done: Callable[..., None], *,
                 repeat_ignored: bool = False) -> None:
        self.socket = sock
        self._done = done
        self._called = False
        self._repeat_ignored = repeat_ignored
        self.__name__ = f"{name}_callback"

    def __call__(self, err: BaseException | None = None, *args: Any) -> None:
        sock = self.socket
        if self._called:
            if not self._repeat_ignored:
                sock._tls_error(node_error("ERR_MULTIPLE_CALLBACK"))
            return
        self._called = True
        if sock.destroyed or sock._engine is None:
            return  # the socket is gone: ignored (Node: ERR_SOCKET_CLOSED, swallowed)
        try:
            if err is not None:  # Node: owner.destroy(err), whatever err is
                raise err if isinstance(err, BaseException) else Exception(str(err))
            self._done(*args)
        except BaseException as exc:  # noqa: BLE001 - also an err whose str() raises
            sock._tls_error(exc)

    def __repr__(self) -> str:
        return f"<{self.__name__} of {self.socket!r}>"


def once_callback(sock: TLSSocket, name: str, done: Callable[..., None], *,
                  repeat_ignored: bool = False) -> OnceCallback:
    """The guarded callback (:class:`OnceCallback`) ``done`` is called through."""
    return OnceCallback(sock, name, done, repeat_ignored=repeat_ignored)


def _call_listener(sock: TLSSocket, fn: Callable[..., Any], *args: Any) -> None:
    """Call a user callback that answers the handshake (``SNICallback``).  Node: an exception it
    raises fails the handshake (``'tlsClientError'``); a coroutine function runs as a task whose
    exception does the same."""
    try:
        res = fn(*args)
    except BaseException as exc:  # noqa: BLE001
        sock._tls_error(exc)
        return
    if inspect.isawaitable(res):
        task = asyncio.ensure_future(res)
        _TASKS.add(task)  # a strong reference (run() also waits for these)

        def finished(t: asyncio.Task[Any]) -> None:
            _TASKS.discard(t)
            exc = None if t.cancelled() else t.exception()
            if exc is not None:
                sock._tls_error(exc)

        task.add_done_callback(finished)


def _resume(sock: TLSSocket) -> None:
    wrap = sock._wrap
    if wrap is not None:
        wrap.resume()


# ---------------------------------------------------------------------------- deciding (in C)
def client_hello(sock: TLSSocket, ch: ClientHello) -> bool:
    """``TLSSocket._tls_client_hello``: inside the client-hello callback, pause for
    ``'resumeSession'``?  Pauses (recording the id in ``_pending_resume_id``) only for an id a
    server-side cache can resume: a legacy session id offered without a ticket when TLS 1.3 will
    not be negotiated, or, with tickets off (stateful TLS 1.3), the PSK identity, which *is* the
    id ``'newSession'`` stored.

    Beyond Node: when the only listener is ``use_session_store``'s and its store answers at once
    (a ``MemorySessionStore``), the lookup is made here and the handshake does not pause."""
    srv = sock._tls_server
    if srv is None or "resumeSession" not in srv._events:  # (listener_count, without its call)
        return False
    wrap = sock._wrap
    eng = wrap.engine if wrap is not None else None  # (sock._engine, without its call)
    if eng is None:
        return False
    psk = ch.psk_identity
    if psk is not None:
        if eng.tickets_enabled():
            return False  # a stateless ticket: OpenSSL decrypts it itself
        sid = psk
    elif ch.has_ticket_ext or not ch.session_id or (ch.tls13 and eng.allows_tls13()):
        # A TLS 1.2 ticket resumes statelessly; when TLS 1.3 will be negotiated the legacy id is
        # random (or a TLS 1.2 session, which 1.3 cannot resume).
        return False
    else:
        sid = ch.session_id
    binding = srv._store_binding
    if binding is not None and binding.answers_now and binding.serves_resumption_alone():
        # Our own store code only (no user code runs inside the OpenSSL callback).
        data = binding.lookup_now(sid, psk is not None)
        if data is not None:
            eng.set_prefetched_session(data)
        return False
    sock._pending_resume_id = sid
    if psk is not None:
        sock._pending_resume_ticket = True  # (load_session: a TLS 1.3 ticket)
    return True


def wants_cert_pause(sock: TLSSocket, eng: TLSEngine, servername: str | None) -> bool:
    """Inside the cert callback: pause for ``SNICallback`` and/or ``'OCSPRequest'``?  A context
    from ``add_context`` needs no pause: it is chosen here, synchronously."""
    srv = sock._tls_server
    if servername and sock._tls_opts.get("sni_callback") is not None:
        return True
    if servername and srv is not None and srv._sni_contexts:
        ctx = srv._find_sni_context(servername)
        if ctx is not None:
            eng.use_context(ctx)
    return bool(srv is not None and srv.listener_count("OCSPRequest") and eng.ocsp_requested())


# ---------------------------------------------------------------------------- running (after C)
_TLS1_3 = 0x0304  # what TLSEngine.protocol_number() says of TLS 1.3 (OpenSSL's TLS1_3_VERSION)
_CLIENT_HELLO = Pause.CLIENT_HELLO
_CERT = Pause.CERT


def run(sock: TLSSocket, where: Pause | None) -> None:
    """The engine paused at ``where``: run Node's user callbacks for it (``TLSSocket._tls_pause``
    is this function)."""
    if where is _CLIENT_HELLO:
        srv = sock._tls_server
        wrap = sock._wrap
        if wrap is not None and wrap.engine is not None and wrap.engine.session_path:
            # Decided in C (TLSEngine.enable_session_path): the id comes from the engine.
            pending = wrap.engine.pending_lookup()
            if pending is not None:
                sock._pending_resume_id, sock._pending_resume_ticket = pending
        binding = srv._store_binding
        if binding is not None and srv._events.get("resumeSession") == binding._resume_alone:
            # (load_session's store lookup, without its call)
            binding.lookup(sock._pending_resume_id, sock._pending_resume_ticket,
                           _store_answered, sock)
            return
        load_session(sock)
    elif where is _CERT:
        load_sni(sock)


def load_session(sock: TLSSocket) -> None:
    """Node's ``loadSession``: ``'resumeSession'(id, callback(err, session_data))``.  When the
    only listener is ``use_session_store``'s, its lookup is called directly, told whether the id
    is a TLS 1.3 ticket (kept only briefly after its use), and answers :func:`_store_answered`."""
    srv = sock._tls_server
    sid = sock._pending_resume_id
    binding = srv._store_binding
    if binding is not None and srv._events.get("resumeSession") == binding._resume_alone:
        # (binding.serves_resumption_alone(), without its call)
        binding.lookup(sid, sock._pending_resume_ticket, _store_answered, sock)
        return

    def done(data: Any = None, *_: Any) -> None:
        session = _session_bytes(data)
        eng = sock._engine
        if session is not None and eng is not None:
            eng.set_prefetched_session(session)
        _resume(sock)

    srv.emit("resumeSession", sid, once_callback(sock, "resumeSession", done))


def _store_answered(sock: TLSSocket, data: Any) -> None:
    """``use_session_store``'s answer to :func:`load_session` (one per lookup: the session or
    None): what the ``'resumeSession'`` callback does, with the guards that can apply to it
    (the socket gone: ignored; an exception: ``'tlsClientError'``)."""
    wrap = sock._wrap
    if wrap is None or sock._destroyed:
        return
    eng = wrap.engine
    if eng is None:
        return
    try:
        if data is not None:
            eng.set_prefetched_session(data if data.__class__ is bytes else _session_bytes(data))
        wrap.resume()
    except BaseException as exc:  # noqa: BLE001
        sock._tls_error(exc)


def save_session(sock: TLSSocket, srv: Any, session_id: bytes, der: bytes) -> bool:
    """Beyond Node: ``'newSession'`` served without the event when the server's only listener is
    ``use_session_store``'s (no user code can observe the difference); False: emit it.

    A store that answers at once (``MemorySessionStore``) is written here, inside the handshake
    step that made the session: nothing is held, no callback.  Another store, for a TLS 1.3
    ticket: the ticket (and whatever the server writes meanwhile) stays held until the store has
    answered, as Node holds it for ``'newSession'``'s callback (a client must not offer a ticket
    the store does not hold yet), but the store is asked at once, and ``'secureConnection'``
    does not wait.  TLS 1.2 with such a store keeps the event's path (Node holds the server's
    Finished and ``'secureConnection'``)."""
    binding = srv._store_binding
    if binding is None or srv._events.get("newSession") != binding._new_alone:
        return False  # (not binding.serves_new_sessions_alone(), without its call)
    if binding.answers_now:
        binding.save_now(session_id, der)
        return True
    wrap = sock._wrap
    if wrap is None:
        return False
    eng = wrap.engine
    if eng is None or eng.protocol_number() != _TLS1_3:
        return False
    sock._store_saves += 1
    wrap.hold()
    binding.save(session_id, der, _store_saved, sock)
    return True


def _store_saved(sock: TLSSocket) -> None:
    """A TLS 1.3 ticket :func:`save_session` handed to the store is written: once the last one
    is, what the server held since is released."""
    sock._store_saves -= 1
    if not sock._store_saves:
        held = sock._wrap
        if held is not None:
            held.release()


def _session_bytes(data: Any) -> bytes | None:
    """The session a ``'resumeSession'`` callback answered, or None.  Node's ``LoadSession``
    takes a Buffer and ignores anything else; here a ``str``, any other object or a buffer that
    cannot be read (released) is likewise no session: a full handshake, not a failed connection.
    Bytes OpenSSL cannot parse are the engine's to ignore (the same full handshake)."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        try:
            return bytes(data)
        except ValueError:  # a released memoryview
            return None
    return None


def load_sni(sock: TLSSocket) -> None:
    """Node's ``loadSNI``: ``SNICallback(servername, callback(err, ctx))``, then
    :func:`request_ocsp`."""
    sni_cb = sock._tls_opts.get("sni_callback")
    eng = sock._engine
    servername = eng.servername() if eng is not None else None

    def after_sni(ctx: Any = None, *_: Any) -> None:
        if ctx is not None and ctx is not False:  # (None, False: the default context)
            from .._context import SecureContext

            if isinstance(ctx, dict) and ctx:
                ctx = SecureContext(ctx)  # (its options: ours; Node takes SecureContexts)
            if not isinstance(ctx, SecureContext):
                # Node's words and class, a TypeError ({} included: an object, but no context)
                sock._tls_error(NodeTypeError("Invalid SNI context", "ERR_TLS_INVALID_CONTEXT"))
                return
            eng2 = sock._engine
            if eng2 is not None:
                eng2.use_context(ctx)
        request_ocsp(sock)

    if servername and sni_cb is not None:
        _call_listener(sock, sni_cb, servername, once_callback(sock, "SNICallback", after_sni))
        return
    request_ocsp(sock)


def request_ocsp(sock: TLSSocket) -> None:
    """Node's ``requestOCSP``: ``'OCSPRequest'(cert, issuer, callback(err, response))`` when the
    client asked for a status and someone listens; the certificate is the one of the context SNI
    chose."""
    srv = sock._tls_server
    eng = sock._engine
    if eng is None:
        return
    if srv is None or not srv.listener_count("OCSPRequest") or not eng.ocsp_requested():
        _resume(sock)
        return
    ctx = eng.sni_target
    chain = getattr(ctx, "cert_chain_der", None) or [[]]
    first = chain[0] if chain else []
    cert = first[0] if first else eng.own_certificate_der()
    issuer = _find_issuer(cert, list(first[1:]) + list(getattr(ctx, "ca_der", []) or []))

    def done(response: Any = None, *_: Any) -> None:
        if response is not None:
            if not isinstance(response, (bytes, bytearray, memoryview)):
                raise InvalidArgTypeError(
                    "OCSP response must be bytes, got " + type(response).__name__
                )
            eng2 = sock._engine
            if eng2 is not None:
                eng2.set_ocsp_response(bytes(response))
        _resume(sock)

    srv.emit("OCSPRequest", cert, issuer, once_callback(sock, "OCSPRequest", done))


def _find_issuer(cert_der: bytes | None, candidates: list[bytes]) -> bytes | None:
    """The DER of the certificate in ``candidates`` that issued ``cert_der`` (or None)."""
    if not cert_der or not candidates:
        return None
    from .._x509 import find_issuer

    try:
        found: bytes | None = find_issuer(cert_der, candidates)
    except ValueError:  # (OpenSSL cannot parse cert_der)
        return None
    return found
