"""A server's check of each renegotiation (Node's ``onhandshakestart`` in ``_tls_wrap.js``).

Node's server counts every handshake start: a start less than ``tls.CLIENT_RENEG_WINDOW``
seconds after the one before adds one to the count (a later one sets it back to 1), and a count
above ``tls.CLIENT_RENEG_LIMIT`` is an ``ERR_TLS_SESSION_ATTACK`` error; else a socket whose
``disableRenegotiation()`` was called gets ``ERR_TLS_RENEGOTIATION_DISABLED``.  Node runs that
check inside ``SSL_read`` and the socket's destroy from its ``'error'`` listener closes the TCP
connection at once: the server's answer to that ClientHello is never sent, and the client sees
the connection end (a FIN: ``'end'``, ``'close'`` without error).

Here the check runs inside OpenSSL's info callback (:func:`handshake_start`), where no user code
may run: the wrap's output is held (``TLSWrap.hold()``: not even the close_notify goes out) and
the socket is destroyed on the next loop step.  Node also reads the records of one transport
read one by one, running the ``'data'`` listeners of the application data before a ClientHello
behind it is looked at, so a ``disableRenegotiation()`` there stops that renegotiation; the
engine reads a whole batch of records in one call, so an allowed renegotiation's answer is held
until the next loop step too (:func:`_verdict`), after the batch's ``'data'`` listeners ran,
and the socket is destroyed then if they disabled renegotiation.  Nothing of this runs per
record: only at a handshake's start, through the info callback.

OpenSSL may also refuse the renegotiation's ClientHello itself, in the same engine call (the
renegotiation SCSV in it, extended master secret dropped: a fatal alert).  Node's TLSWrap,
which held nothing, writes that alert out before its ``'error'`` (ClearOut's ``EncOut``); here
the socket's error path sends what this check holds first (:func:`release_for_error`), so the
peer gets the alert, as from Node or ``openssl s_server``, not a bare close.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import TYPE_CHECKING

from ..errors import node_error

if TYPE_CHECKING:
    from .socket import TLSSocket
    from .wrap import TLSWrap

__all__ = ["handshake_start", "release_for_error"]

#: The clock the window is measured with (a seam for tests).
clock = time.monotonic


def handshake_start(sock: TLSSocket, count: int, limit: int, window: float) -> None:
    """A handshake started on ``sock``'s engine (``count``: the engine's count, 1 for the
    first).  A server's renegotiation: Node's ``onhandshakestart`` checks (see the module)."""
    if not sock._is_server:
        return
    now = clock()
    last = sock._last_handshake_time
    sock._last_handshake_time = now
    if count <= 1:  # the first handshake: only its time is kept (Node's lastHandshakeTime)
        return
    wrap = sock._wrap
    if wrap is None:
        return
    # Node reads tls.CLIENT_RENEG_LIMIT/WINDOW at each check, so programs may change them.
    public = sys.modules.get("nodetls")
    limit = getattr(public, "CLIENT_RENEG_LIMIT", limit)
    window = getattr(public, "CLIENT_RENEG_WINDOW", window)
    sock._reneg_count = 1 if now - last >= window else sock._reneg_count + 1
    code = None
    if sock._reneg_count > limit:
        code = "ERR_TLS_SESSION_ATTACK"
    elif sock._renegotiation_disabled:
        code = "ERR_TLS_RENEGOTIATION_DISABLED"
    release = not wrap.held  # (held already: a 'newSession' answer pending keeps it)
    wrap.hold()
    if release and code is None:  # (this check holds the output until its verdict: go on)
        sock._reneg_holds = wrap
    asyncio.get_running_loop().call_soon(_verdict, sock, code, wrap if release else None)


def release_for_error(sock: TLSSocket) -> None:
    """``sock`` fails (OpenSSL refused the renegotiation): send what this check holds -- the
    fatal alert OpenSSL made -- before the socket is destroyed (only the output: not
    ``release()``'s cycle, which would read on)."""
    wrap = sock._reneg_holds
    sock._reneg_holds = None
    if wrap is not None and wrap is sock._wrap and wrap.held:
        wrap.held = False
        wrap._flush()


def _verdict(sock: TLSSocket, code: str | None, wrap: TLSWrap | None) -> None:
    """The next loop step after a renegotiation began: destroy the socket with ``code``'s
    error, or with ``ERR_TLS_RENEGOTIATION_DISABLED`` when a listener disabled renegotiation
    meanwhile; else send what was held (the server's answer) and go on."""
    if wrap is not None and sock._reneg_holds is wrap:
        sock._reneg_holds = None
    if sock.destroyed:
        return
    if code is None and sock._renegotiation_disabled:
        code = "ERR_TLS_RENEGOTIATION_DISABLED"
    if code is not None:
        sock.destroy(node_error(code))
    elif wrap is not None and wrap is sock._wrap:
        wrap.release()
