"""The one table of options: names, Node names, types, ranges, defaults, and who takes them.

Every option of every public constructor is one row of :data:`ROWS`. Everything else is derived:
the Node-name mapping of :func:`nodetls._options.normalize`, the option sets each entry point
accepts (:func:`names`), the type and range checks run when an object is created
(:func:`check`), their error messages, and (the Python annotation column) typed option dicts.

Row: ``(snake_name, node_name, kind, default, where)``. ``where`` lists the entry points, one
letter each:

====  ===========================================  ====  =================================
``C`` ``SecureContext`` / ``create_secure_context``  ``N`` ``net.Socket(...)``
``S`` ``tls.Server`` / ``tls.create_server``         ``J`` ``net.Socket.connect`` / ``net.connect``
``K`` ``tls.TLSSocket(...)``                         ``V`` ``net.Server(...)``
``T`` ``tls.connect``                                ``L`` ``server.listen({...})``
``R`` ``stream.Readable``                            ``W`` ``stream.Writable``
``D`` ``stream.Duplex`` (also takes R and W ones)
====  ===========================================  ====  =================================

A kind (:data:`KINDS`) is the accepted Python type as an annotation, the words an error uses for
it, and a check that returns the value to use (``os.PathLike`` PEM inputs are read from the
file) or raises ``TypeError`` (``ERR_INVALID_ARG_TYPE``) / ``ValueError``
(``ERR_INVALID_ARG_VALUE``; ``ERR_OUT_OF_RANGE`` for a number out of its range, as Node) naming
the option as the caller spelled it. ``None`` always means
"not given". Checks that need OpenSSL (a PEM that does not parse, a cipher string that matches
nothing, a protocol version name) stay where the context is built, also at creation.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import InvalidArgTypeError, InvalidArgValueError, NodeRangeError, node_error

__all__ = ["Kind", "Option", "KINDS", "ROWS", "OPTIONS", "BY_NODE_NAME", "SERVER_KINDS", "names",
           "check", "default", "handshake_timeout", "SECRET_OPTIONS", "SecretBytes", "Options",
           "is_secret_label"]

_BYTES = (bytes, bytearray, memoryview)

# ---------------------------------------------------------------------------- secrets

#: The options whose values are secret: private keys (``key``, ``pfx``), passphrases, session
#: ticket keys and sessions (their bytes hold the resumption secret).  Their errors name the type
#: received, never the value (Node quotes a string's first 25 characters, and numbers whole), and
#: :class:`Options` shows them as ``<secret>``.
SECRET_OPTIONS = frozenset({"key", "passphrase", "pfx", "ticket_keys", "session"})
_SECRET_PARTS = SECRET_OPTIONS | {"ticketKeys"}  # (labels spell options as the caller did)


def is_secret_label(label: str) -> bool:
    """Whether the option a label names (``'options.key'``, ``'options.pfx.passphrase'``,
    ``'options.ticketKeys'``) holds a secret."""
    return any(part in _SECRET_PARTS for part in label.replace("[]", "").split("."))


class SecretBytes(bytearray):
    """A copy nodetls made of key material (a ``str`` key encoded, a passphrase, a key file
    read): ``repr()`` and ``str()`` show only its size, it refuses to pickle, and :meth:`wipe`
    zeroes it in place once OpenSSL has read it (a ``bytes`` cannot be wiped: the caller's own
    objects, and the one transient ``bytes`` Python makes encoding a ``str``, stay as they are)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<secret: {len(self)} bytes>"

    __str__ = __repr__

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise TypeError("secret key material is not pickled")

    def wipe(self) -> None:
        """Zero every byte (the size, and so the buffer, stay)."""
        self[:] = bytes(len(self))


def _shown(name: str, value: Any) -> str:
    return "<secret>" if name in SECRET_OPTIONS and value is not None else repr(value)


class Options(dict):  # type: ignore[type-arg]
    """A checked options dict as objects keep it (``SecureContext.options``, a server's or a
    socket's): a plain ``dict`` whose ``repr()`` shows secret options' values as ``<secret>``,
    so that printing an object's state, or a traceback's locals, does not print a key."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "{" + ", ".join(f"{k!r}: {_shown(k, v)}" for k, v in self.items()) + "}"

    __str__ = __repr__


def _received(value: Any, label: str = "") -> str:
    if label and is_secret_label(label) and not isinstance(value, os.PathLike):
        return f"{type(value).__name__} (not shown: a secret option)"
    text = repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{type(value).__name__} ({text})"


def type_error(label: str, expected: str, value: Any) -> InvalidArgTypeError:
    """Node's ``ERR_INVALID_ARG_TYPE`` for an option (``"options.port" property``) or, for a
    name without a dot, an argument (``"size" argument``), as Node words it."""
    what = "property" if "." in label else "argument"
    return InvalidArgTypeError(
        f'The "{label}" {what} must be of type {expected}. Received {_received(value, label)}'
    )


def value_error(label: str, must: str, value: Any) -> InvalidArgValueError:
    """Node's ``ERR_INVALID_ARG_VALUE`` for an option."""
    return InvalidArgValueError(
        f"The property '{label}' {must}. Received {_received(value, label)}")


# ---------------------------------------------------------------------------- kinds


@dataclass(frozen=True, slots=True)
class Kind:
    """How one kind of option value is checked."""

    annotation: str  # the Python type, for typed option dicts
    expected: str  # the words of an ERR_INVALID_ARG_TYPE message
    check: Callable[[Any, str], Any]  # (value, label) -> value to use


def _instance(types: tuple[type, ...], expected: str) -> Callable[[Any, str], Any]:
    def check(value: Any, label: str) -> Any:
        if isinstance(value, bool) and bool not in types:
            raise type_error(label, expected, value)
        if not isinstance(value, types):
            raise type_error(label, expected, value)
        return value

    return check


def _out_of_range(label: str, must: str, value: Any) -> InvalidArgValueError:
    """Node's ``ERR_OUT_OF_RANGE`` (a ``RangeError`` in Node, a ``ValueError`` here)."""
    return InvalidArgValueError(
        f'The value of "{label}" is out of range. It must be {must}. Received {value!r}',
        "ERR_OUT_OF_RANGE",
    )


def _num(x: float) -> str:
    """A bound as Node writes it (``2147483647``, not ``2.14748e+09``)."""
    return str(int(x)) if math.isfinite(x) and x == int(x) else f"{x:g}"


def number(minimum: float, *, integer: bool = False, exclusive: bool = False,
            maximum: float | None = None) -> Callable[[Any, str], Any]:
    """Node's ``validateNumber``/``validateInteger``/``validateInt32``: a number in range.

    With ``integer``, a float holding an integer (``1e3``, as Node, where every number is a
    float) is accepted as that ``int``, and any other float is ``ERR_OUT_OF_RANGE`` ("It must be
    an integer"), as Node says for ``sessionTimeout: 1.5``."""
    base = _instance((int, float), "int" if integer else "int or float")
    relation = (">" if exclusive else ">=") + f" {_num(minimum)}"
    if maximum is not None:
        relation += f" && <= {_num(maximum)}"

    def check(value: Any, label: str) -> Any:
        base(value, label)
        if isinstance(value, float) and math.isnan(value):
            raise _out_of_range(label, relation, value)
        if integer and isinstance(value, float):
            if not value.is_integer():
                raise _out_of_range(label, "an integer", value)
            value = int(value)
        bad = value <= minimum if exclusive else value < minimum
        if bad or (maximum is not None and value > maximum):
            raise _out_of_range(label, relation, value)
        return value

    return check


def _high_water_mark(value: Any, label: str) -> Any:
    """Node's ``getHighWaterMark`` (streams, sockets): an integer >= 0 (a float holding one is
    taken), else ``ERR_INVALID_ARG_VALUE`` ("The property 'options.highWaterMark' is invalid"),
    whatever the value's type."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 \
            or (isinstance(value, float) and not value.is_integer()):
        raise InvalidArgValueError(f"The property '{label}' is invalid. Received {value!r}",
                                   "ERR_INVALID_ARG_VALUE")
    return int(value)


def _server_high_water_mark(value: Any, label: str) -> Any:
    """A server's ``highWaterMark`` (Node's ``validateNumber`` in ``net.Server``): not a number
    is ``ERR_INVALID_ARG_TYPE``; then as a socket's (:func:`_high_water_mark`), which Node checks
    only when a connection's socket is made."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise type_error(label, "int", value)
    return _high_water_mark(value, label)


def _attempt_timeout(value: Any, label: str) -> Any:
    """Node's ``validateInt32(value, label, 1)`` on milliseconds, in seconds: a number from
    0.001 to 2147483.647, else ``ERR_INVALID_ARG_TYPE`` / ``ERR_OUT_OF_RANGE``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise type_error(label, "int or float", value)
    if not 0.001 <= value <= (2**31 - 1) / 1000:  # (NaN included)
        raise _out_of_range(label, ">= 0.001 && <= 2147483.647", value)
    return value


def _handshake_timeout(value: Any, label: str) -> Any:
    """``handshake_timeout``: any number but NaN (a negative one turns the timeout off, ``0`` is
    the default: see :func:`handshake_timeout`); not a number is ``ERR_INVALID_ARG_TYPE``, as
    Node's ``validateNumber``.  (Node takes NaN, and ``false`` or ``''``, for its default: here
    they are refused, as a mistake rather than a way to ask for the default.)"""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise type_error(label, "int or float", value)
    if isinstance(value, float) and math.isnan(value):
        raise _out_of_range(label, "a number", value)
    if value == math.inf:  # (Node's TLSSocket: setTimeout(Infinity), ERR_OUT_OF_RANGE)
        raise _out_of_range(label, "a finite number", value)
    return value


def _callable(value: Any, label: str) -> Any:
    if not callable(value):
        raise type_error(label, "function", value)
    return value


def _family(value: Any, label: str) -> Any:
    """0, 4 or 6; Node's ``'IPv4'``/``'IPv6'`` (``server.address()['family']``) are 4 and 6."""
    if isinstance(value, str) and value in ("IPv4", "IPv6"):
        return 4 if value == "IPv4" else 6
    if isinstance(value, bool) or value not in (0, 4, 6):
        raise value_error(label, "must be one of: 0, 4, 6", value)
    return value


def _alpn(value: Any, label: str) -> Any:
    """A list of protocol names (str or bytes), or the wire-format bytes (Node's Buffer)."""
    if isinstance(value, _BYTES):
        return value
    if not isinstance(value, (list, tuple)):
        raise type_error(label, "list of str or bytes, or bytes", value)
    for index, item in enumerate(value):
        if not isinstance(item, (str, *_BYTES)):
            raise type_error(f"{label}[]", "str or bytes", item)
        size = len(item.encode()) if isinstance(item, str) else memoryview(item).nbytes
        if size > 255:  # Node's message and code (a RangeError in Node)
            raise InvalidArgValueError(
                f"The byte length of the protocol at index {index} exceeds the maximum length. "
                f"It must be <= 255. Received {size}",
                "ERR_OUT_OF_RANGE",
            )
        if size == 0:  # Node sends an empty name, which peers reject: refused here
            raise value_error(label, "must hold names of 1 to 255 bytes", item)
    return value


def _secure_context(value: Any, label: str) -> Any:
    """Node's ``ERR_TLS_INVALID_CONTEXT`` (a ``TypeError``: "context must be a SecureContext")
    for anything but a SecureContext; a falsy one is not given (Node's ``options.secureContext
    || createSecureContext(options)``). Duck-typed: this module sits below _context (layering)."""
    if _falsy(value):
        return None
    if not (hasattr(value, "ctx") and hasattr(value, "options")):
        raise node_error("ERR_TLS_INVALID_CONTEXT", label,
                         message=f"{label} must be a SecureContext. Received {_received(value)}")
    return value


def _falsy(value: Any) -> bool:
    """JavaScript's falsy for an option value: ``False``, ``0``, NaN, ``''`` (empty lists,
    dicts and bytes are objects, truthy, as an empty Buffer)."""
    if isinstance(value, (bool, int, float, str)):
        return not value or (isinstance(value, float) and math.isnan(value))
    return False


def _encoding(value: Any, label: str) -> Any:
    """Node's ``if (options.encoding) setEncoding(options.encoding)``: a falsy value is not
    given; another value that is not a ``str`` is ``ERR_UNKNOWN_ENCODING`` (a ``TypeError``),
    as ``setEncoding(5)`` is; a ``str`` is checked where it is used."""
    if _falsy(value):
        return None
    if not isinstance(value, str):
        raise node_error("ERR_UNKNOWN_ENCODING", value)
    return value


def _ip_address(value: Any, label: str) -> Any:
    """Node's ``if (localAddress && !isIP(localAddress))``: a falsy value is not given; any other
    value that is not a ``str`` is ``ERR_INVALID_IP_ADDRESS`` (a ``TypeError``); a ``str`` is
    checked where it is used (also ``ERR_INVALID_IP_ADDRESS``)."""
    if _falsy(value):
        return None
    if not isinstance(value, str):
        raise node_error("ERR_INVALID_IP_ADDRESS", value)
    return value


def duplex(value: Any, label: str) -> Any:
    """A stream TLS can run over: ``write``, ``end``, ``destroy`` and ``on`` (Node's
    JSStreamSocket fails at once on an object without a stream's methods)."""
    if not all(callable(getattr(value, name, None)) for name in ("write", "end", "destroy", "on")):
        raise type_error(label, "net.Socket or stream.Duplex", value)
    return value


def _one_of(*choices: str) -> Callable[[Any, str], Any]:
    def check(value: Any, label: str) -> Any:
        if value not in choices:
            raise value_error(label, "must be one of: " + ", ".join(map(repr, choices)), value)
        return value

    return check


def _any(value: Any, label: str) -> Any:
    return value


def _is_file_name(text: str) -> bool:
    if "-----BEGIN" in text or "\n" in text or "\0" in text or len(text) > 4096:
        return False
    try:
        return os.path.isfile(text)
    except (OSError, ValueError):
        return False


def _read_file(value: os.PathLike[Any], label: str) -> bytes | SecretBytes:
    """The file's contents; a secret option's (a key, a PKCS#12 bundle) read straight into a
    :class:`SecretBytes` (no ``bytes`` copy; it is the option's value from then on)."""
    try:
        with open(value, "rb") as f:
            if not is_secret_label(label):
                return f.read()
            size = os.fstat(f.fileno()).st_size
            out = SecretBytes(size)
            got = 0
            with memoryview(out) as view:
                while got < size and (n := f.readinto(view[got:])):
                    got += n
            if got < size:  # (the file shrank meanwhile)
                del out[got:]
            rest = f.read()  # (it grew, or has no size: a pipe, a /proc file)
            if rest:
                out += rest
            return out
    except OSError as exc:
        err = value_error(label, f"names a file that cannot be read ({exc.strerror}: "
                                 f"{os.fspath(value)!r})", value)
        raise err from exc


def _pem_item(value: Any, label: str, special: tuple[str, ...] = ()) -> Any:
    """One PEM/DER input: str, bytes-like, or a path (read from the file)."""
    if isinstance(value, os.PathLike):
        return _read_file(value, label)
    if isinstance(value, str):
        if value not in special and _is_file_name(value):
            raise value_error(
                label,
                f"is the name of a file, not its contents: pass the file's contents, or a "
                f"pathlib.Path({value!r})",
                value,
            )
        return value
    if isinstance(value, _BYTES):
        return value
    raise type_error(label, "str, bytes or os.PathLike", value)


def _pem_list(key: str | None, falsy_absent: bool = True) -> Callable[[Any, str], Any]:
    """PEM inputs, or a list of them; with ``key``, items may be ``{key: pem, 'passphrase': ..}``.
    ``falsy_absent``: ``False`` and ``0`` are "not given", as Node's ``if (options.key)``
    (``key``, ``cert``, ``ca``); Node checks ``crl`` and loads ``pfx`` whatever they are, so
    there they are wrong types."""
    def item(value: Any, label: str) -> Any:
        if key is not None and isinstance(value, dict):
            if key not in value:
                raise type_error(label, f"str, bytes, os.PathLike or {{'{key}': ...}}", value)
            out = dict(value)
            out[key] = _pem_item(value[key], f"{label}.{key}")
            if out.get("passphrase") is not None:
                _text(out["passphrase"], f"{label}.passphrase")
            return out
        return _pem_item(value, label)

    def check(value: Any, label: str) -> Any:
        if falsy_absent and (value is False or (type(value) is int and value == 0)):
            return None  # Node's `if (options.key)`: a falsy value is not given
        if isinstance(value, (list, tuple)):
            return [item(v, label) for v in value]
        return item(value, label)

    return check


def _dhparam(value: Any, label: str) -> Any:
    return _pem_item(value, label, special=("auto",))


def _text(value: Any, label: str) -> Any:
    if not isinstance(value, (str, *_BYTES)):
        raise type_error(label, "str or bytes", value)
    return value


_SID_CTX_MAX = 32  # SSL_MAX_SID_CTX_LENGTH


def _session_id_context(value: Any, label: str) -> Any:
    """str or bytes of at most 32 bytes (Node leaves the length to OpenSSL: an error without a
    code)."""
    _text(value, label)
    size = len(value.encode()) if isinstance(value, str) else memoryview(value).nbytes
    if size > _SID_CTX_MAX:
        raise InvalidArgValueError(
            f"The property '{label}' must be at most {_SID_CTX_MAX} bytes. Received {size}",
            "ERR_INVALID_ARG_VALUE",
        )
    return value


TICKET_KEY_SIZE = 48


def _ticket_keys(value: Any, label: str) -> Any:
    """Node's 48-byte key, or (beyond Node) several: n*48 bytes, the first encrypting."""
    if not isinstance(value, _BYTES):
        raise type_error(label, "bytes, bytearray or memoryview", value)
    size = memoryview(value).nbytes
    if not size or size % TICKET_KEY_SIZE:
        raise InvalidArgValueError(
            f"The property '{label}' must be a multiple of {TICKET_KEY_SIZE} bytes "
            f"(at least {TICKET_KEY_SIZE}). Received {size}",
            "ERR_INVALID_ARG_VALUE",
        )
    return value


def _path(value: Any, label: str) -> Any:
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if not isinstance(value, str):
        raise type_error(label, "str or os.PathLike", value)
    return value


def _port(value: Any, label: str) -> Any:
    # The range is checked where the port is used (Node's ERR_SOCKET_BAD_PORT, a RangeError),
    # also for a float (1.5 is a bad port there, 443.0 is 443); a float that is not finite
    # cannot be checked there, so it is refused here with the same code.
    if isinstance(value, bool) or not isinstance(value, (int, str, float)):
        raise type_error(label, "int or str", value)
    if isinstance(value, float) and not math.isfinite(value):
        raise NodeRangeError(
            f"Port should be >= 0 and < 65536. Received {value!r}.", "ERR_SOCKET_BAD_PORT"
        )
    return value


def _local_port(value: Any, label: str) -> Any:
    """Node's ``if (localPort) validateNumber(localPort, 'options.localPort')``: a falsy value
    (NaN too) is not given; the rest is checked where it is used, for TCP only
    (:func:`nodetls._net.args.check_connect_options`: a ``str`` is ``ERR_INVALID_ARG_TYPE``, a
    number out of range ``ERR_SOCKET_BAD_PORT``); values no port can be are refused here."""
    if _falsy(value):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise type_error(label, "int", value)
    return value


KINDS: dict[str, Kind] = {
    "bool": Kind("bool", "bool", _instance((bool,), "bool")),
    "str": Kind("str", "str", _instance((str,), "str")),
    "int": Kind("int", "int", number(-math.inf, integer=True)),
    "int32>=0": Kind("int", "int", number(0, integer=True, maximum=2**31 - 1)),
    # (Node's validateInteger: a safe integer; negative ones, which set every option bit, are
    # refused here)
    "safe_uint": Kind("int", "int", number(0, integer=True, maximum=2**53 - 1)),
    "int>=0": Kind("int", "int", number(0, integer=True)),
    "int>0": Kind("int", "int", number(0, integer=True, exclusive=True)),
    "hwm": Kind("int", "int", _high_water_mark),
    "hwm_server": Kind("int", "int", _server_high_water_mark),
    "seconds": Kind("float", "int or float", number(0)),
    "attempt_seconds": Kind("float", "int or float", _attempt_timeout),
    "handshake_seconds": Kind("float", "int or float", _handshake_timeout),
    "function": Kind("Callable[..., Any]", "function", _callable),
    "bytes": Kind("bytes", "bytes", _instance(_BYTES, "bytes, bytearray or memoryview")),
    "text": Kind("str | bytes", "str or bytes", _text),
    "sid_context": Kind("str | bytes", "str or bytes", _session_id_context),
    "ticket_keys": Kind("bytes", "bytes, bytearray or memoryview", _ticket_keys),
    "pem": Kind("PemInput | list[PemInput]", "str, bytes or os.PathLike", _pem_list(None)),
    "pem_key": Kind("PemInput | KeyDict | list[PemInput | KeyDict]", "str, bytes or os.PathLike",
                    _pem_list("pem")),
    "pem_pfx": Kind("PemInput | PfxDict | list[PemInput | PfxDict]", "bytes or os.PathLike",
                    _pem_list("buf", falsy_absent=False)),
    "pem_crl": Kind("PemInput | list[PemInput]", "str, bytes or os.PathLike",
                    _pem_list(None, falsy_absent=False)),
    "dhparam": Kind("PemInput", "str, bytes or os.PathLike", _dhparam),
    "alpn": Kind("list[str | bytes] | bytes", "list of str or bytes, or bytes", _alpn),
    "version": Kind("str", "str", _any),  # checked by the context: ERR_TLS_INVALID_PROTOCOL_VERSION
    "family": Kind("int", "int", _family),
    "port": Kind("int | str", "int or str", _port),
    "local_port": Kind("int | str", "int", _local_port),
    "path": Kind("str | os.PathLike[str]", "str or os.PathLike", _path),
    "ocsp": Kind("Literal['require', 'if-present']", "str", _one_of("require", "if-present")),
    "secure_context": Kind("SecureContext", "SecureContext", _secure_context),
    "duplex": Kind("stream.Duplex", "net.Socket or stream.Duplex", duplex),
    "encoding": Kind("str", "str", _encoding),
    "ip": Kind("str", "str", _ip_address),
    "any": Kind("Any", "any", _any),
}

# ---------------------------------------------------------------------------- the table


#: (snake_case name, Node name, kind, default, where) — see the module docstring.
ROWS: tuple[tuple[str, str, str, Any, str], ...] = (
    # SecureContext options (also taken by tls.Server, TLSSocket and tls.connect)
    ("key", "key", "pem_key", None, "CSKT"),
    ("cert", "cert", "pem", None, "CSKT"),
    ("ca", "ca", "pem", None, "CSKT"),  # None: the default root certificates
    ("allow_partial_trust_chain", "allowPartialTrustChain", "bool", False, "CSKT"),
    ("passphrase", "passphrase", "text", None, "CSKT"),
    ("pfx", "pfx", "pem_pfx", None, "CSKT"),
    ("crl", "crl", "pem_crl", None, "CSKT"),
    ("ciphers", "ciphers", "str", None, "CSKT"),  # None: nodetls.DEFAULT_CIPHERS
    ("ecdh_curve", "ecdhCurve", "str", None, "CSKT"),  # None: nodetls.DEFAULT_ECDH_CURVE
    ("dhparam", "dhparam", "dhparam", None, "CSKT"),
    ("honor_cipher_order", "honorCipherOrder", "bool", False, "CSKT"),  # tls.Server: True
    ("min_version", "minVersion", "version", None, "CSKT"),  # None: DEFAULT_MIN_VERSION
    ("max_version", "maxVersion", "version", None, "CSKT"),  # None: DEFAULT_MAX_VERSION
    ("secure_options", "secureOptions", "safe_uint", 0, "CSKT"),
    ("session_id_context", "sessionIdContext", "sid_context", None, "CSKT"),
    ("sigalgs", "sigalgs", "str", None, "CSKT"),
    ("ticket_keys", "ticketKeys", "ticket_keys", None, "CSKT"),  # None: a random key
    ("session_timeout", "sessionTimeout", "int32>=0", 300, "CSKT"),
    # TLS
    ("request_cert", "requestCert", "bool", False, "SK"),
    ("reject_unauthorized", "rejectUnauthorized", "bool", True, "SKT"),
    ("alpn_protocols", "ALPNProtocols", "alpn", None, "SKT"),
    ("alpn_callback", "ALPNCallback", "function", None, "SK"),
    ("sni_callback", "SNICallback", "function", None, "SK"),
    # (None and 0: the default; a negative number: none. See handshake_timeout().)
    ("handshake_timeout", "handshakeTimeout", "handshake_seconds", 120.0, "SK"),
    ("allow_client_renegotiation", "allowClientRenegotiation", "bool", False, "SK"),
    ("psk_callback", "pskCallback", "function", None, "SKT"),
    ("psk_identity_hint", "pskIdentityHint", "str", None, "SK"),
    ("enable_trace", "enableTrace", "bool", False, "SKT"),
    ("npn_protocols", "NPNProtocols", "alpn", None, "SKT"),
    ("is_server", "isServer", "bool", False, "K"),
    ("server", "server", "any", None, "K"),
    ("request_ocsp", "requestOCSP", "bool", False, "KT"),
    ("session", "session", "bytes", None, "KT"),
    ("secure_context", "secureContext", "secure_context", None, "KT"),
    ("min_dh_size", "minDHSize", "int>0", 1024, "KT"),
    ("servername", "servername", "str", None, "KT"),
    ("check_server_identity", "checkServerIdentity", "function", None, "KT"),
    ("socket", "socket", "duplex", None, "T"),
    ("ocsp", "ocsp", "ocsp", None, "KT"),  # beyond Node: check the stapled OCSP response
    # net: sockets, servers, connecting, listening
    ("allow_half_open", "allowHalfOpen", "bool", False, "SKTNVD"),
    ("pause_on_connect", "pauseOnConnect", "bool", False, "SKNV"),
    ("no_delay", "noDelay", "bool", None, "STNJV"),  # None: TLS True, net the loop's
    ("keep_alive", "keepAlive", "bool", False, "STNJV"),
    ("keep_alive_initial_delay", "keepAliveInitialDelay", "seconds", 0, "STNJV"),
    ("high_water_mark", "highWaterMark", "hwm", None, "SKTNVRW"),  # None: 16 KiB
    ("host", "host", "str", "localhost", "KTJL"),
    ("port", "port", "port", None, "KTJL"),
    ("path", "path", "path", None, "KTJL"),
    ("timeout", "timeout", "seconds", None, "TJ"),
    ("family", "family", "family", 0, "TJ"),
    ("local_address", "localAddress", "ip", None, "TJ"),
    ("local_port", "localPort", "local_port", None, "TJ"),
    ("hints", "hints", "int", 0, "TJ"),
    ("lookup", "lookup", "function", None, "TJ"),
    # (None: net.get_default_auto_select_family[_attempt_timeout](), True and 0.25 as Node's)
    ("auto_select_family", "autoSelectFamily", "bool", None, "TJ"),
    ("auto_select_family_attempt_timeout", "autoSelectFamilyAttemptTimeout", "attempt_seconds",
     None, "TJ"),
    ("pause_on_create", "pauseOnCreate", "bool", False, "N"),
    ("manual_start", "manualStart", "bool", False, "N"),
    ("onread", "onread", "any", None, "NKT"),  # (Node ignores one of another shape)
    ("handle", "handle", "any", None, "NL"),  # listen(): a socket, descriptor or server
    ("fd", "fd", "any", None, "NL"),  # an open descriptor (checked where used: _net/fd.py)
    ("readable", "readable", "bool", True, "NR"),
    ("writable", "writable", "bool", True, "NW"),
    ("readable_high_water_mark", "readableHighWaterMark", "hwm", None, "NR"),
    ("writable_high_water_mark", "writableHighWaterMark", "hwm", None, "NW"),
    ("encoding", "encoding", "encoding", None, "NR"),
    ("backlog", "backlog", "int32>=0", 511, "L"),  # (above: refused, where the kernel overflows)
    ("exclusive", "exclusive", "bool", False, "L"),
    ("ipv6_only", "ipv6Only", "bool", False, "L"),
    ("reuse_port", "reusePort", "bool", False, "L"),
    ("readable_all", "readableAll", "bool", False, "L"),
    ("writable_all", "writableAll", "bool", False, "L"),
    # streams (the implementation hooks Node's stream constructors take)
    ("read", "read", "function", None, "R"),
    ("write", "write", "function", None, "W"),
    ("writev", "writev", "function", None, "W"),
    ("final", "final", "function", None, "W"),
    ("destroy", "destroy", "function", None, "RW"),
    ("construct", "construct", "function", None, "RW"),
    ("auto_destroy", "autoDestroy", "bool", True, "RW"),
    ("emit_close", "emitClose", "bool", True, "RW"),
    ("decode_strings", "decodeStrings", "bool", True, "W"),
    ("default_encoding", "defaultEncoding", "str", "utf8", "RW"),
)


@dataclass(frozen=True, slots=True)
class Option:
    """One row of :data:`ROWS`, with its kind resolved."""

    name: str
    node: str
    kind: Kind
    default: Any
    where: str


OPTIONS: dict[str, Option] = {
    row[0]: Option(row[0], row[1], KINDS[row[2]], row[3], row[4]) for row in ROWS
}
#: Node's camelCase name -> snake_case name (only where they differ).
BY_NODE_NAME: dict[str, str] = {o.node: o.name for o in OPTIONS.values() if o.node != o.name}


#: Where a server's own check differs from the row's (``normalize(..., kinds=SERVER_KINDS)``).
SERVER_KINDS: dict[str, Kind] = {"high_water_mark": KINDS["hwm_server"]}


def names(where: str) -> frozenset[str]:
    """The options taken by any of the entry points ``where`` (letters of the module docstring)."""
    return frozenset(o.name for o in OPTIONS.values() if any(w in o.where for w in where))


def default(name: str) -> Any:
    """The table's default for ``name``."""
    return OPTIONS[name].default


def handshake_timeout(value: Any) -> float:
    """The handshake timeout, in seconds, that ``handshake_timeout=value`` asks for, as Node's
    ``tls.Server`` reads ``handshakeTimeout`` (``options.handshakeTimeout || 120000``, the timer
    armed when that is ``> 0``): ``None`` (not given) and ``0`` are the default, 120 s; a
    negative number is returned as it is and means no handshake timeout."""
    return float(value or OPTIONS["handshake_timeout"].default)


def check(name: str, value: Any, label: str) -> Any:
    """Check ``value`` for option ``name`` (``label`` as the caller spelled it, for messages);
    return the value to use. ``None`` (not given) and options outside the table pass."""
    if value is None:
        return None
    opt = OPTIONS.get(name)
    if opt is None:
        return value
    return opt.kind.check(value, label)
