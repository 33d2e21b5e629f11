"""Record ``expected2.json``: Node v20's results for ``gen2.py``'s scripts (pipeline, finished,
async iteration, Readable.from, addAbortSignal): the first :data:`N_SEEDS` seeds that ran
alike in Node and nodetls (twice), and the named cases (each a minimised divergence found by
``batch2.py``: fixed in nodetls, or in :data:`XFAIL`, a strict xfail).
``python -m tests.stream.diff.record2 [PATH]`` (needs ``node``);
``test_stream_differential2.py`` compares nodetls's results with these records.

The seeds that do not run alike are the classes ``docs/stream.md`` lists as accepted
(JavaScript's microtask order), and the :data:`XFAIL` ones.
"""

from __future__ import annotations

import sys
from typing import Any

from .batch2 import HARNESS2

SEEDS = range(400)
N_SEEDS = 80

#: name -> (what Node does, the minimal script)
NAMED: dict[str, tuple[str, dict[str, Any]]] = {
    "pipeline_starts_function_stages_at_once": (
        "pipelineImpl calls pumpToNode (an async function) at once: an async generator stage's "
        "for-await starts reading the stream before it inside the pipeline() call",
        {"v": 2, "streams": [{"kind": "duplex", "hwm": None, "read": "noop", "src": [],
                              "write": "tick", "final": None},
                             {"kind": "writable", "hwm": None, "write": "sync", "final": None}],
         "ops": [["pipeline", -1, [0, "agen", 1], "cb", True], ["push", 0, "6163"],
                 ["push", 0, None]]}),
    "iterator_end_keeps_readable_listener": (
        "createAsyncIterator's finally: at the end of a stream already destroyed "
        "(autoDestroy), destroyer() does nothing and the 'readable' listener stays "
        "(readableFlowing stays false)",
        {"v": 2, "streams": [{"kind": "from", "hwm": None, "src": [], "async": False}],
         "ops": [["iter", 0, 2, None]]}),
    "pipeline_pump_destination_destroyed": (
        "pumpToNode into a destination destroyed (no error) before an empty source's end: "
        "Node runs the ops inside a promise reaction, so destroy()'s 'close' nextTick waits "
        "for the whole microtask chain (the empty generator's return, the stage's for-await "
        "step and return, pumpToNode's step) and end() marks the destination ended first: "
        "eos counts it finished, the callback gets no error; in asyncio each of those steps "
        "is one loop callback queued behind 'close' (ERR_STREAM_PREMATURE_CLOSE). The "
        "accepted microtask-order class (docs/stream.md: why nextTick cannot be placed "
        "behind asyncio's task wakeups); a strict xfail",
        {"v": 2, "streams": [{"kind": "writable", "hwm": None, "write": "sync", "final": None}],
         "ops": [["pipeline", -1, [["gen", []], "agen", 0], "cb", True],
                 ["destroy", 0, False, False]]}),
    "pipeline_stage_iterator_of_errored_source": (
        "an async generator stage reading a source that fails (construct error, autoDestroy "
        "false): Node's for-await gets the error and its finally removes the 'readable' "
        "listener (readableFlowing back to null); nodetls cancels the stage, and the "
        "cancelled iterator now ends at once as that finally (it used to wait for the garbage "
        "collector, keeping the listener)",
        {"v": 2, "streams": [{"kind": "readable", "hwm": None, "read": "tick", "src": [],
                              "construct": "error", "autoDestroy": False},
                             {"kind": "writable", "hwm": None, "write": "manual", "writev": True,
                              "decodeStrings": False, "final": None, "autoDestroy": None}],
         "ops": [["pipeline", -1, [0, "agen", 1], "cb", True]]}),
}

#: the named cases nodetls still runs otherwise (strict xfails)
XFAIL = frozenset({"pipeline_pump_destination_destroyed"})


def main() -> None:
    HARNESS2.record(SEEDS, NAMED, sys.argv[1:], n_seeds=N_SEEDS)


if __name__ == "__main__":
    main()
