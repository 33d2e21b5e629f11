"""The two bindings: the compiled one (cffi API mode, built at install) and its fallback, libssl
dlopened at import (ABI mode).  Both serve a real handshake; one ffi/lib pair per process."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import nodetls
from helpers.echo_script import ECHO_SCRIPT
from nodetls import _openssl
from nodetls._openssl import _loader

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 120

# A TLS 1.3 handshake and a 64-byte echo over loopback in a fresh interpreter; prints the binding.
_ECHO = ECHO_SCRIPT


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("NODETLS_PURE", "NODETLS_LIBSSL", "NODETLS_LIBCRYPTO")}
    env.update(extra)
    return env


def _run(code: str, *args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          env=_env(**env), timeout=TIMEOUT, cwd=cwd)


def _echo(mode: str, **env: str) -> dict:
    res = _run(_ECHO, mode, **env)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.splitlines()[-1])


def _can_compile() -> bool:
    """A C compiler and OpenSSL's headers: what setup.py needs to build the binding."""
    headers = any(Path(d, "openssl", "ssl.h").is_file()
                  for d in ("/usr/include", "/usr/local/include", "/opt/homebrew/include"))
    return headers and any(shutil.which(cc) for cc in ("cc", "gcc", "clang"))


@pytest.mark.skipif(os.environ.get("NODETLS_PURE", "") not in ("", "0"),
                    reason="NODETLS_PURE forces ABI mode")
@pytest.mark.skipif(not _can_compile(), reason="no C compiler or OpenSSL headers: ABI mode")
def test_the_compiled_binding_is_in_use_where_it_can_be_built():
    assert _openssl.BINDING == "api", (
        "the compiled binding is missing or stale (built from another cdef.py): run `make venv`")
    assert _openssl.lib.NODETLS_CDEF_HASH == _openssl.cdef.CDEF_HASH
    assert _openssl.ffi is _openssl._binding.ffi


def test_nodetls_pure_forces_abi_mode_and_a_handshake_works():
    out = _echo("normal", NODETLS_PURE="1")
    assert out == {"binding": "abi", "authorized": True, "protocol": "TLSv1.3", "echo": True}


def test_without_the_compiled_module_abi_mode_serves_a_handshake():
    assert _echo("absent") == {"binding": "abi", "authorized": True, "protocol": "TLSv1.3",
                               "echo": True}


@pytest.mark.skipif(not _can_compile(), reason="no C compiler or OpenSSL headers")
def test_the_default_mode_serves_a_handshake():
    assert _echo("normal")["binding"] == "api"


def test_nodetls_libssl_means_abi_mode():
    lib = os.path.realpath(_openssl.LIBSSL_PATH)
    res = _run("from nodetls import _openssl; print(_openssl.BINDING, _openssl.LIBSSL_PATH)",
               NODETLS_LIBSSL=lib)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["abi", lib]


def test_a_binding_built_from_other_declarations_is_refused(monkeypatch):
    linked = _loader._linked_by_python_ssl()
    monkeypatch.setattr(_loader, "CDEF_HASH", _loader.CDEF_HASH ^ 1)
    assert _loader._load_compiled(linked) is None


@pytest.mark.skipif(_openssl.BINDING != "api", reason="the compiled binding is not in use")
def test_a_binding_linking_another_libssl_than_pythons_ssl_is_refused():
    linked = _loader._linked_by_python_ssl()
    assert linked, "Python's ssl maps a libssl (Linux)"
    ffi, lib, path = _loader._load_compiled(linked)
    assert ffi is _openssl.ffi and path == linked[0]
    # As if Python's ssl used another OpenSSL 3 (which ABI mode would pick): refused, unless the
    # binding carries its own OpenSSL (NODETLS_OPENSSL at build): then it never uses another.
    other = _loader._load_compiled(["/elsewhere/libssl.so.3"])
    assert (other is not None) if _openssl.STATIC else (other is None)


def test_one_ffi_per_process():
    """Objects of two FFI instances do not mix: every nodetls module uses ``_openssl.ffi``."""
    # sys.modules' binding, not this module's: another test may have re-imported nodetls (in ABI
    # mode, a fresh import makes a fresh FFI; the compiled module's is made once per process).
    # The compiled module itself may be imported yet unused (ABI mode after a refused build).
    ffi = sys.modules["nodetls._openssl"].ffi
    users = [m for name, m in sys.modules.items() if name.startswith("nodetls.")
             and name != "nodetls._openssl._binding" and getattr(m, "ffi", None) is not None]
    assert len(users) > 5
    assert all(m.ffi is ffi for m in users), [m.__name__ for m in users if m.ffi is not ffi]
    made_here = [p.relative_to(ROOT).as_posix() for p in (ROOT / "src").rglob("*.py")
                 if re.search(r"=\s*(cffi\.)?FFI\(", p.read_text())]
    assert sorted(made_here) == ["src/nodetls/_openssl/_build.py",
                                 "src/nodetls/_openssl/_loader.py"]


def test_version_names_the_binding():
    res = subprocess.run([sys.executable, "-m", "nodetls", "--version"], capture_output=True,
                         text=True, timeout=TIMEOUT)  # this process's environment: the same mode
    assert res.returncode == 0, res.stderr
    line = res.stdout.strip()
    assert line.startswith(f"nodetls {nodetls.__version__}")
    assert _openssl.OPENSSL_VERSION in line
    assert f"cffi {_openssl.BINDING.upper()} mode" in line


_BUILD = textwrap.dedent("""
    import json, runpy, sys, warnings
    build = runpy.run_path(sys.argv[1])["build"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path = build(sys.argv[2])
    print(json.dumps({"path": path, "warnings": [str(w.message) for w in caught]}))
""")


def test_the_build_without_a_compiler_reports_failure_without_raising(tmp_path):
    res = _run(_BUILD, str(ROOT / "src/nodetls/_openssl/_build.py"), str(tmp_path), CC="false")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout.splitlines()[-1])
    assert out["path"] is None
    assert any("ABI mode is used" in w for w in out["warnings"]), out
    assert not list(tmp_path.rglob("_binding*.so"))


def test_setup_py_build_ext_without_a_compiler_succeeds_and_builds_nothing(tmp_path):
    """What ``pip install`` runs: a failed compile is a warning, the install goes on."""
    res = subprocess.run(
        [sys.executable, "setup.py", "-q", "build_ext", "--build-lib", str(tmp_path / "lib"),
         "--build-temp", str(tmp_path / "tmp")],
        capture_output=True, text=True, env=_env(CC="false"), timeout=TIMEOUT, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    assert "compiled OpenSSL binding not built" in res.stderr
    assert not list(tmp_path.rglob("_binding*.so"))


def test_the_engine_suite_passes_in_abi_mode():
    """The engine's Python data-path loops (ABI mode) stay covered while the normal run uses the
    compiled binding's C helpers (``cdef.HELPERS``) in their place."""
    res = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                          "tests/engine"], capture_output=True, text=True,
                         env=_env(NODETLS_PURE="1"), timeout=TIMEOUT, cwd=ROOT)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    assert " passed" in res.stdout.splitlines()[-1]
