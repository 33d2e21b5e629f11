"""The optional compiled core (``nodetls/_compiled.py``): the mypyc-compiled modules are used when
they were built from the sources beside them; ``NODETLS_PURE=1``, a source edited since the build,
or no build at all run the ``.py`` files, with the same behaviour (the whole suite runs both ways)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import nodetls
from helpers.echo_script import ECHO_SCRIPT
from nodetls import _compiled

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 120
PURE = os.environ.get("NODETLS_PURE", "") not in ("", "0")
BUILT = (Path(_compiled.__file__).parent / _compiled.MANIFEST).is_file()

# In a fresh interpreter: the files the compiled-core modules came from, the description and the
# package's path (one JSON line); then ECHO_SCRIPT's handshake and echo (its JSON line, last).
_PROBE = textwrap.dedent("""
    import json, sys
    import nodetls
    from nodetls import _compiled
    files = {m: sys.modules[m].__file__ for m in _compiled.MODULES}
    print(json.dumps({"files": files, "describe": _compiled.describe(),
                      "package": nodetls.__file__}))
""") + ECHO_SCRIPT


def _probe(pythonpath: Path | None = None, **env: str) -> dict:
    full = {k: v for k, v in os.environ.items() if k not in ("NODETLS_PURE", "PYTHONPATH")}
    full.update(env)
    if pythonpath is not None:
        full["PYTHONPATH"] = str(pythonpath)
    res = subprocess.run([sys.executable, "-c", _PROBE, "normal"], capture_output=True, text=True,
                         env=full, timeout=TIMEOUT, cwd=pythonpath or ROOT)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    out = json.loads(lines[-2])
    out["echo"] = json.loads(lines[-1])["echo"]
    return out


def _compiled_files(out: dict) -> list[str]:
    return [m for m, f in out["files"].items() if not f.endswith(".py")]


def test_the_modules_come_from_one_place():
    """All compiled or all ``.py`` (the compiled ones call one another natively): never a mix."""
    files = [sys.modules[m].__file__ for m in _compiled.MODULES]
    assert len({f.endswith(".py") for f in files}) == 1, files
    assert _compiled.in_use() == (_compiled.reason is None)


def _can_build() -> bool:
    """What setup.py needs to compile the core: mypy (mypyc) and a C compiler."""
    import importlib.util
    return (importlib.util.find_spec("mypyc") is not None
            and any(shutil.which(cc) for cc in ("cc", "gcc", "clang")))


@pytest.mark.skipif(PURE, reason="NODETLS_PURE runs the .py files")
@pytest.mark.skipif(os.environ.get("NODETLS_NO_MYPYC", "") not in ("", "0"),
                    reason="NODETLS_NO_MYPYC: the install skipped the compiled core")
@pytest.mark.skipif(not _can_build(), reason="no mypyc or no C compiler here")
def test_the_compiled_core_was_built_where_it_can_be():
    """setup.py falls back to the ``.py`` files, with a warning, when mypyc fails, so that an
    install never fails for the optional core; but where mypyc and a compiler are there (the
    development install, CI) a module mypyc cannot compile (a type its mypy run cannot infer,
    an import cycle it sees differently from ``mypy src``) must fail the suite, not slow the
    library down quietly."""
    assert BUILT, ("the compiled core was not built although mypyc and a C compiler are here: "
                   "see `make venv`'s (setup.py's) warning for mypyc's error")


@pytest.mark.skipif(PURE, reason="NODETLS_PURE runs the .py files")
@pytest.mark.skipif(not BUILT, reason="the compiled core was not built (no mypy or C compiler)")
def test_the_compiled_core_is_used_when_built():
    assert _compiled.reason is None or _compiled.reason.startswith("stale"), _compiled.reason
    if _compiled.reason is not None:
        pytest.skip(f"a compiled module's source changed since the build ({_compiled.reason}): "
                    "`make venv` rebuilds")
    assert _compiled.in_use()
    out = _probe()
    assert _compiled_files(out) == list(_compiled.MODULES)
    assert out["describe"] == "compiled core (mypyc)"
    assert out["echo"] is True


def test_nodetls_pure_runs_the_py_files():
    out = _probe(NODETLS_PURE="1")
    assert _compiled_files(out) == []
    assert out["describe"] == "pure-Python core (NODETLS_PURE)"
    assert out["echo"] is True


@pytest.mark.skipif(not BUILT, reason="the compiled core was not built (no mypy or C compiler)")
def test_a_source_edited_since_the_build_runs_as_python(tmp_path):
    """A copy of the built package: as built, the compiled modules (unless this tree's sources are
    stale already); with one source edited, every module of the core from its ``.py``."""
    shutil.copytree(Path(nodetls.__file__).parent, tmp_path / "nodetls",
                    ignore=shutil.ignore_patterns("__pycache__"))
    if _compiled.reason is None:
        out = _probe(tmp_path)
        assert out["package"] == str(tmp_path / "nodetls" / "__init__.py")
        assert _compiled_files(out) == list(_compiled.MODULES)
    wrap = tmp_path / "nodetls" / "_tls" / "wrap.py"
    wrap.write_text(wrap.read_text() + "\n# edited after the build\n")
    out = _probe(tmp_path)
    assert out["package"] == str(tmp_path / "nodetls" / "__init__.py")
    assert _compiled_files(out) == []
    assert out["describe"] == "pure-Python core (stale: nodetls._tls.wrap changed since the build)"
    assert out["echo"] is True


def test_without_a_build_the_py_files_run(tmp_path):
    shutil.copytree(Path(nodetls.__file__).parent, tmp_path / "nodetls",
                    ignore=shutil.ignore_patterns("__pycache__", _compiled.MANIFEST))
    out = _probe(tmp_path)
    assert _compiled_files(out) == []
    assert out["describe"] == "pure-Python core (not built)"


def test_version_says_which_core_runs():
    res = subprocess.run([sys.executable, "-m", "nodetls", "--version"], capture_output=True,
                         text=True, timeout=TIMEOUT)  # this process's environment: the same core
    assert res.returncode == 0, res.stderr
    line = res.stdout.strip()
    assert f", {_compiled.describe()}, " in line
    from nodetls._net import fastpath  # (net.Socket's data path in C: _net/fastpath.py)
    assert line.endswith(", C socket data path)" if fastpath.reason is None else
                         f", Python socket data path ({fastpath.reason}))")


def test_the_makefile_rebuilds_when_a_compiled_source_changes():
    """``make venv``/``make test`` redo the install (and so the compile) when one changes."""
    lines = (ROOT / "Makefile").read_text().replace("\\\n", " ").splitlines()
    compiled = next(line for line in lines if line.startswith("COMPILED")).split(":=")[1].split()
    assert sorted(compiled) == sorted(Path(_compiled.source_path(m)).relative_to(ROOT).as_posix()
                                      for m in _compiled.MODULES)
    assert "$(COMPILED)" in next(line for line in lines if line.startswith("$(STAMP):"))


@pytest.mark.skipif(PURE, reason="NODETLS_PURE runs the .py files")
def test_ci_builds_every_compiled_part_it_can() -> None:
    # The fallbacks are silent by design (a warning at install): in CI, a compiled part that
    # could have been built and was not is a failure, so a broken build cannot pass unnoticed.
    from helpers.peers import in_ci

    if not in_ci() or shutil.which("cc") is None:
        pytest.skip("outside CI, or no C compiler: the pure-Python fallbacks are allowed")
    assert _compiled.in_use(), _compiled.describe()
    from nodetls import _openssl
    from nodetls._engine import _bytesio

    if _openssl.BINDING == "api":  # (OpenSSL's headers were there): the data-path extension too
        assert _bytesio.read is not None and _bytesio.seal is not None
