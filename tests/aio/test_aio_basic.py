"""nodetls.aio: streams, protocols, buffered protocols, flow control, half-close, extra info,
the server object (nodetls on both ends unless a test says otherwise)."""

from __future__ import annotations

import asyncio
import ssl

import pytest
from cryptography.x509.oid import NameOID

import nodetls as tls
from nodetls import aio

T = 10.0


def server_opts(certs, **kw):
    opts = dict(certs.server.options)
    opts.update(kw)
    return opts


def client_opts(certs, **kw):
    opts = {"ca": certs.server.ca_pem, "servername": "localhost"}
    opts.update(kw)
    return opts


async def echo_cb(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    writer.close()
    await writer.wait_closed()


async def test_streams_echo_and_types(certs):
    async with await aio.start_server(echo_cb, "127.0.0.1", 0, **server_opts(certs)) as server:
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.wait_for(
            aio.open_connection("127.0.0.1", port, **client_opts(certs)), T)
        assert type(reader) is asyncio.StreamReader
        assert type(writer) is asyncio.StreamWriter
        assert isinstance(writer.transport, asyncio.Transport)
        writer.write(b"hello")
        assert await asyncio.wait_for(reader.readexactly(5), T) == b"hello"
        big = bytes(range(256)) * 8192  # 2 MiB
        writer.write(big)
        got = await asyncio.wait_for(reader.readexactly(len(big)), T)
        assert got == big
        writer.close()
        await asyncio.wait_for(writer.wait_closed(), T)
        server.close_clients()


async def test_extra_info_and_ssl_object(certs):
    seen: asyncio.Future = asyncio.get_running_loop().create_future()

    async def cb(reader, writer):
        t = writer.transport
        seen.set_result({k: t.get_extra_info(k) for k in (
            "peername", "sockname", "tls_socket", "peercert", "cipher", "alpn_protocol",
            "server_hostname", "sslcontext", "ssl_object", "socket")})
        info = seen.result()
        info["cb"] = info["ssl_object"].get_channel_binding("tls-exporter")
        await reader.read()
        writer.close()

    opts = server_opts(certs, alpn_protocols=["h2", "http/1.1"])
    async with await aio.start_server(cb, "127.0.0.1", 0, **opts) as server:
        port = server.sockets[0].getsockname()[1]
        reader, writer = await aio.open_connection(
            "127.0.0.1", port, **client_opts(certs, alpn_protocols=["h2"]))
        try:
            await _check_extra_info(certs, port, writer, await asyncio.wait_for(seen, T))
        finally:
            writer.close()  # (a failed check must not leave the server waiting for this client)


async def _check_extra_info(certs, port, writer, info):
    ct = writer.transport
    # client side
    assert ct.get_extra_info("alpn_protocol") == "h2"
    assert ct.get_extra_info("server_hostname") == "localhost"
    assert isinstance(ct.get_extra_info("sslcontext"), tls.SecureContext)
    assert isinstance(ct.get_extra_info("tls_socket"), tls.TLSSocket)
    assert ct.get_extra_info("peername")[1] == port
    assert ct.get_extra_info("peercert")["subject"]["CN"] == "localhost"
    assert ct.get_extra_info("nope", 42) == 42
    so = ct.get_extra_info("ssl_object")
    assert so.version() in ("TLSv1.2", "TLSv1.3")
    assert so.selected_alpn_protocol() == "h2"
    name, version, bits = so.cipher()
    assert version == so.version() and bits in (128, 256)
    assert so.server_hostname == "localhost"
    assert so.session_reused is False
    der = so.getpeercert(binary_form=True)
    assert der == certs.server.der
    pc = so.getpeercert()
    assert (("commonName", "localhost"),) in pc["subject"]
    assert ("DNS", "localhost") in pc["subjectAltName"]
    # the dict is ssl's own format: compare with ssl's decoder on the same file
    assert pc["notAfter"] == ssl._ssl._test_decode_cert(str(certs.server.cert_path))["notAfter"]
    cb_client = so.get_channel_binding("tls-exporter")
    assert isinstance(cb_client, bytes) and len(cb_client) == 32
    with pytest.raises(ValueError):
        so.get_channel_binding("tls-server-end-point-x")
    # server side
    assert info["alpn_protocol"] == "h2"
    assert info["server_hostname"] == "localhost"
    assert info["peercert"] is None  # (no client certificate: asyncio's None)
    assert info["ssl_object"].getpeercert() is None
    assert info["cb"] == cb_client
    assert info["cipher"] == so.cipher()
    assert info["sockname"][1] == port
    assert info["socket"].getsockname()[1] == port


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        assert type(data) is bytes
        self.transport.write(data)



class Collect(asyncio.Protocol):
    def __init__(self):
        self.data = bytearray()
        self.made = asyncio.get_running_loop().create_future()
        self.eof = asyncio.get_running_loop().create_future()
        self.lost = asyncio.get_running_loop().create_future()
        self.paused = 0
        self.resumed = 0

    def connection_made(self, transport):
        self.transport = transport
        self.made.set_result(None)

    def data_received(self, data):
        self.data += data

    def eof_received(self):
        self.eof.set_result(None)
        return None

    def pause_writing(self):
        self.paused += 1

    def resume_writing(self):
        self.resumed += 1

    def connection_lost(self, exc):
        self.lost.set_result(exc)


async def test_protocol_echo_half_close_both_ways(certs):
    """write_eof() is a TLS half-close: the server still answers after the client's EOF."""
    received = []

    class Server(asyncio.Protocol):
        def connection_made(self, transport):
            self.t = transport

        def data_received(self, data):
            received.append(data)

        def eof_received(self):
            self.t.write(b"".join(received).upper())
            self.t.write_eof()
            self.t.write_eof()  # twice: nothing (asyncio's plain transports)
            self.t.close()
            self.t.write(b"after close")  # ignored, as asyncio's SSL transport
            return True

    async with await aio.create_server(Server, "127.0.0.1", 0, **server_opts(certs)) as server:
        port = server.sockets[0].getsockname()[1]
        t, p = await aio.create_connection(Collect, "127.0.0.1", port, **client_opts(certs))
        assert t.can_write_eof() is True
        t.write(b"abc")
        t.writelines([b"def", b"ghi"])
        t.write_eof()
        with pytest.raises(RuntimeError, match="write_eof"):
            t.write(b"more")
        await asyncio.wait_for(p.eof, T)
        assert bytes(p.data) == b"ABCDEFGHI"
        assert await asyncio.wait_for(p.lost, T) is None
        assert t.is_closing()


async def test_buffered_protocol_reads_into_its_buffer(certs):
    class Buffered(asyncio.BufferedProtocol):
        def __init__(self):
            self.buf = bytearray(1000)  # smaller than a record: several get_buffer per read
            self.out = bytearray()
            self.sizes = []
            self.done = asyncio.get_running_loop().create_future()

        def connection_made(self, transport):
            self.transport = transport

        def get_buffer(self, sizehint):
            self.sizes.append(sizehint)
            return self.buf

        def buffer_updated(self, nbytes):
            self.out += self.buf[:nbytes]
            if len(self.out) >= 300_000 and not self.done.done():
                self.done.set_result(None)

        def eof_received(self):
            return None

        def connection_lost(self, exc):
            pass

    payload = bytes(range(256)) * 1200  # 300 KiB

    async def cb(reader, writer):
        writer.write(payload)
        await writer.drain()
        writer.close()

    async with await aio.start_server(cb, "127.0.0.1", 0, **server_opts(certs)) as server:
        port = server.sockets[0].getsockname()[1]
        t, p = await aio.create_connection(Buffered, "127.0.0.1", port, **client_opts(certs))
        await asyncio.wait_for(p.done, T)
        assert bytes(p.out) == payload
        assert max(p.sizes) > 1000
        t.close()


async def test_reader_that_never_reads_bounds_memory(certs):
    """A protocol that pauses reading stops the TLS socket; the writer is paused by asyncio's
    flow control and memory stays bounded; resuming delivers everything in order."""
    state = {}
    server_done = asyncio.get_running_loop().create_future()

    class Flood(asyncio.Protocol):
        def connection_made(self, transport):
            self.t = transport
            self.sent = 0
            self.max_buffer = 0
            state["server"] = self
            self.t.set_write_buffer_limits(high=256 * 1024)
            self.fill()

        def fill(self):
            while not self.paused and self.sent < 64 * 1024 * 1024:
                self.t.write(b"x" * 65536)
                self.sent += 65536
                self.max_buffer = max(self.max_buffer, self.t.get_write_buffer_size())
            if self.sent >= 64 * 1024 * 1024 and not server_done.done():
                server_done.set_result(None)

        paused = False

        def pause_writing(self):
            self.paused = True
            if "paused_fut" in state and not state["paused_fut"].done():
                state["paused_fut"].set_result(None)

        def resume_writing(self):
            self.paused = False
            self.fill()

    class Lazy(Collect):
        def connection_made(self, transport):
            super().connection_made(transport)
            transport.pause_reading()

    state["paused_fut"] = asyncio.get_running_loop().create_future()
    async with await aio.create_server(Flood, "127.0.0.1", 0, **server_opts(certs)) as server:
        port = server.sockets[0].getsockname()[1]
        t, p = await aio.create_connection(Lazy, "127.0.0.1", port, **client_opts(certs))
        await asyncio.wait_for(state["paused_fut"], T)
        # give the kernel buffers time to fill: the server stays paused and bounded
        for _ in range(20):
            await asyncio.sleep(0.01)
        srv = state["server"]
        assert srv.paused
        assert srv.sent < 16 * 1024 * 1024
        assert srv.max_buffer < 256 * 1024 + 2 * 65536
        assert len(p.data) == 0
        assert not t.is_reading()
        t.resume_reading()
        assert t.is_reading()
        while len(p.data) < 4 * 1024 * 1024:
            await asyncio.wait_for(asyncio.shield(asyncio.sleep(0.01)), T)
        assert set(bytes(p.data)) == {ord("x")}
        t.abort()
        server.abort_clients()


async def test_write_flow_control_pauses_and_resumes_protocol(certs):
    async def slow_reader(reader, writer):
        await asyncio.sleep(0.2)
        total = 0
        while total < 32 * 1024 * 1024:
            chunk = await reader.read(65536)
            if not chunk:
                break
            total += len(chunk)
        writer.write(str(total).encode())
        await writer.drain()
        writer.close()

    async with await aio.start_server(slow_reader, "127.0.0.1", 0, **server_opts(certs)) as server:
        port = server.sockets[0].getsockname()[1]
        t, p = await aio.create_connection(Collect, "127.0.0.1", port, **client_opts(certs))
        t.set_write_buffer_limits(high=64 * 1024, low=16 * 1024)
        assert t.get_write_buffer_limits() == (16 * 1024, 64 * 1024)
        # (as asyncio's SSL transport: the first write goes to the TCP transport whole and
        # counts for nothing; what is written while the TCP transport is above its own 64 KiB
        # mark is the SSL transport's buffer)
        t.write(b"y" * (16 * 1024 * 1024))
        assert p.paused == 0 and t.get_write_buffer_size() == 0
        t.write(b"y" * (16 * 1024 * 1024))
        assert p.paused == 1
        assert t.get_write_buffer_size() > 16 * 1024 * 1024
        await asyncio.wait_for(p.lost, T)
        assert p.resumed == 1
        assert bytes(p.data) == str(32 * 1024 * 1024).encode()
        with pytest.raises(ValueError):
            t.set_write_buffer_limits(high=1, low=2)


async def test_server_object_is_an_asyncio_server(certs):
    server = await aio.create_server(Echo, "127.0.0.1", 0, start_serving=False,
                                     **server_opts(certs))
    assert isinstance(server, asyncio.AbstractServer)
    assert isinstance(server.tls_server, tls.Server)
    assert server.get_loop() is asyncio.get_running_loop()
    assert not server.is_serving()
    assert server.sockets == ()
    await server.start_serving()
    assert server.is_serving()
    port = server.sockets[0].getsockname()[1]
    secure = []
    server.tls_server.on("secureConnection", lambda s: secure.append(s))
    task = asyncio.ensure_future(server.serve_forever())
    reader, writer = await aio.open_connection("127.0.0.1", port, **client_opts(certs))
    writer.write(b"ping")
    assert await asyncio.wait_for(reader.readexactly(4), T) == b"ping"
    assert len(secure) == 1 and isinstance(secure[0], tls.TLSSocket)
    writer.close()
    await writer.wait_closed()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, T)
    assert not server.is_serving()
    await asyncio.wait_for(server.wait_closed(), T)
    with pytest.raises(RuntimeError):
        await server.start_serving()


async def test_bad_arguments_raise_at_creation(certs):
    with pytest.raises(TypeError, match="protocol_factory"):
        await aio.create_server(None, "127.0.0.1", 0, **server_opts(certs))
    with pytest.raises(TypeError, match="no_such_option"):
        await aio.create_server(Echo, "127.0.0.1", 0, no_such_option=1, **server_opts(certs))
    with pytest.raises(TypeError, match="no_such_option"):
        await aio.open_connection("127.0.0.1", 1, no_such_option=1)
    with pytest.raises(ValueError):
        await aio.open_connection()
    with pytest.raises(ValueError):
        await aio.open_connection("127.0.0.1", 1, sock=object())


async def test_handshake_failure_raises_tls_error_and_server_keeps_serving(certs):
    async with await aio.start_server(echo_cb, "127.0.0.1", 0, **server_opts(certs)) as server:
        port = server.sockets[0].getsockname()[1]
        with pytest.raises(tls.errors.CertificateError) as info:
            await asyncio.wait_for(aio.open_connection("127.0.0.1", port), T)
        assert info.value.code == "UNABLE_TO_GET_ISSUER_CERT_LOCALLY"
        reader, writer = await aio.open_connection("127.0.0.1", port, **client_opts(certs))
        writer.write(b"ok")
        assert await asyncio.wait_for(reader.readexactly(2), T) == b"ok"
        writer.close()


async def test_python_ssl_client_and_server_as_peers(certs):
    """Python's ssl (asyncio's own SSL transport) against the bridge, both ways."""
    ctx = ssl.create_default_context(cafile=str(certs.server.ca_path))
    async with await aio.start_server(echo_cb, "127.0.0.1", 0, **server_opts(certs)) as server:
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx,
                                                       server_hostname="localhost")
        writer.write(b"from ssl")
        assert await asyncio.wait_for(reader.readexactly(8), T) == b"from ssl"
        writer.close()
        await writer.wait_closed()

    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(str(certs.server.chain_path), str(certs.server.key_path))
    plain = await asyncio.start_server(echo_cb, "127.0.0.1", 0, ssl=sctx)
    async with plain:
        port = plain.sockets[0].getsockname()[1]
        reader, writer = await aio.open_connection("127.0.0.1", port, **client_opts(certs))
        writer.write(b"to ssl")
        assert await asyncio.wait_for(reader.readexactly(6), T) == b"to ssl"
        assert writer.get_extra_info("ssl_object").version() == "TLSv1.3"
        writer.close()
        await writer.wait_closed()


async def test_cipher_known_after_close_as_python_ssl_reports_it(certs):
    """``get_extra_info('cipher')`` on a closed transport (asyncio's keeps it) is the tuple
    Python's ssl reports on the other end, for a TLS 1.3 and a TLS 1.2 suite."""
    for version, suite in (("TLSv1.3", None), ("TLSv1.2", "ECDHE-ECDSA-AES128-GCM-SHA256")):
        made: list[Collect] = []

        def factory(made: list[Collect] = made) -> Collect:
            made.append(Collect())
            return made[-1]

        ctx = ssl.create_default_context(cafile=str(certs.server.ca_path))
        ctx.maximum_version = ctx.minimum_version = getattr(ssl.TLSVersion, version.replace(".", "_"))
        if suite:
            ctx.set_ciphers(suite)
        server = await aio.create_server(factory, "127.0.0.1", 0, **server_opts(certs))
        async with server:
            port = server.sockets[0].getsockname()[1]
            reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx,
                                                           server_hostname="localhost")
            want = writer.get_extra_info("cipher")
            writer.close()
            await writer.wait_closed()
            proto = made[0]
            assert await asyncio.wait_for(proto.lost, T) is None
            assert proto.transport.is_closing()
            assert proto.transport.get_extra_info("cipher") == want
            # 'sslcontext' too: the server's context, also asked first after the close
            assert proto.transport.get_extra_info("sslcontext") is \
                server.tls_server._template["secure_context"]
            assert want[1] == version
            if suite:
                assert want[0] == suite and want[2] == 128


async def test_connection_lost_gets_the_error_the_socket_was_destroyed_with(certs):
    """An error that ends the connection (here: the Node-style socket destroyed with one)
    reaches ``connection_lost(exc)`` and only there: the loop's exception handler hears of no
    unhandled ``'error'``; the server goes on serving."""
    loop = asyncio.get_running_loop()
    reports: list[dict] = []
    loop.set_exception_handler(lambda _l, ctx: reports.append(ctx))
    made: asyncio.Queue[Collect] = asyncio.Queue()

    def factory() -> Collect:
        proto = Collect()
        made.put_nowait(proto)
        return proto

    try:
        server = await aio.create_server(factory, "127.0.0.1", 0, **server_opts(certs))
        port = server.sockets[0].getsockname()[1]
        for _ in range(2):
            reader, writer = await asyncio.wait_for(
                aio.open_connection("127.0.0.1", port, **client_opts(certs)), T)
            proto = await asyncio.wait_for(made.get(), T)
            await asyncio.wait_for(proto.made, T)
            sock = proto.transport.get_extra_info("tls_socket")
            closed = loop.create_future()
            sock.once("close", lambda *_, f=closed: f.set_result(None))  # after 'error'
            boom = ValueError("boom")
            sock.destroy(boom)
            assert await asyncio.wait_for(proto.lost, T) is boom
            assert await asyncio.wait_for(reader.read(), T) == b""
            await asyncio.wait_for(closed, T)
            writer.close()
        server.close()
        await asyncio.wait_for(server.wait_closed(), T)
    finally:
        loop.set_exception_handler(None)
    assert reports == []


async def test_unix_socket_path(certs, tmp_path):
    path = str(tmp_path / "s.sock")
    async with await aio.start_server(echo_cb, path=path, **server_opts(certs)) as server:
        assert server.sockets[0].getsockname() == path
        reader, writer = await aio.open_connection(path=path, **client_opts(certs))
        writer.write(b"over unix")
        assert await asyncio.wait_for(reader.readexactly(9), T) == b"over unix"
        writer.close()
        await writer.wait_closed()
        server.close_clients()


async def test_over_any_duplex(certs):
    """sock= any stream.Duplex: here one end of an in-memory pair, a Node-style TLS server on
    the other."""
    from nodetls import stream

    a, b = stream.duplex_pair()
    srv = tls.TLSSocket(b, {"is_server": True, **server_opts(certs)})
    srv.on("data", srv.write)
    # (over a Duplex a TLSSocket is half-open, as Node's: it answers the client's close_notify,
    # which writer.close() waits for, when it ends too)
    srv.on("end", srv.end)
    reader, writer = await asyncio.wait_for(
        aio.open_connection(sock=a, **client_opts(certs)), T)
    assert writer.get_extra_info("peername") is None
    assert writer.get_extra_info("ssl_object").version() == "TLSv1.3"
    writer.write(b"in memory" * 10000)
    assert await asyncio.wait_for(reader.readexactly(90000), T) == b"in memory" * 10000
    writer.close()
    await asyncio.wait_for(writer.wait_closed(), T)
    srv.destroy()


async def test_over_a_connected_socket_socket(certs):
    """sock= a connected socket.socket, as loop.create_connection(sock=...) takes."""
    import socket

    async with await aio.start_server(echo_cb, "127.0.0.1", 0, **server_opts(certs)) as server:
        port = server.sockets[0].getsockname()[1]
        raw = socket.create_connection(("127.0.0.1", port))
        reader, writer = await asyncio.wait_for(
            aio.open_connection(sock=raw, **client_opts(certs)), T)
        assert writer.get_extra_info("peername")[1] == port
        writer.write(b"adopted")
        assert await asyncio.wait_for(reader.readexactly(7), T) == b"adopted"
        writer.close()
        await writer.wait_closed()
        with pytest.raises(ValueError, match="Stream Socket"):
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                await aio.open_connection(sock=udp, **client_opts(certs))
            finally:
                udp.close()
        server.close_clients()


async def test_client_certificate_seen_through_ssl_object(certs, tls_version):
    """request_cert on the server: the client's certificate through 'peercert' and
    ssl_object.getpeercert() (what frameworks' TLS extensions read), on TLS 1.2 and 1.3."""
    seen: asyncio.Future = asyncio.get_running_loop().create_future()

    async def cb(reader, writer):
        so = writer.get_extra_info("ssl_object")
        seen.set_result((writer.get_extra_info("peercert"), so.getpeercert(),
                         so.getpeercert(binary_form=True), so.version(),
                         writer.get_extra_info("tls_socket").authorized))
        writer.close()

    opts = server_opts(certs, request_cert=True, ca=certs.client.ca_pem,
                       min_version=tls_version, max_version=tls_version)
    async with await aio.start_server(cb, "127.0.0.1", 0, **opts) as server:
        port = server.sockets[0].getsockname()[1]
        reader, writer = await aio.open_connection(
            "127.0.0.1", port, **client_opts(certs, **certs.client.options))
        node_dict, ssl_dict, der, version, authorized = await asyncio.wait_for(seen, T)
        assert version == tls_version and authorized is True
        cn = certs.client.x509.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
        assert node_dict["subject"]["CN"] == cn
        assert (("commonName", node_dict["subject"]["CN"]),) in ssl_dict["subject"]
        assert der == certs.client.der
        await asyncio.wait_for(reader.read(), T)
        writer.close()


async def test_secure_connection_listeners_added_and_removed_on_the_tls_server(certs):
    """The aio server's own ``'secureConnection'`` listener alone is called directly (a
    ``BridgeSocket``'s fast path); with another listener added, both run in order (Node's
    ``emit``), and once that one is removed again the connection is served as before."""
    server = await aio.create_server(Echo, "127.0.0.1", 0, **server_opts(certs))
    async with server:
        port = server.sockets[0].getsockname()[1]
        seen: list[object] = []

        def extra(sock: object) -> None:
            seen.append(sock)

        async def round_trip() -> None:
            reader, writer = await asyncio.wait_for(
                aio.open_connection("127.0.0.1", port, **client_opts(certs)), T)
            writer.write(b"ping")
            assert await asyncio.wait_for(reader.readexactly(4), T) == b"ping"
            writer.close()
            await writer.wait_closed()

        await round_trip()
        assert seen == [] and len(server._transports) <= 1
        server.tls_server.on("secureConnection", extra)
        await round_trip()
        assert len(seen) == 1 and isinstance(seen[0], tls.TLSSocket)
        server.tls_server.remove_listener("secureConnection", extra)
        # (the table holds the aio server's listener alone again, in a new tuple)
        assert server.tls_server.listeners("secureConnection") == [server._on_secure]
        await round_trip()
        assert len(seen) == 1
