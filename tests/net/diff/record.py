"""Record ``expected.json``: Node v20's results for the fixed seeds and for the named cases
(each a minimised divergence found by ``batch.py``), with ``runner.js``.
``python -m tests.net.diff.record [PATH]`` (needs ``node``; PATH: somewhere else than
``expected.json``); ``test_net_differential.py`` compares nodetls's results with these
records.

The fixed seeds are the first :data:`N_SEEDS` of ``range(1000)`` whose scripts nodetls ran
like Node twice when recorded (the others diverge: their classes are the named cases), so
they guard what already matches against regressions.
"""

from __future__ import annotations

import sys
from typing import Any

from .batch import HARNESS

N_SEEDS = 60

_OPTS = {"server": {"allowHalfOpen": False, "pauseOnConnect": False},
         "client": {"allowHalfOpen": False}}

#: name -> (what Node does, what nodetls does, the minimal script); every one is a known
#: divergence (the test is a strict xfail) until nodetls's net is fixed.
NAMED: dict[str, tuple[str, dict[str, Any]]] = {
    "set_timeout_zero_property": (
        "setTimeout(0) sets socket.timeout to 0; nodetls's timeout is None",
        {**_OPTS, "ops": [["c", "timeout", 0]]}),
    "finish_before_peer_data": (
        "end(): the shutdown completes in the next loop iteration's pending phase (libuv "
        "uv__io_feed), so 'finish' (and end's callback) come before data the peer wrote in "
        "the same tick; nodetls emits 'data' first",
        {**_OPTS, "ops": [["c", "end", None], ["s", "write", "61"]]}),
    "write_error_sync_returns_false": (
        "the peer closed (its uv_close closes the descriptor at once) and the first write drew "
        "a reset: the second write fails in the call (EPIPE; afterWriteDispatched -> onwrite: "
        "errored at once, onwriteError on the next tick: the callback, then destroy), so "
        "write() returns false; nodetls returned true",
        {**_OPTS, "ops": [["s", "destroy", False], ["c", "write", "61"], ["c", "write", "626261"]]}),
    "paused_read_ahead": (
        "a paused socket stops reading after one 64 KiB read past the high-water mark "
        "(bytesRead 65536); nodetls reads about twice as much before it stops",
        {**_OPTS, "ops": [["s", "pause"], ["c", "write", [200000, 50]]]}),
    "end_then_destroy_same_tick_no_fin": (
        "end() then (write after end ->) destroy in the same tick: Node's shutdown (FIN) was "
        "still queued, the close with unread data sends a RST only: the peer gets "
        "ECONNRESET; nodetls sent the FIN within end(): the peer gets 'end'",
        {**_OPTS, "ops": [["s", "write", "646564"], ["c", "end", None], ["c", "write", "616166"]]}),
    "peer_closed_then_write_reads_eof": (
        "the peer closed (FIN), then write() draws a RST: Node's next read still returns "
        "the EOF ('end', 'finish', 'close false'); nodetls reports ECONNRESET",
        {**_OPTS, "ops": [["c", "destroy", True], ["s", "write", "646563"]]}),
    "destroy_soon_before_peer_fin": (
        "end() on one side and destroySoon() on the other in the same tick: both shutdowns "
        "complete in the next iteration's pending phase, before its poll, so the destroySoon "
        "side closes at 'finish' without reading the peer's FIN (no 'end'); nodetls read the "
        "FIN in the completion's loop step, before 'finish'",
        {**_OPTS, "ops": [["c", "end", None], ["s", "destroy_soon"]]}),
    "write_to_reset_peer_econnreset": (
        "the peer closed with our data unread (a reset): end(data)'s write fails in the call "
        "with ECONNRESET, which end()'s callback and 'error' get; nodetls's write succeeded "
        "(the peer's close came a loop step later), then EPIPE",
        {**_OPTS, "ops": [["c", "write", "6262646463"], ["s", "destroy_soon"],
                          ["s", "write", "6565"], ["c", "end", "61"]]}),
    "close_with_data_unread_resets": (
        "destroySoon() closes at 'finish' with the peer's data unread in the kernel: a reset, "
        "so the peer's later end(data) fails with EPIPE (end()'s callback); nodetls had read "
        "that data into its handle (held until after 'finish') and closed with a FIN",
        {"server": {"allowHalfOpen": True, "pauseOnConnect": False},
         "client": {"allowHalfOpen": False},
         "ops": [["s", "write", "6166646264656266"], ["c", "destroy_soon"], ["settle"],
                 ["s", "end", "6163616463"], ["s", "destroy", False]]}),
    "short_read_hup_is_eof": (
        "the peer's data and its reset arrive in one poll: libuv reads the data (a short "
        "read), sees POLLHUP and reports EOF ('end', 'finish', 'close false'); nodetls reads "
        "again and gets the reset (ECONNRESET, 'close true')",
        {**_OPTS, "ops": [["s", "write", "62"], ["c", "write", "65"], ["s", "destroy", True]]}),
    "end_then_destroy_after_peer_read_resets": (
        "end() then (write after end ->) destroy in the same tick, the peer's data unread and "
        "ours all read by the peer loop steps before (seed 20112): Node's shutdown (FIN) was "
        "still queued, so its close sends a RST alone and the peer's read gets ECONNRESET "
        "('error', 'close true'); nodetls sends its FIN first (handle.py _close_now, "
        "fin_first: the approximation for data written in the same tick, applied once any "
        "data was written), so the peer gets 'end', 'finish', 'close false'. A fix would go "
        "in _close_now: the FIN first only when data went out in the close's own loop step "
        "(a per-step mark of the handle's writes)",
        {**_OPTS, "ops": [["s", "write", "66"], ["settle"], ["s", "end", None],
                          ["c", "write", "6362656263656166"], ["s", "write", "6364646662666464"]]}),
    "paused_shutdown_fails_after_peer_fin": (
        "a socket not reading (pauseOnConnect) end(data)s as the peer closes: the data draws "
        "a RST, the shutdown then fails (ENOTCONN: afterShutdown ignores it; 'finish'); not "
        "reading, the socket hears nothing ('readOnly'); resume() reads the peer's FIN, queued "
        "before the reset: 'end', 'close false' (seed 21149, uvloop: nodetls's transport was "
        "lost by the failed uv_shutdown and reported ECONNRESET at once)",
        {"server": {"allowHalfOpen": False, "pauseOnConnect": True},
         "client": {"allowHalfOpen": False},
         "ops": [["settle"], ["c", "destroy", True], ["s", "end", "666261"], ["settle"],
                 ["s", "resume"], ["settle"]]}),
    "paused_shutdown_fails_after_peer_reset": (
        "as paused_shutdown_fails_after_peer_fin, but the peer closes with our data unread "
        "(a RST, no FIN): not reading, the socket hears nothing until resume(), whose read "
        "gets 'error' ECONNRESET, 'close true' (uvloop: nodetls reported it at once)",
        {"server": {"allowHalfOpen": False, "pauseOnConnect": True},
         "client": {"allowHalfOpen": False},
         "ops": [["settle"], ["s", "write", "7a7a"], ["c", "destroy", True], ["s", "end", None],
                 ["settle"], ["s", "resume"], ["settle"]]}),
    "timeout_restarted_by_peer_eof": (
        "an idle timeout that has fired is restarted by the peer's FIN: onStreamRead calls "
        "kUpdateTimer for every read, the EOF too, and refresh() re-arms a fired timer, so a "
        "half-open socket gets a second 'timeout' after 'end' (seed 20610; nodetls's "
        "_on_handle_eof did not touch the timer: no second 'timeout')",
        {"server": {"allowHalfOpen": True, "pauseOnConnect": False},
         "client": {"allowHalfOpen": False},
         "ops": [["s", "timeout", 10], ["settle"], ["c", "destroy_soon"]]}),
    "end_then_destroy_peer_stops_at_hwm_resets": (
        "end(data) then (write after end ->) destroy in the same tick, the peer's data unread: "
        "Node's shutdown (FIN) was still queued, so its close sends a RST alone; the paused peer "
        "reads the data in one short read, its push() reaches the high-water mark and stops "
        "reading inside the read callback, so the POLLHUP that follows is not taken as EOF "
        "(uv__stream_io needs UV_HANDLE_READING) and its next read, at resume(), gets "
        "ECONNRESET (seed 20765; with 2000 bytes, below the mark, Node's peer gets 'end'). "
        "nodetls sends its FIN first (handle.py _close_now, fin_first, as in "
        "end_then_destroy_after_peer_read_resets): the peer reads the data, then 'end'",
        {**_OPTS, "ops": [["s", "end", [20000, 230]], ["c", "end", "6564"], ["c", "pause"],
                          ["s", "write", "666166"], ["settle"], ["c", "resume"]]}),
    "hup_stop_paused_resets": (
        "a paused socket end()s as the peer, its data unread, destroys (a RST after 20000 "
        "bytes): the shutdown fails (ENOTCONN, ignored: 'finish'), the next poll reads the "
        "20000 bytes in one short read with POLLHUP, and push() passes the high-water mark "
        "and stops reading inside the read callback, so uv__stream_io reports no EOF: at "
        "resume() the data, then the read gets the reset ('error' ECONNRESET, 'close true'). "
        "nodetls took the queued data and a hang-up EOF (hangup.py) and its transport read "
        "the reset at once ('error' before resume()); now the EOF is dropped when the owner "
        "stops reading while the data before it is delivered",
        {**_OPTS, "ops": [["c", "write", "78"], ["s", "write", [20000, 1]], ["c", "pause"],
                          ["c", "end", None], ["s", "destroy", False], ["settle"],
                          ["c", "resume"]]}),
    "hup_stop_paused_no_end_resets": (
        "as hup_stop_paused_resets without the end(): the paused socket's read stops at the "
        "mark, the reset waits for resume()'s read (nodetls: 'end' on asyncio's loop, the "
        "reset at once on uvloop; fixed on asyncio's loop only: uvloop's transport, reading "
        "once connection_made() has returned, reads the reset, and a handle that would "
        "defer it could not fail a write meanwhile as Node's does)",
        {**_OPTS, "ops": [["c", "write", "78"], ["s", "write", [20000, 1]], ["c", "pause"],
                          ["s", "destroy", False], ["settle"], ["c", "resume"]]}),
    "hup_paused_below_mark_ends": (
        "as hup_stop_paused_resets with 2000 bytes, below the high-water mark: the handle "
        "still reads after the short read, so POLLHUP is the EOF: at resume() the data, "
        "'end', 'close false' (nodetls's transport read the reset: 'error' at once)",
        {**_OPTS, "ops": [["c", "write", "78"], ["s", "write", [2000, 1]], ["c", "pause"],
                          ["c", "end", None], ["s", "destroy", False], ["settle"],
                          ["c", "resume"]]}),
    "hup_paused_two_reads_ends": (
        "as hup_stop_paused_resets with 70000 bytes: a full 64 KiB read stops at the mark; "
        "resume()'s read gets the last 4464 bytes, a short read with POLLHUP while flowing: "
        "'end', 'close false' (nodetls: the reset at once; took the data in one piece)",
        {**_OPTS, "ops": [["c", "write", "78"], ["s", "write", [70000, 1]], ["c", "pause"],
                          ["c", "end", None], ["s", "destroy", False], ["settle"],
                          ["c", "resume"]]}),
    "end_then_destroy_nagle_held_dropped": (
        "destroySoon() (an end()) then a write after end -> destroy in the same tick, the "
        "peer's data unread (seed 21653): Node's shutdown was still queued, so its close "
        "sends a RST alone, which drops what Nagle still held in the kernel (the last small "
        "write, behind one not yet acknowledged: Node leaves TCP_NODELAY off; strace: all "
        "four writes return in full, no shutdown(), the peer's read gets 9 bytes): the peer "
        "reads 9 of the 11 bytes, then EOF (a short read with POLLHUP). nodetls sends its FIN "
        "first (handle.py _close_now, fin_first, as in "
        "end_then_destroy_after_peer_read_resets) and shutdown() pushes the held bytes out: "
        "the peer reads all 11 (on uvloop, TCP_NODELAY on every socket, none is held). A fix "
        "would skip the FIN-first in _close_now when the kernel holds unsent data (ioctl "
        "SIOCOUTQNSD), leaving a nodetls peer that reads the reset (the short-read "
        "difference), and keep Nagle on uvloop as Node's (TCP_NODELAY off per connection)",
        {**_OPTS, "ops": [["s", "write", "61"], ["c", "write", "61"],
                          ["s", "write", "6264646661636564"], ["s", "write", "6165"],
                          ["s", "destroy_soon"], ["s", "write", "626365"]]}),
    "shutdown_fails_after_peer_reset_full_read_resets": (
        "the peer writes exactly 65536 bytes and destroys in the tick our end(data) goes out "
        "(our data unread: a RST): our shutdown fails (ENOTCONN, ignored: 'endcb', 'finish'), "
        "then Node's read takes the 65536 bytes in one read that fills libuv's 64 KiB buffer, "
        "so it reads again (POLLHUP is an EOF only after a short read) and gets the reset: "
        "'error' ECONNRESET, 'close true' (65535 or 65537 bytes: 'end'). nodetls's hang-up "
        "read (hangup.py) took the queued bytes and an EOF whatever their size: 'end', "
        "'close false'; now, the last read full, the transport reads on after the data and "
        "gets the reset (seed 24413, both loops; test_net_hup_full_read.py)",
        {**_OPTS, "ops": [["s", "end", "6564646662"], ["c", "write", [65536, 151]],
                          ["c", "destroy", False]]}),
    "end_then_destroy_peer_full_read_resets": (
        "end(data) of exactly 65536 bytes then (write after end ->) destroy in the same tick, "
        "the peer's byte unread (seed 24548): Node's shutdown (FIN) was still queued, so its "
        "close sends a RST alone; the peer reads the 65536 bytes in one read that fills "
        "libuv's 64 KiB buffer, so it reads again (POLLHUP is an EOF only after a short read) "
        "and gets ECONNRESET ('error', 'close true'; 65535, 65537 or 131072 bytes: 'end'). "
        "nodetls sends its "
        "FIN first (handle.py _close_now, fin_first, as in "
        "end_then_destroy_after_peer_read_resets): the peer reads the data, then 'end', "
        "'finish', 'close false'. A fix would need what the peer has not read yet (the "
        "per-step mark of end_then_destroy_after_peer_read_resets: the data written in the "
        "close's own loop step) and skip the FIN-first when the peer's last read of it "
        "would fill libuv's buffer (both loops)",
        {**_OPTS, "ops": [["s", "end", [65536, 100]], ["c", "write", "65"],
                          ["s", "write", "6263"]]}),
    "end_data_after_peer_fin_write_after_end": (
        "the peer's FIN came (no allowHalfOpen: the stream's own end() follows 'end') while "
        "our 8 MB write is still in flight (the peer does not read), then end(data): Node's "
        "end() hands the chunk to Writable's own _write, not to socket.write (writeAfterFIN "
        "once the peer ended: EPIPE for a write()), so it is refused as by any ended stream: "
        "'error' ERR_STREAM_WRITE_AFTER_END, end()'s callback the same, the write in flight's "
        "callback null, 'close true'. nodetls's Writable.end wrote the chunk through "
        "socket.write, whose write-after-FIN check made the error EPIPE (found as TLS seed "
        "8600, tls's end_data_after_peer_fin_write_after_end; both loops; "
        "test_net_end_data_after_fin.py)",
        {"server": {"allowHalfOpen": False, "pauseOnConnect": True},
         "client": {"allowHalfOpen": False},
         "ops": [["c", "write", [8000000, 1]], ["s", "end", None], ["settle"],
                 ["c", "end", "61"]]}),
}


def main() -> None:
    HARNESS.record(range(1000), NAMED, sys.argv[1:], n_seeds=N_SEEDS)


if __name__ == "__main__":
    main()
