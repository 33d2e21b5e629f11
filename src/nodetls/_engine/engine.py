"""The sans-IO TLS engine: one ``SSL*`` over two memory BIOs.

Theory of operation
-------------------
OpenSSL reads ciphertext from the *read BIO* and writes ciphertext to the *write BIO*; both are
memory BIOs here, so OpenSSL never touches a socket.  The engine is driven by four operations:

* :meth:`TLSEngine.receive` puts ciphertext from the peer into the read BIO
  (:meth:`receive_eof` marks the end of the stream);
* :meth:`do_handshake` advances the handshake and returns :data:`DONE`, :data:`NEED_DATA` (the
  read BIO ran dry) or :data:`PAUSED` (a callback asked OpenSSL to wait: the client-hello callback
  returned RETRY, or the cert callback returned -1, so that an asynchronous user callback — SNI,
  ``'resumeSession'``, ``'OCSPRequest'`` — can answer first: OpenSSL re-invokes the callback on each later
  ``SSL_do_handshake`` until it decides);
* :meth:`read` returns every byte of plaintext that is available now;
* :meth:`write` encrypts plaintext into the write BIO.

After any of them, :meth:`take_output` returns the ciphertext OpenSSL produced, which the caller
sends to the peer.  Memory BIOs never block, so a write never has to be retried with the same
buffer (the context also sets ``SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER``).

OpenSSL calls back into Python during these operations (:mod:`.callbacks`).  Those callbacks never
call user code that could re-enter the engine: answers that must be synchronous (ALPN selection,
PSK, certificate verification) go to the *hooks* object; notifications (keylog lines, new
sessions) are appended to :attr:`TLSEngine.events` and the caller drains them after the operation
returns.  An exception raised inside a callback is stored and re-raised by the operation.

:class:`TLSEngine` keeps here what every connection runs once or per handshake step
(construction and :meth:`~TLSEngine.free`, :meth:`~TLSEngine.receive` and the memory BIOs, the
handshake steps, shutdown); its base classes, each compiled with it, hold the rest, in one chain
``TLSEngine -> _EngineRecords -> _EngineSetup -> _EngineCallbacks -> _EngineQueries``:
:mod:`._records` (``_EngineRecords``: the per-record path, :meth:`~TLSEngine.read_view` and the
other reads, :meth:`~TLSEngine.write`, :meth:`~TLSEngine.seal`, :meth:`~TLSEngine.take_output`,
and the errors the handshake steps share), :mod:`._setup` (``_EngineSetup``: the setters,
``enable_*``, :meth:`~TLSEngine.resume`, :meth:`~TLSEngine.renegotiate`), :mod:`._callback_bodies`
(``_EngineCallbacks``: the ``_cb_*`` methods :mod:`.callbacks`' trampolines call) and
:mod:`._queries` (``_EngineQueries``: what the handshake negotiated).  Every attribute's default
is declared on :class:`TLSEngine`; the bases declare the attributes they use.

The engine never imports asyncio.
"""

from __future__ import annotations

import weakref
from typing import Any, Final

from .._openssl import constants as C
from .._openssl import ffi, lib
from .._openssl.errors import consume_errors, tls_error
from ..errors import node_error
from . import callbacks
from ._abi import _py_new, _py_release_bios, _py_shutdown
from ._records import (
    _CERT,
    _CHAR_A,
    _CLIENT_HELLO,
    _OUT_CHUNK,
    _WANT_CLIENT_HELLO_CB,
    _WANT_READ,
    _WANT_WRITE,
    _WANT_X509_LOOKUP,
    NULL,
    _BIO_ctrl_pending,
    _BIO_write,
    _EngineRecords,
    _from_buffer,
    _local,
    _scratch,
    _SSL_get_error,
    _unpack,
    receive_buffer,
)
from ._wire import decode_alpn, encode_alpn, session_from_der
from .protocol import (
    DONE,
    NEED_DATA,
    PAUSED,
    ClientHello,
    HandshakeDone,
    KeylogLine,
    NewSession,
    Pause,
    State,
    Step,
)

# (decode_alpn, encode_alpn and session_from_der live in ._wire, receive_buffer in ._records;
# re-exported from here.)
__all__ = ["TLSEngine", "DONE", "NEED_DATA", "PAUSED", "live_engines", "decode_alpn",
           "encode_alpn", "session_from_der", "receive_buffer"]

# Every module-level name the methods read is Final: compiled with mypyc, a Final is a static C
# variable, any other global a dictionary lookup per read (~130 instructions each).  Those the
# record path uses too are ._records' (imported above: a static C variable of that module).
# The OpenSSL functions called per connection or per handshake step, bound once (``lib.X`` is a
# dictionary lookup and an attribute read on cffi's ``lib`` per call).
_BIO_ctrl: Final = lib.BIO_ctrl
_BIO_free: Final = lib.BIO_free
_SSL_do_handshake: Final = lib.SSL_do_handshake
_SSL_free: Final = lib.SSL_free
_SET_EOF_RETURN: Final = C.BIO_C_SET_BUF_MEM_EOF_RETURN  # (a macro's command)
_SSL_ctrl: Final = lib.SSL_ctrl
_CLEAR_MODE: Final = C.SSL_CTRL_CLEAR_MODE  # (SSL_clear_mode, a macro)
_AUTO_RETRY: Final = C.SSL_MODE_AUTO_RETRY
# The compiled binding's handshake step (``_openssl/cdef.py`` HELPERS: receive, SSL_do_handshake
# and the flight's BIO_read in one C call); None in ABI mode, where the Python steps run.
_c_handshake: Final = getattr(lib, "nodetls_handshake", None)
_OPTS: Final = C.SSL_OP_IGNORE_UNEXPECTED_EOF  # every SSL's own options (see TLSEngine.__init__)
_OPTS_NO_RENEG: Final = _OPTS | C.SSL_OP_NO_RENEGOTIATION
# The states and steps every connection passes through, as globals (Python 3.11 specialises a
# global's read, not an attribute read on the enum class: ~300 instructions each).
_HANDSHAKING: Final = State.HANDSHAKING
_SECURE: Final = State.SECURE
_FREED: Final = State.FREED
_DONE: Final = DONE
_NEED_DATA: Final = NEED_DATA
_PAUSED: Final = PAUSED
_weakref: Final = weakref.ref
_ENGINES: Final = callbacks.ENGINES


class _Count:
    """A counter updated in place (a global's ``+=`` is a dictionary read and a store)."""

    __slots__ = ("n",)

    def __init__(self) -> None:
        self.n = 0


_LIVE: Final = _Count()  # engines holding an SSL*

def live_engines() -> int:
    """How many engines hold an ``SSL*`` right now (leak tests)."""
    return _LIVE.n


# An engine's creation, BIO swap and close_notify: one C call each with the compiled binding
# (``_openssl/cdef.py`` HELPERS), the same steps in Python in ABI mode.
_new_ssl: Final = getattr(lib, "nodetls_new", None) or _py_new
_release_bios: Final = getattr(lib, "nodetls_release_bios", None) or _py_release_bios
_shutdown: Final = getattr(lib, "nodetls_shutdown", None) or _py_shutdown


class TLSEngine(_EngineRecords):
    """One TLS connection, sans-IO.  ``context`` is a ``SecureContext`` (its ``.ctx`` is the
    SSL_CTX); ``hooks`` receives synchronous questions (see the ``_cb_*`` methods,
    :mod:`._callback_bodies`)."""

    # Defaults at class level: an engine stores only what differs (an idle connection's engine
    # then keeps a small instance dict; every attribute below is replaced, never mutated).
    ssl: Any = None  # the SSL* (None before SSL_new succeeded and once freed)
    error: BaseException | None = None  # set with State.ERROR, raised again after
    events: list[KeylogLine | NewSession | HandshakeDone] | tuple[()] = ()  # a list once noted
    _exc: BaseException | None = None
    # The captured exception ends the connection without a word: the flight it interrupted
    # (and any alert) is dropped (a client's PSK callback raised: Node's client destroys
    # itself inside the callback, before its ClientHello is written).
    _exc_drops_flight = False
    _ch_state = 0  # client hello: 0 not seen, 1 waiting for the owner, 2 done
    _cert_state = 0  # cert callback: same
    client_hello: ClientHello | None = None
    want_client_hello = False
    want_cert = False
    paused: Pause | None = None
    # Another read_view() may find plaintext (the read buffer filled up, a paused
    # renegotiation continues, or a record with no application data ended the read with more
    # records behind it): SSL may hold records the read BIO no longer shows.
    read_more = False
    # read_view() left ciphertext to send (a KeyUpdate answer, a renegotiation's messages):
    # take_output() has something (one C check per read instead of a Python call per read).
    output_after_read = False
    _eof = False
    _reading_on = False  # (_EngineRecords._read_on)
    _prefetched_session: bytes | None = None
    # The session lookup is decided and answered in C (enable_session_path).
    session_path = False
    _pending_context: Any = None
    sni_context: Any = None  # the context SNI lent its certificate (Node's sni_context_)
    _ocsp_response: bytes | None = None
    _alpn_server_wire: bytes | None = None
    _alpn_out: Any = None
    alpn_callback: Any = None
    _npn_wire: bytes = b""
    _npn_buf: Any = None
    npn_client_protocols: list[bytes] | None = None
    npn_selected: bytes | None = None
    reject_unauthorized = False
    verify_error: int = 0
    verify_depth: int = -1
    identity_error: BaseException | None = None
    check_identity: Any = None
    _verify_store: Any = None  # the X509_STORE_CTX, only while check_identity runs
    received_close_notify = False
    handshake_complete = False
    handshakes = 0
    _renegotiation_refused = False  # disable_renegotiation() was called (the owner's choice)
    _trace_bio: Any = NULL
    _pinned: tuple[Any, ...] = ()  # cdata OpenSSL points into (NPN selection)
    _keys_bound = False  # bound to initial_context's ticket keys (SecureContext.binds_ssl)
    # The direct C entries' arguments (see _EngineRecords); _scratch, _rbio and _wbio have no
    # default (set by __init__).
    _a: Any = None
    _rx: Any = None
    _rx_a: Any = None

    def __init__(self, context: Any, server: bool, hooks: Any = None,
                 no_renegotiation: bool = False) -> None:
        self.context = context
        self.initial_context = context
        self.server = server
        self.hooks = hooks
        self.state = _HANDSHAKING
        # Read on every record: instance attributes, not the class defaults (Python 3.11 does
        # not specialise an instance's read of a class attribute: ~500 instructions each).
        self.error = None
        self.events = ()
        self.paused = None
        self.received_close_notify = False
        self._eof = False
        # Read once or more per connection (each handshake step, free()): instance attributes too.
        self._exc = None
        self._keys_bound = False
        self._trace_bio = NULL
        self.check_identity = None
        self.alpn_callback = None
        # this thread's buffers (an engine stays on its loop's thread; made by the first one)
        try:
            scratch = _local.scratch
        except AttributeError:
            scratch = _scratch()
        self._scratch = scratch
        # The SSL, its two memory BIOs (it owns them), its options and its side, in one call.
        # A TCP FIN without close_notify is an end of stream after the handshake (Node treats a
        # ragged EOF the same way); during the handshake it is still an error (see read()).
        # no_renegotiation: set_renegotiation(False) in the same call.
        bios = scratch[6]
        ssl = _new_ssl(context.ctx, _OPTS_NO_RENEG if no_renegotiation else _OPTS, server, bios)
        if ssl == NULL:
            raise tls_error(consume_errors(ffi, lib), "SSL_new failed")
        self.ssl = ssl
        # Without SSL_MODE_AUTO_RETRY (on by default), an SSL_read_ex that processes a record
        # with no application data (a TLS 1.3 NewSessionTicket or KeyUpdate, a HelloRequest, a
        # renegotiation's ClientHello) returns there, the records behind it left for the next
        # call: the events it made come out in record order (_read_stopped sets read_more).
        _SSL_ctrl(ssl, _CLEAR_MODE, _AUTO_RETRY, NULL)
        self._rbio = bios[0]
        self._wbio = bios[1]
        _ENGINES[ssl] = _weakref(self)
        _LIVE.n += 1
        try:
            binds = context.binds_ssl  # ticket keys served by a Python callback
        except AttributeError:
            binds = False
        if binds:
            context.bind_ssl(ssl)
            self._keys_bound = True

    # ------------------------------------------------------------------ lifetime
    def free(self) -> None:
        """Free the SSL (and its BIOs) exactly once.  Safe to call again."""
        ssl = self.ssl
        if ssl is None:
            return
        self.ssl = None
        self._a = None
        self.state = _FREED
        del _ENGINES[ssl]  # (registered with the SSL: exactly once)
        if self._keys_bound:
            self.initial_context.unbind_ssl(ssl)
        _SSL_free(ssl)  # frees both BIOs too: drop our pointers to them
        self._rbio = self._wbio = NULL
        if self._trace_bio != NULL:
            _BIO_free(self._trace_bio)
            self._trace_bio = NULL
        _LIVE.n -= 1
        # Drop the callbacks into the TLS layer (each holds its socket): an engine kept alive by
        # an error's traceback then closes no reference cycle with the socket holding the error.
        self.hooks = None
        if self.check_identity is not None:
            self.check_identity = None
        if self.alpn_callback is not None:
            self.alpn_callback = None
        # The terminal error's traceback holds this engine's frames: a freed engine (which only
        # raises ERR_SOCKET_CLOSED) forgets it, so engine <-> error is no cycle either.
        if self.error is not None:
            self.error = None
        if self._exc is not None:
            self._exc = None
        self._pinned = ()

    def __del__(self) -> None:
        if self.ssl is None:
            return  # freed already (the usual case)
        try:
            self.free()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass

    # ------------------------------------------------------------------ I/O
    def receive(self, data: bytes | bytearray | memoryview) -> None:
        """Ciphertext from the peer (ignored once freed: the BIOs went with the ``SSL*``)."""
        n = len(data)
        if n and self.ssl is not None:
            _BIO_write(self._rbio, data if type(data) is bytes else _from_buffer(
                _CHAR_A, data, False), n)

    def receive_eof(self) -> None:
        """The peer's byte stream ended: reads past the buffered data report EOF."""
        self._eof = True
        if self.ssl is not None:
            _BIO_ctrl(self._rbio, _SET_EOF_RETURN, 0, NULL)  # (the macro)

    def release_bios(self) -> bool:
        """Give both memory BIOs fresh, empty buffers when both are drained (after the
        handshake): a memory BIO keeps the largest buffer it ever held, and the handshake's
        flights left a few KiB in them that an idle connection would otherwise keep.  False when
        not drained (or the peer's stream ended: the read BIO carries that)."""
        ssl = self.ssl
        if ssl is None or self._eof:
            return False
        return _release_bios(ssl) == 1  # (one C call: both checks, both buffers)

    def input_pending(self) -> int:
        """Ciphertext received and not consumed yet (0 once freed)."""
        return _BIO_ctrl_pending(self._rbio) if self.ssl is not None else 0

    def output_pending(self) -> int:
        return _BIO_ctrl_pending(self._wbio) if self.ssl is not None else 0

    def do_handshake(self, data: bytes | bytearray | memoryview | None = None) -> Step:
        """Advance the handshake: :data:`DONE`, :data:`NEED_DATA` or :data:`PAUSED`.
        ``data``: ciphertext to :meth:`receive` first (a handshake step's one call per read)."""
        ssl = self.ssl
        if ssl is None:
            raise node_error("ERR_SOCKET_CLOSED")
        if data:
            self.receive(data)
        if self.error is not None:
            raise self.error
        r = _SSL_do_handshake(ssl)
        return self._outcome(0 if r == 1 else _SSL_get_error(ssl, r))

    def _outcome(self, err: int) -> Step:
        """What a handshake step achieved, from ``SSL_get_error()`` of its ``SSL_do_handshake``
        (0: it completed); raises what a callback stored, or the fatal error."""
        if self._exc is not None:
            self._raise_captured()
        if err == 0:
            self.paused = None
            self.state = _SECURE
            self.handshake_complete = True
            if self.session_path:  # the store's answer, kept for a second ClientHello
                lib.nodetls_sp_done(self.ssl)
            elif self._prefetched_session is not None:
                self._prefetched_session = None
            return _DONE
        if err == _WANT_READ or err == _WANT_WRITE:
            return _NEED_DATA
        if err == _WANT_CLIENT_HELLO_CB:
            self._pause(_CLIENT_HELLO)
            return _PAUSED
        if err == _WANT_X509_LOOKUP:
            self._pause(_CERT)
            return _PAUSED
        raise self._fatal(self._error(err, handshake=True))

    def handshake_step(self, data: bytes | bytearray | memoryview | None = None
                       ) -> tuple[Step, bytes]:
        """:meth:`do_handshake`, and when it returns :data:`NEED_DATA` :meth:`take_output` too,
        in one call (the TLS layer's handshake step: the flight to send comes back with it).
        After :data:`DONE` or :data:`PAUSED` the output stays for :meth:`take_output` (a TLS 1.3
        server's tickets go out with what the ``'secure'`` listeners write).  Raises as
        :meth:`do_handshake` (the output then stays too: the caller flushes the alert)."""
        ssl = self.ssl
        if _c_handshake is None or ssl is None or self.error is not None:
            r = self.do_handshake(data)
            return (r, self.take_output()) if r is _NEED_DATA else (r, b"")
        n = len(data) if data else 0
        scratch = self._scratch
        size = scratch[1]
        err = _c_handshake(ssl, self._rbio, self._wbio, NULL if not n else data
                           if type(data) is bytes else _from_buffer(_CHAR_A, data, False), n,
                           scratch[3], _OUT_CHUNK, size)
        got = size[0]
        if not got:  # completed, paused, failed, or waiting with nothing to send
            return self._outcome(err), b""
        if self._exc is not None:  # back into the (empty) write BIO: the failure's flush sends it
            _BIO_write(self._wbio, scratch[3], got)
            self._raise_captured()
        # (SSL_ERROR_WANT_READ/WRITE: the only outcome with a flight taken)
        if got < _OUT_CHUNK:
            return _NEED_DATA, scratch[5][:got]
        return _NEED_DATA, _unpack(scratch[3], got) + self.take_output()

    def shutdown(self) -> None:
        """Send close_notify (once)."""
        ssl = self.ssl
        if ssl is None or self.error is not None:
            return  # after a fatal error, the alert was the last word
        _shutdown(ssl)  # (one C call: not sent yet, the handshake complete, SSL_shutdown)

    def close_quietly(self) -> None:
        """The connection closes without close_notify (Node's ``destroy()``: its TLSWrap is
        freed without ``SSL_shutdown``). Marked as sent all the same: ``SSL_free`` of a
        connection not shut down makes OpenSSL remove its session from the cache, which marks
        the shared ``SSL_SESSION`` not resumable."""
        ssl = self.ssl
        if ssl is not None:
            lib.SSL_set_shutdown(ssl, C.SSL_SENT_SHUTDOWN)
