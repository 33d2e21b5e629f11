"""The suite's temporary-directory check (``helpers/temp_files.py``, wired in tests/conftest.py).

Each check runs pytest on the demonstration tests below (defined only when ``NODETLS_TEMP_DEMO``
is set) in a child process whose system temporary directory is one of
this test's (``TMPDIR``): a test that leaves a file there, itself or through a Node child
(``os.tmpdir()``), fails at its teardown; one that removes it, or is marked
``leaves_temp_files``, or whose session fixture registered its directory, passes; a directory a
module made at import and never removed fails the run at its end. The run's private directory
is gone afterwards; a killed run's (its process gone) is removed by the next run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.peers import require_peer
from helpers.temp_files import remove_at_session_end

DEMO = os.environ.get("NODETLS_TEMP_DEMO")

if DEMO == "import":  # a module that makes a directory at import and never removes it
    tempfile.mkdtemp(prefix="demo-import-")

if DEMO is not None:  # the demonstration, run by the tests below in a child (not collected else)

    @pytest.fixture(scope="session")
    def demo_shared_dir() -> Path:
        """A directory made once for many tests, removed at the session's end."""
        d = tempfile.mkdtemp(prefix="demo-shared-")
        remove_at_session_end(d)
        return Path(d)

    def test_demo_leaves_a_file() -> None:
        fd, _ = tempfile.mkstemp(prefix="demo-left-")
        os.close(fd)

    def test_demo_node_leaves_a_file() -> None:
        script = ("require('fs').writeFileSync(require('path').join(require('os').tmpdir(), "
                  "'demo-node-left'), 'x')")
        subprocess.run([require_peer("node"), "-e", script], check=True, timeout=30)

    def test_demo_removes_its_file() -> None:
        with tempfile.TemporaryDirectory(prefix="demo-removed-") as d:
            Path(d, "f").write_text("x")

    @pytest.mark.leaves_temp_files("the demonstration of the marker")
    def test_demo_marked() -> None:
        fd, _ = tempfile.mkstemp(prefix="demo-marked-")
        os.close(fd)

    def test_demo_uses_a_shared_dir(demo_shared_dir: Path) -> None:
        (demo_shared_dir / "f").write_text("x")


def _run_demo(tmp_path: Path, mode: str) -> subprocess.CompletedProcess[str]:
    system = tmp_path / "system-tmp"
    system.mkdir(exist_ok=True)
    env = {**os.environ, "TMPDIR": str(system), "NODETLS_TEMP_DEMO": mode}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfEs",
         "--basetemp", str(tmp_path / "basetemp"), "-k", "demo", __file__],
        cwd=Path(__file__).parent.parent, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def system_tmp(tmp_path: Path) -> Iterator[Path]:
    """The child run's system temporary directory: empty again once it ended."""
    yield tmp_path / "system-tmp"
    assert list((tmp_path / "system-tmp").iterdir()) == []


def test_a_test_that_leaves_a_file_in_the_temp_dir_fails(tmp_path: Path, system_tmp: Path,
                                                         node_bin: str) -> None:
    run = _run_demo(tmp_path, "tests")
    out = run.stdout + run.stderr
    assert run.returncode == 1, out
    assert "5 passed" in out and "2 errors" in out, out  # (a teardown error: passed, error)
    lines = out.splitlines()
    failed = {lines[i].split("ERROR at teardown of ")[1].strip(" _"): lines[i + 1]
              for i, line in enumerate(lines[:-1]) if "ERROR at teardown of " in line}
    assert set(failed) == {"test_demo_leaves_a_file", "test_demo_node_leaves_a_file"}, out
    assert failed["test_demo_leaves_a_file"].startswith(
        "left in the temporary directory by this test: ['demo-left-"), out
    assert failed["test_demo_node_leaves_a_file"] == (
        "left in the temporary directory by this test: ['demo-node-left']"), out
    assert "left in the suite's temporary directory at the end" not in out, out


def test_a_killed_runs_directory_is_removed_by_the_next_run(tmp_path: Path,
                                                          system_tmp: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, timeout=30, check=True)
    killed = system_tmp / f"nodetls-tests-{int(dead.stdout)}-abcd"
    (killed / "x").mkdir(parents=True)
    alive = system_tmp / f"nodetls-tests-{os.getpid()}-abcd"  # (this run's pid: alive)
    alive.mkdir()
    try:
        _run_demo(tmp_path, "tests")
        assert not killed.exists()
        assert alive.exists()
    finally:
        alive.rmdir()


def test_a_directory_left_at_the_session_end_fails_the_run(tmp_path: Path,
                                                           system_tmp: Path) -> None:
    run = _run_demo(tmp_path, "import")
    out = run.stdout + run.stderr
    assert run.returncode == 1, out
    assert "left in the suite's temporary directory at the end of the session" in out, out
    assert "demo-import-" in out and "demo-shared-" not in out, out
