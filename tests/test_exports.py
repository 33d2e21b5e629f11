"""The public surface API.md fixes: every name in "Module ``nodetls``" and the ``net``/``stream``/
``errors`` members exist with the right kind and Node's values; ``py.typed`` is shipped."""

from __future__ import annotations

import asyncio
import inspect
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

import nodetls as tls
from nodetls import errors, net, stream

# API.md, "Module nodetls": name -> kind
FUNCTIONS = ["create_server", "connect", "create_secure_context", "check_server_identity",
             "get_ciphers", "run"]
CLASSES = ["Server", "TLSSocket", "SecureContext"]
CONSTANTS = {
    "DEFAULT_MIN_VERSION": "TLSv1.2",
    "DEFAULT_MAX_VERSION": "TLSv1.3",
    "CLIENT_RENEG_LIMIT": 3,
    "CLIENT_RENEG_WINDOW": 600,
    "DEFAULT_ECDH_CURVE": "X25519:P-256:P-384",
}
# Node v20's DEFAULT_CIPHERS starts with these three, in this order.
NODE_TLS13_SUITES = ["TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
                     "TLS_AES_128_GCM_SHA256"]


@pytest.mark.parametrize("name", FUNCTIONS)
def test_functions_are_callable(name):
    obj = getattr(tls, name)
    assert callable(obj) and not inspect.isclass(obj)
    assert name in tls.__all__


@pytest.mark.parametrize("name", CLASSES)
def test_classes(name):
    assert inspect.isclass(getattr(tls, name))
    assert name in tls.__all__


def test_class_hierarchy():
    assert issubclass(tls.Server, net.Server)
    assert issubclass(tls.TLSSocket, net.Socket)
    assert issubclass(net.Socket, stream.Duplex)


@pytest.mark.parametrize("name,value", sorted(CONSTANTS.items()))
def test_constants_have_nodes_values(name, value):
    got = getattr(tls, name)
    assert got == value
    assert type(got) in ((int, float) if isinstance(value, int) else (str,))
    assert name in tls.__all__


def test_errors_net_stream_are_modules():
    assert inspect.ismodule(tls.errors) and tls.errors is errors
    assert inspect.ismodule(tls.net) and tls.net is net
    assert inspect.ismodule(tls.stream) and tls.stream is stream


def test_root_certificates_is_a_tuple_of_pem_str():
    roots = tls.root_certificates
    assert isinstance(roots, tuple) and len(roots) > 50
    for pem in roots:
        assert isinstance(pem, str)
        assert pem.startswith("-----BEGIN CERTIFICATE-----")
        assert pem.rstrip().endswith("-----END CERTIFICATE-----")
    assert "root_certificates" in tls.__all__
    assert tls.root_certificates is roots  # computed once


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError):
        tls.no_such_name  # noqa: B018


def test_get_ciphers_lower_case_names():
    names = tls.get_ciphers()
    assert isinstance(names, list) and names
    assert all(isinstance(n, str) and n == n.lower() and " " not in n for n in names)
    assert "tls_aes_256_gcm_sha384" in names
    assert "ecdhe-rsa-aes128-gcm-sha256" in names
    names.clear()
    assert tls.get_ciphers(), "a new list on each call"


# ------------------------------------------------------------------ DEFAULT_CIPHERS
def test_default_ciphers_start_with_nodes_tls13_suites():
    parts = tls.DEFAULT_CIPHERS.split(":")
    assert parts[:3] == NODE_TLS13_SUITES
    assert [p for p in parts if p.startswith("TLS_")] == NODE_TLS13_SUITES


def _expand(cipher_string: str) -> list[list[str]]:
    """``openssl ciphers -v`` of a Node-style cipher string (TLS 1.3 names split off as Node's
    processCiphers does), as rows ``[name, version, Kx=, Au=, Enc=, Mac=]``."""
    parts = cipher_string.split(":")
    suites = ":".join(p for p in parts if p.startswith("TLS_"))
    cipher_list = ":".join(p for p in parts if not p.startswith("TLS_"))
    res = subprocess.run(["openssl", "ciphers", "-v", "-ciphersuites", suites, cipher_list],
                         capture_output=True, text=True, timeout=10, check=True)
    return [line.split() for line in res.stdout.splitlines() if line.strip()]


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_default_ciphers_expand_to_forward_secret_aead_only():
    rows = _expand(tls.DEFAULT_CIPHERS)
    assert [r[0] for r in rows[:3]] == NODE_TLS13_SUITES
    tls12 = [r for r in rows if r[1] != "TLSv1.3"]
    assert len(tls12) >= 4
    for name, version, kx, au, enc, mac in tls12:
        assert version == "TLSv1.2", name
        assert kx in ("Kx=ECDH", "Kx=DH"), f"{name}: not forward secret ({kx})"
        assert au in ("Au=RSA", "Au=ECDSA"), f"{name}: {au}"
        assert enc.startswith(("Enc=AESGCM(", "Enc=CHACHA20/POLY1305(")), f"{name}: {enc}"
        assert mac == "Mac=AEAD", name
    # every explicitly named TLS 1.2 suite is one OpenSSL knows (a typo would vanish silently)
    named = [p for p in tls.DEFAULT_CIPHERS.split(":") if not p.startswith("TLS_")]
    assert [r[0] for r in tls12] == named


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_the_expansion_check_detects_static_rsa():
    # The check above can fail: Node's own tail ('HIGH') admits static-RSA key exchange.
    rows = _expand("TLS_AES_256_GCM_SHA384:HIGH")
    assert any(r[2] == "Kx=RSA" for r in rows)


# ------------------------------------------------------------------ net, stream, errors
@pytest.mark.parametrize("name", ["Server", "Socket"])
def test_net_classes(name):
    assert inspect.isclass(getattr(net, name))


@pytest.mark.parametrize("name", ["connect", "create_connection", "create_server", "is_ip",
                                  "is_ipv4", "is_ipv6"])
def test_net_functions(name):
    assert callable(getattr(net, name))


def test_net_is_ip():
    assert net.is_ip("127.0.0.1") == 4 and net.is_ip("::1") == 6 and net.is_ip("x") == 0


def test_stream_members():
    assert inspect.isclass(stream.Duplex)
    assert callable(stream.duplex_pair)


async def test_duplex_pair_returns_two_duplexes():
    a, b = stream.duplex_pair()
    assert isinstance(a, stream.Duplex) and isinstance(b, stream.Duplex) and a is not b
    a.destroy()
    b.destroy()


def test_error_classes():
    assert issubclass(errors.TLSError, errors.NodeError)
    assert issubclass(errors.CertificateError, errors.NodeError)
    assert issubclass(errors.NodeError, Exception)
    err = errors.TLSError("no cipher match", "ERR_SSL_NO_CIPHER_MATCH")
    assert err.code == "ERR_SSL_NO_CIPHER_MATCH" and err.openssl_errors == []
    assert hasattr(err, "library") and hasattr(err, "reason")


@pytest.mark.parametrize("code,builtin", [
    ("ECONNREFUSED", ConnectionRefusedError),
    ("ECONNRESET", ConnectionResetError),
])
def test_system_errors_subclass_the_builtin(code, builtin):
    err = errors.system_error(code, f"connect {code}")
    assert isinstance(err, builtin) and isinstance(err, errors.NodeError)
    assert err.code == code


@pytest.mark.parametrize("code,builtin", [
    ("ERR_TLS_HANDSHAKE_TIMEOUT", TimeoutError),
    ("ERR_INVALID_ARG_TYPE", TypeError),
    ("ERR_INVALID_ARG_VALUE", ValueError),
])
def test_node_errors_subclass_the_builtin(code, builtin):
    err = errors.node_error(code, "a", "b", "c")
    assert isinstance(err, builtin) and isinstance(err, errors.NodeError)
    assert err.code == code


@pytest.mark.parametrize("code", ["ERR_TLS_DH_PARAM_SIZE", "ERR_TLS_SESSION_ATTACK",
                                  "ERR_SOCKET_CLOSED", "ERR_TLS_CERT_ALTNAME_INVALID"])
def test_node_error_codes_have_messages(code):
    err = errors.node_error(code, "1024", "2048")
    assert err.code == code and str(err)


# ------------------------------------------------------------------ member names (API.md tables)
EMITTER = ["on", "once", "off", "remove_listener", "emit", "listeners", "listener_count",
           "remove_all_listeners", "prepend_listener"]
SOCKET_METHODS = ["connect", "write", "end", "destroy", "destroy_soon", "pause", "resume",
                  "pipe", "unpipe", "set_encoding", "set_timeout", "set_no_delay",
                  "set_keep_alive", "address", "ref", "unref", "drain", "wait_closed",
                  "__aiter__", "__await__"]
SOCKET_ATTRS = ["remote_address", "remote_port", "remote_family", "local_address", "local_port",
                "bytes_read", "bytes_written", "connecting", "destroyed", "pending",
                "ready_state", "allow_half_open"]
TLSSOCKET_METHODS = [
    "get_peer_certificate", "get_certificate", "get_peer_x509_certificate",
    "get_x509_certificate", "get_cipher", "get_protocol", "get_session", "set_session",
    "get_tls_ticket", "is_session_reused", "get_ephemeral_key_info", "get_finished",
    "get_peer_finished", "get_shared_sigalgs", "export_keying_material",
    "set_max_send_fragment", "set_servername", "renegotiate", "disable_renegotiation",
    "enable_trace", "set_key_cert",
]
TLSSOCKET_ATTRS = ["authorized", "authorization_error", "alpn_protocol", "npn_protocol",
                   "servername", "encrypted"]
SERVER_METHODS = ["listen", "close", "address", "add_context", "set_secure_context",
                  "set_ticket_keys", "get_ticket_keys", "get_connections", "ref", "unref",
                  "__await__"]
NET_SERVER_METHODS = ["listen", "close", "address", "get_connections", "ref", "unref", "__await__"]
SERVER_ATTRS = ["connections", "max_connections", "listening"]


@pytest.mark.parametrize("name", EMITTER + SOCKET_METHODS + TLSSOCKET_METHODS)
def test_tlssocket_methods(name):
    assert callable(getattr(tls.TLSSocket, name, None)), name


@pytest.mark.parametrize("name", EMITTER + SOCKET_METHODS)
def test_net_socket_methods(name):
    assert callable(getattr(net.Socket, name, None)), name


@pytest.mark.parametrize("name", EMITTER + SERVER_METHODS)
def test_server_methods(name):
    assert callable(getattr(tls.Server, name, None)), name


@pytest.mark.parametrize("name", EMITTER + NET_SERVER_METHODS)
def test_net_server_methods(name):
    assert callable(getattr(net.Server, name, None)), name


async def test_tlssocket_attributes_on_an_instance():
    sock = tls.TLSSocket(None, {})
    try:
        for name in SOCKET_ATTRS + TLSSOCKET_ATTRS:
            assert hasattr(sock, name), name
        assert sock.encrypted is True
        assert sock.authorized is False and sock.authorization_error is None
        # (Node's null until the handshake is done)
        assert sock.alpn_protocol is None and sock.npn_protocol is False
        assert sock.servername is None
        assert sock.get_protocol() == "TLSv1.3"  # (Node's: its SSL is made in the constructor)
    finally:
        sock.destroy()


async def test_server_attributes_on_an_instance(certs):
    server = tls.create_server(certs.server.options)
    for name in SERVER_ATTRS:
        assert hasattr(server, name), name
    assert server.listening is False and server.connections == 0
    assert server.max_connections is None


def test_on_works_as_a_decorator():
    emitter = tls.EventEmitter()
    seen = []

    @emitter.on("x")
    def handler(value):
        seen.append(value)

    emitter.emit("x", 1)
    assert seen == [1]


# ------------------------------------------------------------------ packaging
def test_py_typed_is_shipped():
    pkg_dir = Path(tls.__file__).parent
    assert (pkg_dir / "py.typed").is_file()
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    data = tomllib.loads(pyproject.read_text())
    assert "py.typed" in data["tool"]["setuptools"]["package-data"]["nodetls"]


# ------------------------------------------------------------------ names kept from older docs
async def test_client_error_alias_and_connections_on_a_tls_server(certs):
    """API.md keeps ``'clientError'`` (alias of ``'tlsClientError'``) and ``connections``."""
    loop = asyncio.get_running_loop()
    seen: dict[str, asyncio.Future] = {"tlsClientError": loop.create_future(),
                                       "clientError": loop.create_future()}
    server = tls.create_server(certs.server.options)
    for name, fut in seen.items():
        server.on(name, lambda err, sock, f=fut: f.done() or f.set_result((err, sock)))
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), 10)
    try:
        assert server.connections == 0
        _, writer = await asyncio.open_connection("127.0.0.1", server.address()["port"])
        writer.write(b"GET / HTTP/1.1\r\n\r\n")
        err1, sock1 = await asyncio.wait_for(seen["tlsClientError"], 10)
        err2, sock2 = await asyncio.wait_for(seen["clientError"], 10)
        assert err1 is err2 and sock1 is sock2
        assert err1.code == "ERR_SSL_HTTP_REQUEST"
        writer.close()
    finally:
        server.close()


async def test_npn_option_names_are_accepted(certs):
    server = tls.create_server({**certs.server.options, "npn_protocols": ["http/1.1"]})
    assert isinstance(server, tls.Server)
    sock = tls.TLSSocket(None, {"NPNProtocols": ["http/1.1"]})
    assert sock.npn_protocol is False
    sock.destroy()


# ------------------------------------------------------------------ settable constants
async def test_assigning_client_reneg_limit_is_honoured(certs, monkeypatch):
    monkeypatch.setattr(tls, "CLIENT_RENEG_LIMIT", 1)
    loop = asyncio.get_running_loop()
    server_error: asyncio.Future = loop.create_future()

    def on_secure(s):
        s.on("error", lambda e: server_error.done() or server_error.set_result(e))
        s.on("data", s.write)

    server = tls.create_server({**certs.server.options, "max_version": "TLSv1.2",
                                "allow_client_renegotiation": True}, on_secure)
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), 10)
    try:
        sock = tls.connect(server.address()["port"], "127.0.0.1",
                           {"ca": certs.root.cert_pem, "servername": "localhost"})
        await asyncio.wait_for(sock, 10)
        sock.on("error", lambda e: None)
        closed: asyncio.Future = loop.create_future()  # the server destroys it past the limit
        sock.on("close", lambda *a: closed.done() or closed.set_result(None))
        oks = 0
        for _ in range(2):  # the second is one too many
            done: asyncio.Future = loop.create_future()
            if not sock.renegotiate({}, lambda err, d=done: d.done() or d.set_result(err)):
                break
            sock.write(b"ping")
            await asyncio.wait({done, closed}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
            if not done.done() or done.result() is not None:
                break
            oks += 1
        assert oks == 1
        assert (await asyncio.wait_for(server_error, 5)).code == "ERR_TLS_SESSION_ATTACK"
        sock.destroy()
    finally:
        server.close()


def test_public_openssl_option_constants():
    from nodetls import constants
    from nodetls._openssl import constants as private

    assert constants.SSL_OP_NO_TICKET == 0x4000 == private.SSL_OP_NO_TICKET
    assert constants.SSL_OP_NO_RENEGOTIATION == 1 << 30
    assert "SSL_OP_NO_TICKET" in constants.__all__
    assert tls.constants is constants
