"""Two ``SSL*`` over memory BIOs: just enough TLS to test what a ``SecureContext`` configures.

``handshake(client_ctx, server_ctx)`` creates one SSL per context (bound to its context's ticket
keys, as the engine does), moves bytes until both handshakes finish, lets the client read the
TLS 1.3 NewSessionTickets, and returns both ends.  ``HandshakeFailed`` carries each side's
OpenSSL errors.
"""

from __future__ import annotations

from typing import Any

from nodetls._openssl import constants as C
from nodetls._openssl import ffi, lib
from nodetls._openssl.errors import consume_errors

NULL = ffi.NULL


class HandshakeFailed(Exception):
    """``args``: (OpenSSL reasons, the failing End)."""

    @property
    def end(self) -> End:
        return self.args[1]


class End:
    """One side: an SSL with its two memory BIOs."""

    def __init__(self, context: Any, server: bool, bind_to: Any = None) -> None:
        self.ssl = lib.SSL_new(context.ctx)
        assert self.ssl != NULL
        (bind_to or context).bind_ssl(self.ssl)
        self.rbio, self.wbio = lib.BIO_new(lib.BIO_s_mem()), lib.BIO_new(lib.BIO_s_mem())
        lib.SSL_set_bio(self.ssl, self.rbio, self.wbio)
        (lib.SSL_set_accept_state if server else lib.SSL_set_connect_state)(self.ssl)
        self.done = False

    def step(self) -> None:
        if self.done:
            return
        rc = lib.SSL_do_handshake(self.ssl)
        if rc == 1:
            self.done = True
        elif lib.SSL_get_error(self.ssl, rc) != C.SSL_ERROR_WANT_READ:
            raise HandshakeFailed([r.reason for r in consume_errors(ffi, lib)], self)

    def send_to(self, peer: End) -> int:
        n = lib.BIO_ctrl_pending(self.wbio)
        if n:
            buf = ffi.new("char[]", n)
            lib.BIO_read(self.wbio, buf, n)
            lib.BIO_write(peer.rbio, buf, n)
        return n

    def read_pending(self) -> None:
        """Let OpenSSL process post-handshake messages (NewSessionTicket)."""
        buf, got = ffi.new("char[]", 256), ffi.new("size_t *")
        lib.SSL_read_ex(self.ssl, buf, 256, got)
        lib.ERR_clear_error()

    @property
    def reused(self) -> bool:
        return lib.SSL_session_reused(self.ssl) == 1

    def session(self) -> Any:
        """The current session (a new reference, freed by the garbage collector)."""
        sess = lib.SSL_get1_session(self.ssl)
        return ffi.gc(sess, lib.SSL_SESSION_free) if sess != NULL else None

    def close(self, context: Any) -> None:
        lib.SSL_shutdown(self.ssl)  # without it OpenSSL marks the session non-resumable
        context.unbind_ssl(self.ssl)
        lib.SSL_free(self.ssl)
        lib.ERR_clear_error()


def drive(client: End, server: End, rounds: int = 10) -> None:
    """Move bytes until both handshakes finish, then let the client read its tickets."""
    for _ in range(rounds):
        client.step()
        client.send_to(server)
        server.step()
        server.send_to(client)
        if client.done and server.done:
            break
    assert client.done and server.done
    client.read_pending()


def handshake(client_ctx: Any, server_ctx: Any, *, session: Any = None, verify: bool = True,
              hostname: bytes = b"localhost", server_bind_to: Any = None) -> tuple[End, End]:
    client, server = End(client_ctx, False), End(server_ctx, True, server_bind_to)
    if session is not None:
        assert lib.SSL_set_session(client.ssl, session) == 1
    if verify:
        lib.SSL_set_verify(client.ssl, C.SSL_VERIFY_PEER, NULL)
        lib.X509_VERIFY_PARAM_set1_host(lib.SSL_get0_param(client.ssl), hostname, len(hostname))
    for _ in range(10):
        client.step()
        client.send_to(server)
        server.step()
        moved = server.send_to(client)
        if client.done and server.done:
            break
        if not moved and not client.done:
            client.step()
    if not (client.done and server.done):
        raise HandshakeFailed(["handshake did not finish"], client)
    server.send_to(client)
    client.read_pending()
    return client, server


def copy_session(session: Any) -> Any:
    """A new SSL_SESSION with ``session``'s content: an OpenSSL client marks a TLS 1.3 session
    not resumable once it resumed (single-use tickets), so a session offered twice is copied."""
    n = lib.i2d_SSL_SESSION(session, NULL)
    out = ffi.new("unsigned char[]", n)
    assert lib.i2d_SSL_SESSION(session, ffi.new("unsigned char **", out)) == n
    fresh = lib.d2i_SSL_SESSION(NULL, ffi.new("const unsigned char **", out), n)
    assert fresh != NULL
    return ffi.gc(fresh, lib.SSL_SESSION_free)


def ticket_of(session: Any) -> bytes:
    """The ticket a client session carries (b'' without one)."""
    data, size = ffi.new("const unsigned char **"), ffi.new("size_t *")
    lib.SSL_SESSION_get0_ticket(session, data, size)
    return bytes(ffi.buffer(data[0], size[0])) if size[0] else b""


def peer_key_type(client: End) -> int:
    """``EVP_PKEY_get_base_id`` of the server certificate's key (6 RSA, 408 EC)."""
    cert = lib.SSL_get0_peer_certificate(client.ssl)
    assert cert != NULL
    return lib.EVP_PKEY_get_base_id(lib.X509_get0_pubkey(cert))
