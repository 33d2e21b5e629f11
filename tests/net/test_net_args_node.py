"""connect()/listen()/set_timeout() arguments as Node v20 takes them, for net and tls alike.

Each test states Node's answer (checked with ``node`` v20, lib/net.js ``normalizeArgs``,
``lookupAndConnect``, ``Server.prototype.listen``, ``validatePort``, stream_base_commons
``setStreamTimeout``): the error's class, ``code`` and message, raised by the call itself, and
for ``tls.connect`` the same rules as ``net.connect`` (it shares the argument handling).
"""

from __future__ import annotations

import asyncio
import json
import math
import socket
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

import nodetls as tls
from nodetls import net
from nodetls._net.args import is_pipe_name, js_number

from .netutil import TIMEOUT, close_server, event, read_all

BAD_PORT = "ERR_SOCKET_BAD_PORT"
#: Seconds an absence check gives an event that must not come (a late extra) to show up, once
#: every event that should come has come.
ABSENCE_WINDOW = 0.05


async def listening(handler: Any = None, host: str = "127.0.0.1") -> tuple[net.Server, int]:
    server = net.create_server(handler)
    await asyncio.wait_for(server.listen(0, host), TIMEOUT)
    return server, server.address()["port"]


async def tls_listening(certs: Any, handler: Any = None) -> tuple[tls.Server, int]:
    server = tls.create_server(certs.server.options, handler)
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    return server, server.address()["port"]


def tls_opts(certs: Any) -> dict[str, Any]:
    return {"ca": certs.root.cert_pem, "servername": "localhost"}


async def closed(sock: Any) -> None:
    await asyncio.wait_for(sock.wait_closed(), TIMEOUT)


def raises(exc: type[BaseException] | tuple[type[BaseException], ...], code: str,
           make: Any) -> BaseException:
    """``make()`` raises ``exc`` with ``code`` (the call itself: no socket comes back)."""
    with pytest.raises(exc) as info:
        make()
    assert getattr(info.value, "code", None) == code, info.value
    return info.value


# -- JavaScript's Number() for port strings ----------------------------------------------------

NUMBER_CASES = ["", " ", "\t80\n", " 80 ", "80", "080", "+80", "-0", "-1", "80.0", "80.", ".5",
                "1e3", "1E3", "1e", "0x1f90", "0X1F90", "0x", "-0x1", "0o17", "0b101", "0b2",
                "Infinity", "-Infinity", "infinity", "nan", "NaN", "1_0", "１", "\u00a080",
                "\u300080\u2029", "\ufeff80", "0x" + "f" * 300, "1e400", "abc", "/tmp/x.sock"]


async def test_js_number_is_javascripts_number(node_bin: str, tmp_path: Path) -> None:
    script = tmp_path / "number.js"
    script.write_text(f"const c = {json.dumps(NUMBER_CASES)};\n"
                      "console.log(JSON.stringify(c.map((s) => { const n = Number(s); "
                      "return Number.isNaN(n) ? 'NaN' : String(n); })));")
    out = subprocess.run([node_bin, str(script)], capture_output=True, text=True, timeout=30,
                         check=True).stdout
    node = json.loads(out)

    def js(value: float) -> str:  # JavaScript's String(number), for these values
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return str(int(value)) if value == int(value) else repr(value)

    ours = [js(js_number(s)) for s in NUMBER_CASES]
    assert ours == node
    for text in NUMBER_CASES:  # Node's isPipeName: not a number >= 0
        assert is_pipe_name(text) == (not js_number(text) >= 0)


# -- ERR_MISSING_ARGS ---------------------------------------------------------------------------


@pytest.mark.parametrize("make", [
    lambda: tls.connect(), lambda: tls.connect({}), lambda: tls.connect({"port": None}),
    lambda: tls.connect(host="localhost"), lambda: tls.connect({"host": "localhost"}, None),
    lambda: net.connect(callback=lambda: None), lambda: net.Socket().connect(port=None),
], ids=["tls()", "tls({})", "tls(port None)", "tls(host=)", "tls({host}, None)",
        "net(callback=)", "Socket.connect(port=None)"])
async def test_missing_port_and_path(make: Any) -> None:
    err = raises(TypeError, "ERR_MISSING_ARGS", make)
    assert str(err) == 'The "options" or "port" or "path" argument must be specified'


# -- ports: Node's validatePort and isPipeName, every entry point --------------------------------


def _forms(port: Any, certs: Any) -> list[Any]:
    """Every way to give ``port`` to a connect call (with a host)."""
    opts = tls_opts(certs)
    return [
        lambda: net.connect(port, "127.0.0.1"),
        lambda: net.connect({"port": port, "host": "127.0.0.1"}),
        lambda: net.Socket().connect(port, "127.0.0.1"),
        lambda: net.create_connection(port=port, host="127.0.0.1"),
        lambda: tls.connect(port, "127.0.0.1", opts),
        lambda: tls.connect({"port": port, "host": "127.0.0.1", **opts}),
    ]


@pytest.mark.parametrize("text", ["{p}", " {p} ", "\t{p}\n", "0x{p:x}", "0X{p:X}", "0o{p:o}",
                                  "0b{p:b}", "+{p}", "{p}.0", "{p}.", "{p}e0", "0{p}"])
async def test_a_port_string_is_what_javascripts_number_reads(certs: Any, text: str) -> None:
    server, port = await tls_listening(certs)
    try:
        for make in _forms(text.format(p=port), certs):
            client = make()
            await asyncio.wait_for(client, TIMEOUT)  # ('connect', or 'secureConnect' for tls)
            assert client.remote_port == port
            client.destroy()
            await closed(client)
    finally:
        await close_server(server)


@pytest.mark.parametrize("port", ["", " ", "\t\n", "\u3000", "Infinity", ".5", "1.5", "65536",
                                  "0x10000", "1e5"])
async def test_a_port_string_out_of_range_is_bad_port_positionally_too(certs: Any,
                                                                      port: str) -> None:
    for make in _forms(port, certs):
        err = raises(ValueError, BAD_PORT, make)
        assert str(err) == f"Port should be >= 0 and < 65536. Received {port!r}."


@pytest.mark.parametrize("port", ["0x", "-0x1", "1_0", "nan", "-1", "abc"])
async def test_a_port_option_that_is_not_a_number_is_bad_port(certs: Any, port: str) -> None:
    for make in _forms(port, certs)[1::2] + [lambda: net.Socket().connect({"port": port})]:
        raises(ValueError, BAD_PORT, make)


@pytest.mark.parametrize("name", ["-1", "1_0", "0x", "abc.sock"])
async def test_a_positional_string_that_is_not_a_number_is_a_path(certs: Any, name: str) -> None:
    # Node's isPipeName: connect('-1') is the Unix socket './-1' (connect ENOENT -1 here).
    for make in (lambda: net.connect(name), lambda: net.Socket().connect(name),
                 lambda: tls.connect(name, tls_opts(certs))):
        client = make()
        (err,) = await event(client, "error")
        assert isinstance(err, OSError)
        assert (err.code, str(err)) == ("ENOENT", f"connect ENOENT {name}")
        await closed(client)


async def test_a_positional_path_like_is_a_path(tmp_path: Path) -> None:
    # (Beyond Node, which has no os.PathLike: as the 'path' option takes one.)
    path = tmp_path / "s.sock"
    server = net.create_server(lambda s: s.end(b"ok"))
    await asyncio.wait_for(server.listen(path), TIMEOUT)
    try:
        assert server.address() == str(path)
        assert await read_all(net.connect(path)) == b"ok"
        assert await read_all(net.Socket().connect(path)) == b"ok"
    finally:
        await close_server(server)


async def test_connect_with_a_float_port() -> None:
    server, port = await listening(lambda s: s.end(b"ok"))
    try:
        for make in (lambda: net.connect(float(port), "127.0.0.1"),
                     lambda: net.connect({"port": float(port), "host": "127.0.0.1"})):
            assert await read_all(make()) == b"ok"
    finally:
        await close_server(server)
    for bad in (1.5, -0.5, 65535.5):
        raises(ValueError, BAD_PORT, lambda bad=bad: net.connect(bad, "127.0.0.1"))
        raises(ValueError, BAD_PORT, lambda bad=bad: tls.connect({"port": bad, "host": "::1"}))


# -- local_address / local_port -----------------------------------------------------------------


@pytest.mark.parametrize("make", [
    lambda: net.connect({"port": 1, "host": "127.0.0.1", "localAddress": "foobar"}),
    lambda: net.Socket().connect(1, "127.0.0.1", local_address="foobar"),
    lambda: tls.connect(1, {"local_address": "foobar"}),
    lambda: tls.connect({"port": -1, "localAddress": "foobar"}),  # (checked before the port)
    lambda: net.connect({"port": 1, "localAddress": "localhost"}),
], ids=["net", "Socket", "tls", "tls bad port", "a name"])
async def test_local_address_must_be_an_ip(make: Any) -> None:
    err = raises(TypeError, "ERR_INVALID_IP_ADDRESS", make)
    assert str(err).startswith("Invalid IP address: ")


@pytest.mark.parametrize("make", [
    lambda: net.connect({"port": 1, "localPort": "foobar"}),
    lambda: net.connect({"port": 1, "local_port": "80"}),
    lambda: tls.connect({"port": 1, "localPort": "foobar"}),
    lambda: tls.connect(1, "127.0.0.1", {"local_port": "0x50"}),
], ids=["net", "net numeric str", "tls", "tls hex str"])
async def test_local_port_must_be_a_number(make: Any) -> None:
    err = raises(TypeError, "ERR_INVALID_ARG_TYPE", make)
    assert str(err).startswith('The "options.localPort" property must be of type int. '
                               "Received str (")


async def test_local_address_and_port_are_not_checked_for_a_path(tmp_path: Path) -> None:
    # Node: only lookupAndConnect (TCP) looks at them.
    path = str(tmp_path / "none.sock")
    client = net.connect({"path": path, "localAddress": "foobar", "localPort": "x"})
    (err,) = await event(client, "error")
    assert err.code == "ENOENT"
    await closed(client)


async def test_an_empty_local_port_or_address_is_not_given() -> None:
    # Node: `if (localPort)`, `if (localAddress && ...)`.
    server, port = await listening(lambda s: s.end(b"ok"))
    try:
        client = net.connect({"port": port, "host": "127.0.0.1", "localPort": "",
                              "localAddress": ""})
        assert await read_all(client) == b"ok"
    finally:
        await close_server(server)


# -- family --------------------------------------------------------------------------------------


@pytest.mark.parametrize("family", ["IPv4", 4])
async def test_family_ipv4_as_address_gives_it(certs: Any, family: Any) -> None:
    server, port = await tls_listening(certs, lambda s: s.end(b"ok"))
    try:
        for make in (lambda: net.connect({"port": port, "host": "localhost", "family": family}),
                     lambda: tls.connect(port, "localhost", {"family": family,
                                                             **tls_opts(certs)})):
            client = make()
            lookups: list[Any] = []
            client.on("lookup", lambda *a, seen=lookups: seen.append(a))
            await asyncio.wait_for(client, TIMEOUT)
            assert lookups == [(None, "127.0.0.1", 4, "localhost")]
            assert client.remote_family == "IPv4"
            client.destroy()
            await closed(client)
    finally:
        await close_server(server)


async def test_family_ipv6_reaches_the_lookup_as_6() -> None:
    seen: list[dict[str, Any]] = []

    def lookup(host: str, options: dict[str, Any], callback: Any) -> None:
        seen.append(dict(options))
        callback(None, "::1", 6)

    for make in (lambda: net.connect({"port": 1, "host": "x.test", "family": "IPv6",
                                      "lookup": lookup}),
                 lambda: tls.connect(1, "x.test", {"family": "IPv6", "lookup": lookup})):
        client = make()
        client.on("error", lambda err: None)
        await closed(client)
    assert seen == [{"family": 6, "hints": 0}] * 2


@pytest.mark.parametrize("family", [5, "4", "ipv4", "IPV4", True, 4.5])
async def test_other_families_are_invalid(family: Any) -> None:
    for make in (lambda: net.connect({"port": 1, "host": "localhost", "family": family}),
                 lambda: tls.connect({"port": 1, "family": family})):
        err = raises(ValueError, "ERR_INVALID_ARG_VALUE", make)
        assert str(err).startswith("The property 'options.family' must be one of: 0, 4, 6. ")


# -- hints ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("hints", [512, 64, 1])
async def test_hints_that_dns_lookup_refuses(hints: int) -> None:
    for make in (lambda: net.connect({"port": 1, "host": "localhost", "hints": hints}),
                 lambda: tls.connect({"port": 1, "hints": hints})):
        err = raises(ValueError, "ERR_INVALID_ARG_VALUE", make)
        assert str(err) == f"The argument 'hints' is invalid. Received {hints}"
    # Node: no dns.lookup for an IP address, nor with a lookup function: not checked.
    for client in (net.connect({"port": 1, "host": "127.0.0.1", "hints": hints}),
                   net.connect({"port": 1, "hints": hints,
                                "lookup": lambda h, o, cb: node_answer(o, cb)})):
        client.on("error", lambda err: None)
        await closed(client)


async def test_valid_hints_reach_getaddrinfo() -> None:
    server, port = await listening(lambda s: s.end(b"ok"))
    try:
        hints = socket.AI_ADDRCONFIG | socket.AI_V4MAPPED | socket.AI_ALL
        client = net.connect({"port": port, "host": "localhost", "family": 4, "hints": hints})
        assert await read_all(client) == b"ok"
    finally:
        await close_server(server)


# -- the lookup option ---------------------------------------------------------------------------


def recorder(answer: Any, calls: list[Any]) -> Any:
    def lookup(host: str, options: dict[str, Any], callback: Any) -> None:
        calls.append((host, dict(options)))
        answer(options, callback)

    return lookup


def node_answer(options: dict[str, Any], callback: Any) -> None:
    if options.get("all"):
        callback(None, [{"address": "127.0.0.1", "family": 4}])
    else:
        callback(None, "127.0.0.1", 4)


def node_answer_soon(options: dict[str, Any], callback: Any) -> None:
    """:func:`node_answer` on the next loop turn (Node's test lookups answer on
    ``process.nextTick``): its ``'lookup'`` event comes after ``connect()`` returned, where a
    listener added then sees it (an answer given at once is handled inside ``connect()``:
    test_net_lookup_sync.py)."""
    asyncio.get_running_loop().call_soon(node_answer, options, callback)


async def test_lookup_resolves_the_host(certs: Any) -> None:
    server, port = await listening(lambda s: s.end(b"ok"))
    secure, secure_port = await tls_listening(certs, lambda s: s.end(b"ok"))
    addrconfig = socket.AI_ADDRCONFIG
    try:
        cases = [
            # (how, what Node passes to lookup)
            (lambda lk: net.connect({"port": port, "host": "x.test", "lookup": lk}),
             {"family": None, "hints": addrconfig, "all": True}),
            (lambda lk: net.connect({"port": port, "host": "x.test", "lookup": lk, "family": 4}),
             {"family": 4, "hints": 0}),
            (lambda lk: net.connect({"port": port, "host": "x.test", "lookup": lk,
                                     "autoSelectFamily": False}),
             {"family": None, "hints": addrconfig}),
            (lambda lk: net.connect({"port": port, "host": "x.test", "lookup": lk,
                                     "localAddress": "127.0.0.1"}),
             {"family": None, "hints": addrconfig}),
            (lambda lk: net.connect({"port": port, "host": "x.test", "lookup": lk, "hints": 8}),
             {"family": None, "hints": 8, "all": True}),
            (lambda lk: tls.connect(secure_port, "x.test", {"lookup": lk, **tls_opts(certs)}),
             {"family": None, "hints": addrconfig, "all": True}),
            (lambda lk: tls.connect({"port": secure_port, "host": "x.test", "lookup": lk,
                                     "family": "IPv4", **tls_opts(certs)}),
             {"family": 4, "hints": 0}),
        ]
        for make, dnsopts in cases:
            calls: list[Any] = []
            client = make(recorder(node_answer_soon, calls))
            lookups: list[Any] = []
            client.on("lookup", lambda *a, seen=lookups: seen.append(a))
            assert await read_all(client) == b"ok"
            assert calls == [("x.test", dnsopts)]
            assert lookups == [(None, "127.0.0.1", 4, "x.test")]
            assert client.remote_address == "127.0.0.1"
            await closed(client)
    finally:
        await close_server(server)
        await close_server(secure)


async def test_lookup_is_not_called_for_an_ip_address() -> None:
    server, port = await listening(lambda s: s.end(b"ok"))
    calls: list[Any] = []
    try:
        client = net.connect({"port": port, "host": "127.0.0.1",
                              "lookup": recorder(node_answer, calls)})
        assert await read_all(client) == b"ok"
        assert calls == []
    finally:
        await close_server(server)


async def test_lookup_with_several_addresses_emits_each_and_tries_them() -> None:
    server, port = await listening(lambda s: s.end(b"ok"))
    answer = [{"address": "127.0.0.2", "family": 4}, {"address": "::1", "family": 6},
              {"address": "127.0.0.1", "family": 4}, {"address": "127.0.0.1", "family": 4}]
    try:
        client = net.connect({"port": port, "host": "x.test",
                              "lookup": lambda h, o, cb: asyncio.get_running_loop().call_soon(
                                  cb, None, answer)})
        lookups: list[Any] = []
        client.on("lookup", lambda *a: lookups.append(a))
        assert await read_all(client) == b"ok"
        assert lookups == [(None, e["address"], e["family"], "x.test") for e in answer]
        assert client.remote_address == "127.0.0.1"
    finally:
        await close_server(server)


async def test_lookup_called_back_later_from_a_task_a_thread_or_an_async_def() -> None:
    server, port = await listening(lambda s: s.end(b"ok"))

    def later(host: str, options: dict[str, Any], callback: Any) -> None:
        asyncio.get_running_loop().call_later(0.01, node_answer, options, callback)

    def from_thread(host: str, options: dict[str, Any], callback: Any) -> None:
        threading.Thread(target=node_answer, args=(options, callback)).start()

    async def coroutine(host: str, options: dict[str, Any], callback: Any) -> None:
        # a lookup that really awaits (a numeric getaddrinfo: no DNS), then answers
        await asyncio.get_running_loop().getaddrinfo("127.0.0.1", None, family=socket.AF_INET)
        node_answer(options, callback)

    try:
        for lookup in (later, from_thread, coroutine):
            assert await read_all(net.connect({"port": port, "host": "x.test",
                                               "lookup": lookup})) == b"ok"
            assert await read_all(net.connect(port, "x.test", lookup=lookup, family=4)) == b"ok"
    finally:
        await close_server(server)


def record(client: Any) -> list[Any]:
    """A log of ``client``'s ('lookup', ...), 'connect', ('error', err), ('close', flag) from
    now on."""
    log: list[Any] = []
    client.on("lookup", lambda *a: log.append(("lookup", *a)))
    client.on("connect", lambda: log.append("connect"))
    client.on("error", lambda err: log.append(("error", err)))
    client.on("close", lambda had_error: log.append(("close", had_error)))
    return log


async def failed_connect(client: Any, log: list[Any] | None = None) -> list[Any]:
    """The events of a connect that fails: ('lookup', ...), ('error', err), ('close', flag);
    recorded from now on unless ``log`` is :func:`record`'s, started before."""
    if log is None:
        log = record(client)
    await closed(client)
    # Absence window: nothing may follow 'close' (no late 'connect', second 'error' or 'close').
    await asyncio.sleep(ABSENCE_WINDOW)
    return log


@pytest.mark.parametrize("family", [None, 4])
async def test_a_lookup_error_is_the_error_and_its_lookup_event_comes_before(family: Any) -> None:
    # Node: the lookup's error destroys the socket as it is ('error', 'close'(true)); its
    # 'lookup'(err) comes first, in the callback: inside connect() when the lookup calls back at
    # once (a listener added after connect() returned never sees it), later when it calls back
    # later (node: /tmp/lookup30/tlslate.js, sc.js).
    boom = OSError("boom")

    def soon(h: str, o: Any, cb: Any) -> None:
        asyncio.get_running_loop().call_soon(cb, boom)

    for make in (lambda lk: net.connect({"port": 1, "host": "x.test", "lookup": lk,
                                         "family": family}),
                 lambda lk: tls.connect({"port": 1, "host": "x.test", "lookup": lk,
                                         "family": family})):
        log = await failed_connect(make(lambda h, o, cb: cb(boom)))
        assert log == [("error", boom), ("close", True)]
        log = await failed_connect(make(soon))
        assert log == [("lookup", boom, None, None, "x.test"), ("error", boom), ("close", True)]
    sock = net.Socket()
    log = record(sock)
    sock.connect({"port": 1, "host": "x.test", "lookup": lambda h, o, cb: cb(boom),
                  "family": family})
    assert log == [("lookup", boom, None, None, "x.test")]  # (inside connect())
    assert sock.connecting and not sock.destroyed  # (destroyed on the next turn, as Node's tick)
    assert await failed_connect(sock, log) == [("lookup", boom, None, None, "x.test"),
                                               ("error", boom), ("close", True)]


@pytest.mark.parametrize(("answer", "code", "exc", "message"), [
    (lambda o, cb: cb(None, [{"address": "nope", "family": 4}]), "ERR_INVALID_IP_ADDRESS",
     TypeError, "Invalid IP address: nope"),
    (lambda o, cb: cb(None, [{"address": "127.0.0.1", "family": 5}]),
     "ERR_INVALID_ADDRESS_FAMILY", ValueError, "Invalid address family: 5 x.test:1"),
    # the one-address answer where Node asked for all of them (options['all'])
    (lambda o, cb: cb(None, "127.0.0.1", 4), "ERR_INVALID_IP_ADDRESS", TypeError,
     "Invalid IP address: None"),
], ids=["not an IP", "family 5", "one address for all"])
async def test_a_lookup_answer_that_is_not_an_address(answer: Any, code: str,
                                                      exc: type[Exception], message: str) -> None:
    for make in (lambda lk: net.connect({"port": 1, "host": "x.test", "lookup": lk}),
                 lambda lk: tls.connect(1, "x.test", {"lookup": lk})):
        # (the answer comes at once: its 'lookup' events are inside connect(), unseen here)
        log = await failed_connect(make(lambda h, o, cb: answer(o, cb)))
        assert len(log) == 2 and log[1] == ("close", True)
        err = log[0][1]
        assert log[0] == ("error", err)
        assert isinstance(err, exc) and err.code == code and str(err) == message


@pytest.mark.parametrize(("address", "family", "code", "message"), [
    ("nope", 4, "ERR_INVALID_IP_ADDRESS", "Invalid IP address: nope"),
    ("127.0.0.1", 5, "ERR_INVALID_ADDRESS_FAMILY", "Invalid address family: 5 x.test:1"),
    (None, None, "ERR_INVALID_IP_ADDRESS", "Invalid IP address: None"),
])
async def test_a_one_address_lookup_answer_that_is_not_an_address(
        address: Any, family: Any, code: str, message: str) -> None:
    client = net.Socket()
    log = record(client)
    client.connect({"port": 1, "host": "x.test", "family": 4,
                    "lookup": lambda h, o, cb: cb(None, address, family)})
    log = await failed_connect(client, log)
    assert log[0] == ("lookup", None, address, family, "x.test")
    assert log[1][1].code == code and str(log[1][1]) == message
    assert log[2:] == [("close", True)]


async def test_a_lookup_that_raises_is_raised_by_connect() -> None:
    # Node calls lookup inside connect(), which then throws what lookup threw (no event)
    boom = RuntimeError("boom")

    def lookup(host: str, options: dict[str, Any], callback: Any) -> None:
        raise boom

    with pytest.raises(RuntimeError) as info:
        net.connect({"port": 1, "host": "x.test", "lookup": lookup})
    assert info.value is boom


async def test_destroyed_from_the_lookup_event_goes_no_further() -> None:
    server, port = await listening(lambda s: s.end(b"ok"))
    try:
        for family in (None, 4):
            for answer in (node_answer, node_answer_soon):
                client = net.Socket()
                client.on("lookup", lambda *a, client=client: client.destroy())
                log = record(client)
                client.connect({"port": port, "host": "x.test", "family": family,
                                "lookup": lambda h, o, cb, answer=answer: answer(o, cb)})
                log = await failed_connect(client, log)
                assert log == [("lookup", None, "127.0.0.1", 4, "x.test"), ("close", False)]
    finally:
        await close_server(server)


@pytest.mark.parametrize("lookup", [5, "dns", {}])
async def test_lookup_must_be_a_function(lookup: Any) -> None:
    for make in (lambda: net.connect({"port": 1, "lookup": lookup}),
                 lambda: tls.connect({"port": 1, "lookup": lookup})):
        err = raises(TypeError, "ERR_INVALID_ARG_TYPE", make)
        assert str(err).startswith('The "options.lookup" property must be of type function.')


# -- host names the resolver cannot take ---------------------------------------------------------


@pytest.mark.parametrize(("host", "code"), [
    ("*" * 64, "ENOTFOUND"), ("a" * 64 + ".invalid", "ENOTFOUND"), ("a..b.invalid", "ENOTFOUND"),
    ("ä" * 64 + ".invalid", "ENOTFOUND"), ("x" * 256, "EINVAL"),
    (".".join(["y" * 63] * 4) + ".z", "EINVAL"), ("\ud800.invalid", "EINVAL"),
], ids=["64 stars", "64-char label", "empty label", "long IDN label", "256 chars",
        "257 chars in labels", "lone surrogate"])
async def test_a_host_the_resolver_refuses_is_nodes_getaddrinfo_error(certs: Any, host: str,
                                                                       code: str) -> None:
    for make in (lambda: net.connect(42, host), lambda: tls.connect(42, host, tls_opts(certs))):
        log = await failed_connect(make())
        assert [entry[:1] + entry[2:] for entry in log[:1]] == [("lookup", None, None, host)]
        err = log[0][1]
        assert log[1] == ("error", err) and log[2:] == [("close", True)]
        assert (err.code, str(err), err.syscall, err.hostname) == (
            code, f"getaddrinfo {code} {host}", "getaddrinfo", host)


async def test_listen_on_a_host_the_resolver_refuses() -> None:
    server = net.create_server()
    failed = event(server, "error")
    server.listen(0, "*" * 64)
    (err,) = await failed
    assert (err.code, str(err)) == ("ENOTFOUND", f"getaddrinfo ENOTFOUND {'*' * 64}")
    assert not server.listening


# -- set_timeout ---------------------------------------------------------------------------------


async def test_set_timeout_checks_on_a_tls_socket_too() -> None:
    sock = tls.TLSSocket()
    raises(TypeError, "ERR_INVALID_ARG_TYPE", lambda: sock.set_timeout("1"))
    raises(TypeError, "ERR_INVALID_ARG_TYPE", lambda: sock.set_timeout(True))
    raises(ValueError, "ERR_OUT_OF_RANGE", lambda: sock.set_timeout(math.inf))
    raises(ValueError, "ERR_OUT_OF_RANGE", lambda: sock.set_timeout(-1))
    raises(TypeError, "ERR_INVALID_ARG_TYPE", lambda: sock.set_timeout(0, "cb"))
    assert sock.set_timeout(0.5, None) is sock and sock.timeout == 0.5
    assert sock.set_timeout(0) is sock and sock.timeout == 0  # (Node: 0, not undefined)
    client = tls.connect({"port": 1, "host": "127.0.0.1"})
    raises(TypeError, "ERR_INVALID_ARG_TYPE", lambda: client.set_timeout({}))
    client.on("error", lambda err: None)
    client.destroy()
    sock.destroy()
    await closed(client)


async def test_set_timeout_on_a_destroyed_socket_does_nothing() -> None:
    # Node's setStreamTimeout: `if (this.destroyed) return this;` before any check.
    sock = net.Socket()
    sock.destroy()
    for args in (("1",), (math.nan,), (1, "not callable"), (1, lambda: None)):
        assert sock.set_timeout(*args) is sock
    assert sock.timeout is None and sock.listener_count("timeout") == 0


async def test_connect_timeout_option_is_checked() -> None:
    for make in (lambda: net.connect({"port": 1, "timeout": "1"}),
                 lambda: tls.connect({"port": 1, "timeout": "1"})):
        raises(TypeError, "ERR_INVALID_ARG_TYPE", make)


# -- listen() ------------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [("",), (" ",), ("1.5",), ("Infinity",), (-1,), ("", "127.0.0.1"),
                                  ({"port": "", "host": "127.0.0.1"},), ({"port": "0x"},)],
                         ids=repr)
async def test_listen_bad_ports(args: tuple[Any, ...]) -> None:
    for server in (net.create_server(), tls.create_server()):
        err = raises(ValueError, BAD_PORT, lambda server=server: server.listen(*args))
        port = args[0]["port"] if isinstance(args[0], dict) else args[0]
        assert str(err) == f"options.port should be >= 0 and < 65536. Received {port!r}."
        assert not server.listening


@pytest.mark.parametrize(("args", "message"), [
    ((True,), "The argument 'options' is invalid: options.port must be int or str. "
              "Received {'port': True}"),
    ((False, "127.0.0.1"), "The argument 'options' is invalid: options.port must be int or str. "
                           "Received {'port': False, 'host': '127.0.0.1'}"),
    (({"port": []},), "The argument 'options' is invalid: options.port must be int or str. "
                      "Received {'port': []}"),
    (({"path": -1},), "The argument 'options' is invalid: options.path must be str or "
                      "os.PathLike. Received {'path': -1}"),
    (({"path": ""},), "The argument 'options' is invalid: options.path must be a path (not "
                      "empty, not a number). Received {'path': ''}"),
    (({"path": "8080"},), "The argument 'options' is invalid: options.path must be a path (not "
                          "empty, not a number). Received {'path': '8080'}"),
    (({"path": None},), "The argument 'options' is invalid: options.path must be str or "
                        "os.PathLike. Received {'path': None}"),
    (({"host": "127.0.0.1", "backlog": 5},), "The argument 'options' must have the property "
     "\"port\" or \"path\". Received {'host': '127.0.0.1', 'backlog': 5}"),
], ids=repr)
async def test_listen_options_nodes_err_invalid_arg_value(args: tuple[Any, ...],
                                                          message: str) -> None:
    for server in (net.create_server(), tls.create_server()):
        err = raises(TypeError, "ERR_INVALID_ARG_VALUE", lambda server=server: server.listen(*args))
        assert isinstance(err, ValueError) and str(err) == message
        assert not server.listening


@pytest.mark.parametrize("args", [(None, "127.0.0.1"), ("0x0", "127.0.0.1"), (" 0 ", "127.0.0.1"),
                                  ({"port": "0x0", "host": "127.0.0.1"},),
                                  ({"port": None, "host": "127.0.0.1"},), (0.0, "127.0.0.1")],
                         ids=repr)
async def test_listen_ports_javascript_reads_as_zero(args: tuple[Any, ...]) -> None:
    server = net.create_server()
    await asyncio.wait_for(server.listen(*args), TIMEOUT)
    assert server.address()["address"] == "127.0.0.1" and server.address()["port"] > 0
    await close_server(server)


async def test_listen_port_wins_over_path_and_path_is_type_checked(tmp_path: Path) -> None:
    path = tmp_path / "s.sock"
    server = net.create_server()
    await asyncio.wait_for(server.listen({"port": 0, "host": "127.0.0.1", "path": str(path)}),
                           TIMEOUT)
    assert server.address()["port"] > 0 and not path.exists()
    await close_server(server)
    err = raises(TypeError, "ERR_INVALID_ARG_TYPE",
                 lambda: net.create_server().listen({"port": 0, "path": 5}))
    assert str(err) == 'The "options.path" property must be of type str or os.PathLike. ' \
        "Received int (5)"


async def test_listen_on_a_path_given_every_way(tmp_path: Path) -> None:
    for i, args in enumerate([lambda p: ((p,), {}), lambda p: ((), {"path": p}),
                              lambda p: (({"path": p},), {}), lambda p: (({"path": Path(p)},), {}),
                              lambda p: ((Path(p),), {})]):
        path = str(tmp_path / f"{i}.sock")
        pos, kw = args(path)
        server = net.create_server(lambda s: s.end(b"ok"))
        await asyncio.wait_for(server.listen(*pos, **kw), TIMEOUT)
        assert server.address() == path
        assert await read_all(net.connect(path)) == b"ok"
        await close_server(server)


async def test_listen_when_listening_is_checked_first() -> None:
    server = net.create_server()
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    try:
        raises(Exception, "ERR_SERVER_ALREADY_LISTEN", lambda: server.listen({}))
    finally:
        await close_server(server)
