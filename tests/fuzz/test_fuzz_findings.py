"""Regression tests for what the fuzzers found (docs/fuzzing.md, "Findings")."""

from __future__ import annotations

import pytest

from fuzz import peers
from nodetls._engine import State, TLSEngine
from nodetls._tls.socket import alpn_list
from nodetls.errors import InvalidArgValueError


def test_a_freed_engine_ignores_late_ciphertext_instead_of_writing_into_a_freed_bio():
    # Found by server_first_flight: receive() after free() wrote into the BIO SSL_free had
    # freed (a segfault); take_output()/receive_eof()/output_pending() read it.
    eng = TLSEngine(peers.server_context(), server=True)
    eng.receive(b"\x16\x03\x01\x00\x01\x01")
    eng.free()
    assert eng.state is State.FREED
    eng.receive(b"\x16\x03\x01\x00\x05hello")
    eng.receive_eof()
    assert eng.take_output() == b""
    assert eng.output_pending() == 0
    assert eng.read_view() is None


@pytest.mark.parametrize("wire", [b"\x05ab", b"\x02h2\x00", b"\x00", b"\x02h2\x09http/1.1"])
def test_a_malformed_alpn_wire_buffer_is_refused_at_creation(wire):
    # Found by alpn_wire: a truncated or zero-length entry was silently accepted (Node v20
    # aborts the whole process on it: an assertion on SSL_set_alpn_protos).
    with pytest.raises(InvalidArgValueError, match="alpn_protocols") as info:
        alpn_list(wire)
    assert info.value.code == "ERR_INVALID_ARG_VALUE"


def test_a_wellformed_alpn_wire_buffer_still_decodes():
    assert alpn_list(b"\x02h2\x08http/1.1") == [b"h2", b"http/1.1"]
