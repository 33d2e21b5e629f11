"""The stream scripts whose difference from Node is accepted on purpose: left out of the
comparison (:func:`accepted` says why). Comparing results: :class:`tests.helpers.difftest.Harness`."""

from __future__ import annotations

import json
from typing import Any


def accepted(script: dict[str, Any], node: dict[str, Any] | None = None) -> str | None:
    """Why ``script`` (whose Node result is ``node``, if known) is not compared with Node (an
    accepted difference), or None."""
    if node is not None and "node-bug read-overrun" in node["log"]:
        # a string stream's read(n) that Node's fromList overran, or that left an empty
        # string at its buffer's head, stalling flowing mode (see runner.js): nodetls returns
        # n characters, keeps its readable_length right and flows on
        return "Node's read(n) overrun on a string stream"
    if "f09f" in json.dumps(script) and any(op[0] == "enc" and op[2] == "utf8"
                                            for op in script["ops"]):
        # a character outside the BMP (F0 9F 98 80) in a UTF-8 string stream: Python's str
        # counts it as 1 (readable_length, read(n)), a JavaScript string as 2 (UTF-16 units)
        return "a non-BMP character in a string stream (str length: code points)"
    encoded: set[int] = set()
    for op in script["ops"]:
        if op[0] == "enc":
            encoded.add(op[1])
        elif op[0] == "unshift" and op[1] in encoded and isinstance(op[2], str):
            # bytes unshifted into a stream with an encoding: nodetls decodes them with the
            # stream's decoder; Node keeps the Buffer as it is among the buffered strings (a
            # 'data' of a Buffer on a string stream, or its UTF-8 text once joined to others,
            # its byte length counted as characters): an accident of Node's, not relied upon.
            return "unshift(bytes) on a stream with an encoding"
    return None

