"""When a ``TLSSocket``'s write completes (Node's ``TLSWrap`` write requests).

In Node a write to a TLS socket is done when its ciphertext was written to the stream below:
``TLSWrap::DoWrite`` encrypts, ``EncOut`` hands the records to the TCP handle (or the Duplex),
and the write request completes from ``OnStreamAfterWrite`` -- on an immediate after a
synchronous TCP write, or when an asynchronous one finishes. Until then the chunk counts in
``writableLength`` and later writes wait in the Writable's buffer (to be written together, as
one ``writev``); a write made before the handshake completes after ``'secureConnect'``, once
sent. ``TLSWrap.write`` (``wrap.py``) returns False for such a write and calls the owner's
``_tls_write_done`` one loop step after the ciphertext went to the transport, or its
``_on_handle_drain`` when the transport drains (a ``nodetls.aio`` transport serving the socket
takes the drain, not the write completion); a write made inside a pass of the wrap's pump (an
echo from a ``'data'`` listener) is offered to ``_tls_write_settle`` when that pass returns.
The functions here are ``TLSSocket``'s methods. (A write in flight when the socket is
destroyed completes with no error after its ``'error'``: ``net.Socket._destroy``'s, as Node's
``onWriteComplete`` on a destroyed stream.)
"""

from __future__ import annotations

from types import MethodType
from typing import Any

from ..stream._writable import Writable

#: Writable's onwrite (Node's ``onwrite``): the completion ``net.Socket`` hands the handle.
_ONWRITE = Writable._on_write_done


def write_done(sock: Any) -> None:
    """The TLS handle completed the write in flight (``TLSSocket._tls_write_done`` and
    ``_on_handle_drain``): Node's ``onWriteComplete`` -> Writable's ``onwrite`` ->
    ``afterWrite``. The usual case (:func:`write_settle`'s: no callback, nothing buffered
    meanwhile, no ``'drain'`` due, not ending nor destroyed) is their state changes alone; any
    other goes through them."""
    cb = sock._pending_write_cb
    if cb is not None and not write_settle(sock):
        sock._pending_write_cb = None
        cb()


def write_settle(sock: Any) -> bool:
    """``TLSSocket._tls_write_settle``: a pass of the TLS handle's pump in which the socket
    wrote (a ``'data'`` listener's echo) returned, the write's ciphertext sent. The usual case
    (Writable's ``onwrite`` with no callback, nothing buffered meanwhile, no ``'drain'`` due,
    not ending nor destroyed) completes now, by its state changes alone -- what differs from Node's completion on the next
    loop step can be seen only by a tick queued in that listener, or another connection's I/O
    in the same loop step (this write's length no longer counted): True. False: the handle
    completes it on the next loop step (a callback, writes buffered behind it, ``end()``...,
    or a write not handed over yet: the pass ran inside the handle's ``write()``)."""
    cb = sock._pending_write_cb
    if cb is None:
        return not sock._w_writing
    if (type(cb) is MethodType and cb.__func__ is _ONWRITE and sock._w_writing
            and sock._w_cb is None and not sock._w_buf and not sock._w_need_drain
            and not sock._w_ending and not sock._destroyed and not sock._w_after_write_pending):
        sock._pending_write_cb = None
        sock._w_writing = False
        sock._w_len -= sock._w_write_len
        sock._w_write_len = 0
        sock._w_pending_cb -= 1
        return True
    return False

