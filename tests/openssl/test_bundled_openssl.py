"""``NODETLS_OPENSSL=bundled`` (``_openssl/_bundle.py``): the pinned OpenSSL release is fetched,
verified, unpacked and built once, then linked like any OpenSSL build directory.

Fetching and verifying run for real on small tarballs made here, served from ``file://`` URLs
(the machine has no route to openssl.org): the order of sources, a source that fails, a file
whose SHA-256 is not the pinned one (refused, whichever source it came from), and
``NODETLS_OPENSSL_TARBALL``.  Unpacking refuses members that would land outside the build
directory.  The real build (a few minutes) runs when the pinned tarball is at hand
(``NODETLS_OPENSSL_TARBALL``, or fetched before into the build directory), and a binding is then
compiled against it and handshakes in a child process.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import pytest

from nodetls._openssl import _build, _bundle

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="ELF and GNU ld options")


def _tarball(path: Path, members: dict[str, bytes], top: str = "openssl-9.9.9") -> str:
    """A gzipped tarball at ``path`` with ``members`` (names relative to ``top``); its SHA-256."""
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(f"{top}/{name}" if top else name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def no_tarball_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NODETLS_OPENSSL_TARBALL", raising=False)


def test_the_pin_is_a_3_5_release_with_a_sha256() -> None:
    assert _bundle.VERSION.startswith("3.5.")  # the LTS series after 3.0 (supported to 2030)
    assert len(_bundle.SHA256) == 64 and int(_bundle.SHA256, 16) >= 0
    assert all(_bundle.VERSION in url and url.startswith("https://") for url in _bundle.URLS)
    assert "no-shared" in _bundle.CONFIGURE and "-fPIC" in _bundle.CONFIGURE


def test_fetch_takes_the_first_source_that_answers(tmp_path: Path, no_tarball_env: None) -> None:
    src = tmp_path / "src.tar.gz"
    digest = _tarball(src, {"README": b"hello"})
    dest = tmp_path / "dest"
    got = _bundle.fetch(str(dest), urls=[(tmp_path / "missing.tar.gz").as_uri(), src.as_uri()],
                        sha256=digest, name="x.tar.gz")
    assert got == str(dest / "x.tar.gz")
    assert Path(got).read_bytes() == src.read_bytes()
    assert [p.name for p in dest.iterdir()] == ["x.tar.gz"]  # no partial download left
    # fetched once: reused without asking any source again
    assert _bundle.fetch(str(dest), urls=[], sha256=digest, name="x.tar.gz") == got


def test_a_tarball_with_another_hash_is_refused(tmp_path: Path, no_tarball_env: None) -> None:
    src = tmp_path / "src.tar.gz"
    _tarball(src, {"README": b"tampered"})
    dest = tmp_path / "dest"
    good = tmp_path / "good.tar.gz"
    digest = _tarball(good, {"README": b"hello"})
    # the first source serves the wrong file: an error, not a fall back to the next source
    with pytest.raises(ValueError, match="SHA-256 .* not the pinned") as info:
        _bundle.fetch(str(dest), urls=[src.as_uri(), good.as_uri()], sha256=digest,
                      name="x.tar.gz")
    assert src.as_uri() in str(info.value)
    assert not (dest / "x.tar.gz").exists() and not list(dest.iterdir())


def test_no_source_answering_is_an_oserror_naming_each(tmp_path: Path, no_tarball_env: None) -> None:
    urls = [(tmp_path / "a.tar.gz").as_uri(), (tmp_path / "b.tar.gz").as_uri()]
    with pytest.raises(OSError, match="NODETLS_OPENSSL_TARBALL") as info:
        _bundle.fetch(str(tmp_path / "dest"), urls=urls, sha256="0" * 64)
    assert all(u in str(info.value) for u in urls)


def test_the_tarball_variable_is_verified_and_used(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    given = tmp_path / "given.tar.gz"
    digest = _tarball(given, {"README": b"offline"})
    monkeypatch.setenv("NODETLS_OPENSSL_TARBALL", str(given))
    got = _bundle.fetch(str(tmp_path / "dest"), urls=[], sha256=digest, name="x.tar.gz")
    assert Path(got).read_bytes() == given.read_bytes()
    with pytest.raises(ValueError, match="NODETLS_OPENSSL_TARBALL="):
        _bundle.fetch(str(tmp_path / "dest2"), urls=[], sha256="0" * 64)


@pytest.mark.parametrize("name", ["../evil", "/tmp/evil", "openssl-9.9.9/../../evil"])
def test_extract_refuses_members_outside_the_directory(tmp_path: Path, name: str) -> None:
    bad = tmp_path / "bad.tar.gz"
    _tarball(bad, {name: b"x"}, top="")
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(ValueError, match="unsafe member"):
        _bundle.extract(str(bad), str(dest))
    assert not list(dest.iterdir()) and not (tmp_path / "evil").exists()


def test_extract_refuses_a_link_pointing_outside(tmp_path: Path) -> None:
    bad = tmp_path / "link.tar.gz"
    with tarfile.open(bad, "w:gz") as tar:
        info = tarfile.TarInfo("openssl-9.9.9/escape")
        info.type = tarfile.SYMTYPE
        info.linkname = "../../etc"
        tar.addfile(info)
    with pytest.raises(ValueError, match="unsafe member"):
        _bundle.extract(str(bad), str(tmp_path))


def test_extract_unpacks_one_tree(tmp_path: Path) -> None:
    good = tmp_path / "good.tar.gz"
    _tarball(good, {"README": b"hello", "include/openssl/ssl.h": b""})
    tree = _bundle.extract(str(good), str(tmp_path))
    assert tree == str(tmp_path / "openssl-9.9.9")
    assert (Path(tree) / "README").read_bytes() == b"hello"


def _fake_build(tree: Path, stamp: str) -> None:
    (tree / "include" / "openssl").mkdir(parents=True)
    (tree / "include" / "openssl" / "ssl.h").write_text("")
    for name in ("libssl.a", "libcrypto.a"):
        (tree / name).write_bytes(b"!<arch>\n")
    (tree / _bundle.STAMP).write_text(stamp)


def test_bundled_links_a_finished_build_without_fetching(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A build stamped with the pin and configuration is reused: ``link_options('bundled')``
    links it (no source is asked: the fetch would fail here)."""
    tree = tmp_path / f"openssl-{_bundle.VERSION}"
    _fake_build(tree, _bundle._stamp_text())
    monkeypatch.setenv("NODETLS_OPENSSL_DIR", str(tmp_path))
    link, static = _build.link_options("bundled")
    assert static is True
    assert link["extra_objects"] == [str(tree / "libssl.a"), str(tree / "libcrypto.a")]
    assert "-Wl,--exclude-libs,ALL" in link["extra_link_args"]


def test_the_default_links_a_finished_bundled_build(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """``NODETLS_OPENSSL`` unset: the bundled build, as ``bundled`` links it."""
    tree = tmp_path / f"openssl-{_bundle.VERSION}"
    _fake_build(tree, _bundle._stamp_text())
    monkeypatch.setenv("NODETLS_OPENSSL_DIR", str(tmp_path))
    monkeypatch.delenv("NODETLS_OPENSSL", raising=False)
    assert _build.link_options() == _build.link_options("bundled")
    assert _build.link_options()[1] is True


def test_the_default_links_the_shared_libraries_when_no_bundle_can_be_had(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset, and the pinned tarball is not to be had (here: a given file that is not it): the
    system's shared libraries, with a warning saying why and how to choose them outright;
    ``bundled`` itself fails instead."""
    bad = tmp_path / "not-openssl.tar.gz"
    _tarball(bad, {"README": b"not OpenSSL"})
    monkeypatch.setenv("NODETLS_OPENSSL_DIR", str(tmp_path / "build"))
    monkeypatch.setenv("NODETLS_OPENSSL_TARBALL", str(bad))
    monkeypatch.delenv("NODETLS_OPENSSL", raising=False)
    with pytest.warns(UserWarning, match="bundled OpenSSL was not built.*SHA-256.*"
                                         "NODETLS_OPENSSL=shared"):
        assert _build.link_options() == ({"libraries": ["ssl", "crypto"]}, False)
    with pytest.raises(ValueError, match="SHA-256"):
        _build.link_options("bundled")


def test_the_default_does_not_fetch_without_a_toolchain(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """No C compiler to build OpenSSL with: the shared libraries at once, nothing fetched."""
    monkeypatch.setenv("NODETLS_OPENSSL_DIR", str(tmp_path))
    monkeypatch.setenv("CC", str(tmp_path / "no-such-cc"))
    monkeypatch.delenv("NODETLS_OPENSSL", raising=False)
    with pytest.warns(UserWarning, match="no .*no-such-cc to build it with"):
        assert _build.link_options() == ({"libraries": ["ssl", "crypto"]}, False)
    assert list(tmp_path.iterdir()) == []


def test_a_build_stamped_otherwise_is_not_reused(tmp_path: Path) -> None:
    tree = tmp_path / f"openssl-{_bundle.VERSION}"
    _fake_build(tree, "3.0.0 0000 no-shared\n")
    assert not _bundle.is_built(str(tree))


def test_the_edits_cap_record_pipelining_and_free_the_key_shares() -> None:
    (rel, old, new), (rel2, old2, new2) = _bundle.EDITS
    assert rel == "include/openssl/ssl.h.in"
    assert "SSL_MAX_PIPELINES 32" in old and "SSL_MAX_PIPELINES 1 " in new
    assert rel2 == "ssl/statem/extensions_srvr.c"
    assert new2.endswith(old2.lstrip("\n"))  # what was there stays, after the free
    assert "EVP_PKEY_free(s->s3.peer_tmp);\n    s->s3.peer_tmp = NULL;\n" in new2
    assert "EVP_PKEY_free(s->s3.tmp.pkey);\n    s->s3.tmp.pkey = NULL;\n" in new2


_HEADER = "/* pipelines */\n#define SSL_MAX_PIPELINES 32\n\n#define NEXT 1\n"
_KEY_SHARE = "        }\n    }\n    s->s3.did_kex = 1;\n    return EXT_RETURN_SENT;\n"


def _fake_tree(root: Path, header: str = _HEADER, key_share: str = _KEY_SHARE) -> tuple[Path, Path]:
    files = (root / "include" / "openssl" / "ssl.h.in",
             root / "ssl" / "statem" / "extensions_srvr.c")
    for path, body in zip(files, (header, key_share), strict=True):
        path.parent.mkdir(parents=True)
        path.write_text(body)
    return files


def test_edit_replaces_the_released_text_once(tmp_path: Path) -> None:
    header, key_share = _fake_tree(tmp_path)
    _bundle.edit(str(tmp_path))
    text = header.read_text()
    assert "#define SSL_MAX_PIPELINES 1 /* nodetls: 32 as released */\n" in text
    assert "SSL_MAX_PIPELINES 32" not in text.replace("32 as released", "")
    assert text.endswith("#define NEXT 1\n")
    assert key_share.read_text() == (
        "        }\n    }\n    /* nodetls: neither key share is read again */\n"
        "    EVP_PKEY_free(s->s3.peer_tmp);\n    s->s3.peer_tmp = NULL;\n"
        "    EVP_PKEY_free(s->s3.tmp.pkey);\n    s->s3.tmp.pkey = NULL;\n"
        "    s->s3.did_kex = 1;\n    return EXT_RETURN_SENT;\n")


@pytest.mark.parametrize("header, key_share", [
    ("#define SSL_MAX_PIPELINES 64\n", _KEY_SHARE),  # a release that changed it
    ("\n#define SSL_MAX_PIPELINES 32\n" * 2, _KEY_SHARE),  # or holds it twice
    (_HEADER, "    s->s3.did_kex = 1;\n"),  # the second edit's text missing (no newline before)
    (_HEADER, _KEY_SHARE * 2)])
def test_edit_stops_when_the_text_is_not_there_exactly_once(tmp_path: Path, header: str,
                                                            key_share: str) -> None:
    files = _fake_tree(tmp_path, header, key_share)
    with pytest.raises(RuntimeError, match="exactly once; the edit needs checking"):
        _bundle.edit(str(tmp_path))
    # nothing half-edited: not even the file whose edit would have applied
    assert [f.read_text() for f in files] == [header, key_share]


def test_the_stamp_names_the_edits(monkeypatch: pytest.MonkeyPatch) -> None:
    stamp = _bundle._stamp_text()
    monkeypatch.setattr(_bundle, "EDITS", ())
    assert _bundle._stamp_text() != stamp  # a build made with other edits is built again


def _pinned_tarball() -> str | None:
    given = os.environ.get("NODETLS_OPENSSL_TARBALL")
    fetched = os.path.join(_bundle.default_dir(), _bundle.TARBALL)
    for path in (given, fetched):
        if path and os.path.isfile(path) and _bundle.sha256_of(path) == _bundle.SHA256:
            return path
    return None


_CHILD = textwrap.dedent("""
    import importlib.util, json, sys
    spec = importlib.util.spec_from_file_location("nodetls._openssl._binding", sys.argv[1])
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    ctx = mod.lib.SSL_CTX_new(mod.lib.TLS_method())
    pipelines = [mod.lib.SSL_CTX_ctrl(ctx, 126, n, mod.ffi.NULL) for n in (1, 2)]  # SET_MAX_PIPELINES
    mod.lib.SSL_CTX_free(ctx)
    print(json.dumps({"static": mod.lib.NODETLS_STATIC, "pipelines": pipelines,
                      "version": mod.ffi.string(mod.lib.OpenSSL_version(0)).decode()}))
""")


@pytest.mark.slow
@pytest.mark.timeout(900)  # the first build: ~2 minutes on 2 cores, longer on a shared machine
def test_the_pinned_release_builds_and_a_binding_links_it(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The real thing, when the pinned tarball is here: built once into the build directory
    (minutes; reused afterwards), then a binding compiled against it reports the pinned version
    and needs no shared libssl."""
    tarball = _pinned_tarball()
    if tarball is None:
        pytest.skip(f"{_bundle.TARBALL} (SHA-256 {_bundle.SHA256[:12]}...) not at hand: set "
                    "NODETLS_OPENSSL_TARBALL")
    if shutil.which("cc") is None or shutil.which("make") is None or shutil.which("perl") is None:
        pytest.skip("no C toolchain")
    monkeypatch.setenv("NODETLS_OPENSSL_TARBALL", tarball)
    monkeypatch.setenv("NODETLS_OPENSSL", "bundled")
    tree = _bundle.ensure()
    assert _bundle.is_built(tree)
    built = _build.build(str(tmp_path))
    assert built is not None
    needed = subprocess.run(["readelf", "-d", built], capture_output=True, text=True).stdout
    assert "libssl" not in needed and "libcrypto" not in needed, needed
    out = subprocess.run([sys.executable, "-c", _CHILD, built], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert f'"version": "OpenSSL {_bundle.VERSION} ' in out.stdout and '"static": 1' in out.stdout
    assert '"pipelines": [1, 0]' in out.stdout  # the edit: one record at a time, at most
