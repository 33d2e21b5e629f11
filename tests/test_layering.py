"""Imports point down only (docs/DESIGN.md, "Layers"), checked in fresh interpreters.

``import nodetls.X`` would run ``nodetls/__init__.py`` first, which imports every layer; so each
subprocess installs a bare ``nodetls`` package object (the real ``__path__``, no ``__init__``
executed) and then imports only the layer under test, and reports ``sys.modules``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

_PROBE = textwrap.dedent("""
    import importlib, importlib.util, json, sys, types
    spec = importlib.util.find_spec("nodetls")
    pkg = types.ModuleType("nodetls")
    pkg.__path__ = list(spec.submodule_search_locations)
    pkg.__spec__ = spec
    sys.modules["nodetls"] = pkg
    if sys.argv[1] != "nodetls":
        importlib.import_module(sys.argv[1])
    else:
        del sys.modules["nodetls"]
        import nodetls
    print(json.dumps(sorted(sys.modules)))
""")


def imported_by(module: str) -> set[str]:
    """Every module in ``sys.modules`` after importing ``module`` alone in a new interpreter."""
    res = subprocess.run([sys.executable, "-c", _PROBE, module], capture_output=True, text=True,
                         timeout=30)
    assert res.returncode == 0, res.stderr
    return set(json.loads(res.stdout.splitlines()[-1]))


def layers(modules: set[str]) -> set[str]:
    """The nodetls modules among ``modules``, as their layer (``nodetls._openssl.cdef`` ->
    ``nodetls._openssl``). The compiled core's shared library (``nodetls._core__mypyc``, which the
    compiled modules import: ``_compiled.py``) is no layer: the modules compiled into it are."""
    return {".".join(m.split(".")[:2]) for m in modules
            if m.startswith("nodetls.") and m != "nodetls._core__mypyc"}


def test_the_probe_sees_asyncio_and_every_layer_from_the_package():
    # The checks below can fail: the full package does import asyncio and every layer.
    mods = imported_by("nodetls")
    assert "asyncio" in mods
    assert {"nodetls._openssl", "nodetls._engine", "nodetls._context", "nodetls._net",
            "nodetls._tls"} <= layers(mods)


def test_engine_does_not_import_asyncio():
    mods = imported_by("nodetls._engine")
    # engine.py and the modules split out of it (ABI fallbacks, wire formats, queries, the record
    # path) are one layer: layers() names them all nodetls._engine.
    assert {"nodetls._engine.engine", "nodetls._engine._abi", "nodetls._engine._wire",
            "nodetls._engine._queries", "nodetls._engine._records",
            "nodetls._engine.callbacks"} <= mods
    assert "asyncio" not in mods
    assert layers(mods) <= {"nodetls._engine", "nodetls._openssl", "nodetls.errors",
                            "nodetls._options"}


def test_openssl_imports_no_other_layer():
    mods = imported_by("nodetls._openssl")
    assert "nodetls._openssl._loader" in mods
    assert layers(mods) <= {"nodetls._openssl", "nodetls.errors", "nodetls._options"}
    assert "asyncio" not in mods


@pytest.mark.parametrize("module", ["nodetls.events", "nodetls.stream", "nodetls._net",
                                    "nodetls.net"])
def test_io_layers_import_no_openssl_engine_or_context(module):
    mods = imported_by(module)
    assert module in mods
    assert not layers(mods) & {"nodetls._openssl", "nodetls._engine", "nodetls._context",
                               "nodetls._tls"}
    assert not any(m == "cffi" or m.startswith("cffi.") for m in mods)


STREAM_MODULES = {"nodetls.stream._base", "nodetls.stream._readable", "nodetls.stream._pipe",
                  "nodetls.stream._writable", "nodetls.stream._duplex"}


@pytest.mark.parametrize("module", ["nodetls.stream", *sorted(STREAM_MODULES)])
def test_stream_package_is_one_layer_over_events(module):
    # The stream package's modules are one layer (layers() names them all nodetls.stream): any
    # of them, imported alone, loads the whole package (the cycle Readable.pipe <-> _pipe
    # resolves whichever is first) and nothing under it but events, errors and the options.
    mods = imported_by(module)
    assert STREAM_MODULES <= mods
    assert layers(mods) <= {"nodetls.stream", "nodetls.events", "nodetls.errors",
                            "nodetls._options", "nodetls._option_table",
                            "nodetls._events_util",  # (events' module functions)
                            "nodetls._events_remove"}  # (EventEmitter's removals)


def test_context_does_not_import_asyncio():
    mods = imported_by("nodetls._context")
    assert "nodetls._context.secure_context" in mods
    assert "asyncio" not in mods
    assert not layers(mods) & {"nodetls._engine", "nodetls._net", "nodetls._tls",
                               "nodetls.events", "nodetls.stream"}


def test_tls_layer_never_imports_openssl_directly():
    # _tls talks to OpenSSL only through the engine's typed protocol and named queries
    # (docs/DESIGN.md); it may import _context (which does), never _openssl itself.
    import ast
    import pathlib

    import nodetls

    tls_dir = pathlib.Path(nodetls.__file__).parent / "_tls"
    files = sorted(tls_dir.glob("*.py"))
    assert len(files) >= 4
    offenders = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [a.name for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            if any("_openssl" in n for n in names):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []
