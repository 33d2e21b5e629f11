"""``mypy --strict`` is enforced: clean on ``src/``, every ``examples/*.py``, every README
```python block and a typed user program; a program with typing mistakes fails with the expected
error codes; the option ``TypedDict``s list exactly the names the option normaliser accepts."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from nodetls import _context, _net, types
from nodetls._tls.connect import CONNECT_OPTIONS
from nodetls._tls.server import SERVER_OPTIONS
from nodetls._tls.socket import TLSSOCKET_OPTIONS

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
EXPECT = re.compile(r"#\s*E:\s*([a-z-]+)")

pytest.importorskip("mypy")


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One mypy cache for the module's runs (the first run is cold, the others reuse it)."""
    return tmp_path_factory.mktemp("mypy-cache")


def mypy(cache: Path, *targets: str | Path, extra: tuple[str, ...] = ()) -> tuple[int, str]:
    res = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", f"--cache-dir={cache}", "--no-color-output",
         "--hide-error-context", "--no-error-summary", *extra, *map(str, targets)],
        capture_output=True, text=True, timeout=400, cwd=ROOT)
    return res.returncode, res.stdout + res.stderr


def test_src_examples_and_user_program_are_strict_clean(cache_dir: Path) -> None:
    rc, out = mypy(cache_dir, ROOT / "src" / "nodetls", *sorted((ROOT / "examples").glob("*.py")),
                   HERE / "user_program.py")
    assert rc == 0, out


def test_readme_blocks_are_strict_clean(cache_dir: Path, tmp_path: Path) -> None:
    """Each README unit (tests/test_readme.py's grouping, setup code included) is one module, as it
    runs: one namespace, fragments' top-level ``await`` allowed (they run inside a coroutine)."""
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        from test_readme import UNITS
    finally:
        sys.path.remove(str(ROOT / "tests"))
    files = []
    for i, unit in enumerate(u for u in UNITS if u.skipped is None):
        pieces = unit.pieces()
        assert pieces, unit.name
        f = tmp_path / f"readme_unit_{i}.py"
        f.write_text(f"# {unit.name}\n" + "\n".join(p["source"] for p in pieces), encoding="utf-8")
        files.append(f)
    assert len(files) >= 5
    res = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", f"--cache-dir={cache_dir}",
         "--no-color-output", "--disable-error-code=top-level-await", *map(str, files)],
        capture_output=True, text=True, timeout=400, cwd=ROOT, env={**os.environ, "MYPYPATH": str(ROOT / "examples")})
    report = res.stdout + res.stderr
    for f in files:  # name the README unit of each error
        report = report.replace(str(f), f"{f.name} [{f.read_text().splitlines()[0][2:]}]")
    assert res.returncode == 0, report


def test_mistakes_are_caught_with_their_error_codes(cache_dir: Path) -> None:
    bad = HERE / "user_program_bad.py"
    rc, out = mypy(cache_dir, bad)
    assert rc == 1, out
    lines = bad.read_text().splitlines()
    expected = {(n, m.group(1)) for n, line in enumerate(lines, 1) if (m := EXPECT.search(line))}
    assert len(expected) >= 8
    got = {(int(m.group(1)), m.group(2)) for m in
           re.finditer(rf"{re.escape(bad.name)}:(\d+): error: .*\[([a-z-]+)\]$", out, re.M)}
    assert expected <= got, f"missed: {sorted(expected - got)}\n{out}"
    flagged_lines = {n for n, _ in got}
    assert flagged_lines <= {n for n, _ in expected}, out  # no error on a correct line


@pytest.mark.parametrize(("typed", "accepted"), [
    (types.SecureContextOptions, _context.CONTEXT_OPTIONS),
    (types.ServerOptions, SERVER_OPTIONS),
    (types.ConnectOptions, CONNECT_OPTIONS),
    (types.TLSSocketOptions, TLSSOCKET_OPTIONS),
], ids=["create_secure_context", "create_server", "connect", "TLSSocket"])
def test_option_typeddicts_list_exactly_the_accepted_names(typed: type,
                                                           accepted: frozenset[str]) -> None:
    names = set(typed.__required_keys__) | set(typed.__optional_keys__)
    assert not typed.__required_keys__  # every option is optional
    assert names == set(accepted), (
        f"missing from {typed.__name__}: {sorted(set(accepted) - names)}; "
        f"not accepted at run time: {sorted(names - set(accepted))}")


def test_net_connect_is_the_function() -> None:
    from nodetls import net

    assert net.connect is _net.connect and callable(net.connect)
