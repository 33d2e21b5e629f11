"""Validate secure-context options and apply them in Node's order.

Mirrors ``createSecureContext`` (``lib/_tls_common.js``) and ``configSecureContext``
(``lib/internal/tls/secure-context.js``) of Node v20:

1. protocol range (``min_version``/``max_version``, ``ERR_TLS_INVALID_PROTOCOL_VERSION``) and
   ``secure_options`` (+ ``SSL_OP_CIPHER_SERVER_PREFERENCE`` for ``honor_cipher_order``);
2. ``ciphers`` (split by :func:`~.ciphers.process_ciphers`; an empty TLS 1.2 list raises the
   minimum version to TLS 1.3);
3. ``ca`` -- or the default roots -- *before* the certificates ("Add CA before the cert"),
   then ``allow_partial_trust_chain``;
4. ``cert``, then ``key`` ("Set the key after the cert");
5. ``sigalgs``, ``ecdh_curve``, ``dhparam``, ``crl``, ``session_id_context``, ``pfx``,
   ``ticket_keys``, ``session_timeout``.

With two bad options, the error is the first one's in this order, as in Node.

The options arrive checked: :func:`nodetls._options.normalize` ran every value through the option
table (:mod:`nodetls._option_table`: types, ranges, lengths, ``TypeError``/``ValueError`` with
Node's codes, naming the option as the caller spelled it), so this module only checks what needs
the values together or OpenSSL: protocol version names (``ERR_TLS_INVALID_PROTOCOL_VERSION``), an
empty ``sigalgs``, cipher strings, and whatever OpenSSL rejects
(:class:`~nodetls.errors.ContextOptionError`, naming the option).

Where nodetls differs: ``session_timeout`` defaults to 300 s and is always set (Node leaves
OpenSSL's 7200 s); ``ticket_keys`` takes n*48 bytes; a ``ca``/``dhparam`` that holds no PEM, a key
without its certificate and a certificate without its key raise (Node ignores them silently, and
a server so configured fails every handshake).

Defaults (``DEFAULT_CIPHERS``, ``DEFAULT_ECDH_CURVE``, ``DEFAULT_MIN_VERSION``,
``DEFAULT_MAX_VERSION``) are read when a context is created, from the public ``nodetls`` module
when it is loaded (so assigning ``nodetls.DEFAULT_CIPHERS`` works as assigning
``tls.DEFAULT_CIPHERS`` does in Node), else from :mod:`.ciphers`.
"""

from __future__ import annotations

import json
import re
import sys
from typing import TYPE_CHECKING, Any

from .._openssl import constants as C
from .._option_table import SecretBytes
from ..errors import InvalidArgValueError, InvalidProtocolVersionError
from . import ciphers as _ciphers
from . import ticket_keys as _tk

if TYPE_CHECKING:
    from .secure_context import SecureContext

__all__ = ["config_secure_context", "DEFAULT_SESSION_TIMEOUT", "to_version"]

DEFAULT_SESSION_TIMEOUT = 300


# ---------------------------------------------------------------------------- helpers


def _default(name: str) -> str:
    """``name`` as the user may have reassigned it on the public module, else ours."""
    public = sys.modules.get("nodetls")
    value = getattr(public, name, None) if public is not None else None
    if isinstance(value, str) and value:
        return value
    return str(getattr(_ciphers, name))


def _absent(value: Any) -> bool:
    """Node's falsy test for ``ca``/``cert``/``key``/``pfx``: ``None`` or ``''``.

    An empty *bytes* value is present, as Node's empty ``Buffer`` is (an object, so truthy): it
    fails to load (``key=b''`` is ``ERR_OSSL_UNSUPPORTED``, ``cert=b''``
    ``ERR_OSSL_PEM_NO_START_LINE``). An empty *list* is present too: ``ca=[]`` trusts nothing,
    ``key=[]`` loads nothing, as in Node. (``False``, falsy in Node too, never gets here: the
    option table refuses a bool.)"""
    return value is None or (isinstance(value, str) and not value)


def _pem_bytes(value: str | bytes | bytearray | memoryview) -> bytes:
    """A PEM/DER input, already type-checked by the option table: str (UTF-8) or bytes-like."""
    return value.encode() if isinstance(value, str) else bytes(value)


def _items(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _secret(value: str | bytes | bytearray | memoryview, copies: list[SecretBytes]) -> Any:
    """Key material (a key's PEM/DER, a PKCS#12 bundle) for OpenSSL to read: the caller's bytes
    in place (a ``memoryview``: no copy, and nothing that prints it), or a ``str`` encoded into
    a :class:`SecretBytes` added to ``copies`` (wiped once read)."""
    if isinstance(value, str):
        copy = SecretBytes(value, "utf-8")
        copies.append(copy)
        return copy
    view = memoryview(value)
    return view.cast("B") if view.c_contiguous else _copied(view, copies)


def _copied(value: bytes | bytearray | memoryview, copies: list[SecretBytes]) -> SecretBytes:
    copy = SecretBytes(value)
    copies.append(copy)
    return copy


def _passphrase(value: str | bytes | bytearray | memoryview | None,
                copies: list[SecretBytes]) -> SecretBytes | None:
    """Our copy of a passphrase (wiped once used), ``None`` when none is given."""
    if value is None:
        return None
    if isinstance(value, str):
        return _secret(value, copies)
    return _copied(value, copies)


def _wipe(copies: list[SecretBytes]) -> None:
    for copy in copies:
        copy.wipe()
    copies.clear()


def to_version(which: str, value: Any, default: str) -> int:
    """Node's ``toV``: ``'TLSv1'``..``'TLSv1.3'`` -> OpenSSL's number; anything else is
    ``ERR_TLS_INVALID_PROTOCOL_VERSION`` ("\\"TLSv9\\" is not a valid minimum TLS protocol
    version")."""
    if value is None:
        value = default
    number = C.VERSION_NUMBERS.get(value) if isinstance(value, str) else None
    if number is None:
        try:
            shown = json.dumps(value)
        except (TypeError, ValueError):
            shown = repr(value)
        raise InvalidProtocolVersionError(
            f"{shown} is not a valid {which} TLS protocol version",
            "ERR_TLS_INVALID_PROTOCOL_VERSION",
        )
    return number


def _secure_options(opts: dict[str, Any]) -> int:
    value: int = opts.get("secure_options") or 0
    if opts.get("honor_cipher_order"):
        value |= C.SSL_OP_CIPHER_SERVER_PREFERENCE
    return value


# ---------------------------------------------------------------------------- the orchestrator


#: OpenSSL's security level unless the cipher string names one: 2 (keys of 2048 bits or more
#: for RSA and DH, 224 for ECC, no SHA-1 signatures; from OpenSSL 3.2 on, no 64-bit-tag suites
#: such as TLS_AES_128_CCM_8_SHA256). OpenSSL 3.5's default, set whatever OpenSSL is linked;
#: Node v20 (OpenSSL 3.0) runs at 1.
DEFAULT_SECURITY_LEVEL = 2
_SECLEVEL = re.compile(r"@SECLEVEL=([0-5])(?![0-9])")


def security_level(cipher_string: str) -> int:
    """The level a cipher string's last ``@SECLEVEL=n`` asks for, else
    :data:`DEFAULT_SECURITY_LEVEL`."""
    found = _SECLEVEL.findall(cipher_string)
    return int(found[-1]) if found else DEFAULT_SECURITY_LEVEL


def config_secure_context(context: SecureContext, opts: dict[str, Any],
                          name: str = "options") -> None:
    """Apply the normalised options ``opts`` to ``context`` in Node's order (module docstring).

    Keys, PKCS#12 bundles and passphrases are read in place, or from copies of ours
    (:class:`SecretBytes`) wiped once the context is configured, also when it fails; no local
    of these frames names the caller's values (``opts`` is an :class:`Options`, whose ``repr()``
    hides them), so a traceback shown with its locals shows no key."""
    copies: list[SecretBytes] = []
    try:
        _configure(context, opts, name, copies)
    finally:
        _wipe(copies)


def _load_secrets(context: SecureContext, value: Any, field: str, opts: dict[str, Any],
                  option: str, copies: list[SecretBytes]) -> None:
    """Load ``key`` (``field`` ``'pem'``) or ``pfx`` (``'buf'``) items, each with its own
    passphrase or the ``passphrase`` option."""
    if _absent(value):
        return
    shared = _passphrase(opts.get("passphrase"), copies)
    loads: list[tuple[Any, SecretBytes | None]] = []
    for item in _items(value):
        pass_ = shared
        if isinstance(item, dict):  # the table checked it has ``field``
            # (a key's passphrase counts when not None; a bundle's when truthy, as Node)
            own = item.get("passphrase")
            if own is not None if field == "pem" else own:
                pass_ = _passphrase(own, copies)
            item = item[field]
        loads.append((_secret(item, copies), pass_))
    item = value = None  # (the caller's values: not in this frame's locals while loading)
    try:
        for data, pass_ in loads:
            if field == "pem":
                context._set_key(data, pass_, option)
            else:
                context._load_pkcs12(data, pass_, option)
    finally:
        for data, _ in loads:
            if isinstance(data, memoryview):
                data.release()


def _configure(context: SecureContext, opts: dict[str, Any], name: str,
               copies: list[SecretBytes]) -> None:
    min_v = to_version("minimum", opts.get("min_version"), _default("DEFAULT_MIN_VERSION"))
    max_v = to_version("maximum", opts.get("max_version"), _default("DEFAULT_MAX_VERSION"))
    context._init(min_v, max_v, _secure_options(opts))
    # The security level before any certificate or key is loaded (OpenSSL checks their sizes
    # against it then): the cipher string's @SECLEVEL, else ours (see security_level).
    ciphers = opts.get("ciphers")
    context._set_security_level(security_level(ciphers or _default("DEFAULT_CIPHERS")))

    # The ciphers first, as Node's configSecureContext (with two bad options, theirs is named).
    split = _ciphers.process_ciphers(ciphers or _default("DEFAULT_CIPHERS"), f"{name}.ciphers")
    context._set_ciphers(split, f"{name}.ciphers")
    if not split.cipher_list and min_v < C.TLS1_3_VERSION and max_v > C.TLS1_2_VERSION:
        context._bump_min_version_to_tls13()

    # Add CA before the cert (Node: "to be able to load cert's issuer").
    ca = opts.get("ca")
    if _absent(ca):
        context._add_root_certs()
    else:
        for data in [_pem_bytes(item) for item in _items(ca)]:
            context._add_ca_cert(data, f"{name}.ca")
    if opts.get("allow_partial_trust_chain"):
        context._set_allow_partial_trust_chain()

    cert = opts.get("cert")
    if not _absent(cert):
        for data in [_pem_bytes(item) for item in _items(cert)]:
            context._set_cert(data, f"{name}.cert")

    # Set the key after the cert (OpenSSL drops a key that does not match a later cert).
    _load_secrets(context, opts.get("key"), "pem", opts, f"{name}.key", copies)

    sigalgs = opts.get("sigalgs")
    if sigalgs is not None:
        if sigalgs == "":
            raise InvalidArgValueError(
                f"The property '{name}.sigalgs' is invalid. Received ''", "ERR_INVALID_ARG_VALUE"
            )
        context._set_sigalgs(sigalgs, f"{name}.sigalgs")

    curve = opts.get("ecdh_curve")
    curve = _default("DEFAULT_ECDH_CURVE") if curve is None else curve
    context._set_ecdh_curve(curve, f"{name}.ecdh_curve")

    dhparam = opts.get("dhparam")
    if dhparam is not None:
        if dhparam != "auto":
            dhparam = _pem_bytes(dhparam)
        context._set_dh_param(dhparam, f"{name}.dhparam")

    crl = opts.get("crl")
    if crl is not None:
        for data in [_pem_bytes(item) for item in _items(crl)]:
            context._add_crl(data, f"{name}.crl")

    sid = opts.get("session_id_context")
    if sid is not None:  # the table checked its length (at most 32 bytes)
        context._set_session_id_context(_pem_bytes(sid), f"{name}.session_id_context")

    _load_secrets(context, opts.get("pfx"), "buf", opts, f"{name}.pfx", copies)

    # Every certificate needs its key; checked once everything (cert, key, pfx) is loaded.
    context._check_certificates_have_keys()

    if opts.get("ticket_keys") is not None:  # the table checked the length (n*48 bytes)
        # (no bytes copy, see ticket_keys; no local naming them)
        context._use_ticket_keys(_tk.KeySet.copy_of(opts["ticket_keys"]))

    timeout = opts.get("session_timeout")  # the table checked the range (0..2**31-1)
    context._set_session_timeout(DEFAULT_SESSION_TIMEOUT if timeout is None else timeout)
