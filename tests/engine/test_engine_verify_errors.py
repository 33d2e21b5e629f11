"""Which verification error the engine reports and acts on: OpenSSL's *last*, as Node.

Node accepts every error in its verify callback and reads ``SSL_get_verify_result()`` after the
handshake: the error OpenSSL reported last. OpenSSL checks name constraints after the chain's
signatures and dates (``verify_chain``: ``internal_verify``, then ``check_name_constraints``),
so under an expired root whose name constraints the leaf violates, Node reports UNSPECIFIED
'permitted subtree violation', not CERT_HAS_EXPIRED: as its client's ``authorizationError`` and
rejection, and as its server's ``authorizationError`` with ``requestCert`` (checked by running
the same chains in node v20, session 37). A rejecting engine fails the handshake with that
error and sends its alert (certificate_unknown, not certificate_expired). The identity check runs
only on a verified chain (Node's onConnectSecure: the chain's error wins).
"""

from __future__ import annotations

import pytest

from nodetls._engine import TLSEngine
from nodetls._openssl import constants as C
from nodetls.errors import CertificateError, TLSError

from ..verify.pki_gen import Material, Scenario, build
from .pair import handshake
from .rawctx import RawContext, make_ca_and_leaf

PERMITTED_VIOLATION = 47
#: The leaf (a client certificate too: clientAuth) under an expired root whose name constraints
#: it violates: OpenSSL reports CERT_HAS_EXPIRED (10), then PERMITTED_VIOLATION (47).
BAD: Material = build(Scenario(seed=1, n_inter=0,
                               flaws=("expired:0", "nc_permitted:0", "eku_client")))
GOOD_CA, GOOD_CERT, GOOD_KEY = make_ca_and_leaf("localhost")


@pytest.fixture(params=[C.TLS1_2_VERSION, C.TLS1_3_VERSION], ids=["tls12", "tls13"])
def version(request: pytest.FixtureRequest) -> int:
    return int(request.param)


def _server_ctx(version: int, m: Material | None = None, ca: str | None = None) -> RawContext:
    if m is None:
        return RawContext(GOOD_CERT, GOOD_KEY, ca=ca.encode() if ca else None,
                          max_version=version)
    return RawContext(m.chain.encode(), m.key.encode(), ca=ca.encode() if ca else None,
                      max_version=version)


def _alert_at(peer: TLSEngine, rejecting: TLSEngine) -> str | None:
    """The code of the alert ``rejecting`` sent, as ``peer`` reports it."""
    peer.receive(rejecting.take_output())
    try:
        peer.do_handshake()
        peer.read()
    except TLSError as exc:
        return exc.code
    return None


@pytest.mark.parametrize("reject", [True, False], ids=["reject", "lax"])
def test_client_reports_the_last_error(version: int, reject: bool) -> None:
    assert BAD.ca is not None
    server = TLSEngine(_server_ctx(version, BAD), server=True)
    client = TLSEngine(RawContext(ca=BAD.ca[0].encode(), max_version=version), server=False)
    checked: list[bytes] = []
    client.set_verify(request=True, reject=reject,
                      check_identity=lambda der: checked.append(der))
    if reject:
        with pytest.raises(CertificateError) as info:
            handshake(client, server)
        assert (info.value.code, str(info.value)) == ("UNSPECIFIED", "permitted subtree violation")
        assert _alert_at(server, client) == "ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN"
    else:
        handshake(client, server)
    assert client.verify_result() == PERMITTED_VIOLATION
    err = client.certificate_error()
    assert err is not None and err.code == "UNSPECIFIED"
    assert checked == []  # the chain's error wins: no identity check
    client.free()
    server.free()


@pytest.mark.parametrize("reject", [True, False], ids=["reject", "lax"])
def test_server_with_request_cert_reports_the_last_error(version: int, reject: bool) -> None:
    assert BAD.ca is not None
    server = TLSEngine(_server_ctx(version, ca=BAD.ca[0]), server=True)
    server.set_verify(request=True, reject=reject)
    client = TLSEngine(RawContext(BAD.chain.encode(), BAD.key.encode(), ca=GOOD_CA,
                                  max_version=version), server=False)
    client.set_verify(request=True, reject=True)
    if reject:
        with pytest.raises(CertificateError) as info:
            handshake(client, server)
        assert (info.value.code, str(info.value)) == ("UNSPECIFIED", "permitted subtree violation")
        assert _alert_at(client, server) == "ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN"
    else:
        handshake(client, server)
    assert server.verify_result() == PERMITTED_VIOLATION
    err = server.certificate_error()
    assert err is not None and err.code == "UNSPECIFIED"
    client.free()
    server.free()


def test_identity_check_runs_once_on_a_verified_chain(version: int) -> None:
    server = TLSEngine(_server_ctx(version), server=True)
    client = TLSEngine(RawContext(ca=GOOD_CA, max_version=version), server=False)
    checked: list[bytes] = []
    client.set_verify(request=True, reject=True, check_identity=lambda der: checked.append(der))
    handshake(client, server)
    assert len(checked) == 1 and client.peer_certificate_der() == checked[0]
    assert client.verify_result() == 0 and client.certificate_error() is None
    client.free()
    server.free()


class _SwitchAtCert:
    def __init__(self, server: TLSEngine, other: RawContext) -> None:
        self.server, self.other = server, other

    def on_client_hello(self, ch: object) -> bool:
        return False

    def on_cert(self, servername: str | None) -> bool:
        self.server.use_context(self.other)
        return False


@pytest.mark.parametrize("reject", [True, False], ids=["reject", "lax"])
def test_server_verifies_with_the_context_it_switched_to(version: int, reject: bool) -> None:
    """SNI's context: it lends its verify store (Node's SetCACerts), the connection's SSL_CTX
    and its verify callback stay; a server that does not reject still completes the
    handshake."""
    assert BAD.ca is not None
    other = _server_ctx(version, ca=BAD.ca[0])
    server = TLSEngine(_server_ctx(version, ca=BAD.ca[0]), server=True)
    server.hooks = _SwitchAtCert(server, other)
    server.enable_cert_cb()
    server.set_verify(request=True, reject=reject)
    client = TLSEngine(RawContext(BAD.chain.encode(), BAD.key.encode(), ca=GOOD_CA,
                                  max_version=version), server=False)
    if reject:
        with pytest.raises(CertificateError) as info:
            handshake(client, server)
        assert info.value.code == "UNSPECIFIED"
    else:
        handshake(client, server)
    assert server.sni_context is other and server.context is not other
    assert server.verify_result() == PERMITTED_VIOLATION
    client.free()
    server.free()

