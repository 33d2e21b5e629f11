"""``connect()`` on a socket whose connect is still in progress (Node v20's behaviour).

Node's ``Socket.prototype.connect`` called again while ``connecting`` does not throw: it adds
the callback as a ``'connect'`` listener and starts a second ``lookupAndConnect`` on the handle
the first connect is using. That connect's lookup (``'lookup'``) and ``'connectionAttempt'``
happen as any connect's, then the handle refuses the second request and the socket is
destroyed with the error (``'error'``, ``'close'(true)``; ``'connect'`` never comes, so neither
callback runs, while the kernel completes the first connection, which the destroy closes):

* TCP: libuv's ``uv_tcp_connect`` answers ``EALREADY`` (the first request is pending):
  ``connect EALREADY <ip>:<port> - Local (<local ip>:<local port>)`` (the second call's
  address and port; the local address the first connect got, as Node's ``_getsockname``);
* a pipe: ``connect()`` on the connected descriptor: ``EISCONN`` (``connect EISCONN <path>``),
  reported as a failed attempt (``'connectionAttemptFailed'`` first), as libuv delivers it.

``connect.py`` runs the second call through its lookup (``do_connect`` with no handle). The
first of the two to reach the handle's connect makes it (:func:`claim`), as Node's first
``internalConnect`` does: the first call's, unless it is still looking up a host name when a
second call to an IP address connects (Node's connects on a tick, before a lookup can answer)
or whose ``options.lookup`` answered first; the other gets ``EALREADY`` (:func:`refused`:
``'connectionAttempt'``, then the error naming its own address and the local address of the
connect under way). (A second call to a host name looked up by the resolver does not overtake
a first one's lookup: Node's lookups answer in turn, asyncio's executor threads in either
order; so its answer waits until the first call's connect has begun or ended,
:func:`first_begun`.) A second call to a host name that resolves to several
addresses looks up and tries one (Node would try them on handles of their own); a first call's
that loses stops at its first address (Node's ``internalConnectMultiple`` would try each, each
refused, then fail with all their errors).

``destroy()`` then ``connect()`` in the same loop step as the first ``connect()`` (to a host,
not a path), before its connect began: Node's first ``lookupAndConnect`` goes on (its
``internalConnect``, a tick or a lookup later, finds the socket ``connecting`` again) on the
handle the new call made, and the new call is the second connect above: ``EALREADY``
(:func:`revived_connect`). The destroyed connect's handle closes without a word to the socket
(``_undestroy``). Node emits its ``'close'(false)`` as well, after the ``EALREADY``
``'close'(true)``: one ``'close'`` here. Once that connect has begun (a later step, or a
path: Node's connects a pipe inside ``connect()``), Node's fails an internal assertion
(``afterConnect`` on the closed handle finds the socket connecting or connected again); here
the new connect goes on alone.
"""

from __future__ import annotations

import asyncio
import errno
import os
import socket
from inspect import CORO_CREATED, getcoroutinestate
from typing import TYPE_CHECKING, Any

from ..errors import system_error
from .address import is_ip
from .autoselect import connect_error

if TYPE_CHECKING:
    from .socket import Socket

__all__ = ["already", "pipe_in_use", "local_name", "connect_at_once", "not_begun",
           "revived_connect", "claim", "refused", "first_begun", "first_done"]


def claim(sock: Socket, handle: Any, resolved: bool) -> Any:
    """The handle a connect attempt of ``sock`` connects, its lookup done (by the resolver:
    ``resolved``) and its ``'connectionAttempt'`` emitted: ``handle``, the connect's own
    (``None`` for a second ``connect()``'s: the first's handle,
    :attr:`~nodetls._net.socket.Socket._connect_handle`, unless ``resolved``), unless another
    attempt has claimed it already: then ``None`` (:func:`refused`). A second call's attempt
    that claims it becomes the socket's connect task (``destroy()`` cancels it)."""
    own = handle if handle is not None else None if resolved else sock._connect_handle
    if own is None or sock._connect_claimed is own:
        return None
    sock._connect_claimed = own
    if handle is None:
        sock._connect_task = asyncio.current_task()
    else:
        first_done(sock)
    return own


async def first_begun(sock: Socket) -> None:
    """A second ``connect()`` to a host name, its lookup answered: wait until the first call's
    connect has begun (:func:`claim`) or its attempt ended (:func:`first_done`), as Node's
    second lookup answers after the first's (module docstring)."""
    h = sock._connect_handle
    if h is None or sock._connect_claimed is h or not sock.connecting:
        return
    fut = sock._claim_waiter
    if fut is None:
        fut = sock._claim_waiter = asyncio.get_running_loop().create_future()
    await fut


def first_done(sock: Socket) -> None:
    """The first call's connect has begun, or its attempt ended: a second call waiting in
    :func:`first_begun` goes on."""
    fut = sock._claim_waiter
    if fut is not None:
        sock._claim_waiter = None
        if not fut.done():
            fut.set_result(None)


def refused(sock: Socket, begun: Any) -> None:
    """The attempt ``begun`` (``connect._One`` or ``autoselect.MultipleConnect``) found the
    handle connecting for another attempt: its socket is closed, and ``sock`` destroyed with
    Node's ``EALREADY`` naming its address (:func:`already`)."""
    current = getattr(begun, "current", None)
    if current is not None:  # (a MultipleConnect: its attempt begun)
        ip, port = current[2], begun.port
    else:
        ip, port = begun.ip, begun.port
    begun.abandon()
    already(sock, ip, port)


def connect_at_once(s: socket.socket, ip: str, port: int) -> bool:
    """``connect()`` on the non-blocking ``s`` now, as libuv's ``uv_tcp_connect`` makes it
    within the call (so the socket has its local address, and the kernel completes the
    connection, even if the socket is closed before the next loop step; uvloop's
    ``sock_connect`` connects a step later): ``True`` while under way (await it with
    ``sock_connect``), ``False`` when connected already. A failure closes ``s`` and raises."""
    err = s.connect_ex((ip, port))
    if err in (errno.EINPROGRESS, errno.EALREADY, errno.EAGAIN, errno.EINTR):
        return True
    if err in (0, errno.EISCONN):
        return False
    s.close()
    raise OSError(err, os.strerror(err))


def local_name(sock: Socket) -> tuple[str, int] | None:
    """The local address of the socket the first connect is connecting, when it has one (see
    ``_SocketConnect._show_connecting_socket``), else ``None``."""
    s: Any = sock._connecting_socket
    if s is None or s.fileno() == -1:
        return None
    try:
        name = s.getsockname()
    except OSError:
        return None
    return (str(name[0]), int(name[1])) if name[1] else None


def already(sock: Socket, ip: str, port: int) -> None:
    """The second call's connect to ``ip``:``port``: the socket is destroyed with Node's
    ``EALREADY`` error (nothing when it stopped connecting meanwhile: Node's ``internalConnect``
    runs only while ``connecting``)."""
    if not sock.connecting or sock.destroyed:
        return
    where = f"{ip}:{port}" if port > 0 else ip
    local = local_name(sock)
    if local is not None:
        where += f" - Local ({local[0]}:{local[1]})"
    sock.destroy(system_error("EALREADY", f"connect EALREADY {where}", errno=errno.EALREADY,
                              syscall="connect", address=ip, port=port))


def pipe_in_use(sock: Socket, path: str) -> None:
    """The second call's connect to the pipe ``path``, after its ``'connectionAttempt'``
    (emitted inside that ``connect()``, as any pipe's: ``connect.do_connect``): the attempt
    fails with ``EISCONN`` (``'connectionAttemptFailed'``) and destroys the socket."""
    if not sock.connecting or sock.destroyed:
        return
    err = connect_error(OSError(errno.EISCONN, "Transport endpoint is already connected"),
                        "connect", path, None)
    sock.emit("connectionAttemptFailed", path, None, None, err)
    if sock.connecting and not sock.destroyed:
        sock.destroy(err)


def not_begun(task: asyncio.Task[None]) -> bool:
    """``task`` (a connect's, cancelled or not) has not run a step yet."""
    coro: Any = task.get_coro()
    return getcoroutinestate(coro) == CORO_CREATED


def revived_connect(sock: Socket) -> dict[str, Any] | None:
    """``connect()`` on the destroyed ``sock``: the options of the connect its ``destroy()``
    cancelled before that connect's task began (the same loop step), to a host and without
    an ``options.lookup`` that was called already (Node's runs inside ``connect()``): Node's
    goes on, on the new handle (module docstring); else ``None``."""
    cancelled = sock._cancelled_connect
    if cancelled is None:
        return None
    sock._cancelled_connect = None
    task, opts = cancelled
    if opts is None or opts.get("path") or not not_begun(task):
        return None
    if opts.get("lookup") is not None and not is_ip(opts.get("host") or "localhost"):
        return None
    return opts
