"""Shared fixtures for the nodetls test suite.

Certificates (see ``tests/helpers/certs.py``):

* ``certs`` (session) -- a :class:`helpers.certs.CertSet`: ``root``, ``intermediate``, ``server``
  (EC, localhost, via the intermediate), ``server_rsa``, ``server_direct``, ``expired``,
  ``not_yet_valid``, ``self_signed``, ``wildcard``, ``ocsp``, ``revoked``, ``client_ca``,
  ``client``, ``client_rsa``, ``client_self_signed``, ``encrypted``, ``pfx``, ``crl``, each with
  PEM bytes and file paths (``certs.server.cert_pem`` / ``.cert_path`` ...).
* ``pki`` (session) -- the :class:`helpers.certs.PKI` behind ``certs``: ``pki.make_leaf(...)``,
  ``pki.make_ca(...)``, ``pki.make_client(...)`` issue more (chaining to ``certs.root``).

Peers (see ``tests/helpers/peers.py``): ``node_bin``, ``openssl_bin``, ``gnutls_cli_bin``,
``gnutls_serv_bin`` give a tool's path, or skip (fail under ``CI``) when it is missing.

``tls_version`` runs a test once per protocol version (``'TLSv1.2'``, ``'TLSv1.3'``).

Every test closes the sockets it opens (an autouse check, ``helpers/open_sockets.py``), unless
it meets a known leak of the library (marked ``leaves_sockets_open``).

The suite has a temporary directory of its own (``tempfile.tempdir``, ``TMPDIR`` for peers;
``helpers/temp_files.py``): a test that leaves anything there fails (an autouse check), unless
marked ``leaves_temp_files`` for a documented reason; what is left there at the session's end
fails the run. Files go in ``tmp_path`` (pytest's, kept apart), or are removed by the test.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # make `helpers` importable from any test dir

# First of all, before any test module (or helper) can make a file: the suite's own temporary
# directory (helpers/temp_files.py).
from helpers.temp_files import (  # noqa: E402
    no_temp_file_left,
    session_end_leftovers,
    use_private_temp_dir,
)

use_private_temp_dir()

# The default trusted roots are the bundled ones alone in every test, whatever the machine sets
# (tests/tls/test_env_extra_ca.py sets NODE_EXTRA_CA_CERTS for its own child processes).
os.environ.pop("NODE_EXTRA_CA_CERTS", None)

from helpers.certs import PKI, CertSet, build_cert_set  # noqa: E402
from helpers.open_sockets import meets_known_leak, no_socket_left_open  # noqa: E402
from helpers.peers import require_peer  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "leaves_sockets_open: the test meets a known leak of the "
                            "library (reproduced by a strict xfail): its sockets are not checked")
    config.addinivalue_line("markers", "leaves_temp_files(reason): the test leaves files in the "
                            "temporary directory for the documented reason: they are not counted")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The session's last check: nothing is left in the suite's temporary directory once the
    directories made for many tests are removed (``helpers/temp_files.py``)."""
    left = session_end_leftovers()
    if left:
        print("\nleft in the suite's temporary directory at the end of the session (by a "
              f"fixture or a module, not removed): {left}", file=sys.stderr)
        if session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True)
def _no_socket_left_open(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test closes every socket it opens: its clients, its servers and their accepted
    connections (a server's ``'close'`` comes once they all closed, as Node's), raw sockets,
    transports, subprocess pipes and client connections (Redis...) it made itself. A socket
    still open once the test's loop has closed (this fixture, autouse at the root, is set up
    before the loop and torn down after it) is an error of that test
    (``helpers/open_sockets.py``), unless the test meets a known leak of the library
    (``leaves_sockets_open``, ``KNOWN_LEAKS``). Sockets of session and module fixtures are
    open before the test and not counted; those of subprocess peers are another process's."""
    yield from no_socket_left_open(meets_known_leak(request.node))


@pytest.fixture(autouse=True)
def _no_temp_file_left(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test removes every file it makes in the temporary directory (``tmp_path`` is
    pytest's, elsewhere), and so do the peers it starts (``TMPDIR``): a new entry in the suite's
    temporary directory after the test fails it (``helpers/temp_files.py``), unless the test is
    marked ``leaves_temp_files`` (with the reason). Session and module fixtures make theirs
    before the test's listing; they must be gone at the session's end."""
    yield from no_temp_file_left(request.node.get_closest_marker("leaves_temp_files") is not None)


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> CertSet:
    """The standard test certificates, as PEM bytes and files in a session temp dir."""
    return build_cert_set(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="session")
def pki(certs: CertSet) -> PKI:
    """Certificate factory sharing ``certs``' root and intermediate CAs."""
    return certs.pki


@pytest.fixture(params=["TLSv1.2", "TLSv1.3"])
def tls_version(request: pytest.FixtureRequest) -> str:
    """Each protocol version in turn (use as both min_version and max_version)."""
    return str(request.param)


@pytest.fixture(scope="session")
def node_bin() -> str:
    """Path of ``node`` (skip, or fail in CI, when missing)."""
    return require_peer("node")


@pytest.fixture(scope="session")
def openssl_bin() -> str:
    """Path of ``openssl`` (skip, or fail in CI, when missing)."""
    return require_peer("openssl")


@pytest.fixture(scope="session")
def gnutls_cli_bin() -> str:
    """Path of ``gnutls-cli`` (skip, or fail in CI, when missing)."""
    return require_peer("gnutls-cli")


@pytest.fixture(scope="session")
def gnutls_serv_bin() -> str:
    """Path of ``gnutls-serv`` (skip, or fail in CI, when missing)."""
    return require_peer("gnutls-serv")
