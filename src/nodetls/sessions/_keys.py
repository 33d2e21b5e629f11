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

from .._context.ticket_keys import KEY_SIZE, random_key

__all__ = ["TicketKeys", "RedisTicketKeys", "PipedTicketKeys", "pack_entries", "unpack_entries"]

log = logging.getLogger("nodetls.sessions")

_ENTRY = struct.Struct(">Q")  # not_before in milliseconds since the epoch
_ENTRY_SIZE = _ENTRY.size + KEY_SIZE
_VERSION = b"\x01"

Entry = tuple[float, bytearray]  # (not_before, key)
Listener = Callable[[bytes], None]


def pack_entries(entries: list[Entry]) -> bytes:
    """Serialise a key set: a version byte, then ``not_before`` (ms, big-endian) + key each."""
    out = bytearray(_VERSION)
    for not_before, key in entries:
        out += _ENTRY.pack(int(not_before * 1000)) + key
    return bytes(out)


def unpack_entries(data: bytes | None) -> list[Entry]:
    """The inverse of :func:`pack_entries`; anything malformed is an empty set."""
    if not data or data[:1] != _VERSION or (len(data) - 1) % _ENTRY_SIZE:
        return []
    entries = []
    for i in range(1, len(data), _ENTRY_SIZE):
        (ms,) = _ENTRY.unpack_from(data, i)
        entries.append((ms / 1000.0, bytearray(data[i + _ENTRY.size : i + _ENTRY_SIZE])))
    entries.sort(key=lambda e: e[0])
    return entries


def _wipe(key: bytearray) -> None:
    key[:] = bytes(len(key))


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


def material(entries: list[Entry], now: float) -> bytes:
    """The keys for ``set_ticket_keys`` at ``now``: current, pending, then old ones (newest
    first).  Before the first key's time (clock skew), the earliest key encrypts."""
    past = [e for e in entries if e[0] <= now]
    future = [e for e in entries if e[0] > now]
    if not past:
        past, future = future[:1], future[1:]
    ordered = [past[-1]] + future + past[-2::-1]
    return b"".join(bytes(k) for _, k in ordered)


def rotated(entries: list[Entry], now: float, interval: float, keep: int) -> list[Entry]:
    """``entries`` brought up to date at ``now``: a current and a pending key exist, at most
    ``keep`` old ones remain (the retired ones are wiped).  Returns a new list."""
    entries = sorted(entries, key=lambda e: e[0])
    if not entries:
        entries.append((now, bytearray(random_key())))
    last = entries[-1][0]
    if last <= now:
        # The newest key already encrypts: publish its successor one interval ahead (from now
        # when this holder was asleep for longer than an interval).
        entries.append((max(last + interval, now + interval), bytearray(random_key())))
    current = max(i for i, e in enumerate(entries) if e[0] <= now) if entries[0][0] <= now else 0
    first_kept = max(0, current - keep)
    for _, key in entries[:first_kept]:
        _wipe(key)
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
        self._last: bytes | None = None

    # -- what holders use
    def ticket_keys(self, now: float | None = None) -> bytes:
        """The key material to give ``set_ticket_keys`` now (empty before the first load)."""
        if not self._entries:
            return b""
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

    # -- internals
    def _notify(self) -> None:
        keys = self.ticket_keys()
        if keys == self._last or not keys:
            return
        self._last = keys
        for listener in list(self._listeners):
            try:
                listener(keys)
            except Exception:  # noqa: BLE001 - one holder never stops the others
                log.exception("ticket key listener failed")

    def _replace(self, entries: list[Entry]) -> None:
        """Adopt ``entries``; wipe the local keys that are no longer in the set."""
        kept = {bytes(k) for _, k in entries}
        for _, key in self._entries:
            if bytes(key) not in kept:
                _wipe(key)
        self._entries = entries

    def _next_switch(self, now: float) -> float:
        """Seconds until a pending key starts encrypting (or an interval when none is known)."""
        future = [nb for nb, _ in self._entries if nb > now]
        return max(0.0, min(future) - now) if future else self.interval

    async def refresh(self) -> bytes:
        """Bring the key set up to date now; returns the current material."""
        raise NotImplementedError

    def _poll_delay(self, now: float) -> float:
        return self._next_switch(now)

    async def _run(self) -> None:
        while True:
            try:
                await self.refresh()
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

    async def refresh(self) -> bytes:
        self.rotate()
        return self.ticket_keys()


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

    async def refresh(self) -> bytes:
        try:
            entries = unpack_entries(await self.redis.get(self.name))
            now = time.time()
            if needs_rotation(entries, now):
                entries = await self._generate(entries, now)
        except Exception:
            self._ok = False
            raise
        self._ok = True
        if entries:
            self._replace(entries)
        return self.ticket_keys()

    async def _generate(self, entries: list[Entry], now: float) -> list[Entry]:
        token = secrets.token_hex(16)
        if not await self.redis.set(self.lock_name, token, nx=True, px=self._lock_ms):
            # Another server is rotating: its result is read on the next poll, or, when there is
            # no key at all yet, as soon as it appears (at most the lock's lifetime).
            deadline = time.monotonic() + self._lock_ms / 1000
            while not entries and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
                entries = unpack_entries(await self.redis.get(self.name))
            return entries
        try:
            entries = unpack_entries(await self.redis.get(self.name))  # re-read under the lock
            if needs_rotation(entries, now):
                entries = rotated(entries, now, self.interval, self.keep)
                await self.redis.set(self.name, pack_entries(entries), px=self._ttl_ms)
                log.info("ticket keys: published a new pending key in %s", self.name)
            return entries
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
        self._entries = [(nb, bytearray(k)) for nb, k in entries]
        self._buf = bytearray()
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
            chunk = os.read(self._fd, 65536)
        except BlockingIOError:
            return
        if not chunk:  # the parent is gone
            asyncio.get_running_loop().remove_reader(self._fd)
            return
        self._buf += chunk
        while len(self._buf) >= 4:
            (size,) = struct.unpack_from(">I", self._buf)
            if len(self._buf) < 4 + size:
                break
            entries = unpack_entries(bytes(self._buf[4 : 4 + size]))
            del self._buf[: 4 + size]
            if entries:
                self._replace(entries)
        self._notify()

    async def refresh(self) -> bytes:
        return self.ticket_keys()
