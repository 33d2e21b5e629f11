"""The check that a test closed every socket it opened (tests/conftest.py makes it an autouse
fixture of the whole suite).

A socket a test leaves open is closed by the garbage collector at some later point, with a
ResourceWarning that a later test sees (where its ResourceWarnings are errors, it fails there,
far from the cause). The check compares the process's open socket descriptors before the test
and after it, once the test's event loop has closed. Linux only (the process's descriptor
directory); elsewhere it checks nothing.
"""

from __future__ import annotations

import gc
import os
import socket
import warnings
from collections.abc import Iterator

import pytest

_FD_DIR = "/proc/self/fd"

#: Tests that meet a known leak of the library, by node id suffix, each with the strict xfail
#: that reproduces the leak: their sockets are not checked (the ``leaves_sockets_open`` marker
#: does the same from the test itself).
KNOWN_LEAKS: dict[str, str] = {}


def meets_known_leak(item: pytest.Item) -> bool:
    """Whether the test ``item`` meets a known leak of the library (``leaves_sockets_open``
    marker, or listed in ``KNOWN_LEAKS``)."""
    return (item.get_closest_marker("leaves_sockets_open") is not None
            or any(item.nodeid.endswith(k) for k in KNOWN_LEAKS))


def open_sockets() -> set[tuple[str, str]]:
    """The process's open socket descriptors, as (fd, ``socket:[inode]``) pairs."""
    found: set[tuple[str, str]] = set()
    for name in os.listdir(_FD_DIR):
        try:
            target = os.readlink(os.path.join(_FD_DIR, name))
        except OSError:  # (closed meanwhile, or this listing's own descriptor)
            continue
        if target.startswith("socket:"):
            found.add((name, target))
    return found


def _describe(fd: str) -> str:
    """The socket behind ``fd`` as Python shows it (family, type, addresses), from a duplicate of
    the descriptor (closed at once: the test's socket stays as it is)."""
    try:
        dup = os.dup(int(fd))
    except OSError:
        return "(closed meanwhile)"
    try:
        sock = socket.socket(fileno=dup)
    except OSError:
        os.close(dup)
        return ""
    with sock:
        shown = repr(sock).removeprefix("<socket.socket ").removesuffix(">")
        return shown.removeprefix(f"fd={dup}, ")


def no_socket_left_open(known_leak: bool = False) -> Iterator[None]:
    """The body of an autouse fixture: fails the test if a socket it opened is still open at
    teardown. Set up before the test's event loop and torn down after it (an autouse fixture of
    a conftest is), so a socket closed by the loop's own shutdown does not count, but one left
    for the garbage collector does. ``known_leak``: the test meets a leak of the library that
    a strict xfail reproduces; its sockets are not checked, and what it left is collected
    here, its ResourceWarnings muted (a later test would see them)."""
    if known_leak:
        yield
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()
        return
    if not os.path.isdir(_FD_DIR):
        yield
        return
    before = open_sockets()
    yield
    left = sorted(open_sockets() - before)
    if left:
        shown = [f"fd {fd} {target} {_describe(fd)}" for fd, target in left]
        pytest.fail(f"sockets left open by this test: {shown}", pytrace=False)
