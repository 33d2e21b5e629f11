"""The engine's typed protocol: its states, handshake results, pause reasons and events.

Theory of operation
-------------------
A :class:`~nodetls._engine.engine.TLSEngine` is a small state machine (as h11's connection):

* :attr:`State.HANDSHAKING` until ``do_handshake()`` returns :data:`Step.DONE`;
* :attr:`State.PAUSED` while a callback asked OpenSSL to wait (:class:`Pause` says where) and the
  owner has not called ``resume()``;
* :attr:`State.SECURE` once the handshake is done (a TLS 1.2 renegotiation stays here);
* :attr:`State.ERROR`, *terminal*: an operation raised a fatal TLS error.  The engine never leaves
  it; every later ``do_handshake()``/``read()``/``write()`` raises the same error again and
  ``shutdown()`` sends nothing (a fatal alert already went out);
* :attr:`State.FREED` once the ``SSL*`` is freed.

Pause reasons are named by the OpenSSL callback that paused, because one OpenSSL pause point serves
several of Node's user callbacks: :attr:`Pause.CLIENT_HELLO` is Node's ``loadSession``
(``'resumeSession'``), :attr:`Pause.CERT` is ``loadSNI`` (``SNICallback``) followed by
``requestOCSP`` (``'OCSPRequest'``).  The TLS layer's ``_tls/pause_points.py`` runs them.

Events are things OpenSSL told us from inside a callback that the owner must hear *after* the
OpenSSL call returned (so that user code never runs inside OpenSSL): :class:`KeylogLine`,
:class:`NewSession` and :data:`HANDSHAKE_DONE`.  They are queued in ``engine.events`` in order.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["State", "Step", "Pause", "KeylogLine", "NewSession", "HandshakeDone",
           "HANDSHAKE_DONE", "ClientHello", "DONE", "NEED_DATA", "PAUSED"]


class Referable:
    """A base taking weak references: ``TLSEngine``'s (``callbacks.ENGINES`` refers to engines
    weakly) and ``TLSWrap``'s. Compiled with mypyc, a native class takes none, unless a base is
    an ordinary Python class: this one (``protocol`` is never compiled)."""


class State(enum.Enum):
    """Where the engine is (see the module docstring)."""

    HANDSHAKING = "handshaking"
    PAUSED = "paused"
    SECURE = "secure"
    ERROR = "error"
    FREED = "freed"


class Step(enum.IntEnum):
    """What ``do_handshake()`` achieved."""

    DONE = 1  # the handshake is complete
    NEED_DATA = 2  # the read BIO ran dry: send the output, wait for the peer
    PAUSED = 3  # a callback asked OpenSSL to wait: answer, then ``resume()``


DONE = Step.DONE
NEED_DATA = Step.NEED_DATA
PAUSED = Step.PAUSED


class Pause(enum.StrEnum):
    """Where a paused handshake waits (a ``str`` enum: ``Pause.CERT == 'cert'``)."""

    CLIENT_HELLO = "client_hello"  # the client-hello callback returned RETRY: loadSession
    CERT = "cert"  # the cert callback returned -1: loadSNI, then requestOCSP


@dataclass(frozen=True, slots=True)
class KeylogLine:
    """One NSS key log line (with its newline), for ``'keylog'``."""

    line: bytes


@dataclass(frozen=True, slots=True)
class NewSession:
    """A session OpenSSL created (``'newSession'`` on servers, ``'session'`` on clients)."""

    session_id: bytes
    der: bytes


@dataclass(frozen=True, slots=True)
class HandshakeDone:
    """A handshake after the first one finished (a TLS 1.2 renegotiation, either side's):
    OpenSSL's ``SSL_CB_HANDSHAKE_DONE``, which Node answers with ``onhandshakedone`` (``'secure'``
    again).  Noted only while the engine watches handshakes (``watch_handshakes``)."""


#: The one :class:`HandshakeDone` event.
HANDSHAKE_DONE = HandshakeDone()


class ClientHello:
    """What the server learned from a ClientHello at the client-hello callback, each field only
    as OpenSSL's own parser will accept it.  When a TLS 1.3 PSK is offered and TLS 1.3 will be
    negotiated (the client offers it, the server allows it), nothing else is read (``tls13`` is True; ``servername``, ``status_request``, ``session_id``,
    ``has_ticket_ext`` keep their defaults) and ``psk_identity`` is its first identity when
    OpenSSL's stateful lookup will look it up (32 bytes, a key exchange mode OpenSSL uses),
    else None."""

    __slots__ = ("servername", "session_id", "psk_identity", "status_request", "has_ticket_ext",
                 "tls13")

    def __init__(self) -> None:
        self.servername: str | None = None
        self.session_id: bytes = b""
        self.psk_identity: bytes | None = None
        self.status_request = False
        self.has_ticket_ext = False
        self.tls13 = False
