"""The ``store_records`` harness: what a fleet's stores hand back to nodetls's own Python.

Who controls these bytes: a Redis server (or whoever can write to it: the fleet shares one), and,
for the workers of ``run(main, workers=N)``, the pipe from their parent. Byte 0 picks the entry
point (bits 0-1) and how the stream is cut into reads (bits 2-7); the rest is

* 0: the ticket-key set stored under ``RedisTicketKeys``'s name (``unpack_entries``), then what
  a server does with it: ``needs_rotation``/``rotated`` on the schedule, ``material`` handed to a
  real context's ``set_ticket_keys``;
* 1: a stream of Redis replies as the pipelined connection reads it (``_redis_conns._Reader``, the
  parser used when hiredis is not installed), fed in pieces;
* 2: the worker's pipe (``PipedTicketKeys._on_readable`` over a real pipe): 4-byte lengths, each
  followed by a packed key set, written in pieces.

The oracle, beyond :class:`fuzz.oracle.Baseline` (every ``SSL_CTX`` freed, an empty OpenSSL
error queue):

* 0: ``unpack_entries`` never raises; a malformed set is empty; a well-formed one has every key
  48 bytes, sorted by ``not_before``, and packs back to the same bytes once sorted; ``material`` is
  48 bytes per key, current key first; ``rotated`` leaves a set that needs no rotation, at most
  ``keep`` keys older than the current one; ``set_ticket_keys`` takes the material;
* 1: ``_Reader`` raises nothing but ``Exception`` subclasses (the connection catches those and
  drops itself), and the replies it gives for the pieces are the replies it gives for the whole
  stream at once; **differential**: wherever hiredis reads the stream without a protocol error,
  ``_Reader`` gives the same replies (error replies as the same class and message) -- except
  RESP3's other types (maps, sets, doubles, pushes...), which ``_Reader`` refuses: never a reply
  to the commands nodetls sends; and where hiredis stops at a protocol error, ``_Reader`` gives
  no reply beyond the ones hiredis gave before it;
* 2: the reader never raises, allocates at most :data:`MAX_PIPE_BUFFER` bytes, and ends with the
  key set of the last complete well-formed message (or the initial one); a length beyond
  :data:`MAX_MESSAGE` is a corrupt stream, after which it reads nothing more.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import os
import struct
import time
from collections.abc import Callable
from typing import Any

from nodetls._context.secure_context import SecureContext
from nodetls.sessions import _keys
from nodetls.sessions._redis_conns import _Reader

from . import peers
from .oracle import Baseline, OracleViolation, quiet

NOW = 1_750_000_000.0  # a fixed clock (June 2025)
INTERVAL, KEEP = 3600.0, 2
#: The longest message a worker (``keep`` 2) reads from its pipe, and the most its buffer may
#: grow to.
MAX_MESSAGE = 1 << 20
MAX_PIPE_BUFFER = MAX_MESSAGE + 4
_EXACT_MS = (1 << 50).to_bytes(8, "big")


class ReplyError(Exception):
    """The error class both RESP readers are given for error replies."""


@functools.cache
def _context() -> SecureContext:
    ca, cert, key = peers.pems()
    return SecureContext({"cert": cert, "key": key})


def _cuts(flags: int, n: int) -> list[int]:
    """Where a stream of ``n`` bytes is cut into reads (``flags``: 0 is one read)."""
    if not flags or n < 2:
        return [0, n]
    step = max(1, n * flags // 64)
    return list(range(0, n, step)) + [n]


def key_set(data: bytes) -> None:
    ctx = _context()
    entries = _keys.unpack_entries(data)
    well_formed = bool(data) and data[0] == 1 and (len(data) - 1) % 56 == 0
    if not well_formed:
        if entries:
            raise OracleViolation(f"a malformed set gave {len(entries)} key(s)")
        return
    if any(len(k) != 48 or not isinstance(k, bytearray) for _, k in entries):
        raise OracleViolation("a key that is not a 48-byte bytearray")
    if [nb for nb, _ in entries] != sorted(nb for nb, _ in entries):
        raise OracleViolation("the keys are not sorted by not_before")
    def chunks(b: bytes) -> list[bytes]:
        # (not_before exactly, while a double holds the milliseconds: up to year 37,000)
        return sorted(b[i:i + 56] if b[i:i + 8] < _EXACT_MS else b[i + 8:i + 56]
                      for i in range(1, len(b), 56))

    if chunks(bytes(_keys.pack_entries(entries))) != chunks(data):
        raise OracleViolation("the set does not pack back to its bytes")
    if not entries:
        return
    mat = _keys.material(entries, NOW)
    if len(mat) != 48 * len(entries):
        raise OracleViolation(f"material of {len(mat)} bytes for {len(entries)} keys")
    past = [k for nb, k in entries if nb <= NOW]
    if bytes(mat[:48]) != bytes(past[-1] if past else entries[0][1]):
        raise OracleViolation("the material's first key is not the current one")
    ctx.set_ticket_keys(mat)
    new = _keys.rotated(list(entries), NOW, INTERVAL, KEEP)
    if _keys.needs_rotation(new, NOW):
        raise OracleViolation("a rotated set still needs rotation")
    if sum(1 for nb, _ in new if nb <= NOW) > KEEP + 1:
        raise OracleViolation(f"more than {KEEP} old keys kept")


def _replies(reader: Any, pieces: list[bytes]) -> tuple[list[Any], BaseException | None]:
    out: list[Any] = []
    try:
        for piece in pieces:
            reader.feed(piece)
            while (reply := reader.gets()) is not False:
                out.append(reply)
    except Exception as exc:  # noqa: BLE001 - what data_received catches
        return out, exc
    return out, None


def _norm(reply: Any) -> Any:
    if isinstance(reply, BaseException):
        return (type(reply).__name__, str(reply))
    if isinstance(reply, list):
        return [_norm(r) for r in reply]
    return reply


def resp_stream(data: bytes, flags: int) -> None:
    cuts = _cuts(flags, len(data))
    pieces = [data[a:b] for a, b in itertools.pairwise(cuts)]
    ours, err = _replies(_Reader(ReplyError), pieces)
    whole, whole_err = _replies(_Reader(ReplyError), [data])
    if err is None and whole_err is None and _norm(ours) != _norm(whole):
        raise OracleViolation(f"replies differ by how the stream was cut: {ours!r} {whole!r}")
    try:
        import hiredis
    except ImportError:
        return
    theirs, their_err = _replies(hiredis.Reader(replyError=ReplyError), [data])
    if isinstance(err, ValueError) and str(err).startswith("unexpected RESP reply type") and \
            _norm(ours) == _norm(theirs)[:len(ours)]:
        return  # RESP3's other types (maps, sets, doubles, pushes...): never a reply to our
        # commands (GET/GETEX/SET/DEL/EVAL), refused (the connection is dropped), as documented
    if their_err is None and (err is not None or _norm(ours) != _norm(theirs)):
        raise OracleViolation(f"_Reader {_norm(ours)!r} ({err!r}) != hiredis {_norm(theirs)!r}")
    if their_err is not None and err is None and len(ours) > len(theirs):
        raise OracleViolation(f"_Reader took {_norm(ours[len(theirs)])!r}, hiredis refused it "
                              f"({their_err!r})")


def worker_pipe(data: bytes, flags: int) -> None:
    initial = [(NOW, bytearray(b"\x11" * 48))]
    want = [(nb, bytes(k)) for nb, k in initial]
    pos = 0
    while len(data) - pos >= 4:
        (size,) = struct.unpack_from(">I", data, pos)
        if size > MAX_MESSAGE:
            break  # a corrupt stream: the worker stops reading it
        if pos + 4 + size > len(data):
            break
        got = _keys.unpack_entries(data[pos + 4:pos + 4 + size])
        if got:
            want = [(nb, bytes(k)) for nb, k in got]
        pos += 4 + size
    r, w = os.pipe()
    src = _keys.PipedTicketKeys(r, initial, INTERVAL, KEEP)
    loop = asyncio.new_event_loop()
    try:
        os.set_blocking(r, False)
        os.set_blocking(w, False)
        # As subscribe() does, without the refresh task: the loop calls the reader when the
        # pipe is readable, until the reader removes itself.
        loop.add_reader(r, src._on_readable)
        src._reading = True
        cuts = _cuts(flags, len(data))
        for a, b in itertools.pairwise(cuts):
            try:
                os.write(w, data[a:b])
            except BlockingIOError:  # (a reader that stopped: the pipe is full)
                break
            loop.run_until_complete(_iterations(2))
        if len(src._buf) > MAX_PIPE_BUFFER:
            raise OracleViolation(f"the pipe buffer grew to {len(src._buf)} bytes")
        have = [(nb, bytes(k)) for nb, k in src._entries]
        if have != want:
            raise OracleViolation(f"the worker holds {len(have)} key(s), the stream's last "
                                  f"complete set has {len(want)}")
    finally:
        loop.remove_reader(r)
        loop.close()
        os.close(w)
        os.close(r)


async def _iterations(n: int) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


def store_records(data: bytes) -> None:
    if not data:
        return
    entry, flags, body = data[0] & 3, data[0] >> 2, data[1:]
    _context()  # (made once, before the baseline)
    base = Baseline()
    try:
        if entry == 0:
            key_set(body)
        elif entry == 1:
            resp_stream(body, flags)
        elif entry == 2:
            with quiet("nodetls.sessions"):
                worker_pipe(body, flags)
    except OracleViolation:
        raise
    except Exception as exc:
        raise OracleViolation(f"{['key set', 'RESP', 'pipe', '?'][entry]}: {exc!r}") from exc
    base.check()


HARNESSES: dict[str, Callable[[bytes], None]] = {"store_records": store_records}


def seeds() -> dict[str, list[bytes]]:
    """Genuine key sets (``rotated``'s: one, three, keep+2 keys, a pending key), the pipe's
    messages carrying them, and Redis replies of every kind the store reads (bulk, nil, simple,
    integer, error, arrays, RESP3 null)."""
    def key(n: int) -> bytearray:
        return bytearray(bytes([n]) * 48)

    sets = [[(NOW - 10, key(1))], [(NOW - 7200, key(1)), (NOW - 10, key(2)), (NOW + 3600, key(3))],
            [(NOW + 100, key(4))], [(float(i * 1000), key(i)) for i in range(5)]]
    packed = [bytes(_keys.pack_entries(s)) for s in sets]
    out = [b"\x00" + p for p in packed]
    out += [b"\x00\x02" + packed[1][1:], b"\x00"]
    stream = b"".join(struct.pack(">I", len(p)) + p for p in packed)
    out += [b"\x02" + stream, bytes([2 | 7 << 2]) + stream,
            b"\x02" + struct.pack(">I", len(packed[1])) + packed[1][:30]]
    replies = [b"$5\r\nhello\r\n", b"$-1\r\n", b"+OK\r\n", b":42\r\n", b"-ERR wrong type\r\n",
               b"*2\r\n$1\r\na\r\n:1\r\n", b"*-1\r\n", b"_\r\n", b"$0\r\n\r\n",
               b"*3\r\n$3\r\nkey\r\n*1\r\n-ERR x\r\n$-1\r\n",
               b"$%d\r\n%s\r\n" % (len(packed[1]), packed[1])]
    out += [b"\x01" + b"".join(replies), bytes([1 | 5 << 2]) + b"".join(replies)]
    out += [b"\x01" + r for r in replies]
    # finding 22: a length far beyond any set, on the pipe; finding 23: a not_before whose
    # milliseconds a truncating pack lost
    out.append(b"\x02" + stream[:4 + len(packed[0])] + struct.pack(">I", 200 << 20) + bytes(64))
    out.append(b"\x00" + bytes(_keys.pack_entries([(2183226373411 / 1000.0, key(9))])))
    return {"store_records": out}


if __name__ == "__main__":  # pragma: no cover - a quick local pass
    t = time.monotonic()
    for s in seeds()["store_records"]:
        store_records(s)
    print(f"{time.monotonic() - t:.3f} s")
