"""From measurements to figures: medians, ratios to Node, the tables (text, Markdown), the chart."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from .registry import BASELINE
from .runner import Measurement
from .workloads import Workload

__all__ = ["Summary", "Interval", "median_interval", "summarize", "table", "variants_table",
           "render_rows", "chart"]

Summary = dict[str, dict[str, dict[str, float]]]  # workload -> target -> {median, ratio, ...}


def _median(values: Sequence[float]) -> float:
    values = [v for v in values if v == v]  # drop NaN
    return statistics.median(values) if values else float("nan")


class Interval(NamedTuple):
    """A confidence interval for a median: the order statistics ``x(k)`` and ``x(n+1-k)`` of ``n``
    values (1-based, sorted) and the probability that they enclose the true median."""

    low: float
    high: float
    coverage: float
    k: int
    n: int


def _coverage(n: int, k: int) -> float:
    """P(x(k) <= median <= x(n+1-k)) for ``n`` independent draws of a continuous distribution:
    the number of draws below the median is binomial(n, 1/2), and the pair encloses the median
    unless fewer than ``k`` fall on one side (``1 - 2 * P(B <= k-1)``)."""
    tail = sum(math.comb(n, i) for i in range(k))
    return 1 - 2 * tail / (1 << n)


def median_interval(values: Sequence[float], level: float = 0.90) -> Interval | None:
    """The distribution-free confidence interval for the median of ``values`` (NaN dropped):
    the narrowest symmetric pair of order statistics whose coverage is at least ``level``.
    When even the widest pair (min, max) covers less (3 or 4 values: 75 % and 87.5 %), that
    pair with its actual coverage; ``None`` for fewer than 3 values (min and max of 2 cover
    50 %: no interval worth the name). Assumes nothing about the distribution but that the
    repetitions are independent draws of it; ties (equal values) make it conservative."""
    xs = sorted(v for v in values if v == v)
    n = len(xs)
    if n < 3:
        return None
    k = 1
    while k + 1 < n + 1 - (k + 1) and _coverage(n, k + 1) >= level:
        k += 1
    return Interval(xs[k - 1], xs[n - k], _coverage(n, k), k, n)


def summarize(measurements: Sequence[Measurement],
              references: dict[str, Sequence[str]] | None = None) -> Summary:
    """Per workload and target: the median value, the median of the per-repetition ratios to
    the baseline (``ratio``; same repetition: measured side by side) and, for variants, to each
    of their references (``ratio:<name>``, ``references[target]``). With 3 or more paired
    repetitions, ``ratio_lo``/``ratio_hi``/``ratio_coverage``: the distribution-free confidence
    interval of the ratio to the baseline (:func:`median_interval`)."""
    by: dict[tuple[str, str], dict[int, float]] = {}
    for m in measurements:
        by.setdefault((m.workload, m.target), {})[m.rep] = m.value
    out: Summary = {}
    for (workload, target), reps in by.items():
        entry = {"median": _median(list(reps.values())), "reps": float(len(reps))}
        refs = {"ratio": BASELINE}
        for ref in (references or {}).get(target, ()):
            refs[f"ratio:{ref}"] = ref
        for key, ref in refs.items():
            base = by.get((workload, ref), {})
            ratios = [v / base[r] for r, v in reps.items()
                      if r in base and base[r] and base[r] == base[r] and v == v]
            entry[key] = _median(ratios)
            if key == "ratio" and ratios:  # the spread over repetitions
                entry["ratio_min"], entry["ratio_max"] = min(ratios), max(ratios)
                ci = median_interval(ratios)
                if ci is not None:
                    entry["ratio_lo"], entry["ratio_hi"] = ci.low, ci.high
                    entry["ratio_coverage"] = ci.coverage
        out.setdefault(workload, {})[target] = entry
    return out


def _num(v: float) -> str:
    if v != v:
        return "-"
    return f"{v:,.1f}" if abs(v) < 100 else f"{v:,.0f}"


def _cell(entry: dict[str, float] | None, show_ratio: bool) -> str:
    if not entry:
        return "-"
    s = _num(entry["median"])
    if show_ratio and entry["ratio"] == entry["ratio"]:
        s += f" ({entry['ratio']:.2f}×)"
    return s


def table(summary: Summary, workloads: Sequence[Workload], targets: Sequence[tuple[str, str]],
          markdown: bool, idle_conns: int) -> str:
    """Rows: workloads; columns: ``targets`` (name, label); cells: median (ratio to Node)."""
    rows = []
    for w in workloads:
        if w.name not in summary:
            continue
        label = f"{w.label}, {w.unit}"
        if w.name == "idle":
            label = f"idle memory, KiB per connection ({idle_conns:,} held)"
        cells = [_cell(summary[w.name].get(name), name != BASELINE) for name, _ in targets]
        rows.append([label, *cells])
    return render_rows(["workload", *[label for _, label in targets]], rows, markdown,
                       numeric=True)


def variants_table(summary: Summary, workloads: Sequence[Workload],
                   variants: Sequence[tuple[str, str, Sequence[str]]], markdown: bool) -> str:
    """One row per (variant, workload it ran): value, ratio to Node, ratios to its references."""
    head = ["variant", "workload", "value", "vs Node", "vs references"]
    rows = []
    for name, label, refs in variants:
        for w in workloads:
            e = summary.get(w.name, {}).get(name)
            if not e:
                continue
            vs = [f"{e[f'ratio:{r}']:.2f}× {r}" for r in refs
                  if e.get(f"ratio:{r}", math.nan) == e.get(f"ratio:{r}", math.nan)]
            vs_ref = ", ".join(vs) or "-"
            rows.append([label, w.name, f"{_num(e['median'])} {w.unit}",
                         f"{e['ratio']:.2f}×" if e["ratio"] == e["ratio"] else "-", vs_ref])
    return render_rows(head, rows, markdown) if rows else ""


def render_rows(head: Sequence[str], rows: Sequence[Sequence[str]], markdown: bool,
                numeric: bool = False) -> str:
    """A Markdown table, or aligned text columns (``numeric``: all but the first right-aligned)."""
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    return "\n".join("  ".join(c.rjust(wd) if numeric and i else c.ljust(wd)
                               for i, (c, wd) in enumerate(zip(r, widths, strict=True))).rstrip()
                     for r in [head, *rows])


def chart(summary: Summary, workloads: Sequence[Workload], targets: Sequence[tuple[str, str]],
          path: Path, title: str) -> Path | None:
    """A grouped bar chart of each target's cost relative to Node (CPU or memory per operation;
    for bulk, CPU per MB: the inverse of the MB-per-CPU-second ratio), so lower is better
    everywhere. ``None`` when matplotlib is not installed (``pip install -e '.[bench]'``)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    rows = [w for w in workloads if w.name in summary]
    others = [(n, lab) for n, lab in targets if n != BASELINE]
    if not rows or not others:
        return None
    fig, ax = plt.subplots(figsize=(11, 0.9 + 0.55 * len(rows) * max(1, len(others)) / 2.2))
    height = 0.8 / len(others)
    cap = 3.0  # longer bars are cut here, their label keeps the value
    for i, (name, label) in enumerate(others):
        ys, xs = [], []
        for j, w in enumerate(rows):
            r = summary[w.name].get(name, {}).get("ratio", math.nan)
            if r == r and w.higher_is_better and r:
                r = 1 / r
            ys.append(j + (i - (len(others) - 1) / 2) * height)
            xs.append(r if r == r else 0)
        bars = ax.barh(ys, [min(x, cap) for x in xs], height=height * 0.92, label=label)
        for bar, x in zip(bars, xs, strict=True):
            if x:
                ax.text(min(x, cap) + 0.02, bar.get_y() + bar.get_height() / 2,
                        f"{x:.2f}" + (" (cut)" if x > cap else ""), va="center", fontsize=7)
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([w.label + (" (CPU per MB)" if w.higher_is_better else "")
                        for w in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, cap + 0.3)
    ax.set_xlabel("cost relative to Node v20 (server CPU or memory per operation; "
                  "client rows: client CPU) — lower is better")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def to_json(m: Measurement) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(m)
