"""Which error a secure context with two bad options raises, and the code of a dhparam OpenSSL
refuses: Node v20's (``configSecureContext``, ``setDHParam``), found by the negotiation
differential (``tests/nego``). Node's answers: the same calls run in node v20, session 37.
"""

from __future__ import annotations

from typing import Any

import pytest

import nodetls as tls
from nodetls.errors import ContextOptionError

from .conftest import DH2048

_BAD_CA = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"


@pytest.mark.parametrize("other", [
    {"sigalgs": "NOPE+NOPE"}, {"ca": _BAD_CA}, {"cert": "garbage"}, {"key": "garbage"},
    {"ecdh_curve": "nope"}, {"dhparam": "garbage"}])
@pytest.mark.parametrize("ciphers", ["NOPE", "TLS_NOPE"])
def test_the_ciphers_are_applied_first(ciphers: str, other: dict[str, Any]) -> None:
    # Node: configSecureContext sets the ciphers before ca/cert/key/sigalgs/ecdhCurve/dhparam:
    # with a bad cipher string and another bad option, ERR_SSL_NO_CIPHER_MATCH "error:0A0000B9:SSL
    # routines::no cipher match". (nodetls named the certificate, key or sigalgs error.)
    with pytest.raises(ContextOptionError) as info:
        tls.create_secure_context({"ciphers": ciphers, **other})
    assert info.value.code == "ERR_SSL_NO_CIPHER_MATCH"
    assert str(info.value).startswith("options.ciphers:")


def test_dh_parameters_openssl_refuses_are_an_operation_failure() -> None:
    # Node: createSecureContext({ciphers: 'DEFAULT@SECLEVEL=3', dhparam: <ffdhe2048>}) throws
    # ERR_CRYPTO_OPERATION_FAILED "Error setting temp DH parameter". (nodetls passed OpenSSL's
    # ERR_SSL_DH_KEY_TOO_SMALL on.)
    with pytest.raises(ContextOptionError) as info:
        tls.create_secure_context({"ciphers": "DEFAULT@SECLEVEL=3", "dhparam": DH2048})
    assert info.value.code == "ERR_CRYPTO_OPERATION_FAILED"
    assert "Error setting temp DH parameter" in str(info.value)
    # (the same parameters at the default level are taken)
    tls.create_secure_context({"dhparam": DH2048})
