"""Record ``expected.json``: Node v20's results for the fixed seeds and for the named cases
(each a minimised divergence found by ``batch.py`` and fixed in nodetls), with ``runner.js``.
``python -m tests.events.diff.record [PATH]`` (needs ``node``; PATH: somewhere else than
``expected.json``); ``test_events_differential.py`` compares nodetls's results with these
records.
"""

from __future__ import annotations

import sys
from typing import Any

from .batch import HARNESS

SEEDS = range(500)

#: name -> (what Node does, the minimal script)
NAMED: dict[str, tuple[str, dict[str, Any]]] = {
    "remove_all_walks_live_array": (
        "removeAllListeners(type) with a 'removeListener' listener walks the listener array "
        "by index, last first, while removeListener splices it and a 'removeListener' "
        "listener's prependListener unshifts into it (the same array)",
        {"kind": "plain", "fns": [["log"], ["prepend", "a", 0], ["log"], ["log"], ["log"]],
         "ops": [["on", "a", 2], ["on", "a", 3], ["on", "a", 2], ["on", "removeListener", 1],
                 ["rmall", None]]}),
    "remove_all_detached_array_throws": (
        "removeAllListeners(type): once the event is down to one listener (the table holds "
        "the function, the array is detached), an index past the array's end is "
        "removeListener(type, undefined): ERR_INVALID_ARG_TYPE",
        {"kind": "plain", "fns": [["log"], ["log"], ["rmall", None]],
         "ops": [["on", "a", 0], ["on", "a", 1], ["on", "a", 2], ["prepend", "removeListener", 2],
                 ["rmall", "a"]]}),
    "remove_all_nested_same_event": (
        "a removeAllListeners(type) inside another's walk of the same array detaches it for "
        "both (the outer then throws ERR_INVALID_ARG_TYPE)",
        {"kind": "plain", "fns": [["log"], ["log"], ["log"], ["rmall", "a"]],
         "ops": [["on", "a", 1], ["on", "a", 0], ["on", "a", 1], ["on", "removeListener", 3],
                 ["rmall", "a"]]}),
    "max_listeners_warns_per_array": (
        "_addListener's `existing.warned` is the listener array's: once the event is down to "
        "one listener (the array gone), growing past the limit again warns again",
        {"kind": "plain", "fns": [["off", "a", 0], ["log"], ["log"]],
         "ops": [["max", 1], ["on", "a", 0], ["on", "a", 0], ["emit", "a", 2],
                 ["prepend", "a", 1]]}),
    "error_monitor_remove_all": (
        "emit('error') reads the table it held before calling the errorMonitor listeners: "
        "one calling removeAllListeners() (a new table) leaves the old 'error' listeners "
        "called, no ERR_UNHANDLED_ERROR",
        {"kind": "plain", "fns": [["rmall", None], ["log"], ["log"], ["log"], ["log"]],
         "ops": [["on", "monitor", 0], ["once", "error", 4], ["emit", "error", 2]]}),
    "error_monitor_remove_all_listener": (
        "the same with an Error (no throw) and an 'error' listener that is a once listener",
        {"kind": "plain", "fns": [["emit", "a"], ["rmall", None]],
         "ops": [["prepend", "monitor", 0], ["on", "a", 1], ["prepend_once", "error", 1],
                 ["emit", "error", 1]]}),
    "error_monitor_once_empties_table": (
        "emit('error') reads the table it held before calling the errorMonitor listeners: a "
        "once listener (here a 'newListener' one, fired by the monitor adding an 'error' "
        "listener) that removes the table's last listener makes Node start a new table, so "
        "the 'error' listener added to it is not called: ERR_UNHANDLED_ERROR",
        {"kind": "plain", "fns": [["once", "error", 3], ["log"], ["log"], ["log"]],
         "ops": [["once", "monitor", 0], ["prepend_once", "newListener", 1],
                 ["emit", "error", 2]]}),
    "error_monitor_nested_once_error": (
        "the same old table after a nested emit('error') whose once 'error' listener was the "
        "table's last one: the outer emit finds the fired wrapper there (no call, true)",
        {"kind": "plain", "fns": [["log"], ["log"], ["emit", "error"], ["log"]],
         "ops": [["once", "monitor", 2], ["once", "error", 0], ["emit", "error", 0]]}),
    "remove_all_walks_keys_without_listener": (
        "removeAllListeners() with a 'removeListener' listener walks Reflect.ownKeys of the "
        "table, taken once: on a Readable the key of an event whose once listener fired stays "
        "(kShapeMode: undefined), so a listener the 'removeListener' listener adds there "
        "meanwhile is removed too, with its 'removeListener' (seed 11099186)",
        {"kind": "readable", "fns": [["log"], ["log"], ["prepend", "a", 1], ["log"]],
         "ops": [["once", "a", 3], ["emit", "a", 1], ["on", "error", 3], ["rmall", "close"],
                 ["on", "removeListener", 2], ["rmall", None]]}),
    "remove_all_detached_in_nested_walk": (
        "removeAllListeners('removeListener') walks its live array; a 'removeListener' "
        "listener's removeAllListeners('a') (a walk of another event, nested) removes 'a', "
        "whose 'removeListener' fires a once wrapper that takes the array down to one "
        "listener, detaching it: the outer walk's next index is past its end, "
        "removeListener(type, undefined) throws ERR_INVALID_ARG_TYPE and that listener "
        "stays (seed 11812775)",
        {"kind": "plain", "fns": [["rmall", "a"], ["log"], ["once", "removeListener", 1]],
         "ops": [["on", "a", 2], ["on", "a", 2], ["prepend_once", "removeListener", 0],
                 ["emit", "a", 1], ["prepend", "removeListener", 0],
                 ["rmall", "removeListener"]]}),
}


def main() -> None:
    HARNESS.record(SEEDS, NAMED, sys.argv[1:])


if __name__ == "__main__":
    main()
