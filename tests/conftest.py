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
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # make `helpers` importable from any test dir

# The default trusted roots are the bundled ones alone in every test, whatever the machine sets
# (tests/tls/test_env_extra_ca.py sets NODE_EXTRA_CA_CERTS for its own child processes).
os.environ.pop("NODE_EXTRA_CA_CERTS", None)

from helpers.certs import PKI, CertSet, build_cert_set  # noqa: E402
from helpers.open_sockets import meets_known_leak, no_socket_left_open  # noqa: E402
from helpers.peers import require_peer  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "leaves_sockets_open: the test meets a known leak of the "
                            "library (reproduced by a strict xfail): its sockets are not checked")


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
