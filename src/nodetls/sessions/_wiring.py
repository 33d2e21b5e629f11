"""``server.use_session_store`` and ``server.use_ticket_keys``: the glue between a ``tls.Server``
and the stores/key sources of :mod:`nodetls.sessions`.

A store is reached through the server's own ``'newSession'``/``'resumeSession'`` events (so the
handshake pauses exactly where Node's external cache pauses it).  Each store call is bounded by
``store_timeout``; an error or a timeout is counted and answered as "no session", i.e. a full
handshake — a store never fails a connection.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from .._context.ticket_keys import wipe
from ._redis_conns import StoreTimeout
from ._stores import MemorySessionStore, RedisSessionStore

__all__ = ["StoreBinding", "KeysBinding"]

log = logging.getLogger("nodetls.sessions")

_TIMED_OUT = StoreTimeout("the session store did not answer within store_timeout")


def _check_timeout(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f'The "store_timeout" argument must be a number. Received {value!r}')
    if not value > 0:
        raise ValueError(f'The "store_timeout" argument must be > 0. Received {value!r}')
    return float(value)


def _call(callback: Callable[[], Any]) -> None:
    """``then(arg)`` of a ``'newSession'`` listener's save: its callback, called."""
    callback()


def _answer_resume(callback: Callable[..., Any], data: bytes | None) -> None:
    """``then(arg, data)`` of a ``'resumeSession'`` listener's lookup: Node's
    ``callback(err, sessionData)``."""
    callback(None, data)


def _require(obj: Any, methods: tuple[str, ...], message: str) -> None:
    """``TypeError(message + type)`` unless ``obj`` has every one of ``methods``, callable."""
    if not all(callable(getattr(obj, m, None)) for m in methods):
        raise TypeError(f"{message}. Received {type(obj).__name__}")


class StoreBinding:
    """The listeners one server uses to reach one store, and their counters.

    The TLS layer (``_tls/pause_points.py``) skips the ``'resumeSession'`` event while this
    binding's listener is the server's only one: it pauses and calls :meth:`lookup`, saying
    whether the id is a TLS 1.3 ticket: a used ticket is kept only :attr:`USED_TICKET_GRACE`
    seconds more (``get_and_expire``).  (With the compiled binding the pause is decided in C,
    ``TLSEngine.enable_session_path``; without it, a :class:`MemorySessionStore` is read with
    :meth:`lookup_now` inside the client-hello callback, without pausing.)
    """

    #: Seconds a TLS 1.3 stateful ticket stays valid after its first use: long enough for a
    #: client's parallel connections offering the same ticket, short enough that used tickets do
    #: not pile up in the store for the whole session timeout (nor stay replayable).
    USED_TICKET_GRACE = 10.0

    def __init__(self, server: Any, store: Any, store_timeout: float) -> None:
        _require(store, ("get", "set", "delete"),
                 'The "store" argument must be a SessionStore (async get, set and delete)')
        self.server = server
        self.store = store
        self.timeout = _check_timeout(store_timeout)
        self.stats = {"hits": 0, "misses": 0, "errors": 0, "timeouts": 0}
        # A store that answers at once is read and written synchronously; a RedisSessionStore
        # made from a URL answers through callbacks (no task, no timer per call).
        self.answers_now = isinstance(store, MemorySessionStore) and store.answers_now()
        self._by_callback = isinstance(store, RedisSessionStore) and store.answers_by_callback()
        expire = getattr(store, "get_and_expire", None)
        self._get_and_expire = expire if callable(expire) else None
        self._tasks: set[asyncio.Future[Any]] = set()
        self._expired: set[asyncio.Future[Any]] = set()
        self._failing = False
        # The server's session timeout, read once per SecureContext (set when it is made).
        self._ttl_context: Any = None
        self._ttl = 0.0
        # The listeners, as registered (a bound method is a new object at each access), and
        # the listener tables in which they are alone.
        self._on_new = self.on_new_session
        self._on_resume = self.on_resume_session
        self._new_alone = (self._on_new,)
        self._resume_alone = (self._on_resume,)
        # The callbacks of the callback forms, made once (the caller's ``then`` rides along as
        # the command's argument: no closure per call).
        self._looked_up_cb = self._looked_up
        self._stored_cb = self._stored
        # A RedisSessionStore's own callback forms are packed here and sent on its pipe, one
        # call fewer per command: the store's formats (``command_format``) for a ticket's
        # GETEX and an id's GET, and the SET of the current ttl (``session_ttl``).
        self._pipe: Any = None
        self._set_format = b""
        if self._by_callback and type(store).lookup_then is RedisSessionStore.lookup_then \
                and type(store).store_then is RedisSessionStore.store_then:
            self._pipe = store.pipe
            self._key_offset: int = store.key_offset
            self._ticket_format: bytes = store.command_format(b"GETEX", self.USED_TICKET_GRACE)
            self._id_format: bytes = store.command_format(b"GETEX", None)

    def attach(self) -> None:
        self.server.on("newSession", self._on_new)
        self.server.on("resumeSession", self._on_resume)

    def detach(self) -> None:
        self.server.remove_listener("newSession", self._on_new)
        self.server.remove_listener("resumeSession", self._on_resume)

    def serves_resumption_alone(self) -> bool:
        """This binding's listener is the server's only ``'resumeSession'`` listener."""
        alone: bool = self.server._events.get("resumeSession") == self._resume_alone
        return alone

    def serves_new_sessions_alone(self) -> bool:
        """This binding's listener is the server's only ``'newSession'`` listener (the TLS layer
        then calls :meth:`save_now` or :meth:`save` without the event, see
        ``_tls/pause_points.save_session``)."""
        alone: bool = self.server._events.get("newSession") == self._new_alone
        return alone

    # -- listeners (Node's signatures)
    def on_new_session(self, session_id: bytes, data: bytes, callback: Callable[..., Any]) -> None:
        if self.answers_now:
            self.save_now(session_id, data)
            callback()
            return
        self.save(session_id, data, _call, callback)

    def on_resume_session(self, session_id: bytes, callback: Callable[..., Any]) -> None:
        self.lookup(session_id, False, _answer_resume, callback)

    # -- saving
    def session_ttl(self) -> float:
        """The server's ``session_timeout`` (its current SecureContext's), in seconds."""
        context = self.server._context
        if context is not self._ttl_context:
            self._ttl = float(context.session_timeout)
            self._ttl_context = context
            if self._pipe is not None and self._ttl > 0:
                self._set_format = self.store.command_format(b"SET", self._ttl)
        return self._ttl

    def save_now(self, session_id: bytes, data: bytes) -> None:
        """Only when :attr:`answers_now`: store ``data`` for the server's session timeout."""
        self.store.store_now(bytes(session_id), data, self.session_ttl())

    def save(self, session_id: bytes, data: bytes, then: Callable[[Any], None], arg: Any) -> None:
        """Store ``data`` for the server's session timeout, then ``then(arg)`` (also after an
        error or ``store_timeout``: counted, and the handshake goes on).  (``then`` and ``arg``
        rather than a closure: the TLS layer passes one function and its socket.)"""
        pipe = self._pipe
        if pipe is not None:
            if self.server._context is not self._ttl_context:
                self.session_ttl()
            if self._ttl > 0:
                pipe.send(self._set_format % (self._key_offset + len(session_id), session_id,
                                              len(data), data),
                          self._stored_cb, (then, arg), self.timeout)
                return
        if self._by_callback:
            self.store.store_then(
                session_id if session_id.__class__ is bytes else bytes(session_id), data,
                self._ttl if self.server._context is self._ttl_context else self.session_ttl(),
                self.timeout, self._stored_cb, (then, arg))
            return
        self._spawn(self.store.set(session_id, data, self.session_ttl()), then, arg, False)

    def _stored(self, then_arg: tuple[Callable[[Any], None], Any], reply: Any) -> None:
        """A ``SET``'s (or ``DEL``'s) answer to :meth:`save`: counted, then ``then(arg)``."""
        if reply.__class__ is not bytes:  # not OK: an error, a timeout (or a DEL's count)
            self._reply(reply, False)
        elif self._failing:
            self._answering()
        then_arg[0](then_arg[1])

    # -- lookups
    def lookup_now(self, session_id: bytes, ticket: bool) -> bytes | None:
        """Only when :attr:`answers_now`: the stored session (``ticket``: a TLS 1.3 ticket)."""
        data: bytes | None = self.store.lookup_now(
            session_id, self.USED_TICKET_GRACE if ticket else None)
        self.stats["misses" if data is None else "hits"] += 1
        return data

    def lookup(self, session_id: bytes, ticket: bool,
               then: Callable[[Any, bytes | None], None], arg: Any) -> None:
        """Look ``session_id`` up (``ticket``: a TLS 1.3 ticket, kept only
        :attr:`USED_TICKET_GRACE` seconds more), then ``then(arg, data or None)``; None also
        after an error or ``store_timeout``."""
        pipe = self._pipe
        if pipe is not None:
            pipe.send((self._ticket_format if ticket else self._id_format) % (
                self._key_offset + len(session_id), session_id),
                self._looked_up_cb, (then, arg), self.timeout)
            return
        if self._by_callback:
            self.store.lookup_then(
                session_id if session_id.__class__ is bytes else bytes(session_id),
                self.USED_TICKET_GRACE if ticket else None, self.timeout, self._looked_up_cb,
                (then, arg))
            return
        if self.answers_now:
            then(arg, self.lookup_now(session_id, ticket))
            return
        expire = self._get_and_expire
        if ticket and expire is not None:
            call = expire(session_id, self.USED_TICKET_GRACE)
        else:
            call = self.store.get(session_id)
        self._spawn(call, then, arg, True)

    def _looked_up(self, then_arg: tuple[Callable[[Any, bytes | None], None], Any],
                   reply: Any) -> None:
        """A ``GET``'s (or ``GETEX``'s) answer to :meth:`lookup`: counted, then
        ``then(arg, data or None)`` (what :meth:`_reply` does, a session or none handled here)."""
        if reply is None or reply.__class__ is bytes:
            if self._failing:
                self._answering()
            self.stats["misses" if reply is None else "hits"] += 1
            then_arg[0](then_arg[1], reply)
            return
        then_arg[0](then_arg[1], self._reply(reply, True))

    # -- bounded calls
    def _spawn(self, call: Awaitable[Any], then: Callable[..., None], arg: Any,
               lookup: bool) -> None:
        """Run ``call`` as one task, cancelled by a timer after ``store_timeout`` (cheaper than
        ``asyncio.wait_for``, which adds a second task per call), then ``then(arg, result or
        None)`` (a lookup) or ``then(arg)``."""
        loop = asyncio.get_running_loop()
        task = asyncio.ensure_future(call)
        timer = loop.call_later(self.timeout, self._expire, task)
        self._tasks.add(task)

        def done(t: asyncio.Future[Any]) -> None:
            timer.cancel()
            self._tasks.discard(t)
            result = self._outcome(t, lookup)
            if lookup:
                then(arg, result)
            else:
                then(arg)

        task.add_done_callback(done)

    def _expire(self, task: asyncio.Future[Any]) -> None:
        self._expired.add(task)
        task.cancel()

    def _outcome(self, task: asyncio.Future[Any], lookup: bool) -> Any:
        if task.cancelled():
            if task in self._expired:
                self._expired.discard(task)
                return self._reply(_TIMED_OUT, lookup)
            return None
        exc = task.exception()
        return self._reply(task.result() if exc is None else exc, lookup)

    def _reply(self, reply: Any, lookup: bool) -> Any:
        """Count a store's answer (a result, or the exception it failed with); the result, or
        None after an error or a timeout (a store error is a full handshake)."""
        if isinstance(reply, BaseException):
            if isinstance(reply, StoreTimeout):
                self.stats["timeouts"] += 1
                self._trouble("timed out")
            else:
                self.stats["errors"] += 1
                self._trouble(f"failed: {reply!r}")
            return None
        if self._failing:
            self._answering()
        if lookup:
            self.stats["misses" if reply is None else "hits"] += 1
        return reply

    def _answering(self) -> None:
        self._failing = False
        log.warning("session store is answering again")

    def _trouble(self, what: str) -> None:
        if not self._failing:
            self._failing = True
            log.warning("session store %s; serving full handshakes until it answers", what)


class KeysBinding:
    """Keeps one server's ticket keys equal to a key source's current material.  The material
    a source of ours hands over is a ``bytearray`` it wipes later (see ``_keys``): the server's
    context copies it (``set_ticket_keys``), and what :meth:`reapply` asks for is wiped here."""

    def __init__(self, server: Any, source: Any) -> None:
        _require(source, ("ticket_keys", "subscribe", "unsubscribe"),
                 'The "source" argument must be a TicketKeys or RedisTicketKeys')
        self.server = server
        self.source = source

    def attach(self) -> None:
        self.reapply()
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # made before the loop runs: follow the source once listening
            self.server.once("listening", lambda *_: self.source.subscribe(self.apply))
        else:
            self.source.subscribe(self.apply)
        self.server.once("close", self.detach)

    def detach(self, *_: Any) -> None:
        self.source.unsubscribe(self.apply)

    def reapply(self) -> None:
        """Give the server the source's current material (at attach, after
        ``set_secure_context``); nothing before the source has keys."""
        own = getattr(self.source, "_material", None)  # ours: a bytearray to wipe after use
        keys = own() if own is not None else self.source.ticket_keys()
        try:
            if keys:
                self.apply(keys)
        finally:
            if own is not None:
                wipe(keys)

    def apply(self, keys: bytes | bytearray | memoryview) -> None:
        self.server._context.set_ticket_keys(keys)
