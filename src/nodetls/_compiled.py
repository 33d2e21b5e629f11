"""The optional compiled core: which modules setup.py compiles with mypyc, and whether they are used.

The modules in :data:`MODULES` (the TLS wrap and the engine: internal classes users never subclass
or touch) are compiled with mypyc when the install has mypy and a C compiler (``setup.py``); each
``.py`` stays beside its extension module and is the fallback.  The compiled modules are used only
all together (they call one another natively, bypassing the modules' namespaces) and only when
they are current: the build records the SHA-256 of each source (:data:`MANIFEST`), and if any
source differs from what was compiled (a developer edited it without rebuilding), or one is
missing, the ``.py`` files are imported instead.  ``NODETLS_PURE=1`` forces the ``.py`` files too
(and the ABI-mode OpenSSL binding, ``_openssl/_loader.py``).

:func:`install` runs first thing in ``nodetls/__init__.py``: when the sources are to be used it puts
a finder ahead of the others on ``sys.meta_path`` that loads those modules from their ``.py``.
This module is never compiled itself.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

#: The compiled modules (setup.py builds these; the Makefile's stamp lists their sources).
MODULES = (
    "nodetls._engine._wire",
    "nodetls._engine._queries",
    "nodetls._engine._callback_bodies",
    "nodetls._engine._setup",
    "nodetls._engine._records",
    "nodetls._engine.engine",
    "nodetls._tls.wrap_handle",
    "nodetls._tls.wrap",
)
#: What the build writes beside the package's ``__init__.py``: ``{module: sha256 of its source}``.
MANIFEST = "_compiled.json"

_ROOT = os.path.dirname(os.path.abspath(__file__))  # the nodetls package directory

#: Why the ``.py`` files are used (None: the compiled modules are), decided by :func:`install`.
reason: str | None = None


def source_path(module: str) -> str:
    """The ``.py`` file of one of :data:`MODULES`."""
    return os.path.join(_ROOT, *module.split(".")[1:]) + ".py"


def source_hash(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def _why_pure() -> str | None:
    if os.environ.get("NODETLS_PURE", "") not in ("", "0"):
        return "NODETLS_PURE"
    try:
        with open(os.path.join(_ROOT, MANIFEST)) as f:
            built: dict[str, str] = json.load(f)
    except (OSError, ValueError):
        return "not built"
    for module in MODULES:
        if module not in built:  # (a module added to the core after this build)
            return f"stale: {module} added since the build"
        base = os.path.join(_ROOT, *module.split(".")[1:])
        if not any(os.path.exists(base + suffix)
                   for suffix in importlib.machinery.EXTENSION_SUFFIXES):
            return "not built"
        try:
            current = source_hash(base + ".py")
        except OSError:
            return "not built"
        if built.get(module) != current:
            return f"stale: {module} changed since the build"
    return None


class _SourceFinder:
    """Finds :data:`MODULES` as their ``.py`` files, ahead of the extension modules beside them."""

    @classmethod
    def find_spec(cls, fullname: str, path: Sequence[str] | None = None,
                  target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in MODULES:
            return None
        return importlib.util.spec_from_file_location(fullname, source_path(fullname))


def install() -> None:
    """Decide once, before any of :data:`MODULES` is imported, which modules are used."""
    global reason
    reason = _why_pure()
    if reason is not None and _SourceFinder not in sys.meta_path:
        sys.meta_path.insert(0, _SourceFinder)


def in_use() -> bool:
    """Whether the compiled modules are the ones imported."""
    from ._tls import wrap

    return not (wrap.__file__ or "").endswith(".py")


def describe() -> str:
    """For ``nodetls --version``: ``compiled core (mypyc)`` or ``pure-Python core (why)``."""
    if in_use():
        return "compiled core (mypyc)"
    return f"pure-Python core ({reason or 'not built'})"


install()  # on import: ``nodetls/__init__.py`` imports this module before any other of its own
