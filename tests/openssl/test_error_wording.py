"""OpenSSL's errors worded as under OpenSSL 3.0 (Node v20's), whichever OpenSSL 3 is linked.

OpenSSL 3.2 renamed the SSLv3 alerts' reasons and added a 'record layer failure' after a record
layer's error; Node v20's codes come from 3.0's words.  The end-to-end cases (a bad certificate
alert, a tampered record) run in tests/engine and tests/tls on whichever OpenSSL the binding has.
"""

from __future__ import annotations

import pytest

import nodetls
from nodetls._openssl import ffi, lib
from nodetls._openssl.errors import (
    RECORD_LAYER_FAILURE,
    OpenSSLErrorRecord,
    code_for_reason,
    node_v20_reason,
    node_v20_records,
)


@pytest.mark.parametrize(("reason", "node"), [
    ("ssl/tls alert bad certificate", "sslv3 alert bad certificate"),
    ("ssl/tls alert handshake failure", "sslv3 alert handshake failure"),
    ("sslv3 alert certificate expired", "sslv3 alert certificate expired"),
    ("tlsv1 alert unknown ca", "tlsv1 alert unknown ca"),
    ("can't check dh key", "cant check dh key"),
    ("decryption failed or bad record mac", "decryption failed or bad record mac"),
])
def test_reasons_read_as_openssl_3_0_words_them(reason: str, node: str) -> None:
    assert node_v20_reason(reason) == node


def test_the_code_of_a_renamed_alert_is_node_v20s() -> None:
    assert code_for_reason(node_v20_reason("ssl/tls alert bad certificate")) == \
        "ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE"


def _record(code: int, reason: str) -> OpenSSLErrorRecord:
    return OpenSSLErrorRecord(code, "SSL routines", "", reason, "")


def test_a_trailing_record_layer_failure_gives_way_to_the_error_before_it() -> None:
    mac = _record(0x0A000119, "decryption failed or bad record mac")
    wrapper = _record(RECORD_LAYER_FAILURE, "record layer failure")
    assert node_v20_records([mac, wrapper]) == [mac]
    assert node_v20_records([wrapper]) == [wrapper]  # alone, it is all there is to say
    assert node_v20_records([wrapper, mac]) == [wrapper, mac]


def test_the_reasons_the_linked_openssl_gives_are_read_as_3_0s() -> None:
    """Every SSLv3 alert reason of the linked library reads as 3.0's (whose words changed in
    3.2), by the number OpenSSL gives it."""
    nodetls.create_secure_context({})  # (OpenSSL loads the SSL library's strings)
    for reason_number in (1010, 1020, 1040, 1042, 1045, 1047):  # the SSLv3 alerts' reasons
        text = lib.ERR_reason_error_string((20 << 23) | reason_number)
        assert text != ffi.NULL
        assert node_v20_reason(ffi.string(text).decode()).startswith("sslv3 alert ")
