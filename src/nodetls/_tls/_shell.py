"""A ``TLSSocket`` over another socket: the raw ``net.Socket`` whose connection it took, as a
*shell* around it (Node's ``_wrapHandle``, ``_start`` and ``_init`` over a ``net.Socket``).

:class:`_TLSSocketShell` is a mixin of ``TLSSocket`` (``socket.py``), without state of its own
(``__slots__ = ()``): :meth:`~_TLSSocketShell._adopt_shell` leaves the raw socket without a handle
and ties the two ends together with two listeners on it (:func:`_shell_closed`,
:func:`_shell_error`, bound to the TLS socket), as in Node, where both share one handle.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._socket_setup import _TLSSocketFields

    _Base = _TLSSocketFields
else:
    _Base = object


class _TLSSocketShell(_Base):
    """``TLSSocket``'s methods that take over another socket's connection (a mixin: no state)."""

    __slots__ = ()

    def _receive_buffered(self, raw: Any) -> None:
        """Node's ``_init``: what the wrapped socket read before TLS took its connection (a
        ClientHello behind a plaintext STARTTLS line, or a socket wrapped late) is received as
        if it had just arrived."""
        while (chunk := raw.read()) is not None:
            data = chunk.encode() if isinstance(chunk, str) else bytes(chunk)
            wrap = self._wrap
            if wrap is None or self._destroyed:
                return
            wrap._on_handle_read(memoryview(data))

    def _adopt_shell(self, raw: Any, handle: Any) -> None:
        """Node's ``_wrapHandle`` over a connected ``net.Socket``: the TLS socket and the raw
        one share the connection.  Here the raw socket becomes a shell: its handle is this
        socket's, and what Node's raw socket still does through the shared handle, the shell
        does through ``_closed_handle`` (its addresses, ``set_no_delay``/``set_keep_alive``,
        ``reset_and_destroy``'s RST) and through this socket (``ref``/``unref``).  Their ends
        are tied both ways, as Node's: the shell's ``'close'`` destroys this socket (its
        ``destroy()`` closes the connection), this socket's close destroys the shell
        (:meth:`_on_handle_close`), and the shell's ``'error'`` is this socket's (Node's
        ``_emitTLSError``)."""
        raw._handle = None
        raw._closed_handle = handle
        raw._shell_of = self
        on_close = functools.partial(_shell_closed, self)
        on_error = functools.partial(_shell_error, self)
        raw.once("close", on_close)
        raw.on("error", on_error)
        self._shell_listener = (raw, on_close, on_error)

    def _wait_for_connect(self, socket: Any) -> None:
        """Node's ``_start`` on a socket not connected yet: this socket is ``connecting``
        (writes queue) until the wrapped one's ``'connect'``; then its handle is taken and the
        handshake starts.  Its error before that is this socket's error."""
        self.connecting = True

        def on_connect() -> None:
            socket.remove_listener("error", on_error)
            socket.remove_listener("close", on_close)
            self.remove_listener("close", on_own_close)
            handle = socket._handle
            if handle is None:
                return
            if self.destroyed:  # (destroyed while connecting: the connection goes too, as
                socket.destroy()  # Node's TLS close destroys the socket it wraps)
                return
            self._adopt_shell(socket, handle)
            self._setup_wrap(handle)
            self._on_handle_connect()  # net.Socket's: options, 'connect', start TLS, reading

        def on_error(err: BaseException) -> None:
            socket.remove_listener("connect", on_connect)
            self.remove_listener("close", on_own_close)
            self.connecting = False
            self.destroy(err)

        def on_close(*_: Any) -> None:
            socket.remove_listener("connect", on_connect)
            self.remove_listener("close", on_own_close)
            self.connecting = False
            self.destroy()

        def on_own_close(*_: Any) -> None:  # (destroyed first: the wrapped socket goes too,
            socket.remove_listener("connect", on_connect)  # its connection attempt with it, as
            socket.destroy()  # Node's TLS close destroys the socket it wraps)

        socket.once("connect", on_connect)
        socket.once("error", on_error)
        socket.once("close", on_close)
        self.once("close", on_own_close)


def _shell_closed(sock: _TLSSocketShell, *_: Any) -> None:
    """The raw socket ``sock`` took over (:meth:`TLSSocket._adopt_shell`) was destroyed: the
    connection goes with it, as in Node, where both share one handle.  A server's socket before
    its handshake completed: ``'tlsClientError'`` ``ECONNRESET`` (Node's ``onSocketClose``);
    otherwise ``sock`` is destroyed without an error (Node: ``wrap.on('close', () =>
    this.destroy())``)."""
    shell = sock._shell_listener
    if shell is not None:
        sock._shell_listener = None  # (fired: only the 'error' listener is left to remove)
        shell[0].remove_listener("error", shell[2])
        shell[0]._shell_of = None
    if sock.destroyed:
        return
    if sock._is_server and not sock._secure_established:
        # (closed: also when the client's end kept a half-open socket open, as Node's shared
        # handle closes under it)
        sock._tls_closed_before_secure(closed=True)
    else:
        sock.destroy()


def _shell_error(sock: _TLSSocketShell, err: BaseException) -> None:
    """The shell's ``'error'`` (``raw.destroy(err)``): Node's ``_emitTLSError`` -- a server's
    socket before its handshake completed reports it as ``'tlsClientError'``, any other emits it
    as its own ``'error'``; the shell's ``'close'`` that follows destroys it
    (:func:`_shell_closed`)."""
    if sock.destroyed:
        return
    if sock._is_server and not sock._secure_established:
        sock._tls_error(err)
    else:
        sock.emit("error", err)
