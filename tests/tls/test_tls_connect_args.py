"""tls.connect's argument forms as Node's ``normalizeConnectArgs`` reads them: net's forms, then
an options dict after the port/host/path whose values win over the positional ones ("options.host
overrides a host arg"); what net's checks refuse is refused at the call."""

from __future__ import annotations

import asyncio
import pathlib

import pytest
from tlsutil import TIMEOUT, listen

import nodetls as tls


def _quiet(sock: tls.TLSSocket) -> tls.TLSSocket:
    sock.on("error", lambda e: None)
    return sock


async def test_options_after_port_and_host_win(certs):
    # Node: tls.connect(443, 'a.invalid', {host, port}) connects to the options' host and port.
    server, port = await listen(certs.server.options, lambda s: s.end(b"ok"))
    try:
        sock = tls.connect(1, "a.invalid", {"host": "127.0.0.1", "port": port,
                                            "ca": certs.root.cert_pem, "servername": "localhost"})
        await asyncio.wait_for(sock, TIMEOUT)
        assert sock.remote_port == port
        sock.destroy()
    finally:
        server.close()


@pytest.mark.parametrize(("first", "code", "kind"), [
    (None, "ERR_MISSING_ARGS", TypeError),  # (None is JavaScript's undefined: nothing given)
    (1.5, "ERR_SOCKET_BAD_PORT", ValueError),
    (70000, "ERR_SOCKET_BAD_PORT", ValueError),
    (True, "ERR_INVALID_ARG_TYPE", TypeError),
])
async def test_bad_first_argument_is_refused_at_the_call(first, code, kind):
    with pytest.raises(kind) as info:
        _quiet(tls.connect(first))
    assert info.value.code == code


async def test_a_path_object_is_a_unix_socket_path(tmp_path):
    # (beyond Node, whose paths are strings: an os.PathLike is a path too)
    missing = pathlib.Path(tmp_path) / "nothing.sock"
    sock = tls.connect(missing)
    failed: asyncio.Future[BaseException] = asyncio.get_running_loop().create_future()
    sock.on("error", failed.set_result)
    err = await asyncio.wait_for(failed, TIMEOUT)
    assert err.code == "ENOENT" and err.address == str(missing)


async def test_signal_is_refused_with_what_to_use_instead():
    # Node's AbortSignal option has no Python counterpart: refused (not accepted and ignored),
    # saying how to cancel instead.
    with pytest.raises(TypeError, match="sock.destroy") as info:
        tls.connect(443, "127.0.0.1", {"signal": object()})
    assert info.value.code == "ERR_INVALID_ARG_TYPE"
    server = tls.create_server()
    with pytest.raises(TypeError, match="server.close"):
        server.listen({"port": 0, "host": "127.0.0.1", "signal": object()})
