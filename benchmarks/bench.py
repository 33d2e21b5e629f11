"""nodetls's TLS servers and client against Node v20, asyncio+ssl and uvloop+ssl, in one run.

    python benchmarks/bench.py                      # full run: 5 interleaved repetitions
    python benchmarks/bench.py --quick              # 2 repetitions, shorter runs
    python benchmarks/bench.py --smoke              # seconds: does everything still run?
    python benchmarks/bench.py --only hs,rr64 --servers node,nodetls-uvloop
    python benchmarks/bench.py --list               # servers, clients, workloads, what is missing

Every server (benchmarks/harness/registry.py) serves a TLS 1.3 echo service pinned to one CPU;
the C load client tlsbench (built on demand from its source into benchmarks/build/) runs on the
other. The server's CPU time comes from /proc/PID/task/*/schedstat. Measurements are repeated and
interleaved, each figure is the median over repetitions and each ratio the median of per-repetition
ratios to Node. Writes results/<stem>.json (every measurement), .md (the tables) and .png (the
ratio chart). See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import platform
import ssl
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from harness import procs, report  # noqa: E402
from harness.goals import goals_json, goals_table  # noqa: E402
from harness.pki import write_pki  # noqa: E402
from harness.registry import (  # noqa: E402
    BASELINE,
    CLIENTS,
    SERVERS,
    ClientSpec,
    ServerSpec,
    missing,
)
from harness.runner import Measurement, Runner, interleaved  # noqa: E402
from harness.workloads import PROFILES, WORKLOADS, Workload, workload_named  # noqa: E402


def _names(value: str | None) -> list[str] | None:
    return None if value is None else [n.strip() for n in value.split(",") if n.strip()]


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="\n".join(__doc__.split("\n\n")[1:]),
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    size = ap.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="2 repetitions of shorter runs")
    size.add_argument("--smoke", action="store_true", help="1 tiny repetition (seconds)")
    ap.add_argument("--reps", type=int, help="repetitions (overrides the profile)")
    ap.add_argument("--only", help="comma-separated workloads (default: all); see --list")
    ap.add_argument("--servers", help="comma-separated servers (default: all available)")
    ap.add_argument("--clients", help="comma-separated clients (default: all available)")
    ap.add_argument("--out", type=Path,
                    help="output stem (default: benchmarks/results/<UTC time>-<profile>)")
    ap.add_argument("--list", action="store_true", help="list what can run, then exit")
    ap.add_argument("--from-json", type=Path, metavar="FILE",
                    help="redraw the tables, goals and chart of an earlier run's JSON without "
                         "measuring, then exit (writes FILE's .md and .png, or with --out "
                         "STEM: STEM.md, .png and .json with the summary and goals recomputed)")
    return ap.parse_args(argv)


def _progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _cmd(argv: list[str]) -> str:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        return procs.run(argv, capture_output=True, text=True, timeout=30,
                         cwd=ROOT).stdout.strip()
    return ""


def _meta(profile: Any, pin: procs.Pinning) -> dict[str, Any]:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    versions: dict[str, str] = {"python": platform.python_version(),
                                "python_ssl": ssl.OPENSSL_VERSION,
                                "node": _cmd(["node", "--version"]),
                                "node_openssl": _cmd(["node", "-p", "process.versions.openssl"]),
                                "openssl": _cmd(["openssl", "version"])}
    for mod in ("uvloop", "nodetls"):
        with contextlib.suppress(Exception):
            from importlib.metadata import version

            versions[mod] = version(mod)
    # How the servers' nodetls is built: which OpenSSL it links and how (the shared library or
    # statically linked, e.g. NODETLS_OPENSSL=<tree>), which binding and core run; and the
    # interpreter's build (figures differ between builds of either)
    versions["nodetls_build"] = _cmd([sys.executable, "-m", "nodetls", "--version"])
    versions["python_build"] = " ".join(platform.python_build())
    dirty = bool(_cmd(["git", "status", "--porcelain", "--", "src"]))
    return {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "commit": _cmd(["git", "rev-parse", "--short", "HEAD"]),
            "src_commit": (_cmd(["git", "log", "-1", "--format=%h", "--", "src"])
                           + ("+uncommitted changes" if dirty else "")),
            "machine": {"cpu": cpu, "cpus": os.cpu_count(), "arch": platform.machine(),
                        "kernel": platform.release(), "loadavg_start": os.getloadavg()},
            "versions": versions, "pinning": pin.describe(), "profile": asdict(profile)}


@contextlib.contextmanager
def _redis(needed: bool, tmp: Path, pin: procs.Pinning) -> Iterator[str | None]:
    """A throw-away redis-server on the client's CPU, when a variant needs one."""
    if not needed:
        yield None
        return
    with procs.redis_server(tmp, pin.client) as url:
        yield url


def _select(args: argparse.Namespace) -> tuple[list[Workload], list[ServerSpec],
                                                 list[ClientSpec], list[str]]:
    """The workloads, the available servers and clients asked for, and notes on skipped ones."""
    only = _names(args.only)
    unknown = set(only or ()) - {w.name for w in WORKLOADS}
    if unknown:
        raise SystemExit(f"unknown workload(s) {sorted(unknown)}; see --list")
    workloads = [w for w in WORKLOADS if only is None or w.name in only]
    notes = []
    chosen: list[Any] = []
    for kind, registry, wanted in (("server", SERVERS, _names(args.servers)),
                                   ("client", CLIENTS, _names(args.clients))):
        names = {e.name for e in registry}
        if wanted and set(wanted) - names:
            raise SystemExit(f"unknown {kind}(s) {sorted(set(wanted) - names)}; see --list")
        ok = []
        for entry in registry:
            if wanted is not None and entry.name not in wanted:
                continue
            lacking = missing(entry.requires)
            if lacking:
                notes.append(f"skipped {kind} {entry.name}: {', '.join(lacking)}")
            else:
                ok.append(entry)
        chosen.append(ok)
    return workloads, chosen[0], chosen[1], notes


def _plan(workloads: list[Workload], servers: list[ServerSpec], clients: list[ClientSpec],
          reps: int) -> list[tuple[int, Workload, ServerSpec | ClientSpec]]:
    plan: list[tuple[int, Workload, ServerSpec | ClientSpec]] = []
    for rep in range(reps):
        for w in workloads:
            targets: list[Any]
            if w.side == "server":
                targets = [s for s in servers if s.runs(w.name)]
            elif any(s.name == BASELINE for s in servers) or not servers:
                targets = [c for c in clients if w.name in c.workloads]
            else:
                targets = []
            plan += [(rep, w, t) for t in interleaved(targets, rep)]
    return plan


def _list() -> int:
    print("workloads:")
    for w in WORKLOADS:
        print(f"  {w.name:10} {w.label} [{w.unit}]: {w.how}")
    for kind, registry in (("servers", SERVERS), ("clients", CLIENTS)):
        print(f"{kind}:")
        for e in registry:
            lacking = missing(e.requires)
            state = "ok" if not lacking else "missing " + ", ".join(lacking)
            print(f"  {e.name:16} {e.label:26} {state}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    if args.list:
        return _list()
    if args.from_json:
        data = json.loads(args.from_json.read_text())
        render(data, args.out or args.from_json.with_suffix(""))
        if args.out:  # never rewrite the stored JSON itself
            args.out.with_suffix(".json").write_text(json.dumps(data, indent=1, default=str)
                                                     + "\n")
        return 0
    profile = PROFILES["smoke" if args.smoke else "quick" if args.quick else "full"]
    if args.reps:
        profile = replace(profile, reps=args.reps)
    workloads, servers, clients, notes = _select(args)
    for note in notes:
        _progress(f"note: {note}")
    if not servers:
        _progress("no server to measure")
        return 2
    procs.raise_fd_limit()
    pin = procs.pinning()
    meta = _meta(profile, pin)
    _progress(f"building tlsbench into {HERE / 'build'} ...")
    tlsbench = procs.build_tlsbench(ROOT, HERE / "build")
    plan = _plan(workloads, servers, clients, profile.reps)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    stem = args.out or HERE / "results" / f"{stamp}-{profile.name}"
    stem.parent.mkdir(parents=True, exist_ok=True)
    _progress(f"profile {profile.name}: {len(plan)} measurements, {profile.reps} repetition(s); "
              f"{pin.describe()}; load average {os.getloadavg()[0]:.2f}")

    measurements: list[Measurement] = []
    failures: list[str] = []
    started = time.monotonic()
    units = {w.name: w.unit for w in WORKLOADS}
    with tempfile.TemporaryDirectory(prefix="nodetls-bench-") as tmpdir:
        tmp = Path(tmpdir)
        pki = write_pki(tmp)
        needs_redis = any("redis-server" in s.requires for s in servers)
        with _redis(needs_redis, tmp, pin) as redis_url:
            runner = Runner(profile, pki, tlsbench, pin, redis_url)
            try:
                for i, (rep, w, target) in enumerate(plan, 1):
                    try:
                        m = runner.measure(w, target, rep)
                    except Exception as exc:  # one failure must not lose the run
                        failures.append(f"{w.name} {target.name} rep {rep}: {exc}")
                        _progress(f"  FAILED {w.name} {target.name}: {str(exc)[:300]}")
                        continue
                    measurements.append(m)
                    elapsed = time.monotonic() - started
                    eta = elapsed / i * (len(plan) - i)
                    rate = {"idle": f"{m.ops} held", "bulk": f"{m.rate:,.0f} MB/s"}.get(
                        w.name, f"{m.rate:,.0f}/s")
                    _progress(f"[{i:3}/{len(plan)} {elapsed / 60:4.1f} min, ~{eta / 60:.1f} left] "
                              f"rep {rep + 1} {w.name:9} {target.name:16} "
                              f"{m.value:10,.1f} {units[w.name]:8} ({rate})")
            finally:
                runner.close()
    meta["machine"]["loadavg_end"] = os.getloadavg()
    meta["seconds"] = round(time.monotonic() - started, 1)
    data: dict[str, Any] = {
        "meta": meta, "notes": notes, "warnings": runner.warnings + failures,
        "workloads": [asdict(w) for w in workloads],
        "servers": [asdict(s) | {"workloads": sorted(s.workloads or [])} for s in servers],
        "clients": [asdict(c) | {"workloads": sorted(c.workloads)} for c in clients],
        "measurements": [asdict(m) for m in measurements]}
    png = render(data, stem)
    stem.with_suffix(".json").write_text(json.dumps(data, indent=1, default=str) + "\n")
    _progress(f"wrote {stem.with_suffix('.json')}, {stem.with_suffix('.md')}"
              + (f", {png}" if png else " (no chart: matplotlib missing; pip install -e '.[bench]')")
              + f" in {meta['seconds'] / 60:.1f} min")
    return 1 if failures else 0


GOALS_NOTE = ("met: yes / NO when the whole interval (the order statistics of the per-repetition "
              "ratios that enclose their true median with the coverage shown) meets / misses the "
              "goal, undecided when it straddles the bound or fewer than 3 repetitions give none; "
              "median meets: the median alone, as earlier runs' tables had it.")


def render(data: dict[str, Any], stem: Path) -> Path | None:
    """Print the tables of a run (``data`` as in the JSON file), store its summary and its goals
    (``data["goals"]``: per goal the median, the confidence interval and the verdicts) in
    ``data``, and write ``stem.md`` and the chart ``stem.png`` (returned; ``None`` without
    matplotlib)."""
    meta, profile = data["meta"], data["meta"]["profile"]
    measurements = [Measurement(**m) for m in data["measurements"]]
    workloads = [workload_named(w["name"]) for w in data["workloads"]]
    servers, clients = data["servers"], data["clients"]
    references = {s["name"]: s.get("compare_to") or () for s in servers}
    summary = data["summary"] = report.summarize(measurements, references)
    data["goals"] = goals_json(measurements)
    main_targets = [(s["name"], s["label"]) for s in servers if s["group"] == "main"]
    variants = [(s["name"], s["label"], s.get("compare_to") or ()) for s in servers
                if s["group"] != "main"]
    server_w = [w for w in workloads if w.side == "server"]
    client_w = [w for w in workloads if w.side == "client"]
    client_targets = [(c["name"], c["label"]) for c in clients]
    text: list[str] = []
    md: list[str] = []
    for markdown, out in ((False, text), (True, md)):
        out.append(report.table(summary, server_w, main_targets, markdown, profile["idle_conns"]))
        if client_w and client_targets:
            out += ["", report.table(summary, client_w, client_targets, markdown,
                                     profile["idle_conns"])]
        v = report.variants_table(summary, server_w, variants, markdown)
        if v:
            out += ["", v]
        g = goals_table(measurements, markdown)
        if g:
            out += ["", g, "", GOALS_NOTE if markdown else textwrap.fill(GOALS_NOTE, 100)]
    load = meta["machine"]
    footer = [f"{meta['date']}, nodetls src at {meta.get('src_commit', '?')} (checkout "
              f"{meta['commit']}), profile {profile['name']} ({profile['reps']} repetitions), "
              f"{meta['pinning']}, load average {load['loadavg_start'][0]:.2f} -> "
              f"{load.get('loadavg_end', [math.nan])[0]:.2f}",
              *([f"build: {meta['versions']['nodetls_build']}"]
                if meta.get("versions", {}).get("nodetls_build") else []),
              *[f"note: {n}" for n in data["notes"]],
              *[f"warning: {w}" for w in data["warnings"]]]
    print("\n".join(text + [""] + footer))
    stem.with_suffix(".md").write_text("\n".join(md + [""] + [f"* {f}" for f in footer]) + "\n")
    title = (f"nodetls vs Node v20 — {meta['date'][:16].replace('T', ' ')} UTC, nodetls src at "
             f"{meta.get('src_commit', '?')}, medians of {profile['reps']} repetitions")
    extra_clients = [(c, lab) for c, lab in client_targets
                     if c != BASELINE and c not in dict(main_targets)]
    return report.chart(summary, server_w + client_w, main_targets + extra_clients,
                        stem.with_suffix(".png"), title)


if __name__ == "__main__":
    sys.exit(main())
