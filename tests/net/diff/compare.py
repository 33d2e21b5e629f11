"""Comparison of a nodetls result with Node's (``runner.py`` / ``runner.js``): a result is
``{"c": [...], "s": [...], "state": {"c": {...}, "s": {...}}}`` (the client's log, the accepted
socket's, their final states). Scripts doing something whose difference from Node is accepted
on purpose are left out of the comparison (:func:`accepted` says why)."""

from __future__ import annotations

from typing import Any


def accepted(script: dict[str, Any], node: dict[str, Any] | None = None) -> str | None:
    """Why ``script`` (whose Node result is ``node``, if known) is not compared with Node (an
    accepted difference), or None."""
    return None


def diverges(node: dict[str, Any], ours: dict[str, Any]) -> bool:
    return node != ours


def first_difference(node: dict[str, Any], ours: dict[str, Any]) -> str:
    """A short description of where the two results part."""
    for side in ("c", "s"):
        a, b = node[side], ours[side]
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            if x != y:
                return f"{side}[{i}]: node {x!r} / ours {y!r}"
        if len(a) != len(b):
            i = min(len(a), len(b))
            return f"{side}[{i}]: node {a[i:i + 1]} / ours {b[i:i + 1]}"
    for side in ("c", "s"):
        x, y = node["state"][side] or {}, ours["state"][side] or {}
        d = {k: (x.get(k), y.get(k)) for k in x.keys() | y.keys() if x.get(k) != y.get(k)}
        if d:
            return f"state.{side}: {d}"
    return "same"
