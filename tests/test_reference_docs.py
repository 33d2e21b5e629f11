"""The API reference in docs/: generated parts are current, pages are linked, help() lists options."""

from __future__ import annotations

import pydoc
import re
import subprocess
import sys
from pathlib import Path

import pytest

import nodetls as tls
from nodetls import _optdoc, net

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
