"""Rotating session-ticket keys: one process (:class:`TicketKeys`), a fleet through Redis
(:class:`RedisTicketKeys`), and the workers of ``run(main, workers=N)`` (:class:`PipedTicketKeys`).

The schedule
------------
A key set is a list of keys, each with the wall-clock time at which it starts encrypting
(``not_before``).  At any instant the *current* key is the newest one whose ``not_before`` has
passed; a *pending* key (``not_before`` in the future) is already published, so every holder
decrypts tickets under it before anybody encrypts with it; up to ``keep`` *old* keys still decrypt.
The 48-byte keys are handed to ``server.set_ticket_keys`` in that order (current first): the ticket
callback encrypts with the first one, decrypts with all and renews a ticket under any other one.

Rotation (at the pending key's ``not_before``): the pending key becomes current, a fresh random key
is published as the new pending one, ``not_before`` one ``interval`` later, and the oldest key beyond
``keep`` is retired: zeroed in this process (its ``bytearray``) and dropped from Redis.  Keys are
never derived from a long-lived secret, so a retired key cannot be recomputed.

Holders are refreshed by a single task per source (started by the first subscriber, stopped with
the last); subscribers receive the new key material whenever it changes.

Key memory
----------
Every copy of a key this module keeps is a ``bytearray`` (a ``SecretBytes``, whose ``repr()``
shows only its size, and which refuses to pickle) zeroed (:func:`wipe`) when it is retired
or replaced: the entries (a retired key, and every local key a newer set from Redis or the parent
replaces), the material handed to subscribers (the ``bytearray`` given to listeners is wiped when
the next material replaces it: a listener copies what it keeps, as ``set_ticket_keys`` does), the
packed set written to Redis or to a worker's pipe (wiped once written), a worker's pipe buffer
(read into with ``os.readv``, consumed bytes zeroed).  Nothing goes through an intermediate
``bytes``: slices are memoryviews.  Two things are outside our control: the ``bytes`` redis-py
returns for ``GET`` (its parsers build immutable ``bytes``; there is no API to read a reply into a
caller's buffer: the object is dropped at once, unzeroed) and whatever redis-py or the event loop's
transport copy while sending a ``SET`` (hiredis's packer and ``StreamWriter.writelines`` on
Python 3.11 join the command into one ``bytes``).  The public ``ticket_keys()`` and ``refresh()``
return a new ``bytes`` that is the caller's, as ``get_ticket_keys()`` is.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import struct
import time
from collections.abc import Callable
from typing import Any

from .._context.ticket_keys import KEY_SIZE, random_key, wipe
from .._option_table import SecretBytes

__all__ = ["TicketKeys", "RedisTicketKeys", "PipedTicketKeys", "pack_entries", "unpack_entries"]

log = logging.getLogger("nodetls.sessions")

_ENTRY = struct.Struct(">Q")  # not_before in milliseconds since the epoch
_ENTRY_SIZE = _ENTRY.size + KEY_SIZE
_VERSION = b"\x01"

Entry = tuple[float, bytearray]  # (not_before, key)
Listener = Callable[[bytearray], None]  # gets material wiped once replaced


def pack_entries(entries: list[Entry]) -> bytearray:
    """Serialise a key set: a version byte, then ``not_before`` (ms, big-endian) + key each.
    Returns a ``bytearray`` (sized once, so never reallocated) the caller wipes once written."""
    out = SecretBytes(1 + _ENTRY_SIZE * len(entries))
    out[0:1] = _VERSION
    for n, (not_before, key) in enumerate(entries):
        at = 1 + n * _ENTRY_SIZE
        # round(), not int(): ms / 1000.0 * 1000 may fall just below ms (1750000000003 ->
        # ...002.9999998), and every re-publication would move a kept key 1 ms earlier.
        _ENTRY.pack_into(out, at, min(max(round(not_before * 1000), 0), 2**64 - 1))
        out[at + _ENTRY.size : at + _ENTRY_SIZE] = key
    return out


def unpack_entries(data: bytes | bytearray | memoryview | None) -> list[Entry]:
    """The inverse of :func:`pack_entries` (each key copied into its own ``bytearray``, through
    a ``memoryview``: no ``bytes`` copy); anything malformed is an empty set."""
    if data is None:
        return []
    view = memoryview(data)
    if not view.nbytes or view[0] != _VERSION[0] or (view.nbytes - 1) % _ENTRY_SIZE:
        return []
    entries: list[Entry] = []
    for i in range(1, view.nbytes, _ENTRY_SIZE):
        (ms,) = _ENTRY.unpack_from(view, i)
        entries.append((ms / 1000.0, SecretBytes(view[i + _ENTRY.size : i + _ENTRY_SIZE])))
    entries.sort(key=lambda e: e[0])
    return entries


def wipe_entries(entries: list[Entry]) -> None:
    """Zero every key of ``entries`` (a set that is dropped)."""
    for _, key in entries:
        wipe(key)


def _check_interval_keep(interval: Any, keep: Any) -> tuple[float, int]:
    if isinstance(interval, bool) or not isinstance(interval, (int, float)):
        raise TypeError(f'The "interval" argument must be a number. Received {interval!r}')
    if not interval > 0:
        raise ValueError(f'The "interval" argument must be > 0. Received {interval!r}')
    if isinstance(keep, bool) or not isinstance(keep, int):
        raise TypeError(f'The "keep" argument must be an int. Received {keep!r}')
    if keep < 0:
        raise ValueError(f'The "keep" argument must be >= 0. Received {keep!r}')
    return float(interval), keep


def material(entries: list[Entry], now: float) -> bytearray:
    """The keys for ``set_ticket_keys`` at ``now``: current, pending, then old ones (newest
    first).  Before the first key's time (clock skew), the earliest key encrypts.  A new
    ``bytearray`` (sized once) the caller wipes."""
    past = [e for e in entries if e[0] <= now]
    future = [e for e in entries if e[0] > now]
    if not past:
        past, future = future[:1], future[1:]
    ordered = [past[-1]] + future + past[-2::-1]
    out = SecretBytes(KEY_SIZE * len(ordered))
    for n, (_, key) in enumerate(ordered):
        out[n * KEY_SIZE : (n + 1) * KEY_SIZE] = key
    return out


def rotated(entries: list[Entry], now: float, interval: float, keep: int) -> list[Entry]:
    """``entries`` brought up to date at ``now``: a current and a pending key exist, at most
    ``keep`` old ones remain (the retired ones are wiped).  Returns a new list."""
    entries = sorted(entries, key=lambda e: e[0])
    if not entries:
        entries.append((now, random_key()))
    last = entries[-1][0]
    if last <= now:
        # The newest key already encrypts: publish its successor one interval ahead (from now
        # when this holder was asleep for longer than an interval).
        entries.append((max(last + interval, now + interval), random_key()))
    current = max(i for i, e in enumerate(entries) if e[0] <= now) if entries[0][0] <= now else 0
    first_kept = max(0, current - keep)
    wipe_entries(entries[:first_kept])
    return entries[first_kept:]


def needs_rotation(entries: list[Entry], now: float) -> bool:
    """True when no pending key is published (or there is no key at all)."""
    return not entries or entries[-1][0] <= now


class _KeySource:
    """What :meth:`Server.use_ticket_keys` needs: the current material and change notices."""

    def __init__(self, interval: float, keep: int) -> None:
        self.interval = interval
        self.keep = keep
        self._entries: list[Entry] = []
        self._listeners: list[Listener] = []
        self._task: asyncio.Task[None] | None = None
        self._last: bytearray | None = None  # the material listeners got last (wiped when replaced)

    # -- what holders use
    def ticket_keys(self, now: float | None = None) -> bytes:
        """The key material to give ``set_ticket_keys`` now (empty before the first load): a new
        ``bytes``, the caller's."""
        keys = self._material(now)
        try:
            return bytes(keys)
        finally:
            wipe(keys)

    def _material(self, now: float | None = None) -> bytearray:
        """:meth:`ticket_keys` in a ``bytearray`` the caller wipes (what nodetls uses)."""
        if not self._entries:
            return SecretBytes()
        return material(self._entries, time.time() if now is None else now)

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener(material)`` whenever the keys change; starts the refresh task."""
        self._listeners.append(listener)
        if self._task is None or self._task.done():
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return  # no loop yet: the material given now is all there is
            self._task = loop.create_task(self._run())

    def unsubscribe(self, listener: Listener) -> None:
        """Stop notifying ``listener``; the last one stops the refresh task."""
        if listener in self._listeners:
            self._listeners.remove(listener)
        if not self._listeners:
            self.close()

    def close(self) -> None:
        """Stop the refresh task (the keys stay usable)."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()

    def _wipe_all(self) -> None:
        """Zero and forget every key this source holds (its owner is done with it)."""
        wipe_entries(self._entries)
        self._entries = []
        if self._last is not None:
            wipe(self._last)
            self._last = None

    # -- internals
    def _notify(self) -> None:
        keys = self._material()
        if not keys or keys == self._last:
            wipe(keys)
            return
        if self._last is not None:
            wipe(self._last)
        self._last = keys
        for listener in list(self._listeners):
            try:
                listener(keys)
            except Exception:  # noqa: BLE001 - one holder never stops the others
                log.exception("ticket key listener failed")

    def _replace(self, entries: list[Entry]) -> None:
        """Adopt ``entries``; wipe every local key object that is not one of them (a key that is
        still in the set lives on in the new set's own copy)."""
        kept = {id(k) for _, k in entries}
        wipe_entries([e for e in self._entries if id(e[1]) not in kept])
        self._entries = entries

    def _next_switch(self, now: float) -> float:
        """Seconds until a pending key starts encrypting (or an interval when none is known)."""
        future = [nb for nb, _ in self._entries if nb > now]
        return max(0.0, min(future) - now) if future else self.interval

    async def refresh(self) -> bytes:
        """Bring the key set up to date now; returns the current material (a new ``bytes``)."""
        await self._refresh()
        return self.ticket_keys()

    async def _refresh(self) -> None:
        raise NotImplementedError

    def _poll_delay(self, now: float) -> float:
        return self._next_switch(now)

    async def _run(self) -> None:
        while True:
            try:
                await self._refresh()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - keep the keys we have, retry later
                log.warning("ticket keys: refresh failed (%s); keeping the current set", exc)
            self._notify()
            now = time.time()
            await asyncio.sleep(max(0.01, min(self._poll_delay(now), self._next_switch(now))))
            self._notify()


class TicketKeys(_KeySource):
    """Ticket keys rotating in one process: a fresh random key every ``interval`` seconds becomes
    the encrypting key (published one interval earlier); the last ``keep`` older keys still
    decrypt, and tickets under them are renewed; older keys are wiped.

    Node has no rotation: its ``setTicketKeys`` replaces the single key and invalidates every
    outstanding ticket.  Use with :meth:`nodetls.Server.use_ticket_keys`.
    """

    def __init__(self, interval: float = 12 * 3600, keep: int = 2) -> None:
        super().__init__(*_check_interval_keep(interval, keep))
        self._entries = rotated([], time.time(), self.interval, self.keep)

    def rotate(self, now: float | None = None) -> bool:
        """Apply the schedule at ``now``; True when a key was published or retired."""
        now = time.time() if now is None else now
        if not needs_rotation(self._entries, now):
            return False
        self._entries = rotated(self._entries, now, self.interval, self.keep)
        return True

    def entries(self) -> list[Entry]:
        """The key set with each key's ``not_before`` (for handing on to worker processes)."""
        return list(self._entries)

    async def _refresh(self) -> None:
        self.rotate()


class RedisTicketKeys(_KeySource):
    """Ticket keys shared by a fleet through Redis.

    Every server loads the key set from the Redis string ``name``; when it lacks a pending key,
    the one server that wins the lock ``name + ':lock'`` (``SET NX PX``, so a server that dies
    mid-rotation only delays the next one by the lock's expiry) publishes a new random pending key
    and drops the retired ones.  The set itself expires after ``(keep + 2) * interval`` unless
    renewed, so nothing outlives a fleet that is gone.  While Redis is unreachable each server keeps
    the set it has (the pending key still takes over on time; nothing new is published).
    """

    def __init__(self, redis: Any, *, name: str = "nodetls:ticket-keys",
                 interval: float = 12 * 3600, keep: int = 2) -> None:
        super().__init__(*_check_interval_keep(interval, keep))
        if not isinstance(name, str) or not name:
            raise TypeError(f'The "name" argument must be a non-empty string. Received {name!r}')
        from ._stores import redis_client

        self.redis = redis_client(redis, "redis")
        self.name = name
        self.lock_name = name + ":lock"
        self._lock_ms = max(50, int(min(10.0, self.interval / 4) * 1000))
        self._ttl_ms = max(1000, int((keep + 2) * self.interval * 1000))
        self._ok = True

    def _poll_delay(self, now: float) -> float:
        # Often enough that a key published by another server is known long before it encrypts.
        return min(self.interval / 4, 60.0) if self._ok else min(self.interval / 4, 1.0)

    async def _load(self) -> list[Entry]:
        """The set in Redis, copied into bytearrays at once.  The ``bytes`` redis-py returns
        is beyond our reach (see "Key memory"): only this frame refers to it, briefly."""
        return unpack_entries(await self.redis.get(self.name))

    async def _refresh(self) -> None:
        entries: list[Entry] = []
        try:
            entries = await self._load()
            now = time.time()
            if needs_rotation(entries, now):
                entries = await self._generate(entries, now)
        except Exception:
            self._ok = False
            wipe_entries(entries)
            raise
        self._ok = True
        if entries:
            self._replace(entries)

    async def _generate(self, entries: list[Entry], now: float) -> list[Entry]:
        """The set after rotating it if this server wins the lock (``entries`` is consumed:
        what is not returned is wiped)."""
        token = secrets.token_hex(16)
        if not await self.redis.set(self.lock_name, token, nx=True, px=self._lock_ms):
            # Another server is rotating: its result is read on the next poll, or, when there is
            # no key at all yet, as soon as it appears (at most the lock's lifetime).
            deadline = time.monotonic() + self._lock_ms / 1000
            while not entries and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
                entries = await self._load()
            return entries
        wipe_entries(entries)  # re-read under the lock: this copy is superseded
        entries = []
        try:
            entries = await self._load()
            if needs_rotation(entries, now):
                entries = rotated(entries, now, self.interval, self.keep)
                packed = pack_entries(entries)
                try:
                    # A memoryview: redis-py's Python packer sends it as it is (no copy of ours).
                    await self.redis.set(self.name, memoryview(packed), px=self._ttl_ms)
                finally:
                    wipe(packed)
                log.info("ticket keys: published a new pending key in %s", self.name)
            return entries
        except BaseException:
            wipe_entries(entries)
            raise
        finally:
            await self.redis.eval(_UNLOCK, 1, self.lock_name, token)


# Delete the lock only if we still hold it (it may have expired and been taken by another).
_UNLOCK = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


class PipedTicketKeys(_KeySource):
    """A worker's view of the key set its parent rotates (``run(main, workers=N)``): the parent
    writes each new set to the worker's pipe (a 4-byte length, then :func:`pack_entries`)."""

    def __init__(self, fd: int, entries: list[Entry], interval: float, keep: int) -> None:
        super().__init__(interval, keep)
        self._fd = fd
        # The parent's set holds at most keep + 2 keys (old ones, the current, a pending one):
        # a length beyond 1 MiB (18,724 keys) and twice that is a corrupt stream, not a message
        # to allocate for.
        self._max_message = max(1 << 20, 1 + _ENTRY_SIZE * (2 * keep + 4))
        self._entries = [(nb, SecretBytes(k)) for nb, k in entries]
        # What the pipe brought, read in place (os.readv): never resized (a longer message gets
        # a new buffer, the old one wiped), consumed bytes zeroed.
        self._buf = SecretBytes(4096)
        self._fill = 0
        self._reading = False

    def subscribe(self, listener: Listener) -> None:
        super().subscribe(listener)
        if not self._reading:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return
            os.set_blocking(self._fd, False)
            loop.add_reader(self._fd, self._on_readable)
            self._reading = True

    def _on_readable(self) -> None:
        try:
            with memoryview(self._buf) as free:
                got = os.readv(self._fd, [free[self._fill :]])
        except BlockingIOError:
            return
        if not got:  # the parent is gone
            self._stop_reading()
            return
        self._fill += got
        start = 0
        need = 0
        with memoryview(self._buf) as view:
            while self._fill - start >= 4:
                (size,) = struct.unpack_from(">I", view, start)
                if size > self._max_message:
                    # Framing is lost: nothing from here on can be trusted (nor allocated
                    # for). Keep the keys we have, as when the parent is gone.
                    log.error("ticket keys: a corrupt message on the worker's pipe (a length "
                              "of %d bytes, at most %d expected); keeping the current keys",
                              size, self._max_message)
                    self._stop_reading()
                    start = self._fill
                    break
                end = start + 4 + size
                if end > self._fill:
                    need = 4 + size
                    break
                entries = unpack_entries(view[start + 4 : end])
                start = end
                if entries:
                    self._replace(entries)
        self._keep_rest(start, max(need, len(self._buf)))
        self._notify()

    def _stop_reading(self) -> None:
        asyncio.get_running_loop().remove_reader(self._fd)

    def _keep_rest(self, start: int, capacity: int) -> None:
        """Move the unconsumed bytes from ``start`` to the front of a buffer of ``capacity``
        bytes (a new one when it must grow) and zero everything consumed."""
        rest = self._fill - start
        if capacity > len(self._buf) or start:
            moved = SecretBytes(capacity if capacity > len(self._buf) else len(self._buf))
            moved[:rest] = memoryview(self._buf)[start : self._fill]
            wipe(self._buf)
            self._buf = moved
        self._fill = rest

    async def _refresh(self) -> None:
        return
