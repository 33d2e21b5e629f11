"""Node v20's ``autoSelectFamily``: a host name's addresses tried in turn.

Each expectation was checked by running the same scenario in node v20.20 (``net.connect`` with a
``lookup`` that returns several addresses, ``localPort``, a pipe, the defaults' setters):
the ``'connectionAttempt'`` / ``'connectionAttemptFailed'`` / ``'connectionAttemptTimeout'``
events and their arguments, ``autoSelectFamilyAttemptedAddresses``, the ``AggregateError`` when
every address failed (``code`` of the first, ``errors`` in order, empty message), the
``' - Local (address:port)'`` detail after a bind, and the argument checks (Node's milliseconds
are seconds here). Loopback only: a refused address is a closed port on 127.0.0.x, an address
that does not answer is a listener whose accept queue is full (the kernel drops the SYN).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from typing import Any

import pytest

import nodetls as tls
from nodetls import net
from nodetls.errors import AggregateNodeError, NodeError

from .netutil import TIMEOUT, close_server, event, mocked_lookup

ATTEMPT_EVENTS = ("connectionAttempt", "connectionAttemptFailed", "connectionAttemptTimeout")


def record(sock: Any) -> list[tuple[Any, ...]]:
    """The socket's connection-attempt events, an error shown as ``(code, message)``."""
    log: list[tuple[Any, ...]] = []
    for name in ATTEMPT_EVENTS:
        def on(*args: Any, name: str = name) -> None:
            shown: list[Any] = [name]
            for a in args:
                shown.extend((a.code, str(a)) if isinstance(a, BaseException) else (a,))
            log.append(tuple(shown))
        sock.on(name, on)
    return log


def closed_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on at ``host`` (nor at 127.0.0.2)."""
    for _ in range(20):
        with socket.socket() as s:
            s.bind((host, 0))
            port = int(s.getsockname()[1])
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.2", port))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port")


async def outcome(sock: Any) -> Any:
    """``'connect'`` -> ``'connected'``, or the ``'error'``; bounded."""
    fut = asyncio.get_running_loop().create_future()
    sock.on("error", lambda e: fut.done() or fut.set_result(e))
    sock.on("connect", lambda: fut.done() or fut.set_result("connected"))
    return await asyncio.wait_for(fut, TIMEOUT)


@pytest.fixture
def defaults() -> Iterator[None]:
    """Puts the process-wide defaults back."""
    family = net.get_default_auto_select_family()
    timeout = net.get_default_auto_select_family_attempt_timeout()
    yield
    net.set_default_auto_select_family(family)
    net.set_default_auto_select_family_attempt_timeout(timeout)


# -- the defaults and the options ------------------------------------------------------------

def test_defaults_are_nodes_and_settable(defaults: None) -> None:
    # Node v20: getDefaultAutoSelectFamily() true, getDefaultAutoSelectFamilyAttemptTimeout() 250
    assert net.get_default_auto_select_family() is True
    assert net.get_default_auto_select_family_attempt_timeout() == 0.25
    net.set_default_auto_select_family(False)
    assert net.get_default_auto_select_family() is False
    net.set_default_auto_select_family_attempt_timeout(1.5)
    assert net.get_default_auto_select_family_attempt_timeout() == 1.5
    # Node: anything below 10 ms is 10 ms
    net.set_default_auto_select_family_attempt_timeout(0.005)
    assert net.get_default_auto_select_family_attempt_timeout() == 0.01


@pytest.mark.parametrize(("value", "code", "message"), [
    (1, "ERR_INVALID_ARG_TYPE", 'The "value" argument must be of type bool'),
    ("x", "ERR_INVALID_ARG_TYPE", 'The "value" argument must be of type bool'),
])
def test_set_default_family_checks_its_argument(defaults: None, value: Any, code: str,
                                                message: str) -> None:
    with pytest.raises(TypeError) as info:
        net.set_default_auto_select_family(value)
    assert info.value.code == code  # type: ignore[attr-defined]
    assert str(info.value).startswith(message)
    assert net.get_default_auto_select_family() is True


@pytest.mark.parametrize(("value", "code", "error"), [
    (0, "ERR_OUT_OF_RANGE", ValueError),
    (-1, "ERR_OUT_OF_RANGE", ValueError),
    (2147483.648, "ERR_OUT_OF_RANGE", ValueError),
    (float("nan"), "ERR_OUT_OF_RANGE", ValueError),
    ("10", "ERR_INVALID_ARG_TYPE", TypeError),
    (True, "ERR_INVALID_ARG_TYPE", TypeError),
])
def test_set_default_timeout_checks_its_argument(defaults: None, value: Any, code: str,
                                                 error: type[Exception]) -> None:
    # Node: validateInt32(value, 'value', 1) on milliseconds -> here 0.001 .. 2147483.647 s
    with pytest.raises(error) as info:
        net.set_default_auto_select_family_attempt_timeout(value)
    assert info.value.code == code  # type: ignore[attr-defined]
    if code == "ERR_OUT_OF_RANGE":
        assert str(info.value).startswith(
            'The value of "value" is out of range. It must be >= 0.001 && <= 2147483.647.')
    assert net.get_default_auto_select_family_attempt_timeout() == 0.25


@pytest.mark.parametrize("connect", [net.connect, tls.connect], ids=["net", "tls"])
@pytest.mark.parametrize(("options", "code", "label"), [
    ({"auto_select_family": "yes"}, "ERR_INVALID_ARG_TYPE", "auto_select_family"),
    ({"autoSelectFamilyAttemptTimeout": 0}, "ERR_OUT_OF_RANGE",
     "autoSelectFamilyAttemptTimeout"),
    ({"auto_select_family_attempt_timeout": "x"}, "ERR_INVALID_ARG_TYPE",
     "auto_select_family_attempt_timeout"),
])
async def test_connect_options_are_checked_at_the_call(connect: Any, options: dict[str, Any],
                                                       code: str, label: str) -> None:
    # Node: lookupAndConnect validates both before anything happens (tls.connect passes them on)
    with pytest.raises(NodeError) as info:
        connect({"port": 1, "host": "localhost", **options})
    assert info.value.code == code
    assert label in str(info.value)


# -- one address --------------------------------------------------------------------------

async def test_one_address_emits_an_attempt_and_its_failure() -> None:
    # Node: internalConnect emits 'connectionAttempt', afterConnect 'connectionAttemptFailed'
    # with the error the socket is then destroyed with (a plain system error, no aggregate)
    port = closed_port()
    sock = net.Socket()
    log = record(sock)
    sock.connect(port, "127.0.0.1")
    err = await outcome(sock)
    message = f"connect ECONNREFUSED 127.0.0.1:{port}"
    assert log == [("connectionAttempt", "127.0.0.1", port, 4),
                   ("connectionAttemptFailed", "127.0.0.1", port, 4, "ECONNREFUSED", message)]
    assert isinstance(err, ConnectionRefusedError) and str(err) == message
    assert sock.auto_select_family_attempted_addresses is None


async def test_one_address_after_a_bind_names_the_local_address() -> None:
    # Node: afterConnect's details: 'connect ECONNREFUSED ... - Local (address:port)' and
    # err.localAddress / err.localPort
    port = closed_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        local_port = s.getsockname()[1]
    sock = net.connect({"port": port, "host": "127.0.0.1", "local_address": "127.0.0.1",
                        "local_port": local_port})
    err = await outcome(sock)
    assert str(err) == (f"connect ECONNREFUSED 127.0.0.1:{port} - Local "
                        f"(127.0.0.1:{local_port})")
    assert (err.local_address, err.local_port) == ("127.0.0.1", local_port)
    assert (err.address, err.port, err.syscall) == ("127.0.0.1", port, "connect")


async def test_a_pipe_attempt_has_no_port_or_family(tmp_path: Any) -> None:
    # Node: 'connectionAttempt'(path, undefined, undefined), then the failure with ENOENT
    path = str(tmp_path / "none.sock")
    sock = net.Socket()
    log = record(sock)
    sock.connect(path)
    err = await outcome(sock)
    assert err.code == "ENOENT"
    assert log == [("connectionAttempt", path, None, None),
                   ("connectionAttemptFailed", path, None, None, "ENOENT",
                    f"connect ENOENT {path}")]


async def test_a_name_with_one_address_is_a_single_attempt() -> None:
    # Node: lookupAndConnectMultiple with one address goes back to internalConnect: no
    # autoSelectFamilyAttemptedAddresses, the error as it is
    port = closed_port()
    sock = net.connect({"port": port, "host": "x.test", "lookup": mocked_lookup("127.0.0.1")})
    log = record(sock)
    err = await outcome(sock)
    assert isinstance(err, ConnectionRefusedError) and not isinstance(err, AggregateNodeError)
    assert [e[0] for e in log] == ["connectionAttempt", "connectionAttemptFailed"]
    assert sock.auto_select_family_attempted_addresses is None


# -- several addresses ------------------------------------------------------------------------

@pytest.mark.parametrize("connect", [net.connect, tls.connect], ids=["net", "tls"])
async def test_every_address_refused_is_an_aggregate_error(connect: Any) -> None:
    # Node: each address tried in turn, one attempt/failed pair each; then AggregateError with
    # code ECONNREFUSED, every error in order, an empty message; 'close'(true)
    port = closed_port()
    sock = connect({"port": port, "host": "x.test",
                    "lookup": mocked_lookup("127.0.0.1", "127.0.0.2")})
    log = record(sock)
    closes: list[Any] = []
    sock.on("close", closes.append)
    err = await outcome(sock)
    first = f"connect ECONNREFUSED 127.0.0.1:{port}"
    second = f"connect ECONNREFUSED 127.0.0.2:{port}"
    assert log == [
        ("connectionAttempt", "127.0.0.1", port, 4),
        ("connectionAttemptFailed", "127.0.0.1", port, 4, "ECONNREFUSED", first),
        ("connectionAttempt", "127.0.0.2", port, 4),
        ("connectionAttemptFailed", "127.0.0.2", port, 4, "ECONNREFUSED", second),
    ]
    assert isinstance(err, AggregateNodeError)
    assert err.code == "ECONNREFUSED" and err.message == ""
    assert [str(e) for e in err.errors] == [first, second]
    assert all(isinstance(e, ConnectionRefusedError) for e in err.errors)
    assert sock.auto_select_family_attempted_addresses == [f"127.0.0.1:{port}",
                                                           f"127.0.0.2:{port}"]
    await asyncio.wait_for(sock.wait_closed(), TIMEOUT)
    assert closes == [True]


async def test_the_aggregate_is_an_exception_group() -> None:
    # Beyond Node: Python's except* sees each attempt's error
    port = closed_port()
    sock = net.connect({"port": port, "host": "x.test",
                        "lookup": mocked_lookup("127.0.0.1", "127.0.0.2")})
    caught: list[BaseException] = []
    try:
        await asyncio.wait_for(sock, TIMEOUT)
    except* ConnectionRefusedError as group:
        caught.extend(group.exceptions)
        assert isinstance(group, AggregateNodeError) and group.code == "ECONNREFUSED"
    assert len(caught) == 2


async def test_a_bound_local_port_is_named_in_each_attempt() -> None:
    # Node: with localPort only, every attempt binds 0.0.0.0:<localPort>; the messages say so
    port = closed_port()
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        local_port = s.getsockname()[1]
    sock = net.connect({"port": port, "host": "x.test", "local_port": local_port,
                        "lookup": mocked_lookup("127.0.0.1", "127.0.0.2")})
    err = await outcome(sock)
    assert [str(e) for e in err.errors] == [
        f"connect ECONNREFUSED 127.0.0.{i}:{port} - Local (0.0.0.0:{local_port})"
        for i in (1, 2)]


async def test_the_first_address_refused_the_next_one_connects() -> None:
    server = net.create_server(lambda c: c.end(b"hi"))
    await server.listen(0, "127.0.0.1")
    port = server.address()["port"]
    try:
        sock = net.connect({"port": port, "host": "x.test",
                            "lookup": mocked_lookup("127.0.0.2", "127.0.0.1")})
        log = record(sock)
        data = event(sock, "data")
        assert await outcome(sock) == "connected"
        assert [e[:2] for e in log] == [("connectionAttempt", "127.0.0.2"),
                                        ("connectionAttemptFailed", "127.0.0.2"),
                                        ("connectionAttempt", "127.0.0.1")]
        assert sock.auto_select_family_attempted_addresses == [f"127.0.0.2:{port}",
                                                               f"127.0.0.1:{port}"]
        assert sock.remote_address == "127.0.0.1"
        assert await data == (b"hi",)
        sock.destroy()
    finally:
        await close_server(server)


async def test_an_address_that_does_not_answer_times_out_and_the_next_connects() -> None:
    # Node: internalConnectMultipleTimeout: 'connectionAttemptTimeout'(ip, port, family), the
    # attempt's error is ETIMEDOUT, the next address is tried. The silent address is a listener
    # with a full accept queue on 127.0.0.2; the answering one listens on 127.0.0.1, same port.
    server = net.create_server(lambda c: c.end(b"hi"))
    await server.listen(0, "127.0.0.1")
    port = server.address()["port"]
    silent = socket.socket()
    filler = socket.socket()
    try:
        silent.bind(("127.0.0.2", port))
        silent.listen(0)
        filler.connect(("127.0.0.2", port))  # (the one connection the queue holds)
        sock = net.connect({"port": port, "host": "x.test",
                            "auto_select_family_attempt_timeout": 0.1,
                            "lookup": mocked_lookup("127.0.0.2", "127.0.0.1")})
        log = record(sock)
        assert await outcome(sock) == "connected"
        assert log == [("connectionAttempt", "127.0.0.2", port, 4),
                       ("connectionAttemptTimeout", "127.0.0.2", port, 4),
                       ("connectionAttempt", "127.0.0.1", port, 4)]
        sock.destroy()
    finally:
        filler.close()
        silent.close()
        await close_server(server)


async def test_auto_select_family_false_asks_for_one_address(defaults: None) -> None:
    # Node: without autoSelectFamily, lookup is asked without `all` and one address is tried;
    # the process-wide default decides when the option is not given
    port = closed_port()
    asked: list[dict[str, Any]] = []
    inner = mocked_lookup("127.0.0.1", "127.0.0.2")

    def lookup(host: str, opts: dict[str, Any], cb: Any) -> None:
        asked.append(dict(opts))
        inner(host, opts, cb)

    err = await outcome(net.connect({"port": port, "host": "x.test", "lookup": lookup,
                                     "auto_select_family": False}))
    assert not isinstance(err, AggregateNodeError) and err.code == "ECONNREFUSED"
    net.set_default_auto_select_family(False)
    err = await outcome(net.connect({"port": port, "host": "x.test", "lookup": lookup}))
    assert not isinstance(err, AggregateNodeError)
    net.set_default_auto_select_family(True)
    err = await outcome(net.connect({"port": port, "host": "x.test", "lookup": lookup}))
    assert isinstance(err, AggregateNodeError)
    assert ["all" in a for a in asked] == [False, False, True]


async def test_destroy_in_an_attempt_listener_stops_quietly() -> None:
    # Node v20.20 throws a TypeError out of internalConnectMultiple here (its handle is gone);
    # nodetls stops connecting: 'close'(false), no 'connect', no 'error', no further attempt
    port = closed_port()
    sock = net.connect({"port": port, "host": "x.test",
                        "lookup": mocked_lookup("127.0.0.1", "127.0.0.2")})
    log = record(sock)
    sock.on("connectionAttempt", lambda *a: sock.destroy())
    errors: list[BaseException] = []
    sock.on("error", errors.append)
    assert await event(sock, "close") == (False,)
    assert [e[0] for e in log] == ["connectionAttempt"]
    assert errors == []
