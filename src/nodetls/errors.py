"""Exception classes carrying Node's ``code`` strings.

Mirrors Node's ``lib/internal/errors.js``: one registry of codes and messages, and classes whose
``code`` travels with them.  OpenSSL failures become :class:`TLSError` (``ERR_SSL_<REASON>``),
certificate verification failures :class:`CertificateError` (the X509 verify code name), and
system errors subclass the matching builtin (``ConnectionResetError`` with ``'ECONNRESET'``...).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "NodeError",
    "TLSError",
    "CertificateError",
    "HandshakeTimeoutError",
    "ConnectionResetNodeError",
    "ConnectionRefusedNodeError",
    "SystemNodeError",
    "InvalidArgTypeError",
    "InvalidArgValueError",
    "node_error",
    "system_error",
    "MESSAGES",
    "ContextOptionError",
    "InvalidProtocolVersionError",
    "AggregateNodeError",
]


class NodeError(Exception):
    """Base of every nodetls error: ``code`` is Node's error code string."""

    code: str = "ERR_UNKNOWN"

    def __init__(self, message: str = "", code: str | None = None, **fields: Any) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        for k, v in fields.items():
            setattr(self, k, v)

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, code={self.code!r})"


class TLSError(NodeError):
    """An OpenSSL failure: ``code`` is ``'ERR_SSL_<REASON>'`` as Node forms it.

    ``library`` and ``reason`` come from the first OpenSSL error record; ``openssl_errors`` holds
    every record drained from the error queue (``OpenSSLErrorRecord`` tuples).
    """

    code = "ERR_SSL_UNKNOWN"
    library: str | None = None
    reason: str | None = None
    openssl_errors: list[Any]

    def __init__(self, message: str = "", code: str | None = None, **fields: Any) -> None:
        fields.setdefault("openssl_errors", [])
        super().__init__(message, code, **fields)


class CertificateError(NodeError):
    """Certificate verification failed; ``code`` is the verify result's name
    (``'CERT_HAS_EXPIRED'``, ``'DEPTH_ZERO_SELF_SIGNED_CERT'``...) or
    ``'ERR_TLS_CERT_ALTNAME_INVALID'`` (then ``reason``, ``host`` and ``cert`` are set)."""

    code = "UNABLE_TO_VERIFY_LEAF_SIGNATURE"


class SystemNodeError(NodeError, OSError):
    """A system error with Node's ``code`` (``'ECONNRESET'``, ``'EADDRINUSE'``...)."""

    def __init__(self, message: str = "", code: str | None = None, errno: int | None = None,
                 **fields: Any) -> None:
        OSError.__init__(self, errno or 0, message)
        self.args = (message,)
        if code is not None:
            self.code = code
        for k, v in fields.items():
            setattr(self, k, v)
        if errno is not None:
            self.errno = errno


class AggregateNodeError(ExceptionGroup, NodeError):
    """Node's ``AggregateError`` as ``net.connect`` raises it when every address of a host name
    failed (``auto_select_family``): ``errors`` (also ``exceptions``, as an ``ExceptionGroup``,
    so ``except* ConnectionRefusedError`` matches) holds each attempt's error in order, ``code``
    is the first one's, the message is empty (Node's)."""

    def __new__(cls, errors: list[Exception], message: str = "") -> AggregateNodeError:
        return super().__new__(cls, message, list(errors))

    def __init__(self, errors: list[Exception], message: str = "") -> None:
        ExceptionGroup.__init__(self, message, list(errors))
        self.code = str(getattr(errors[0], "code", "ERR_UNKNOWN"))

    @property
    def errors(self) -> list[Exception]:
        """Node's ``aggregateError.errors``: every attempt's error, in order."""
        return list(self.exceptions)

    def derive(self, excs: Any) -> AggregateNodeError:  # type: ignore[override]
        return AggregateNodeError(list(excs), self.message)

    def __str__(self) -> str:
        """Node's ``aggregateError.message``: ``''`` (an ``ExceptionGroup``'s own ``str()`` adds
        ``' (N sub-exceptions)'``, which Node's message has not; the traceback still lists
        each attempt's error)."""
        return self.message

    def __repr__(self) -> str:
        return f"AggregateNodeError({self.errors!r}, code={self.code!r})"


class ConnectionResetNodeError(SystemNodeError, ConnectionResetError):
    code = "ECONNRESET"


class ConnectionRefusedNodeError(SystemNodeError, ConnectionRefusedError):
    code = "ECONNREFUSED"


class ConnectionAbortedNodeError(SystemNodeError, ConnectionAbortedError):
    code = "ECONNABORTED"


class BrokenPipeNodeError(SystemNodeError, BrokenPipeError):
    code = "EPIPE"


class AddressInUseError(SystemNodeError):
    code = "EADDRINUSE"


class HandshakeTimeoutError(NodeError, TimeoutError):
    code = "ERR_TLS_HANDSHAKE_TIMEOUT"


class InvalidArgTypeError(NodeError, TypeError):
    code = "ERR_INVALID_ARG_TYPE"


class InvalidArgValueError(NodeError, ValueError):
    code = "ERR_INVALID_ARG_VALUE"


class InvalidStateError(NodeError):
    code = "ERR_TLS_INVALID_STATE"


class ContextOptionError(TLSError, ValueError):
    """OpenSSL rejected a secure-context option (bad PEM, wrong passphrase, a key that does not
    match its certificate, an unknown cipher or curve...): raised when the context is created,
    never at handshake.  ``code`` is Node's (``'ERR_OSSL_PEM_NO_START_LINE'``,
    ``'ERR_OSSL_BAD_DECRYPT'``, ``'ERR_OSSL_X509_KEY_VALUES_MISMATCH'``, ``'ERR_SSL_NO_CIPHER_MATCH'``,
    ``'ERR_CRYPTO_OPERATION_FAILED'``...); ``option`` names the option (``'options.key'``)."""

    code = "ERR_CRYPTO_OPERATION_FAILED"
    option: str | None = None


class InvalidProtocolVersionError(NodeError, TypeError, ValueError):
    """``min_version``/``max_version`` is not ``'TLSv1'``..``'TLSv1.3'`` (Node throws a TypeError;
    it is a ValueError too, as Python expects for a bad value)."""

    code = "ERR_TLS_INVALID_PROTOCOL_VERSION"


# Node's message table (lib/internal/errors.js), for the codes nodetls raises itself.
MESSAGES: dict[str, str] = {
    "ERR_TLS_HANDSHAKE_TIMEOUT": "TLS handshake timeout",
    "ERR_TLS_SESSION_ATTACK": "TLS session renegotiation attack detected",
    "ERR_TLS_DH_PARAM_SIZE": "DH parameter size {0} is less than {1}",
    "ERR_TLS_RENEGOTIATION_DISABLED": "TLS session renegotiation disabled for this socket",
    "ERR_TLS_SNI_FROM_SERVER": "Cannot issue SNI from a TLS server-side socket",
    "ERR_TLS_REQUIRED_SERVER_NAME": '"servername" is required parameter for Server.addContext',
    "ERR_TLS_INVALID_STATE": "TLS socket connection must be securely established",
    "ERR_TLS_INVALID_CONTEXT": "{0} must be a SecureContext",
    "ERR_TLS_INVALID_PROTOCOL_VERSION": "{0} is not a valid {1} TLS protocol version",
    "ERR_TLS_PROTOCOL_VERSION_CONFLICT": "TLS protocol version {0} conflicts with secureProtocol {1}",
    "ERR_TLS_ALPN_CALLBACK_WITH_PROTOCOLS":
        "The ALPNCallback and ALPNProtocols TLS options are mutually exclusive",
    "ERR_TLS_ALPN_CALLBACK_INVALID_RESULT":
        "ALPN callback returned a value ({0}) that did not match any of the client's offered "
        "protocols ({1})",
    "ERR_TLS_CERT_ALTNAME_INVALID": "Hostname/IP does not match certificate's altnames: {0}",
    "ERR_TLS_PSK_SET_IDENTIY_HINT_FAILED": "Failed to set PSK identity hint",
    "ERR_MULTIPLE_CALLBACK": "Callback called multiple times",
    "ERR_SOCKET_CLOSED": "Socket is closed",
    "ERR_SOCKET_CLOSED_BEFORE_CONNECTION": "Socket closed before the connection was established",
    "ERR_STREAM_WRITE_AFTER_END": "write after end",
    "ERR_STREAM_DESTROYED": "Cannot call {0} after a stream was destroyed",
    "ERR_SERVER_ALREADY_LISTEN": "Listen method has been called more than once without closing.",
    "ERR_SERVER_NOT_RUNNING": "Server is not running.",
    "ERR_INVALID_ARG_TYPE": "The {0} argument must be of type {1}. Received {2}",
    "ERR_INVALID_ARG_VALUE": "The argument {0} is invalid. Received {1}",
    "ERR_OUT_OF_RANGE": 'The value of "{0}" is out of range. It must be {1}. Received {2}',
}

class NodeTypeError(NodeError, TypeError):
    """A Node error that Node raises as a ``TypeError``."""


_CLASSES: dict[str, type[NodeError]] = {
    "ERR_TLS_ALPN_CALLBACK_WITH_PROTOCOLS": NodeTypeError,
    "ERR_TLS_INVALID_CONTEXT": NodeTypeError,
    "ERR_MULTIPLE_CALLBACK": NodeError,
    "ERR_TLS_HANDSHAKE_TIMEOUT": HandshakeTimeoutError,
    "ERR_INVALID_ARG_TYPE": InvalidArgTypeError,
    "ERR_INVALID_ARG_VALUE": InvalidArgValueError,
    "ERR_OUT_OF_RANGE": InvalidArgValueError,
    "ERR_TLS_INVALID_STATE": InvalidStateError,
    "ERR_TLS_INVALID_PROTOCOL_VERSION": InvalidProtocolVersionError,
}

_SYSTEM: dict[str, type[SystemNodeError]] = {
    "ECONNRESET": ConnectionResetNodeError,
    "ECONNREFUSED": ConnectionRefusedNodeError,
    "ECONNABORTED": ConnectionAbortedNodeError,
    "EPIPE": BrokenPipeNodeError,
    "EADDRINUSE": AddressInUseError,
}


def node_error(code: str, *args: Any, message: str | None = None, **fields: Any) -> NodeError:
    """Build the error Node raises for ``code`` (message formatted from Node's table)."""
    if message is None:
        template = MESSAGES.get(code, code)
        message = template.format(*args) if args else template
    cls = _CLASSES.get(code, NodeError)
    return cls(message, code, **fields)


def system_error(code: str, message: str | None = None, errno: int | None = None,
                 **fields: Any) -> SystemNodeError:
    """A system error with Node's code, subclassing the matching builtin (``ECONNRESET`` ->
    ``ConnectionResetError``...)."""
    cls = _SYSTEM.get(code, SystemNodeError)
    return cls(message or code, code, errno=errno, **fields)


def oserror_number(exc: OSError) -> int:
    """``exc.errno``; for the error Python's ``socket`` raises itself on a Unix socket path longer
    than ``sun_path`` (no errno), ``ENAMETOOLONG``, as libuv reports it since 1.46 (Node v20's
    libuv truncated such a path instead); 0 when there is none."""
    if exc.errno:
        return exc.errno
    if exc.args == ("AF_UNIX path too long",):
        import errno as _errno

        return _errno.ENAMETOOLONG
    return 0


def from_oserror(exc: OSError) -> SystemNodeError:
    """Wrap an ``OSError`` from asyncio/socket with Node's code (``errno`` name)."""
    import errno as _errno

    if isinstance(exc, SystemNodeError):
        return exc
    name = _errno.errorcode.get(exc.errno or 0, "EIO") if exc.errno else None
    if name is None:
        if isinstance(exc, ConnectionResetError):
            name = "ECONNRESET"
        elif isinstance(exc, ConnectionRefusedError):
            name = "ECONNREFUSED"
        elif isinstance(exc, BrokenPipeError):
            name = "EPIPE"
        else:
            name = "EIO"
    msg = f"{exc.strerror or exc} ({name})" if exc.strerror else str(exc) or name
    err = system_error(name, msg, errno=exc.errno)
    err.__cause__ = exc
    return err


# -- codes raised by the events/stream/net layer ------------------------------------------------


class NodeRangeError(NodeError, ValueError):
    """A Node ``RangeError`` with a code (``ERR_SOCKET_BAD_PORT``...)."""


MESSAGES.update({
    "ERR_UNHANDLED_ERROR": "Unhandled error. ({0})",
    "ERR_STREAM_PREMATURE_CLOSE": "Premature close",
    "ERR_STREAM_PUSH_AFTER_EOF": "stream.push() after EOF",
    "ERR_STREAM_UNSHIFT_AFTER_END_EVENT": "stream.unshift() after end event",
    "ERR_STREAM_NULL_VALUES": "May not write null values to stream",
    "ERR_STREAM_ALREADY_FINISHED": "Cannot call {0} after a stream was finished",
    "ERR_STREAM_CANNOT_PIPE": "Cannot pipe, not readable",
    "ERR_UNKNOWN_ENCODING": "Unknown encoding: {0}",
    "ERR_SOCKET_BAD_PORT": "{0} should be >= 0 and < 65536. Received {1}.",
    "ERR_MISSING_ARGS": 'The "{0}" argument must be specified',
    "ERR_INVALID_IP_ADDRESS": "Invalid IP address: {0}",
    "ERR_SOCKET_CONNECTION_TIMEOUT": "Socket connection timeout",
    "ERR_INVALID_ADDRESS": "Invalid socket address",
})
_CLASSES.update({
    "ERR_UNHANDLED_ERROR": NodeError,
    "ERR_STREAM_NULL_VALUES": NodeTypeError,
    "ERR_UNKNOWN_ENCODING": NodeTypeError,
    "ERR_MISSING_ARGS": NodeTypeError,
    "ERR_INVALID_IP_ADDRESS": NodeTypeError,
    "ERR_SOCKET_BAD_PORT": NodeRangeError,
    "ERR_INVALID_ADDRESS": InvalidArgValueError,
})
MESSAGES.setdefault("ERR_METHOD_NOT_IMPLEMENTED", "The {0} method is not implemented")
