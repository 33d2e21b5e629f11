"""Record ``expected.json``: Node v20's results for the fixed seeds and for the named cases
(each a minimised divergence found by ``batch.py`` and fixed in nodetls), with ``runner.js``.
``python -m tests.stream.diff.record [PATH]`` (needs ``node``; PATH: somewhere else than
``expected.json``); ``test_stream_differential.py`` compares nodetls's results with these
records.
"""

from __future__ import annotations

import sys
from typing import Any

from .batch import HARNESS

SEEDS = range(300)

#: name -> (what Node does, the minimal script)
NAMED: dict[str, tuple[str, dict[str, Any]]] = {
    "write_below_mark_when_empty": (
        "writeOrBuffer: write() is true when the buffer is empty after a synchronous _write, "
        "whatever the mark (0 included): `length < highWaterMark || length === 0`",
        {"streams": [{"kind": "writable", "hwm": 0, "write": "sync"}],
         "ops": [["write", 0, "62"], ["write", 0, "6364"]]}),
    "unshift_flowing_emits_data": (
        "addChunk(addToFront): unshift() on a flowing stream with a 'data' listener and nothing "
        "buffered (outside _read) emits 'data' at once",
        {"streams": [{"kind": "passthrough", "hwm": None}],
         "ops": [["on", 0, "data", "log"], ["unshift", 0, "6663"]]}),
    "unshift_into_pipe_to_destroyed": (
        "addChunk: the unshifted chunk goes to the pipe's 'data' listener (a destroyed "
        "destination: lost, the source paused), the next one is buffered",
        {"streams": [{"kind": "readable", "hwm": None, "read": "noop", "src": []},
                     {"kind": "passthrough", "hwm": None}],
         "ops": [["pipe", 0, 1, True], ["read", 0, None], ["destroy", 1, True],
                 ["unshift", 0, "6164"], ["unshift", 0, "c3"]]}),
    "unshift_str_other_encoding": (
        "readableAddChunkUnshiftByteMode: a string in another encoding than the stream's is "
        "converted to it at once (Buffer.from(s, enc).toString(state.encoding)), not fed to "
        "the decoder holding half a character",
        {"streams": [{"kind": "readable", "hwm": None, "read": "noop", "src": []}],
         "ops": [["enc", 0, "utf16le"], ["push", 0, "61"], ["unshift", 0, ["s", "bc"]],
                 ["push", 0, "00"], ["read", 0, None]]}),
    "unshift_empty_after_end": (
        "an empty chunk is checked before the end: unshift('') after 'end' is no error "
        "(a non-empty one is ERR_STREAM_UNSHIFT_AFTER_END_EVENT)",
        {"streams": [{"kind": "readable", "hwm": None, "read": "noop", "src": [],
                      "autoDestroy": False}],
         "ops": [["push", 0, None], ["resume", 0], ["tick"], ["unshift", 0, ["s", ""]],
                 ["unshift", 0, "61"]]}),
    "construct_read_keeps_sync": (
        "kSync: a read() while constructing makes no _read call and leaves the flag set, so "
        "push(None) after a failed construction emits 'readable' on a later tick and the "
        "buffered data stays readable",
        {"streams": [{"kind": "readable", "hwm": None, "read": "sync", "src": [],
                      "construct": "error"}],
         "ops": [["read", 0, 100], ["unshift", 0, ["s", "\u20acx"]], ["tick"], ["resume", 0],
                 ["push", 0, None], ["read", 0, 3]]}),
    "construct_read_then_unshift": (
        "kSync while constructing: a flowing stream's unshift() buffers the chunk (no 'data' "
        "at once; guards unshift's addChunk path against a read() made while constructing)",
        {"streams": [{"kind": "readable", "hwm": None, "read": "noop", "src": [],
                      "construct": "manual"}],
         "ops": [["read", 0, 3], ["on", 0, "data", "log"], ["unshift", 0, "66"], ["ccb", 0, False]]}),
    "destroy_during_end_write": (
        "onwrite's needTick (`needDrain || (state & kDestroyed !== 0) || cb !== nop`: by "
        "precedence the object-mode bit, not destroyed): end(chunk) whose write completes at "
        "once on a stream destroyed meanwhile schedules nothing, the end callback is not called",
        {"streams": [{"kind": "passthrough", "hwm": None}],
         "ops": [["on", 0, "data", "destroy"], ["end", 0, "6261"]]}),
    "destroy_while_clearing_buffer": (
        "Writable.destroy: kBuffered is still set while the buffer is written out, so the "
        "pending callbacks (end's) are errored on the next tick, before 'close'",
        {"streams": [{"kind": "passthrough", "hwm": None}],
         "ops": [["on", 0, "data", "destroy"], ["cork", 0], ["write", 0, "62"], ["end", 0, None]]}),
    "emit_readable_keeps_need_readable": (
        "emitReadable_ only ever sets kNeedReadable (`|=`): an unshift() after the stream "
        "ended (data still buffered) emits 'readable' again",
        {"streams": [{"kind": "readable", "hwm": None, "read": "sync",
                      "src": ["636162", "63", None]}],
         "ops": [["on", 0, "readable", "read1"], ["tick"], ["unshift", 0, "62646263"]]}),
    "finish_after_construct_clears_buffer": (
        "needFinish is false while the buffer is written out (kBuffered): the constructed "
        "writable side's finishMaybe finishes at once, before the readable side's read-ahead",
        {"streams": [{"kind": "duplex", "hwm": None, "read": "noop", "src": [], "write": "sync",
                      "final": None, "construct": "sync"},
                     {"kind": "writable", "hwm": None, "write": "tick", "final": None}],
         "ops": [["pipe", 0, 1, True], ["end", 0, "66"]]}),
    "transform_mark0_flush_after_callbacks": (
        "needFinish while a Transform's buffered writes go out: the write callback comes "
        "before _flush",
        {"streams": [{"kind": "transform", "hwm": 0, "write": "sync", "final": "sync"}],
         "ops": [["on", 0, "readable", "read1"], ["write", 0, "6562"], ["write", 0, "66"],
                 ["read", 0, None], ["end", 0, ["s", "abc"]]]}),
    "multi_pipe_cleanup_resumes": (
        "kMultiAwaitDrain: once a second pipe was added, awaitDrainWriters is a Set, true even "
        "empty; a destination destroyed while it needs a drain is unpiped and its cleanup "
        "resumes the paused source for the other pipe",
        {"streams": [{"kind": "readable", "hwm": None, "read": "sync", "src": ["e282ac"]},
                     {"kind": "writable", "hwm": 1, "write": "tick", "final": None},
                     {"kind": "writable", "hwm": None, "write": "tick", "final": None}],
         "ops": [["pipe", 0, 1, True], ["pipe", 0, 2, True], ["tick"], ["pause", 0],
                 ["write", 1, "62"], ["destroy", 1, True]]}),
    "end_nt_per_end_readable_after_unshift": (
        "endReadable queues an endReadableNT each call: the first (a read() of the ended, "
        "empty stream) finds the chunk unshift() put back and does nothing; the second "
        "(read(100) taking an earlier unshifted chunk) runs after the 'readable' whose read(1) "
        "takes it, and emits 'end' (seed 12105308)",
        {"streams": [{"kind": "passthrough", "hwm": None}],
         "ops": [["end", 0, None], ["on", 0, "readable", "read1"], ["read", 0, None],
                 ["unshift", 0, ["s", "hi"]], ["read", 0, 100], ["unshift", 0, "62"]]}),
}


def main() -> None:
    HARNESS.record(SEEDS, NAMED, sys.argv[1:])


if __name__ == "__main__":
    main()
