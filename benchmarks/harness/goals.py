"""The speed goals of issues 7, 8 and 9, checked against one run's measurements.

Every ratio is the median over repetitions of the per-repetition ratio of two targets measured
side by side (the way the tables compute ratios to Node), with a distribution-free confidence
interval for that median (the order statistics of the ratios that enclose it with >= 90 %
probability; :func:`harness.report.median_interval`). The verdict is on the interval: ``yes``
when all of it meets the goal, ``NO`` when none of it does, ``undecided`` when the run's noise
leaves it open. A goal whose targets did not run is left out.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from .report import median_interval, render_rows
from .runner import Measurement

__all__ = ["Goal", "GOALS", "Result", "check", "results", "goals_json", "goals_table"]


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


@dataclass(frozen=True)
class Result:
    """One goal checked against one run.

    ``verdict``: ``"yes"`` when the whole confidence interval of the median meets the goal,
    ``"NO"`` when the whole interval misses it, ``"undecided"`` when it straddles a bound (or
    fewer than 3 repetitions give no interval): the run's noise does not tell. ``None``: not
    measured. ``median_meets``: the median alone meets the goal (the verdict of earlier runs'
    tables). The 'shares' goal has no interval: ``low``/``high`` are the smallest and largest
    worker share over all repetitions, and the verdict is yes/NO on that range."""

    text: str  # the measured figure as the table shows it (median [interval])
    verdict: str | None
    median: float | None = None
    low: float | None = None
    high: float | None = None
    coverage: float | None = None
    reps: int = 0
    median_meets: bool | None = None

    def to_json(self) -> dict[str, object]:
        return {"measured": self.text, "median": self.median, "low": self.low,
                "high": self.high, "coverage": self.coverage, "reps": self.reps,
                "verdict": self.verdict, "median_meets": self.median_meets}


def _meets(goal: Goal, value: float) -> bool:
    return {"<=": value <= goal.bound, ">=": value >= goal.bound, "<": value < goal.bound,
            ">": value > goal.bound, "within": goal.bound <= value <= goal.upper}[goal.op]


def _verdict(goal: Goal, low: float, high: float) -> str:
    """yes / NO / undecided for the interval [low, high]: the goal holds for every value in it,
    for none, or for some."""
    if _meets(goal, low) and _meets(goal, high):  # every goal's set is an interval
        return "yes"
    if goal.op == "within":
        return "NO" if high < goal.bound or low > goal.upper else "undecided"
    return "NO" if not _meets(goal, low) and not _meets(goal, high) else "undecided"


def check(goal: Goal, measurements: Sequence[Measurement]) -> Result:
    """The goal's measured median, its confidence interval (the median of the per-repetition
    ratios, :func:`harness.report.median_interval`) and the verdict (see :class:`Result`)."""
    mine = {m.rep: m for m in measurements if m.workload == goal.workload
            and m.target == goal.target}
    if not mine:
        return Result("-", None)
    if goal.ref == "shares":
        shares = [s for m in mine.values() for s in m.raw.get("worker_cpu_shares", [])]
        if not shares:
            return Result("-", None)
        lo, hi = min(shares), max(shares)
        ok = goal.bound <= lo and hi <= goal.upper
        return Result(f"{lo:.0%}–{hi:.0%}", "yes" if ok else "NO", _median(shares), lo, hi,
                      None, len(mine), ok)
    if goal.ref:
        base = {m.rep: m.value for m in measurements if m.workload == goal.workload
                and m.target == goal.ref}
        xs = [m.value / base[r] for r, m in mine.items() if base.get(r)]
        unit, digits, near = "×", 2, 0.005
    else:
        xs = [m.value for m in mine.values()]
        unit, digits, near = "", 1, 0.05
    xs = [x for x in xs if x == x]
    value = _median(xs)
    if value is None:
        return Result("-", None)
    ci = median_interval(xs)
    edges = (goal.bound, goal.upper) if goal.op == "within" else (goal.bound,)
    shown = [value] if ci is None else [value, ci.low, ci.high]
    if min(abs(v - e) for v in shown for e in edges) < near:
        digits += 1  # a figure next to the bound shows the digit that decides
    text = f"{value:.{digits}f}{unit}"
    if ci is None:
        return Result(f"{text} (n={len(xs)})", "undecided", value, reps=len(xs),
                      median_meets=_meets(goal, value))
    text += f" [{ci.low:.{digits}f}–{ci.high:.{digits}f}]"
    return Result(text, _verdict(goal, ci.low, ci.high), value, ci.low, ci.high, ci.coverage,
                  len(xs), _meets(goal, value))


def results(measurements: Sequence[Measurement]) -> list[tuple[Goal, Result]]:
    """Every goal whose targets ran, with its result."""
    out = [(g, check(g, measurements)) for g in GOALS]
    return [(g, r) for g, r in out if r.verdict is not None]


def goals_json(measurements: Sequence[Measurement]) -> list[dict[str, object]]:
    """What the results JSON keeps per goal: the goal, the median, the interval (``low``,
    ``high``, ``coverage``), the number of repetitions and both verdicts."""
    return [{"issue": g.issue, "goal": g.text, "workload": g.workload, "target": g.target,
             "ref": g.ref, "op": g.op, "bound": g.bound,
             **({"upper": g.upper} if g.op == "within" else {}), **r.to_json()}
            for g, r in results(measurements)]


def goals_table(measurements: Sequence[Measurement], markdown: bool) -> str:
    """Every goal whose targets ran: issue, goal, bound, the measured median with its confidence
    interval, the interval's coverage (with the number of repetitions), the verdict on the
    interval (``met``) and on the median alone (``median meets``, as tables before had it)."""
    rows = []
    for g, r in results(measurements):
        unit = "" if not g.ref else "×" if g.ref != "shares" else ""
        bound = (f"{g.bound:.0%}–{g.upper:.0%}" if g.ref == "shares" else
                 f"{g.bound:.2f}–{g.upper:.2f}×" if g.op == "within" else
                 f"{g.op} {g.bound:.2f}{unit}")
        cover = ("min–max" if g.ref == "shares" else "-" if r.coverage is None else
                 f"{100 * r.coverage:.4g}%")
        rows.append([f"#{g.issue}", g.text, bound, r.text, f"{cover} (n={r.reps})",
                     r.verdict or "-", "yes" if r.median_meets else "NO"])
    head = ["issue", "goal", "target", "measured [interval]", "coverage", "met",
            "median meets"]
    return render_rows(head, rows, markdown) if rows else ""
