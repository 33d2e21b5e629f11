"""Fixtures for the tls tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from helpers.open_sockets import no_socket_left_open

#: Tests that meet a known leak of the library (its strict xfail reproduction is named): their
#: sockets are not checked.
KNOWN_LEAKS: dict[str, str] = {}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "leaves_sockets_open: the test reproduces a known leak of "
                            "the library (a strict xfail): its sockets are not checked")


@pytest.fixture(autouse=True)
def _no_socket_left_open(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test closes every socket it opens: its clients, its servers and their accepted
    connections (a server's ``'close'`` comes once they all closed, as Node's), raw sockets and
    transports it made itself. A socket still open once the test's loop has closed (this
    fixture is set up before the loop and torn down after it) is an error of that test
    (``helpers/open_sockets.py``), unless the test meets a known leak of the library
    (``leaves_sockets_open``, ``KNOWN_LEAKS``)."""
    known = (request.node.get_closest_marker("leaves_sockets_open") is not None
             or any(request.node.nodeid.endswith(k) for k in KNOWN_LEAKS))
    yield from no_socket_left_open(known)
