"""A benchmark harness killed with SIGKILL leaves no server behind (``harness.procs.popen``).

The harness starts its servers in their own session (so it can ``killpg`` them); a harness that
is killed outright used to leave them running (orphans holding a CPU and a port).  Here a child
process starts one server through the harness's launcher (``Runner.start_server``, the one
``bench.py`` uses), prints the pids of the server's process tree, and is then SIGKILLed; every one
of those processes must be gone (or a zombie) within a bounded wait.  The multi-process servers
are included: nodetls ``run(workers=2)`` and Node's cluster module with two workers.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
sys.path.append(str(BENCH))  # appended: benchmarks/profile.py must not shadow stdlib

from harness.procs import read_line  # noqa: E402
from harness.registry import missing, server_named  # noqa: E402

# The harness, in a process of its own: start one server (its certificates in the directory
# given, the test's: the harness is killed, it removes nothing), print its process tree, wait
# forever.
LAUNCHER = r"""
import json, sys
from pathlib import Path
sys.path.append(sys.argv[1])
from harness.pki import write_pki
from harness.procs import pinning, tree_pids
from harness.registry import server_named
from harness.runner import Runner
from harness.workloads import PROFILES
runner = Runner(next(iter(PROFILES.values())), write_pki(Path(sys.argv[3])), Path("unused"),
                pinning())
srv = runner.start_server(server_named(sys.argv[2]))
print(json.dumps(tree_pids(srv.pid)), flush=True)
sys.stdin.read()  # until killed
"""


def _start_time(pid: int) -> str | None:
    """Field 22 of ``/proc/PID/stat`` (start time), or ``None`` when the process is gone or a
    zombie (dead, waiting for a reaper)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return None if fields[0] in ("Z", "X") else fields[19]


def _alive(pids: dict[int, str]) -> list[int]:
    """The pids still running the process they ran at the start (not reused)."""
    return [pid for pid, start in pids.items() if _start_time(pid) == start]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
@pytest.mark.parametrize("server", ["nodetls-asyncio", "workers-2", "node-cluster-2"])
def test_server_dies_with_a_killed_harness(server: str, tmp_path: Path) -> None:
    spec = server_named(server)
    if missing(spec.requires):
        pytest.skip(f"missing: {missing(spec.requires)}")
    harness = subprocess.Popen([sys.executable, "-c", LAUNCHER, str(BENCH), server, str(tmp_path)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=tmp_path)
    pids: dict[int, str] = {}
    try:
        tree = json.loads(read_line(harness, 60.0, f"harness starting {server}"))
        pids = {pid: start for pid in tree if pid != harness.pid
                and (start := _start_time(pid)) is not None}
        # the server itself, and for the multi-process servers its workers, were running
        assert len(pids) >= spec.ready_lines + (1 if spec.ready_lines > 1 else 0), tree
        harness.kill()
        harness.wait(10)
        deadline = time.monotonic() + 20.0
        while (left := _alive(pids)) and time.monotonic() < deadline:
            time.sleep(0.02)  # polling /proc: nothing to wait on for a non-child's exit
        assert not _alive(pids), f"{server}: left running after the harness was killed: {left}"
    finally:
        if harness.poll() is None:
            harness.kill()
            harness.wait(10)
        for pid in _alive(pids):  # the old behaviour: clean up what the harness left
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
