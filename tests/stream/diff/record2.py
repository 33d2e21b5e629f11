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
        "in Node the async generator stages' promise reactions run before the 'close' "
        "nextTick, so end() marks the destination ended first and the callback gets no "
        "error; asyncio runs 'close' first (ERR_STREAM_PREMATURE_CLOSE). The accepted "
        "microtask-order class (docs/stream.md); a strict xfail",
        {"v": 2, "streams": [{"kind": "writable", "hwm": None, "write": "sync", "final": None}],
         "ops": [["pipeline", -1, [["gen", []], "agen", 0], "cb", True],
                 ["destroy", 0, False, False]]}),
}

#: the named cases nodetls still runs otherwise (strict xfails)
XFAIL = frozenset({"pipeline_pump_destination_destroyed"})


def main() -> None:
    HARNESS2.record(SEEDS, NAMED, sys.argv[1:], n_seeds=N_SEEDS)


if __name__ == "__main__":
    main()
