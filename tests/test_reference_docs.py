"""The API reference in docs/: generated parts are current, pages are linked, help() lists options."""

from __future__ import annotations

import asyncio
import pydoc
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import nodetls as tls
from helpers.peers import require_peer, run_process
from nodetls import _optdoc, net
from nodetls.stream import Readable, Writable, pipeline, set_default_high_water_mark

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def test_generated_blocks_are_current() -> None:
    res = subprocess.run([sys.executable, str(DOCS / "gen_reference.py"), "--check"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr


def test_the_check_sees_a_stale_page(tmp_path: Path) -> None:
    sys.path.insert(0, str(DOCS))
    try:
        import gen_reference
    finally:
        sys.path.remove(str(DOCS))
    stale = "x\n<!-- gen:options T -->\nold\n<!-- /gen -->\n"
    fresh = gen_reference.render(stale)
    assert fresh != stale and "`reject_unauthorized`" in fresh
    assert gen_reference.render(fresh) == fresh


@pytest.mark.parametrize(("fn", "where"), [
    (tls.connect, "T"), (tls.create_server, "S"), (tls.create_secure_context, "C"),
    (tls.TLSSocket, "K"), (net.connect, "J"), (net.create_server, "V"),
])
def test_help_lists_every_option(fn: object, where: str) -> None:
    text = pydoc.render_doc(fn, renderer=pydoc.plaintext)
    rows = _optdoc.rows(where)
    assert len(rows) >= 3
    for name, node, _kind, _default in rows:
        alias = f" ({node})" if node != name else ""
        assert re.search(rf"^[\s|]*{name}{re.escape(alias)}[ :=]", text, re.M), name


def test_help_of_connect_shows_names_and_defaults() -> None:
    text = pydoc.render_doc(tls.connect, renderer=pydoc.plaintext)
    assert "reject_unauthorized (rejectUnauthorized)" in text
    assert "alpn_protocols (ALPNProtocols)" in text
    assert "ciphers" in text and "nodetls.DEFAULT_CIPHERS" in text


def test_documenting_twice_does_not_repeat() -> None:
    before = tls.connect.__doc__
    _optdoc.document()
    assert tls.connect.__doc__ == before and before.count("\nOptions (") == 1


def test_index_links_every_page_and_the_readme_links_the_index() -> None:
    index = (DOCS / "index.md").read_text()
    linked = set(re.findall(r"\]\(([\w.-]+\.md)\)", index))
    pages = {p.name for p in DOCS.glob("*.md")} - {"index.md"}
    assert pages <= linked, pages - linked
    for page in sorted(DOCS.glob("*.md")):
        for target in re.findall(r"\]\(([\w.-]+\.md)(?:#[\w-]+)?\)", page.read_text()):
            assert (DOCS / target).is_file(), f"{page.name} links to missing {target}"
    assert "(docs/index.md)" in (ROOT / "README.md").read_text()


def test_every_module_page_covers_its_public_names() -> None:
    import nodetls.errors
    import nodetls.events
    import nodetls.sessions
    import nodetls.stream

    pages = {tls: "tls.md", net: "net.md", nodetls.stream: "stream.md", nodetls.events: "events.md",
             nodetls.errors: "errors.md", nodetls.sessions: "sessions.md"}
    missing = []
    for module, page in pages.items():
        text = (DOCS / page).read_text()
        for name in module.__all__:
            if f"`{name}" not in text and f" {name}" not in text:
                missing.append(f"{page}: {name}")
    assert missing == []


# -- docs/errors.md's class column, against the errors the library really raises ---------------

def _error_table_classes() -> dict[str, set[str]]:
    """docs/errors.md's generated table, as the generator makes it: code -> its classes."""
    sys.path.insert(0, str(DOCS))
    try:
        import gen_reference
    finally:
        sys.path.remove(str(DOCS))
    table: dict[str, set[str]] = {}
    for row in gen_reference.errors().splitlines()[2:]:
        code, classes = row.split(" | ")[:2]
        table[code.strip("| `")] = set(re.findall(r"`(\w+)`", classes))
    return table


async def _emitted_error(emitter: object, start: object) -> BaseException:
    """The ``'error'`` ``emitter`` emits once ``start()`` ran (within 5 seconds)."""
    fut: asyncio.Future[BaseException] = asyncio.get_running_loop().create_future()
    emitter.once("error", lambda err: fut.done() or fut.set_result(err))  # type: ignore[attr-defined]
    start()  # type: ignore[operator]
    return await asyncio.wait_for(fut, 5)


async def _push_after_eof() -> BaseException:
    readable = Readable(read=lambda size: None)

    def push_twice() -> None:
        readable.push(None)
        readable.push(b"late")

    return await _emitted_error(readable, push_twice)


async def _reset_and_destroy_unconnected() -> BaseException:
    sock = net.Socket()
    return await _emitted_error(sock, sock.reset_and_destroy)


async def _pipeline_stage_returning_a_number() -> BaseException:
    with pytest.raises(Exception) as info:
        pipeline(lambda: 5, Writable(write=lambda chunk, enc, cb: cb()), lambda err: None)
    return info.value


async def _name_mismatch() -> BaseException:
    err = tls.check_server_identity("a.example", {"subject": {"CN": "b.example"}})
    assert isinstance(err, BaseException)
    return err


async def _fractional_high_water_mark() -> BaseException:
    with pytest.raises(Exception) as info:
        set_default_high_water_mark(False, 1.5)
    return info.value


async def _negative_timeout() -> BaseException:
    sock = net.Socket()
    try:
        with pytest.raises(Exception) as info:
            sock.set_timeout(-1)
    finally:
        sock.destroy()
    return info.value


@pytest.mark.parametrize(("code", "make"), [
    ("ERR_STREAM_PUSH_AFTER_EOF", _push_after_eof),
    ("ERR_SOCKET_CLOSED", _reset_and_destroy_unconnected),
    ("ERR_INVALID_RETURN_VALUE", _pipeline_stage_returning_a_number),
    ("ERR_TLS_CERT_ALTNAME_INVALID", _name_mismatch),
    ("ERR_OUT_OF_RANGE", _fractional_high_water_mark),
    ("ERR_OUT_OF_RANGE", _negative_timeout),
])
async def test_the_errors_table_names_the_class_raised(code: str, make: Any) -> None:
    """The class column of docs/errors.md is the class of the error the library raises (for a
    code raised as several classes, one of them)."""
    err = await make()
    assert getattr(err, "code", None) == code
    classes = _error_table_classes()[code]
    assert type(err).__name__ in classes, (code, type(err).__name__, classes)
    if code != "ERR_OUT_OF_RANGE":  # (raised as two classes: both listed)
        assert classes == {type(err).__name__}


def test_the_errors_table_lists_both_classes_of_a_code_raised_as_two() -> None:
    assert _error_table_classes()["ERR_OUT_OF_RANGE"] == {"InvalidArgValueError",
                                                          "NodeRangeError"}


async def test_the_errors_table_names_the_class_of_an_unsupported_pkcs12(certs, tmp_path) -> None:
    """OpenSSL's ``-legacy`` PKCS#12 (RC2-40), which OpenSSL 3's default provider cannot read:
    ``ERR_CRYPTO_UNSUPPORTED_OPERATION``, raised by ``create_secure_context``."""
    openssl = require_peer("openssl")
    out = tmp_path / "legacy.pfx"
    result = await run_process([openssl, "pkcs12", "-export", "-legacy", "-in",
                                certs.server.cert_path, "-inkey", certs.server.key_path,
                                "-out", out, "-passout", "pass:legacy"])
    assert result.rc == 0, result
    with pytest.raises(Exception) as info:
        tls.create_secure_context({"pfx": out.read_bytes(), "passphrase": "legacy"})
    assert getattr(info.value, "code", None) == "ERR_CRYPTO_UNSUPPORTED_OPERATION"
    assert _error_table_classes()["ERR_CRYPTO_UNSUPPORTED_OPERATION"] == {
        type(info.value).__name__}
