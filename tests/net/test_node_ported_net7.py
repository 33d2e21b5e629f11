"""A seventh batch of Node's own net tests (test/parallel/test-net-*.js), rewritten for nodetls.net.

Ports, by Node test name: socket-connect-invalid-autoselectfamily.

Examined and not ported here, one line each:
test-net-bind-twice (a second listen on a port in use: 'error' EADDRINUSE):
test_net_echo_and_forms.py and test_net_listen_lookup.py. Skipped: test-net-normalize-args
(``--expose-internals``: ``net._normalizeArgs``), test-net-perf_hooks (perf_hooks),
test-net-connect-memleak (gc), test-net-connect-abort-controller (AbortSignal: ``signal`` is
refused), test-net-child-process-connect-reset (child processes), test-net-listen-handle-in-cluster-1/2,
test-net-listen-exclusive-random-ports, test-net-server-close-before-ipc-response (cluster),
test-net-autoselectfamily-commandline-option, test-net-autoselectfamily-attempt-timeout-cli-option
(CLI flags), test-net-deprecated-setsimultaneousaccepts,
test-net-server-simultaneous-accepts-produce-warning-once (Windows), test-net-server-async-dispose
(``Symbol.asyncDispose``, a JS protocol).
"""

from __future__ import annotations

import pytest

from nodetls import net


@pytest.mark.parametrize("value", ["INVALID", 1, 0.5, [], {}])
async def test_connect_auto_select_family_must_be_a_bool(value):
    # Node: net.connect({port, autoSelectFamily: 'INVALID'}) throws ERR_INVALID_ARG_TYPE at the
    # call ('The "options.autoSelectFamily" property must be of type boolean'); checked in node
    # for 'INVALID' and 1 (null/undefined: the default).
    with pytest.raises(TypeError) as info:
        net.connect({"port": 8080, "auto_select_family": value})
    assert info.value.code == "ERR_INVALID_ARG_TYPE"  # type: ignore[attr-defined]
    assert "auto_select_family" in str(info.value)


async def test_connect_auto_select_family_none_is_the_default():
    # Node: autoSelectFamily null is not refused (the default applies).
    sock = net.connect({"port": 1, "host": "127.0.0.1", "auto_select_family": None})
    sock.on("error", lambda e: None)
    sock.destroy()
    assert sock.destroyed is True
