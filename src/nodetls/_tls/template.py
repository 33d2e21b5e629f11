"""The per-server connection template: what a ``tls.Server`` hands each accepted ``TLSSocket``.

A server builds one :class:`SocketTemplate` (its connections' options, checked once) and, from
the first connection on, a :class:`ServerState` (the state every accepted socket starts with,
stored in one call). A *plain* template asks nothing per connection beyond the context's
defaults; :func:`_session_engine` is the one addition a plain server's connection may need (a
session store's listeners). Used by ``TLSSocket.__init__``/``_init_server_connection``
(``socket.py``) and ``tls.Server`` (``server.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._net.socket import AcceptedState
from .._option_table import Options

if TYPE_CHECKING:
    from .._engine import TLSEngine

#: ``TLSSocket._handshake_timer`` of a server connection whose deadline its server's one sweep
#: timer keeps (``tls.Server._handshake_deadlines``), instead of a timer of its own.
IN_SWEEP: Any = object()

#: Server listeners that make a connection's engine need more than the context's defaults.
_ENGINE_EVENTS = frozenset({"resumeSession", "newSession", "OCSPRequest", "keylog"})
#: Those of them that need only the session callbacks (a session store's, usually).
_SESSION_EVENTS = frozenset({"resumeSession", "newSession"})
#: The others (``_init_server_connection`` leaves them to ``_configure_server_engine``).
_OTHER_ENGINE_EVENTS = _ENGINE_EVENTS - _SESSION_EVENTS

#: Server options that make a connection's engine need more than the context's defaults.
_PER_CONNECTION = ("request_cert", "alpn_callback", "alpn_protocols", "npn_protocols",
                  "allow_client_renegotiation", "psk_callback", "sni_callback", "enable_trace")


class SocketTemplate(Options):
    """TLSSocket options already in snake_case and known (never mutated by a socket): the fast
    path of :class:`TLSSocket`'s constructor (an :class:`~nodetls._option_table.Options`: its
    ``repr()`` hides secrets).  A server builds one per server, its values
    ``checked`` once at its creation; ``tls.connect`` builds one from options it normalised."""

    checked = False
    #: The state of a socket accepted with this template (``net.Socket._accepted_state``):
    #: ``None`` until the first connection, empty (false) when it cannot be used.
    accepted_state: ServerState | None = None
    #: A server template asking nothing per connection beyond the context's defaults (no
    #: client certificate, ALPN/NPN, PSK, SNI callback, renegotiation or trace): a connection's
    #: engine then needs only the renegotiation refusal (see ``_configure_server_engine``).
    plain = False
    #: A plain server template's ``handshake_timeout`` (> 0) when its server's one sweep timer
    #: keeps the deadlines (``tls.Server._handshake_deadlines``); 0 (any other template): see
    #: ``_configure_server_engine``.
    sweep_timeout = 0.0


class ServerState(AcceptedState):
    """The ``AcceptedState`` of a server's connection (``TLSSocket._server_accepted_state``)."""

    __slots__ = ()


def _session_engine(engine: TLSEngine, srv: Any) -> bool:
    """A plain server's connection whose server listens for ``'resumeSession'`` and/or
    ``'newSession'`` (a session store) and for no other engine event: the session callbacks
    are switched on as ``_configure_server_engine`` does, for the listeners the server has
    now (added or removed between connections, they apply to the next one, as in Node).
    False: another event needs ``_configure_server_engine``.  (Once both callbacks are on the
    server's context, ``srv._session_callbacks_on`` is that context: a connection then only
    asks for the client hello, without the installation's calls.)  When ``use_session_store``'s
    listener is the only ``'resumeSession'`` one, the compiled binding decides and answers the
    lookup in C (``TLSEngine.enable_session_path``); ``pause_points.run`` reads the id there."""
    events = srv._events
    if not _OTHER_ENGINE_EVENTS.isdisjoint(events):
        return False
    if "resumeSession" in events:
        context = engine.context
        if context is not srv._session_callbacks_on:
            engine.enable_session_callbacks()
            engine.enable_client_hello()
            srv._session_callbacks_on = context
        binding = srv._store_binding
        if binding is None or events.get("resumeSession") != binding._resume_alone \
                or not engine.enable_session_path():
            # (a listener of the user's sees the pause_points.client_hello decision; an
            # ABI-mode binding has no session path)
            engine.want_client_hello = True  # (enable_client_hello, installed already)
        return True
    engine.enable_session_callbacks()
    return True
