"""The speed goals of issues 7, 8 and 9, checked against one run's measurements.

Every ratio is the median over repetitions of the per-repetition ratio of two targets measured
side by side (the way the tables compute ratios to Node). A goal whose targets did not run shows
``-``.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from .report import render_rows
from .runner import Measurement

__all__ = ["Goal", "GOALS", "check", "goals_table"]


@dataclass(frozen=True)
class Goal:
    """``workload``: ``target``'s figure / ``ref``'s figure (or the figure itself when ``ref`` is
    empty) must be ``<=`` / ``>=`` ``bound`` (``within``: between ``bound`` and ``upper``)."""

    issue: int
    text: str
    workload: str
    target: str
    ref: str
    op: str  # '<=', '>=', '<', '>', 'within'
    bound: float
    upper: float = 0.0


def _g(issue: int, text: str, w: str, t: str, ref: str, op: str, bound: float,
       upper: float = 0.0) -> Goal:
    return Goal(issue, text, w, t, ref, op, bound, upper)


_NT = "nodetls-uvloop"
GOALS: tuple[Goal, ...] = (
    _g(7, "full handshake ECDSA, nodetls (uvloop) vs Node", "hs", _NT, "node", "<=", 1.0),
    _g(7, "full handshake ECDSA, nodetls (uvloop) vs uvloop+ssl", "hs", _NT, "uvloop-ssl", "<=", 1.0),
    _g(7, "resumed handshake vs Node", "resume", _NT, "node", "<=", 1.0),
    _g(7, "64 B round trip vs Node", "rr64", _NT, "node", "<=", 1.0),
    _g(7, "bulk MB per CPU-second vs Node", "bulk", _NT, "node", ">=", 1.25),
    _g(7, "full handshake RSA-2048 vs Node", "hs-rsa", _NT, "node", "<=", 1.0),
    _g(7, "idle memory, KiB per connection", "idle", _NT, "", "<=", 20.0),
    _g(7, "client CPU per full handshake vs Node's client", "client-hs", _NT, "node", "<=", 1.0),
    _g(7, "client CPU per round trip vs Node's client", "client-rr", _NT, "node", "<=", 1.0),
    *(_g(7, f"{w} on asyncio: nodetls vs asyncio+ssl", w, "nodetls-asyncio", "asyncio-ssl",
         ">=" if w == "bulk" else "<=", 1.0)
      for w in ("hs", "resume", "rr64", "bulk", "hs-rsa", "idle")),
    *(_g(8, f"{w}: nodetls.aio ({lp}) vs Node-style nodetls ({lp})", w, f"aio-{lp}",
         f"nodetls-{lp}", ">=" if w == "bulk" else "<=", 1 / 1.05 if w == "bulk" else 1.05)
      for lp in ("asyncio", "uvloop") for w in ("hs", "rr64", "bulk")),
    *(_g(8, f"{w}: nodetls.aio ({lp}) vs {lp}+ssl", w, f"aio-{lp}",
         f"{'asyncio' if lp == 'asyncio' else 'uvloop'}-ssl", ">" if w == "bulk" else "<", 1.0)
      for lp in ("asyncio", "uvloop") for w in ("hs", "rr64", "bulk")),
    _g(9, "resumed handshake: Redis store vs stateless ticket keys", "resume", "store-redis",
       "ticket-keys", "<=", 1.15),
    _g(9, "full handshake: workers=2 vs one process, neither pinned (CPU summed)", "hs",
       "workers-2", "nodetls-uvloop-free", "within", 0.95, 1.05),
    _g(9, "full handshake: workers=2 not pinned vs one process pinned (placement differs)", "hs",
       "workers-2", _NT, "within", 0.95, 1.05),
    _g(9, "workers=2: each worker's share of the work (CPU)", "hs", "workers-2", "shares",
       "within", 0.35, 0.65),
    _g(9, "full handshake: workers=2 on the server's CPU vs one process", "hs",
       "workers-2-pinned", _NT, "within", 0.95, 1.05),
)


def _median(xs: Sequence[float]) -> float | None:
    xs = [x for x in xs if x == x]
    return statistics.median(xs) if xs else None


def check(goal: Goal, measurements: Sequence[Measurement]) -> tuple[str, bool | None]:
    """The measured figure (formatted) and whether the goal holds (``None``: not measured)."""
    mine = {m.rep: m for m in measurements if m.workload == goal.workload
            and m.target == goal.target}
    if not mine:
        return "-", None
    if goal.ref == "shares":
        shares = [s for m in mine.values() for s in m.raw.get("worker_cpu_shares", [])]
        if not shares:
            return "-", None
        lo, hi = min(shares), max(shares)
        return f"{lo:.0%}–{hi:.0%}", goal.bound <= lo and hi <= goal.upper
    if goal.ref:
        base = {m.rep: m.value for m in measurements if m.workload == goal.workload
                and m.target == goal.ref}
        value = _median([m.value / base[r] for r, m in mine.items() if base.get(r)])
        edges = (goal.bound, goal.upper) if goal.op == "within" else (goal.bound,)
        digits = 3 if value is not None and min(abs(value - e) for e in edges) < 0.005 else 2
        text = "-" if value is None else f"{value:.{digits}f}×"
    else:
        value = _median([m.value for m in mine.values()])
        text = "-" if value is None else f"{value:.1f}"
    if value is None:
        return text, None
    ok = {"<=": value <= goal.bound, ">=": value >= goal.bound, "<": value < goal.bound,
          ">": value > goal.bound,
          "within": goal.bound <= value <= goal.upper}[goal.op]
    return text, ok


def goals_table(measurements: Sequence[Measurement], markdown: bool) -> str:
    """Every goal whose targets ran: issue, goal, bound, measured, met."""
    rows = []
    for g in GOALS:
        text, ok = check(g, measurements)
        if ok is None:
            continue
        unit = "" if not g.ref else "×" if g.ref != "shares" else ""
        bound = (f"{g.bound:.0%}–{g.upper:.0%}" if g.ref == "shares" else
                 f"{g.bound:.2f}–{g.upper:.2f}×" if g.op == "within" else
                 f"{g.op} {g.bound:.2f}{unit}")
        rows.append([f"#{g.issue}", g.text, bound, text, "yes" if ok else "NO"])
    head = ["issue", "goal", "target", "measured", "met"]
    return render_rows(head, rows, markdown) if rows else ""
