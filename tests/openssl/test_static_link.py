"""``NODETLS_OPENSSL`` at build: the compiled binding linked to the shared OpenSSL (the default), to
the system's static archives, or to an OpenSSL build directory (``_openssl/_build.py``).

The static binding is compiled for real here (from Debian's ``libssl-dev`` archives) and imported
in a child process: it carries its own OpenSSL, needs no shared libssl, exports none of OpenSSL's
symbols (so it cannot replace those of the libssl Python's ``ssl`` module loads), and works beside
Python's ``ssl`` in one process.  (The whole suite passes on such a binding: see docs/DESIGN.md.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from nodetls._openssl import _build

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="ELF and GNU ld options")


def test_shared_links_the_shared_libraries(monkeypatch: pytest.MonkeyPatch) -> None:
    """(The default, bundled when it can be: tests/openssl/test_bundled_openssl.py.)"""
    monkeypatch.setenv("NODETLS_OPENSSL", "shared")
    assert _build.link_options() == ({"libraries": ["ssl", "crypto"]}, False)
    assert _build.link_options("shared") == ({"libraries": ["ssl", "crypto"]}, False)


def test_a_directory_without_a_static_build_is_refused_naming_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="NODETLS_OPENSSL=.*libssl.a") as info:
        _build.link_options(str(tmp_path))
    assert str(tmp_path) in str(info.value)


def test_a_build_directory_links_its_archives_and_headers(tmp_path: Path) -> None:
    (tmp_path / "include" / "openssl").mkdir(parents=True)
    (tmp_path / "include" / "openssl" / "ssl.h").write_text("")
    for name in ("libssl.a", "libcrypto.a"):
        (tmp_path / name).write_bytes(b"!<arch>\n")
    link, static = _build.link_options(str(tmp_path))
    assert static is True
    assert link["extra_objects"] == [str(tmp_path / "libssl.a"), str(tmp_path / "libcrypto.a")]
    assert link["include_dirs"] == [str(tmp_path / "include")]
    assert "-Wl,--exclude-libs,ALL" in link["extra_link_args"]
    assert "ssl" not in link["libraries"]


_CHILD = textwrap.dedent("""
    import importlib.util, json, sys
    spec = importlib.util.spec_from_file_location("nodetls._openssl._binding", sys.argv[1])
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    ffi, lib = mod.ffi, mod.lib
    import ssl  # Python's own OpenSSL (shared) in the same process
    ctx = lib.SSL_CTX_new(lib.TLS_method())
    lib.SSL_CTX_set_cipher_list(ctx, b"DEFAULT")
    print(json.dumps({"static": lib.NODETLS_STATIC, "version": lib.OpenSSL_version_num(),
                      "ssl_ok": ssl.create_default_context().check_hostname, "ctx": ctx != ffi.NULL}))
    lib.SSL_CTX_free(ctx)
""")


@pytest.mark.slow
def test_static_binding_builds_and_keeps_openssl_to_itself(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        _build.link_options("static")
    except ValueError:
        pytest.skip("no static libssl.a/libcrypto.a (Debian: libssl-dev)")
    if shutil.which("nm") is None or shutil.which("readelf") is None:
        pytest.skip("no binutils")
    monkeypatch.setenv("NODETLS_OPENSSL", "static")
    built = _build.make_builder().compile(tmpdir=str(tmp_path))
    needed = subprocess.run(["readelf", "-d", built], capture_output=True, text=True,
                            check=True).stdout
    assert "libssl" not in needed and "libcrypto" not in needed, needed
    exported = subprocess.run(["nm", "-D", "--defined-only", built], capture_output=True,
                              text=True, check=True).stdout.split()
    assert "SSL_CTX_new" not in exported and "EVP_EncryptInit_ex" not in exported
    assert "PyInit__binding" in exported
    res = subprocess.run([sys.executable, "-c", _CHILD, built], capture_output=True, text=True,
                         timeout=60, env={**os.environ, "NODETLS_OPENSSL": ""})
    assert res.returncode == 0, res.stderr
    out = res.stdout.strip().splitlines()[-1]
    assert '"static": 1' in out and '"ctx": true' in out and '"ssl_ok": true' in out, out
