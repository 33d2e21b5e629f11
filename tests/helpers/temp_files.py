"""The check that the suite leaves nothing in the temporary directory (tests/conftest.py makes it
an autouse fixture of the whole suite, and a last check at the session's end).

The suite runs with a temporary directory of its own, made in the system's at the start of the
session (:func:`use_private_temp_dir`, called first thing by tests/conftest.py, before any test
module is imported): ``tempfile.tempdir`` for this process, ``TMPDIR`` for its children (Python,
Node's ``os.tmpdir()``, openssl, gnutls). Two runs sharing the machine each have their own, so a
listing of it before and after a test shows exactly what that test left there. pytest's own
``tmp_path`` stays where pytest keeps it (``PYTEST_DEBUG_TEMPROOT``, the system's temporary
directory), under pytest's retention: use it (or ``tmp_path_factory``) for a test's files.
A run that is killed leaves its (private) directory: the next run removes it.

A directory made once for many tests (at import, or by a session fixture) is registered with
:func:`remove_at_session_end`: removed when the session ends (before the last check), or at
the process's exit outside pytest (the diff batches run as scripts). A test that leaves a file
for a documented reason is marked ``leaves_temp_files``: what it leaves is not counted.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import sys
import tempfile
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

#: The registry shared by every copy of this module (it is imported both as ``helpers.temp_files``
#: and as ``tests.helpers.temp_files``): directories to remove at the session's end, and the
#: entries tests marked ``leaves_temp_files`` left.
_STATE: Any = sys.modules.setdefault("_nodetls_tests_temp_state",
                                     types.ModuleType("_nodetls_tests_temp_state"))
if not hasattr(_STATE, "to_remove"):
    _STATE.to_remove = []
    _STATE.allowed = set()
    _STATE.private = None


#: a run's directory is ``PREFIX`` + the run's pid + ``-`` + a random part
PREFIX = "nodetls-tests-"


def _remove_dead_runs_dirs(system: str) -> None:
    """Remove the directories of runs that were killed (no session end): those whose process is
    gone. (One whose pid was reused since stays, until that process is gone too.)"""
    for name in _entries(system):
        pid = name.removeprefix(PREFIX).split("-", 1)[0]
        if not name.startswith(PREFIX) or not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(os.path.join(system, name), ignore_errors=True)
        except OSError:  # (alive, another user's)
            pass


def use_private_temp_dir() -> Path:
    """Make a new directory in the system's temporary directory and make it the temporary
    directory of this process and its children; its path. pytest's ``tmp_path`` stays in the
    system's (``PYTEST_DEBUG_TEMPROOT``, set to it unless set already). Called again (another copy
    of the module), it returns the same directory."""
    if _STATE.private is not None:
        return Path(_STATE.private)
    system = tempfile.gettempdir()
    os.environ.setdefault("PYTEST_DEBUG_TEMPROOT", system)
    _remove_dead_runs_dirs(system)
    private = tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=system)
    tempfile.tempdir = private
    os.environ["TMPDIR"] = private
    _STATE.private = private
    return Path(private)


def remove_at_session_end(path: str | os.PathLike[str]) -> None:
    """Remove the directory ``path`` (made for many tests) when the test session ends, or at the
    exit of a process that runs no test session."""
    _STATE.to_remove.append(os.fspath(path))
    atexit.register(shutil.rmtree, os.fspath(path), True)


def _entries(directory: str) -> set[str]:
    try:
        return set(os.listdir(directory))
    except FileNotFoundError:
        return set()


def _describe(directory: str, names: set[str], limit: int = 8) -> list[str]:
    """Each entry as its name and, for a directory, the first files in it (whose names tell
    who made it)."""
    shown = []
    for name in sorted(names):
        path = os.path.join(directory, name)
        if os.path.isdir(path) and not os.path.islink(path):
            inside = []
            for top, _dirs, files in os.walk(path):
                inside += [os.path.relpath(os.path.join(top, f), path) for f in sorted(files)]
                if len(inside) >= limit:
                    break
            more = ", ..." if len(inside) > limit else ""
            shown.append(f"{name}/ [{', '.join(inside[:limit])}{more}]")
        else:
            shown.append(name)
    return shown


def no_temp_file_left(allowed: bool = False) -> Iterator[None]:
    """The body of an autouse fixture: fails the test if it left a new entry in the suite's
    temporary directory (set up before the test's other function fixtures, torn down after
    them: a fixture's cleanup counts). What session and module fixtures made before the test
    is not new. ``allowed``: the test is marked ``leaves_temp_files``; what it leaves is kept
    out of the session's last check."""
    private = _STATE.private
    if private is None:
        yield
        return
    before = _entries(private)
    yield
    left = _entries(private) - before
    if not left:
        return
    if allowed:
        _STATE.allowed |= left
        return
    shown = _describe(private, left)
    for name in left:  # reported here, not again at the session's end
        path = os.path.join(private, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                os.unlink(path)
    pytest.fail(f"left in the temporary directory by this test: {shown}", pytrace=False)


def session_end_leftovers() -> list[str]:
    """At the session's end: remove the registered directories, then describe what is still in
    the suite's temporary directory (not counting what marked tests left), and remove the
    directory with whatever is left (described first: the description, empty when nothing was
    left)."""
    private = _STATE.private
    if private is None:
        return []
    for path in _STATE.to_remove:
        shutil.rmtree(path, ignore_errors=True)
    _STATE.to_remove.clear()
    left = _entries(private) - _STATE.allowed
    shown = _describe(private, left)
    shutil.rmtree(private, ignore_errors=True)
    return shown
