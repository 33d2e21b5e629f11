"""Comparison of a nodetls result with Node's (``runner.py`` / ``runner.js``): a result is
``{"log": [...], "state": {...}, "warnings": [...]}``. Scripts doing something whose difference
from Node is accepted on purpose are left out of the comparison (:func:`accepted` says why)."""

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
    for i, (x, y) in enumerate(zip(node["log"], ours["log"], strict=False)):
        if x != y:
            return f"log[{i}]: node {x!r} / ours {y!r}"
    if len(node["log"]) != len(ours["log"]):
        i = min(len(node["log"]), len(ours["log"]))
        return f"log[{i}]: node {node['log'][i:i + 1]} / ours {ours['log'][i:i + 1]}"
    if node["state"] != ours["state"]:
        return f"state: node {node['state']} / ours {ours['state']}"
    if node["warnings"] != ours["warnings"]:
        return f"warnings: node {node['warnings']} / ours {ours['warnings']}"
    return "same"
