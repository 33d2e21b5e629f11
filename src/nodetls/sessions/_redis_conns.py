"""The connection a :class:`~nodetls.sessions.RedisSessionStore` made from a URL talks through:
one pipelined Redis connection, commands answered through callbacks.

redis-py makes and sets up the connection (it parses the URL: TCP, TLS, Unix sockets, AUTH, the
db number; it sends the setup commands and reads their replies).  The store then takes over the
connected transport and pipelines every command on it: its callback is queued and the
command waits for others (auto-pipelining, see :meth:`_Conn.flush_when_quiet`): the commands
sent in one loop iteration go out in one write, and while each iteration keeps adding commands
(a busy server) they keep collecting, for at most :data:`COLLECT_ITERATIONS` iterations,
:data:`COLLECT_SECONDS` and :data:`COLLECT_COMMANDS` commands.  Redis answers in order, so each
reply goes to the oldest waiting callback, and a read carrying several replies answers them all.
Each write to Redis costs a system call, usually a wake-up of Redis and a read of its replies:
collecting over iterations cut the server's CPU per resumed handshake by 9 % in a paired run
under the benchmark's load (``benchmarks/README.md``); an idle server's command waits one loop
iteration.  Parsing is hiredis's (the ``redis`` extra installs it) or :class:`_Reader`'s.
Measured per resumed handshake (two commands), this costs about a quarter of the Python calls of
redis-py's ``Connection.send_packed_command`` and ``read_response`` (asyncio streams, one task
per command; see ``benchmarks/README.md``).

* **Timeouts**: :meth:`RedisPipe.send` takes a ``timeout``; one timer per connection answers
  every command past its deadline with :class:`StoreTimeout` (its reply, when it comes, is
  dropped).  A caller that stops waiting (a cancelled :meth:`RedisPipe.call`) leaves its place
  in the queue the same way: later replies never shift.
* **Errors**: a connection that fails or closes answers all its waiting commands with
  ``redis.exceptions.ConnectionError``; the next command connects again (commands sent while
  connecting wait in the queue, each within its own timeout).  A connection with more than
  :data:`MAX_WAITING` unanswered commands (a Redis that stopped answering) is dropped.
  An error reply is ``redis.exceptions.ResponseError`` for that command only.
* **redis-py versions**: taking the transport over reads redis-py's private ``_reader`` /
  ``_writer`` (the same in redis-py 5 to 8; ``pyproject.toml`` allows ``redis<9`` until a new
  major version is checked).  Should they be missing, connecting fails like an unreachable Redis:
  every resumption is a full handshake, never a failed connection.
* **Event loops**: a connection serves the loop that made it; a command sent from another loop
  makes a new connection there (the old one is closed by its own loop, if it still runs).  A
  connection closes when its loop shuts down (``asyncio.run``, ``uvloop.run``,
  ``asyncio.Runner``: what ``loop.shutdown_asyncgens()`` closes, see :func:`_until_shutdown`),
  before the loop's ``close()``: uvloop's ``close()`` would close its transport with an
  "unclosed resource" ResourceWarning.  One whose loop was closed without that shutdown is
  closed by the next command from another loop, or by ``aclose()`` (:func:`_close_socket_of`).
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections import deque
from collections.abc import AsyncGenerator, Callable
from threading import get_ident
from time import monotonic
from typing import Any, Final

__all__ = ["RedisPipe", "StoreTimeout", "pack"]

#: Unanswered commands past which a connection is considered stuck and dropped.
MAX_WAITING = 10_000
#: How long the first of the unsent commands waits at most for others to go out in the same
#: write, while every loop iteration adds some (:meth:`_Conn.flush_when_quiet`): loop iterations,
#: seconds (long iterations: a server busy with full handshakes), and commands (a batch that
#: large gains little more from waiting).
COLLECT_ITERATIONS = 4
COLLECT_SECONDS = 0.002
COLLECT_COMMANDS = 32
_NEVER = float("inf")


class StoreTimeout(TimeoutError):
    """A command's timeout passed before Redis answered."""


_TIMEOUT = StoreTimeout("Redis did not answer within the timeout")


def pack(*args: bytes) -> bytes:
    """One Redis command in RESP (an array of bulk strings)."""
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


class _Reader:
    """RESP2 replies from a byte stream, hiredis's ``Reader`` interface (``feed``, ``gets`` returning
    ``False`` while incomplete; an error reply is returned as an exception): the fallback when
    hiredis is not installed."""

    def __init__(self, error: type[Exception]) -> None:
        self._buf = bytearray()
        self._error = error

    def feed(self, data: bytes) -> None:
        self._buf += data

    def gets(self) -> Any:
        buf = self._buf
        parsed = self._parse(buf, 0)
        if parsed is None:
            return False
        reply, end = parsed
        del buf[:end]
        return reply

    def _parse(self, buf: bytearray, pos: int) -> tuple[Any, int] | None:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return None
        kind, line, pos = buf[pos:pos + 1], bytes(buf[pos + 1:eol]), eol + 2
        if kind == b"$":
            size = _resp_int(line, "bulk string length")
            if size < 0:
                return None, pos
            if len(buf) < pos + size + 2:
                return None
            return bytes(buf[pos:pos + size]), pos + size + 2
        if kind in b"+-" and (b"\r" in line or b"\n" in line):
            raise ValueError(f"bad RESP simple string: {line[:32]!r}")  # (hiredis's refusal)
        if kind == b"+":
            return line, pos
        if kind == b":":
            return _resp_int(line, "integer"), pos
        if kind == b"_":  # RESP3 null (a URL with ?protocol=3)
            if line:
                raise ValueError(f"bad RESP null: {line[:32]!r}")
            return None, pos
        if kind == b"-":
            return self._error(line.decode("utf-8", "replace")), pos
        if kind == b"*":
            count = _resp_int(line, "multi-bulk length")
            items = []
            for _ in range(count):
                parsed = self._parse(buf, pos)
                if parsed is None:
                    return None
                item, pos = parsed
                items.append(item)
            return (items if count >= 0 else None), pos
        raise ValueError(f"unexpected RESP reply type {kind!r}")


#: A RESP integer as Redis writes one (and hiredis accepts): no sign but a minus, no leading
#: zero, no "-0", no blanks or underscores (which Python's ``int()`` would take).
_RESP_INT: Final = re.compile(rb"0|-?[1-9][0-9]{0,18}")


def _resp_int(line: bytes, what: str) -> int:
    """``line`` as a RESP integer (``what`` names it in the error); a length is at least -1.
    ValueError (the connection drops itself, as for hiredis's ``ProtocolError``) otherwise."""
    value = int(line) if _RESP_INT.fullmatch(line) else None
    if value is None or not -2**63 <= value < 2**63 or (what != "integer" and value < -1):
        raise ValueError(f"bad RESP {what}: {line[:32]!r}")
    return value


def _new_reader(error: type[Exception]) -> Any:
    try:
        import hiredis
    except ImportError:
        return _Reader(error)
    return hiredis.Reader(replyError=error)


class _Conn(asyncio.Protocol):
    """One connection: its transport (None while connecting), the callbacks of the commands
    sent on it, oldest first (``[then, arg, deadline]``; ``then`` is None once answered), its
    timer."""

    def __init__(self, pipe: RedisPipe, loop: asyncio.AbstractEventLoop) -> None:
        self.pipe = pipe
        self.loop = loop
        self.transport: Any = None
        self.unsent: list[bytes] = []
        self.waiting: deque[list[Any]] = deque()
        self.reader = _new_reader(pipe.errors.ResponseError)
        self.timer: asyncio.TimerHandle | None = None
        self.timer_at = _NEVER  # the timer's deadline (_NEVER while none is armed)
        self.closed = False
        # Whether a command comes from this connection's loop: its thread, and the loop running
        # (one loop runs per thread at a time).  asyncio.get_running_loop() would tell too, but
        # costs a getpid() system call per command on Python 3.11.
        self.thread = get_ident()
        self.running: Callable[[], bool] = loop.is_running
        self.time: Callable[[], float] = loop.time
        self.call_soon: Callable[..., Any] = loop.call_soon
        self.streams: tuple[Any, Any] | None = None  # redis-py's, kept alive with the transport
        self.flush_soon = self.flush_when_quiet  # (the bound method, made once)
        self.guard: Any = _until_shutdown(self)  # closes this connection at its loop's shutdown
        _step(self.guard.asend(None))  # (its first step: the running loop's hook registers it)

    def flush_when_quiet(self, seen: int, iterations: int, deadline: float) -> None:
        """Write the unsent commands once a loop iteration has added none to the ``seen`` there
        were at the last look, after ``iterations`` more looks (a call soon each: one per loop
        iteration), once ``deadline`` (``time.monotonic``) has passed, or once there are
        :data:`COLLECT_COMMANDS`; until then, look again one iteration later.
        :meth:`RedisPipe.send` schedules the first look (``seen`` 0: it always waits) when a
        command finds none unsent."""
        n = len(self.unsent)
        if not n:
            return  # written meanwhile (by _open, once connected) or dropped
        if iterations and n != seen and n < COLLECT_COMMANDS and monotonic() < deadline:
            self.call_soon(self.flush_soon, n, iterations - 1, deadline)
        else:
            self.flush()

    def flush(self) -> None:
        unsent = self.unsent
        if unsent and self.transport is not None and not self.closed:
            data = unsent[0] if len(unsent) == 1 else b"".join(unsent)
            unsent.clear()
            self.pipe.writes += 1
            try:
                self.transport.write(data)
            except Exception as exc:  # noqa: BLE001 - a transport closing under us
                self.lose(self.pipe.errors.ConnectionError(f"Redis write failed: {exc!r}"))

    # -- protocol
    def data_received(self, data: bytes) -> None:
        reader = self.reader
        waiting = self.waiting
        try:
            reader.feed(data)
        except Exception as exc:  # noqa: BLE001 - hiredis refusing the stream
            self.lose(self.pipe.errors.ConnectionError(f"bad reply from Redis: {exc!r}"))
            return
        while True:
            try:
                reply = reader.gets()
            except Exception as exc:  # noqa: BLE001 - a reply neither parser understands
                self.lose(self.pipe.errors.ConnectionError(f"bad reply from Redis: {exc!r}"))
                return
            if reply is False:
                return
            if not waiting:  # an unsolicited reply: the stream cannot be trusted
                self.lose(self.pipe.errors.ConnectionError("unexpected reply from Redis"))
                return
            then, arg, _ = waiting.popleft()
            if then is not None:
                try:
                    then(arg, reply)
                except Exception as exc:  # noqa: BLE001 - a callback's bug must not break us
                    _failed(self.loop, exc)

    def eof_received(self) -> bool:
        return False  # the transport closes; connection_lost answers what waits

    def connection_lost(self, exc: Exception | None) -> None:
        self.lose(self.pipe.errors.ConnectionError(
            f"Connection to Redis lost{f': {exc}' if exc else ''}"))

    # -- ending
    def lose(self, exc: BaseException) -> None:
        """Close this connection and answer every waiting command with ``exc``."""
        if self.closed:
            return
        self.closed = True
        if self.pipe._conn is self:
            self.pipe._conn = None
        guard, self.guard = self.guard, None
        if guard is not None:  # (None when the loop's shutdown is what closes this connection)
            _step(guard.aclose())
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
            self.timer_at = _NEVER
        if self.transport is not None:
            try:
                self.transport.close()
            except RuntimeError:  # its loop is closed (left by asyncio.run): nothing will run
                _close_socket_of(self.transport)  # the transport's close, so its socket now
        waiting, self.waiting = self.waiting, deque()
        for entry in waiting:
            then = entry[0]
            if then is not None:
                entry[0] = None
                _answer(self.loop, then, entry[1], exc)

    # -- deadlines
    def _arm(self, deadline: float) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.timer_at = deadline
        self.timer = self.loop.call_at(deadline, self._expire)

    def _expire(self) -> None:
        """Answer the commands past their deadline with :class:`StoreTimeout`; re-arm for the
        soonest deadline left."""
        self.timer = None
        self.timer_at = _NEVER
        now = self.loop.time()
        late: list[tuple[Callable[[Any, Any], None], Any]] = []
        soonest: float | None = None
        for entry in self.waiting:
            then, arg, deadline = entry
            if then is None or deadline is None:
                continue
            if deadline <= now:
                entry[0] = None
                late.append((then, arg))
            elif soonest is None or deadline < soonest:
                soonest = deadline
        if soonest is not None:
            self._arm(soonest)
        for then, arg in late:
            _answer(self.loop, then, arg, _TIMEOUT)


async def _until_shutdown(conn: _Conn) -> AsyncGenerator[None, None]:
    """Close ``conn`` when its event loop shuts down.  An async generator, started where the
    connection is made (in its loop, which registers it: the loop's ``firstiter`` hook) and left
    suspended: ``loop.shutdown_asyncgens()``, which ``asyncio.run``, ``uvloop.run`` and
    ``asyncio.Runner`` await before closing the loop, closes it, and with it the connection, while
    the loop still runs its transport's close.  A connection lost otherwise finishes it
    (:meth:`_Conn.lose`), so the loop's list of generators keeps none of them."""
    try:
        yield
    finally:
        if conn.guard is not None:  # the loop's shutdown (not lose(), which cleared it)
            conn.guard = None
            conn.lose(conn.pipe.errors.ConnectionError("its event loop was shut down"))


def _step(awaitable: Any) -> None:
    """Run one step of an async generator's ``asend``/``aclose`` (they await nothing here)."""
    try:
        awaitable.send(None)
    except StopIteration:
        pass
    except StopAsyncIteration:  # (aclose of one already finished)
        pass


def _close_socket_of(transport: Any) -> None:
    """Finish the ``close()`` of a transport whose event loop is closed: an asyncio selector
    transport's ``close()`` stops reading, then asks its loop to run the rest (closing the
    socket, ``connection_lost``), which a closed loop refuses; that rest runs here.  (Only for
    a loop closed without its shutdown, see :func:`_until_shutdown`.  uvloop's ``close()``
    closes every transport left open itself, descriptor included, each with an "unclosed
    resource" ResourceWarning; the transport's ``close()`` then does nothing and raises
    nothing, and redis-py's stream writer kept with it warns "loop is closed" when collected.)"""
    if isinstance(getattr(transport, "_sock", None), socket.socket):
        lost = getattr(transport, "_call_connection_lost", None)
        if callable(lost):
            lost(None)


def _answer(loop: asyncio.AbstractEventLoop, then: Callable[[Any, Any], None], arg: Any,
            reply: Any) -> None:
    try:
        then(arg, reply)
    except Exception as exc:  # noqa: BLE001 - a callback's bug must not break the connection
        _failed(loop, exc)


def _failed(loop: asyncio.AbstractEventLoop, exc: Exception) -> None:
    loop.call_exception_handler({"message": "Redis reply callback failed", "exception": exc})


def _settle(fut: asyncio.Future[Any], reply: Any) -> None:
    """:meth:`RedisPipe.call`'s callback: the reply into its future (unless cancelled)."""
    if not fut.done():
        if isinstance(reply, BaseException):
            fut.set_exception(reply)
        else:
            fut.set_result(reply)


class RedisPipe:
    """One pipelined connection to the Redis at ``url`` (made and set up by redis-py)."""

    def __init__(self, url: str) -> None:
        try:
            import redis.asyncio as aioredis
            import redis.exceptions as errors
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff
        except ImportError as exc:  # pragma: no cover - redis is an optional dependency
            raise ImportError("a Redis URL needs redis-py: pip install 'nodetls[redis]'") from exc
        self.errors = errors
        # redis-py parses the URL (its query options win over these) and makes the connections.
        factory = aioredis.ConnectionPool.from_url(
            url, socket_timeout=None, socket_connect_timeout=1.0, retry=Retry(NoBackoff(), 0))
        self._make: Any = factory.make_connection
        self._conn: _Conn | None = None
        self._connects: set[asyncio.Task[None]] = set()
        self.connects = 0  # connections made (for tests and diagnostics)
        self.writes = 0  # writes to Redis (for tests and diagnostics: commands per write)

    def send(self, packed: bytes, then: Callable[[Any, Any], None], arg: Any,
             timeout: float | None = None) -> None:
        """Send one packed command (:func:`pack`); ``then(arg, reply)`` is called exactly once:
        the reply (bytes, int, None...), a ``redis.exceptions`` error, or :class:`StoreTimeout`
        after ``timeout`` seconds.  (``arg``: the caller's, passed through, so that a bound
        method made once serves every command, with no closure per command.)"""
        conn = self._conn
        if conn is None or conn.thread != get_ident() or not conn.running():
            conn = self._connect()
        if timeout is None:
            deadline = None
        else:
            deadline = conn.time() + timeout
            if deadline < conn.timer_at:  # (inf while no timer is armed)
                conn._arm(deadline)
        waiting = conn.waiting
        waiting.append([then, arg, deadline])
        unsent = conn.unsent
        if not unsent and conn.transport is not None:
            # Auto-pipelining: this command and those that follow go out in one write, after
            # the first loop iteration that adds none (within the COLLECT_ bounds).
            conn.call_soon(conn.flush_soon, 0, COLLECT_ITERATIONS, monotonic() + COLLECT_SECONDS)
        unsent.append(packed)
        if len(waiting) > MAX_WAITING:
            conn.lose(self.errors.ConnectionError("Redis is not answering"))

    def call(self, *args: bytes) -> asyncio.Future[Any]:
        """Send one command (bytes arguments) and return a future of its reply (an error reply
        or a lost connection raise); cancelling the future abandons the command."""
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.send(pack(*args), _settle, fut)
        return fut

    @property
    def connections(self) -> int:
        """1 while a connection is open or being made, else 0."""
        return 0 if self._conn is None else 1

    def _connect(self) -> _Conn:
        """A new connection for the running loop (the first command, one after a lost
        connection, or one from another loop than the current connection's)."""
        loop = asyncio.get_running_loop()
        old = self._conn
        if old is not None:  # made by another event loop: closed there, if it still runs
            moved = self.errors.ConnectionError("the store moved to another loop")
            try:
                old.loop.call_soon_threadsafe(old.lose, moved)
            except RuntimeError:  # that loop is closed: nothing runs there any more
                old.lose(moved)
        conn = self._conn = _Conn(self, loop)
        task = loop.create_task(self._open(conn))
        self._connects.add(task)
        task.add_done_callback(self._connects.discard)
        return conn

    async def _open(self, conn: _Conn) -> None:
        rconn = self._make()
        try:
            await rconn.connect()  # TCP/TLS/Unix, AUTH, SELECT: redis-py's
            # The transport is ours from here: redis-py's connection forgets it (its stream
            # writer stays referenced: a collected StreamWriter closes its transport).
            conn.streams = (rconn._reader, rconn._writer)
            transport = rconn._writer.transport
            rconn._reader = rconn._writer = None
        except BaseException as exc:  # noqa: BLE001 - every waiting command gets the error
            conn.lose(exc if isinstance(exc, Exception) else self.errors.ConnectionError(repr(exc)))
            if not isinstance(exc, Exception):
                raise
            return
        self.connects += 1
        if conn.closed:  # dropped while connecting (aclose, or too many waiting)
            transport.close()
            return
        transport.set_protocol(conn)
        conn.transport = transport
        conn.flush()

    async def aclose(self) -> None:
        """Close the connection (commands still waiting get a ConnectionError; a later command
        connects again)."""
        conn = self._conn
        if conn is not None:
            conn.lose(self.errors.ConnectionError("the store was closed"))
        for task in list(self._connects):
            await asyncio.wait([task], timeout=2)
