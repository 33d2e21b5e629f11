"""A listener or user callback raises, on the server side and on the client side, in every event
and callback the library calls.

The contract (the README's "listeners" rule; Node would crash the process, an uncaught
exception): the exception never unwinds through C, and it goes to one place only --

* a server event (``'connection'``, ``'secureConnection'``, ``'keylog'``, ``'newSession'``,
  ``'resumeSession'``, ``'OCSPRequest'``, ``'tlsClientError'``, ``'listening'``): the server's
  ``'error'``, and the connection the event was about is destroyed;
* a socket event or a write callback: the socket is destroyed with it (its ``'error'``);
* an ``'error'`` listener, or an event after the socket is gone (``'close'``): the loop's
  exception handler;
* a user callback that answers the handshake (``SNICallback``, ``ALPNCallback``,
  ``psk_callback``, ``check_server_identity``): the handshake fails with it, as in Node
  (checked with node v20): ``'tlsClientError'`` on a server, ``'error'`` on a client.

Each case then checks that a second client still gets a handshake and its echo, that no
engine or context is left, that nothing was "unraisable" and that OpenSSL's error queue is
empty.
"""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

import nodetls as tls
from nodetls import constants as C
from nodetls._context.secure_context import live_contexts
from nodetls._engine import live_engines
from nodetls._openssl import lib

from ..tls.tlsutil import close_server, connect, event, read_until, wait

PSK = bytes.fromhex("1a2b3c4d5e6f708192a3b4c5d6e7f801")
PSK_CIPHERS = "PSK-AES128-GCM-SHA256"


class Boom(Exception):
    """The exception a faulty listener raises (its message names the case)."""


class Trap:
    """A listener/callback that raises :class:`Boom` on its first call (the faulty
    connection) and behaves normally (``fallback``) afterwards (the next clients)."""

    def __init__(self, name: str, fallback: Callable[..., Any] | None = None) -> None:
        self.name = name
        self.fallback = fallback
        self.calls = 0
        self.exc: Boom | None = None

    def __call__(self, *args: Any) -> Any:
        self.calls += 1
        if self.calls == 1:
            self.exc = Boom(self.name)
            raise self.exc
        return self.fallback(*args) if self.fallback is not None else None

    async def async_call(self, *args: Any) -> Any:
        await asyncio.sleep(0)
        return self(*args)


@dataclass
class Env:
    """Everything the server and the clients reported."""

    certs: Any
    trap: Trap
    server: Any = None
    port: int = 0
    server_errors: list[BaseException] = field(default_factory=list)
    client_errors: list[tuple[BaseException, Any]] = field(default_factory=list)
    server_sockets: list[Any] = field(default_factory=list)
    server_sock_errors: list[BaseException] = field(default_factory=list)
    client_sock_errors: list[BaseException] = field(default_factory=list)
    loop_errors: list[BaseException] = field(default_factory=list)
    client_data: bytearray = field(default_factory=bytearray)
    first_socket: asyncio.Future[Any] | None = None
    client_opts: dict[str, Any] = field(default_factory=dict)

    def client_options(self) -> dict[str, Any]:
        return {"host": "127.0.0.1", "ca": self.certs.root.cert_pem, "servername": "localhost",
                **self.client_opts}

    def all_booms(self) -> dict[str, list[BaseException]]:
        places = {"server 'error'": self.server_errors,
                  "'tlsClientError'": [e for e, _ in self.client_errors],
                  "server socket 'error'": self.server_sock_errors,
                  "client 'error'": self.client_sock_errors,
                  "loop exception handler": self.loop_errors}
        return {k: [e for e in v if isinstance(e, Boom)] for k, v in places.items()}


# ------------------------------------------------------------------------------ the cases
# install(env, server_opts): adds the trap (server options may be changed before the server
# is made); after_listen(env): adds server listeners; on_server_socket(env, sock): per
# server-side socket (first connection only); drive(env): makes the faulty connection and
# returns when it is closed.


async def drive_default(env: Env, *, end_after_echo: bool = True,
                        prepare: Callable[[Any], None] | None = None) -> Any:
    """A nodetls client: handshake, write b'hello', end after the echo; returns at 'close'."""
    sock = tls.connect(env.port, env.client_options())
    sock.on("error", env.client_sock_errors.append)
    closed = event(sock, "close")
    if prepare is not None:
        prepare(sock)

    def on_secure() -> None:
        sock.write(b"hello")

    def on_data(chunk: bytes) -> None:
        env.client_data.extend(chunk)
        if end_after_echo and bytes(env.client_data).endswith(b"hello"):
            sock.end()

    sock.on("secureConnect", on_secure)
    sock.on("data", on_data)
    await wait(closed)
    return sock


async def drive_garbage(env: Env) -> None:
    """Not TLS at all: a 'tlsClientError' on the server."""
    reader, writer = await wait(asyncio.open_connection("127.0.0.1", env.port))
    writer.write(b"GET / HTTP/1.0\r\n\r\n")
    await wait(reader.read())
    writer.close()


async def drive_resume(env: Env) -> Any:
    """A TLS 1.2 session resumed by id (no tickets): the server asks 'resumeSession'."""
    first = await connect(env.port, **{**env.client_options(), "max_version": "TLSv1.2"})
    session = first.get_session()
    first.end()
    await wait(event(first, "close"))
    await wait(env.first_socket)  # that one was the normal connection
    env.first_socket = asyncio.get_running_loop().create_future()
    env.client_opts = {"session": session, "max_version": "TLSv1.2"}
    return await drive_default(env)


@dataclass
class Case:
    name: str
    where: str  # which place gets the Boom (a key of Env.all_booms())
    install: Callable[[Env, dict[str, Any]], None] = lambda env, opts: None
    after_listen: Callable[[Env], None] = lambda env: None
    on_server_socket: Callable[[Env, Any], None] | None = None
    drive: Callable[[Env], Awaitable[Any]] = drive_default
    echo: bool | None = False  # did the faulty connection get its echo (None: either)
    node: str = ""  # what node v20 does with the same fault

    def __repr__(self) -> str:
        return self.name


# How the later (normal) connections answer the events that wait for a callback.
_ANSWER: dict[str, Callable[..., Any]] = {
    "newSession": lambda sid, data, cb: cb(),
    "resumeSession": lambda sid, cb: cb(None, None),
    "OCSPRequest": lambda cert, issuer, cb: cb(None, None),
}


def _server_event(name: str, *, async_: bool = False, prepend: bool = False, **kw: Any) -> Case:
    def after_listen(env: Env) -> None:
        env.trap.fallback = _ANSWER.get(name)
        add = env.server.prepend_listener if prepend else env.server.on
        add(name, env.trap.async_call if async_ else env.trap)

    return Case(f"server '{name}'" + (" (async)" if async_ else "")
                + (" (before the TLS layer's)" if prepend else ""), "server 'error'",
                after_listen=after_listen, **kw)


def _sock_event(name: str, side: str, *, async_: bool = False, **kw: Any) -> Case:
    where = "server socket 'error'" if side == "server" else "client 'error'"
    if name == "error":
        where = "loop exception handler"
    kw.setdefault("where", where)
    case = Case(f"{side} socket '{name}'" + (" (async)" if async_ else ""), **kw)

    def add(env: Env, sock: Any) -> None:
        if name == "timeout":
            sock.set_timeout(0.05)
        if name == "drain":
            sock.write(b"x" * (4 << 20))  # past the high-water mark: 'drain' follows
        if name == "error":  # an error for it to handle: the socket is destroyed with one
            sock.remove_all_listeners("error")
            sock.once("data", lambda chunk: sock.destroy(RuntimeError("an induced error")))
        sock.on(name, env.trap.async_call if async_ else env.trap)

    end = name != "timeout"  # an idle connection, for 'timeout'
    if side == "server":
        case.on_server_socket = add
        if not end:
            async def drive_idle(env: Env) -> Any:
                return await drive_default(env, end_after_echo=False)

            case.drive = drive_idle
    elif "drive" not in kw:
        async def drive(env: Env) -> Any:
            return await drive_default(env, end_after_echo=end,
                                       prepare=lambda sock: add(env, sock))

        case.drive = drive
    return case


def _write_cb(side: str) -> Case:
    case = Case(f"{side} write callback",
                "server socket 'error'" if side == "server" else "client 'error'", echo=None)
    if side == "server":
        case.on_server_socket = lambda env, sock: sock.write(b"x", env.trap)
    else:
        async def drive(env: Env) -> Any:
            return await drive_default(env, prepare=lambda s: s.once(
                "secureConnect", lambda: s.write(b"x", env.trap)))

        case.drive = drive
    return case


def _no_tickets(ver: str) -> Callable[[Env, dict[str, Any]], None]:
    def install(env: Env, opts: dict[str, Any]) -> None:
        opts.update(secure_options=C.SSL_OP_NO_TICKET, max_version=ver)

    return install


def _sni(env: Env, opts: dict[str, Any]) -> None:
    env.trap.fallback = lambda name, cb: cb(None, None)
    opts["sni_callback"] = env.trap


def _sni_async(env: Env, opts: dict[str, Any]) -> None:
    env.trap.fallback = lambda name, cb: cb(None, None)
    opts["sni_callback"] = env.trap.async_call


def _alpn(env: Env, opts: dict[str, Any]) -> None:
    env.trap.fallback = lambda info: info["protocols"][0]
    opts["alpn_callback"] = env.trap
    env.client_opts = {"alpn_protocols": ["h2", "http/1.1"]}


def _psk_server(env: Env, opts: dict[str, Any]) -> None:
    env.trap.fallback = lambda sock, identity: PSK
    opts.update(psk_callback=env.trap, ciphers=f"{PSK_CIPHERS}:ECDHE-ECDSA-AES128-GCM-SHA256",
                max_version="TLSv1.2")
    env.client_opts = {"ciphers": PSK_CIPHERS, "max_version": "TLSv1.2",
                       "psk_callback": lambda hint: {"psk": PSK, "identity": "client"}}


def _psk_client(env: Env, opts: dict[str, Any]) -> None:
    opts.update(psk_callback=lambda sock, identity: PSK, max_version="TLSv1.2",
                ciphers=f"{PSK_CIPHERS}:ECDHE-ECDSA-AES128-GCM-SHA256")
    env.trap.fallback = lambda hint: {"psk": PSK, "identity": "client"}
    env.client_opts = {"ciphers": PSK_CIPHERS, "max_version": "TLSv1.2",
                       "psk_callback": env.trap}


def _check_identity(env: Env, opts: dict[str, Any]) -> None:
    env.client_opts = {"check_server_identity": env.trap}


def _client_event(name: str, **kw: Any) -> Case:
    case = _sock_event(name, "client", **kw)
    return case


async def drive_lookup(env: Env) -> Any:
    """A client given a host name: 'lookup' comes first."""
    env.client_opts = {"host": "localhost"}
    try:
        return await drive_default(env, prepare=lambda sock: sock.on("lookup", env.trap))
    finally:
        env.client_opts = {}


async def drive_end_callback(env: Env) -> Any:
    """The client ends with a callback (called at 'finish')."""
    def prepare(sock: Any) -> None:
        sock.once("data", lambda chunk: sock.end(env.trap))

    return await drive_default(env, end_after_echo=False, prepare=prepare)


CASES = [
    # -- server events: the server's 'error', the connection destroyed
    _server_event("connection"),
    _server_event("connection", prepend=True),
    _server_event("secureConnection"),
    _server_event("secureConnection", async_=True, echo=None),
    _server_event("tlsClientError", drive=drive_garbage),
    _server_event("keylog"),
    _server_event("newSession", install=_no_tickets("TLSv1.2")),
    _server_event("newSession", install=_no_tickets("TLSv1.3")),
    _server_event("resumeSession", install=_no_tickets("TLSv1.2"), drive=drive_resume),
    _server_event("OCSPRequest",
                  install=lambda env, opts: env.client_opts.update(request_ocsp=True)),
    # -- server callbacks answering the handshake: 'tlsClientError' with the exception (Node)
    Case("SNICallback", "'tlsClientError'", install=_sni),
    Case("SNICallback (async)", "'tlsClientError'", install=_sni_async),
    Case("ALPNCallback", "'tlsClientError'", install=_alpn),
    Case("server psk_callback", "'tlsClientError'", install=_psk_server),
    # -- server-side socket events and callbacks: that socket's 'error'
    _sock_event("data", "server"),
    _sock_event("end", "server", echo=True),
    _sock_event("close", "server", echo=True, where="loop exception handler"),
    _sock_event("timeout", "server", echo=None),
    _sock_event("drain", "server", echo=None),
    _sock_event("error", "server", echo=None),
    _sock_event("data", "server", async_=True, echo=None),
    _write_cb("server"),
    Case("listen callback", "server 'error'", echo=True),  # the server goes on listening
    # -- client side: the client's 'error', the client destroyed
    _client_event("connect"),
    _client_event("secureConnect"),
    _client_event("session"),
    _client_event("keylog"),
    _client_event("OCSPResponse",
                  install=lambda env, opts: env.client_opts.update(request_ocsp=True)),
    _client_event("data", echo=None),  # the test's own 'data' listener still runs
    _client_event("end", echo=True),
    _client_event("close", echo=True, where="loop exception handler"),
    _client_event("timeout", echo=None),
    _client_event("drain", echo=None),
    _client_event("error", echo=True),
    _client_event("lookup", drive=drive_lookup),
    _write_cb("client"),
    Case("client end callback", "client 'error'", drive=drive_end_callback, echo=True),
    Case("check_server_identity", "client 'error'", install=_check_identity),
    Case("client psk_callback", "client 'error'", install=_psk_client),
]


@pytest.fixture
async def loop_errors() -> Any:
    loop = asyncio.get_running_loop()
    seen: list[BaseException] = []
    old = loop.get_exception_handler()

    def handler(lp: Any, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if isinstance(exc, BaseException):
            seen.append(exc)
        else:
            seen.append(RuntimeError(str(context.get("message"))))

    loop.set_exception_handler(handler)
    yield seen
    loop.set_exception_handler(old)


@pytest.fixture
def unraisable() -> Any:
    seen: list[Any] = []
    old = sys.unraisablehook
    sys.unraisablehook = seen.append
    yield seen
    sys.unraisablehook = old


@pytest.mark.parametrize("case", CASES, ids=repr)
async def test_listener_raises(certs, case, loop_errors, unraisable, capfd):
    gc.collect()
    engines, contexts = live_engines(), live_contexts()
    await _run(certs, case, loop_errors)
    loop_errors.clear()  # the tracebacks hold frames, which hold sockets
    assert unraisable == []
    stderr = capfd.readouterr().err  # cffi reports an exception escaping a callback there
    assert "cffi callback" not in stderr and "Exception ignored" not in stderr, stderr
    assert lib.ERR_peek_error() == 0
    gc.collect()
    assert (live_engines(), live_contexts()) == (engines, contexts)


async def _run(certs: Any, case: Case, loop_errors: list[BaseException]) -> None:
    env = Env(certs, Trap(case.name))
    env.loop_errors = loop_errors
    env.first_socket = asyncio.get_running_loop().create_future()
    opts: dict[str, Any] = dict(certs.server.options)
    case.install(env, opts)

    def on_secure(sock: Any) -> None:
        env.server_sockets.append(sock)
        sock.on("error", env.server_sock_errors.append)
        if env.first_socket is not None and not env.first_socket.done():
            env.first_socket.set_result(sock)
            if case.on_server_socket is not None:
                case.on_server_socket(env, sock)
        sock.on("data", sock.write)
        sock.on("end", sock.end)

    server = env.server = tls.create_server(opts)
    server.on("secureConnection", on_secure)
    server.on("error", env.server_errors.append)
    server.on("tlsClientError", lambda err, sock: env.client_errors.append((err, sock)))
    case.after_listen(env)
    listen_cb = env.trap if case.name == "listen callback" else None
    await wait(server.listen(0, "127.0.0.1", callback=listen_cb))
    env.port = server.address()["port"]
    try:
        await case.drive(env)
        assert env.trap.calls >= 1, "the faulty listener was never called"
        booms = {k: v for k, v in env.all_booms().items() if v}
        assert booms == {case.where: [env.trap.exc]}, booms
        if case.echo is not None:
            assert bytes(env.client_data).endswith(b"hello") == case.echo, env.client_data
        for sock in env.server_sockets[:1]:  # the faulty connection's server side is gone
            await wait(sock.wait_closed())
        await _still_serves(env)
    finally:
        closed = event(server, "close")
        close_server(server)
        for sock in env.server_sockets:
            sock.destroy()
    await wait(closed)  # every connection is gone
    assert server.connections == 0  # each connection counted once, and uncounted once


async def _still_serves(env: Env) -> None:
    opts = env.client_options()
    opts.pop("session", None)
    sock = await connect(env.port, **opts)
    try:
        sock.write(b"still serving")
        assert await read_until(sock, 13) == b"still serving"
    finally:
        sock.destroy()


async def test_a_raising_callback_of_a_write_after_end_reaches_the_loop():
    """``write()`` after ``end()`` (and ``end()`` again): the callback gets the error on a later
    iteration; one that raises goes the listener way -- the socket is destroyed by then, so the
    loop's exception handler gets it, never asyncio's generic "Exception in callback"."""
    from nodetls.stream import Writable

    class Sink(Writable):
        def _write(self, chunk: Any, callback: Callable[..., Any]) -> None:
            callback()

    loop = asyncio.get_running_loop()
    reported: list[tuple[str, Any]] = []
    loop.set_exception_handler(lambda lp, ctx: reported.append(
        (str(ctx.get("exception")), ctx.get("emitter"))))
    try:
        stream = Sink()
        stream.on("error", lambda e: None)
        stream.end()
        stream.write(b"late", Trap("write after end"))
        stream.end(Trap("end after end"))
        await wait(event(stream, "close"))
    finally:
        loop.set_exception_handler(None)
    assert reported == [("write after end", stream), ("end after end", stream)]


async def test_a_connection_listener_destroying_the_raw_socket_ends_the_tls_connection(certs):
    """The raw socket a ``'connection'`` listener gets is the TLS connection's transport: once
    the TLS layer has taken it over, destroying it ends the connection -- as in node v20
    (checked: ``'tlsClientError'`` ECONNRESET on the server, ECONNRESET on the client)."""
    loop = asyncio.get_running_loop()
    server = tls.create_server(certs.server.options, lambda sock: sock.on("data", sock.write))
    client_errors: list[BaseException] = []
    server.on("tlsClientError", lambda err, sock: client_errors.append(err))
    raws: list[Any] = []

    def on_connection(raw: Any) -> None:
        raws.append(raw)
        if len(raws) == 1:
            loop.call_soon(raw.destroy)

    server.on("connection", on_connection)
    await wait(server.listen(0, "127.0.0.1"))
    port = server.address()["port"]
    try:
        sock = tls.connect(port, {"host": "127.0.0.1", "ca": certs.root.cert_pem,
                                  "servername": "localhost"})
        errors: list[BaseException] = []
        sock.on("error", errors.append)
        await wait(event(sock, "close"))
        assert [getattr(e, "code", None) for e in client_errors] == ["ECONNRESET"]
        assert [getattr(e, "code", None) for e in errors] == ["ECONNRESET"]
        again = await connect(port, ca=certs.root.cert_pem, servername="localhost")
        again.write(b"again")
        assert await read_until(again, 5) == b"again"
        again.destroy()
    finally:
        closed = event(server, "close")
        close_server(server)
    await wait(closed)
    assert server.connections == 0
