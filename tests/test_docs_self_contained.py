"""The project's docs stand alone: nothing under src/, docs/, examples/ or README.md points a
reader at files that are not in the repository (the development notes the project was built
from: ``../shared``, ``API.md``, ``NODE_FACTS``, ``OPENSSL_NOTES``, ``STYLE.md``).  Describe the
fact where it is used instead of pointing at a note."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = re.compile(r"\.\./shared|API\.md|NODE_FACTS|OPENSSL_NOTES|STYLE\.md")


def _files() -> list[Path]:
    files = [ROOT / "README.md"]
    for top in ("src", "docs", "examples"):
        files += [p for p in sorted((ROOT / top).rglob("*"))
                  if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
                  and ".egg-info" not in str(p)]
    return files


def _hits(files: list[Path], pattern: re.Pattern[str]) -> list[str]:
    """``path:line: text`` of every line of ``files`` that ``pattern`` matches."""
    hits = []
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        for lineno, line in enumerate(text.splitlines(), 1):
            if pattern.search(line):
                hits.append(f"{path.relative_to(ROOT)}:{lineno}: {line.strip()}")
    return hits


def test_docs_do_not_point_outside_the_repository() -> None:
    files = _files()
    assert any(p.suffix == ".py" for p in files) and any(p.suffix == ".md" for p in files)
    hits = _hits(files, FORBIDDEN)
    assert not hits, "docs must be self-contained; these lines point outside the repo:\n" + \
        "\n".join(hits)


SCRATCH = re.compile(r"/tmp/s\d+/")


def test_no_paths_into_a_session_s_scratch_directory() -> None:
    """Nothing in the repository (tests included) names a file under a development session's
    ``/tmp/sNN/`` scratch directory: it does not exist in a clone. Say what was checked instead
    (a scratch script, the scenario, what node printed)."""
    text_files = (".py", ".md", ".js", ".json", ".sh", ".txt", ".toml", ".cfg", ".c", ".h")
    files = [p for p in _files() if p.suffix in text_files] + [
        p for top in ("tests", "benchmarks", "fuzz") for p in sorted((ROOT / top).rglob("*"))
        if p.is_file() and p.suffix in text_files]
    hits = _hits(files, SCRATCH)
    assert not hits, "paths into a session's /tmp scratch directory:\n" + "\n".join(hits)
