"""Differential tests of nodetls's TLS sockets against Node v20's ``tls``, over loopback.

A script (``tests/tls/diff/gen.py``) is one ``tls.create_server`` (``allow_half_open``,
``pause_on_connect``, ``request_cert``, ``reject_unauthorized``, ALPN, min/max version,
``handshake_timeout``, tickets on/off) and one ``tls.connect`` client (``allow_half_open``,
``servername``, ALPN, ``reject_unauthorized``, ``ca`` or not, a client certificate or not,
min/max version) in the same process, with ops on the client before its handshake and on both
sockets once they are secure (write, end, destroy, destroy_soon, pause, resume, set_encoding,
set_timeout, set_max_send_fragment, disable_renegotiation, renegotiate, the queries, and
"settle": wait until neither socket logged anything for 30 ms). Each socket's events, every
op's result and both final states were recorded from Node v20 (``diff/runner.js``) in
``diff/expected.json`` (``python -m tests.tls.diff.record``), so these tests need no ``node``;
``python -m tests.tls.diff.batch FIRST COUNT --minimise`` runs new seeds against a live node.

The fixed seeds are ones nodetls ran like Node (a regression guard); each divergence class the
runs found is a named case, minimised, its ``doc`` saying what Node does: a strict xfail until
nodetls is changed (``_FIXED`` lists the ones that were). The differences accepted on purpose
(``diff/batch.py``'s ``accepted``, docs/tls.md) are not recorded.
"""

from __future__ import annotations

import pytest
from tests.helpers.difftest import load_cases
from tests.helpers.difftest_sockets import known_divergence_test, records_test, seeded_test
from tests.tls.diff.batch import HARNESS

from nodetls import run

_CASES, _SEEDED, _NAMED = load_cases(HARNESS.expected)

#: Named cases fixed since they were found (each passes); the others are strict xfails.
_FIXED = {"reneg_in_secure_listener_hello_with_data_made_before_handshake",
          "server_socket_timeout_zero_after_handshake", "renegotiate_destroyed_returns_undefined",
          "alpn_protocol_null_before_handshake", "servername_null_before_handshake",
          "is_session_reused_after_destroy", "get_protocol_before_handshake",
          "renegotiate_after_end", "handshake_failure_fails_pending_write",
          "client_renegotiates_after_disable_renegotiation",
          "client_renegotiate_keeps_connect_verification", "write_to_reset_peer_fails_in_call",
          "renegotiate_then_ekm_keeps_old_keys", "reneg_write_then_peer_close_notify_and_fin",
          "client_end_before_handshake_then_server_reset", "destroy_in_secure_keeps_bytes_read",
          "end_before_handshake", "destroy_soon_before_handshake", "finish_before_peer_data",
          "destroy_sends_no_close_notify", "server_half_open_eof_during_handshake",
          "reneg_write_then_peer_fin", "reneg_write_meets_server_data",
          "renegotiation_clears_server_timeout", "peer_close_notify_then_reset_while_ending",
          "write_failing_in_call_behind_write_in_flight",
          "reneg_in_secure_listener_behind_write_made_before_handshake",
          "peer_close_notify_then_reset_at_shutdown",
          "write_in_secure_listener_sent_after_the_pass",
          "write_in_secure_listener_then_destroy_never_sent",
          "write_over_4k_in_secure_listener_then_destroy_sent",
          "end_data_failing_in_call_then_buffered_write",
          "reneg_in_secure_listener_hello_at_next_write",
          "end_data_after_peer_fin_write_after_end"}

test_seeded_scripts_match_node = seeded_test(HARNESS, _SEEDED, 60)
test_known_divergence = known_divergence_test(HARNESS, _NAMED, _FIXED, "tls")
test_named_records_are_node_v20s = records_test(HARNESS, _NAMED)


def test_end_data_failing_in_call_on_uvloop() -> None:
    """``end_data_failing_in_call_then_buffered_write`` under :func:`nodetls.run` on uvloop (the
    default loop), whose transport reports a failed send its own way (``_net/send_error.py``):
    as Node's record too."""
    pytest.importorskip("uvloop")
    (case,) = [c for c in _NAMED if c["name"] == "end_data_failing_in_call_then_buffered_write"]
    assert run(lambda: HARNESS.mismatches([case]), loop="uvloop") == []


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_server_ending_mid_renegotiation_writes_nothing_after_its_shutdown(loop: str) -> None:
    """``server_reneg_answer_after_its_end`` (still a strict xfail: its order is the
    write-completion class) once made the server's socket fail: the handshake flight its last
    read produced went to a transport whose write side was already shut (the data path's
    ``output_after_read`` write), and asyncio's/uvloop's ``RuntimeError`` became the socket's
    error. As Node's TLSWrap (which drops what comes after its shutdown), nothing is written:
    the server ends cleanly."""
    if loop == "uvloop":
        pytest.importorskip("uvloop")
    (case,) = [c for c in _NAMED if c["name"] == "server_reneg_answer_after_its_end"]
    (result,) = run(lambda: HARNESS.run_scripts([case["script"]]), loop=loop)
    server_log = result["s"]
    assert not [line for line in server_log if "error" in str(line)], server_log
    assert server_log[-2:] == ["end", "close false"], server_log
