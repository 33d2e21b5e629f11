"""Option names, validation and the settings each option leaves on the SSL_CTX."""

from __future__ import annotations

import warnings

import pytest

import nodetls as tls
from nodetls._context import (
    CONTEXT_OPTIONS,
    DEFAULT_CIPHERS,
    DEFAULT_ECDH_CURVE,
    DEFAULT_MAX_VERSION,
    DEFAULT_MIN_VERSION,
    SecureContext,
    SecurityWarning,
    create_secure_context,
    process_ciphers,
)
from nodetls._openssl import constants as C
from nodetls._openssl import ffi, lib
from nodetls.errors import (
    ContextOptionError,
    InvalidArgTypeError,
    InvalidArgValueError,
    InvalidProtocolVersionError,
    TLSError,
)

from .conftest import DH512, DH1024, DH2048

NODE_NAMES = {
    "key": "key", "cert": "cert", "ca": "ca", "passphrase": "passphrase", "pfx": "pfx",
    "crl": "crl", "ciphers": "ciphers", "ecdh_curve": "ecdhCurve", "dhparam": "dhparam",
    "honor_cipher_order": "honorCipherOrder", "min_version": "minVersion",
    "max_version": "maxVersion", "secure_options": "secureOptions",
    "session_id_context": "sessionIdContext", "sigalgs": "sigalgs", "ticket_keys": "ticketKeys",
    "session_timeout": "sessionTimeout",
    # (beyond the contract's list: Node v20's since v20.18, docs/tls.md)
    "allow_partial_trust_chain": "allowPartialTrustChain",
}


def valid_values(pki) -> dict:
    return {
        "key": pki.rsa_key_encrypted, "cert": pki.rsa_chain, "ca": pki.root,
        "passphrase": "secret", "pfx": pki.pfx, "crl": pki.crl_root, "ciphers": DEFAULT_CIPHERS,
        "ecdh_curve": "P-256", "dhparam": DH2048, "honor_cipher_order": True,
        "min_version": "TLSv1.2", "max_version": "TLSv1.3", "secure_options": C.SSL_OP_NO_TICKET,
        "session_id_context": "sid", "sigalgs": "ECDSA+SHA256:RSA-PSS+SHA256:RSA+SHA256",
        "ticket_keys": bytes(range(48)), "session_timeout": 60, "allow_partial_trust_chain": True,
    }


def ctx_options(ctx: SecureContext) -> int:
    return lib.SSL_CTX_get_options(ctx.ctx)


def cipher_names(ctx: SecureContext) -> list[str]:
    ssl = lib.SSL_new(ctx.ctx)
    try:
        stack = lib.SSL_get_ciphers(ssl)
        return [
            ffi.string(lib.SSL_CIPHER_get_name(
                ffi.cast("SSL_CIPHER *", lib.OPENSSL_sk_value(stack, i)))).decode()
            for i in range(lib.OPENSSL_sk_num(stack))
        ]
    finally:
        lib.SSL_free(ssl)


def test_the_option_set_is_api_md():
    assert set(NODE_NAMES) == CONTEXT_OPTIONS


@pytest.mark.parametrize("snake", sorted(NODE_NAMES))
def test_each_option_is_accepted_under_both_names(ctx_pki, snake):
    """Every option works under its snake_case and its Node name, as keyword or dict entry."""
    value = valid_values(ctx_pki)[snake]
    extra = {}
    if snake == "key":
        extra = {"cert": ctx_pki.rsa_chain, "passphrase": "secret"}
    elif snake in ("cert", "passphrase"):
        extra = {"key": ctx_pki.rsa_key_encrypted, "cert": ctx_pki.rsa_chain, "passphrase": "secret"}
    elif snake == "pfx":
        extra = {"passphrase": "pfxpass"}
    for name in {snake, NODE_NAMES[snake]}:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            a = SecureContext(**{**extra, name: value})
            b = SecureContext({**extra, name: value})
        assert a.options[snake] is value and b.options[snake] is value
        a.close()
        b.close()


def test_a_partial_trust_chain_never_touches_the_shared_root_store():
    """``allow_partial_trust_chain`` without ``ca``: the flag goes on a private copy of the
    default roots (Node's GetCertStoreOwnedByThisSecureContext), never on the store every
    other context shares."""
    a = SecureContext(allow_partial_trust_chain=True)
    b = SecureContext()
    try:
        assert not a.cert_store_shared and b.cert_store_shared
    finally:
        a.close()
        b.close()


def test_all_options_together(ctx_pki):
    values = valid_values(ctx_pki)
    values.pop("pfx")  # an RSA pfx would replace the RSA cert: both are fine, one is enough
    ctx = create_secure_context(values)
    assert ctx.has_cert and ctx.session_timeout == 60
    assert ctx.get_ticket_keys() == bytes(range(48))


def test_unknown_option_names_the_closest():
    with pytest.raises(TypeError, match="ecdhCurves.*did you mean 'ecdh_curve'") as info:
        SecureContext(ecdhCurves="P-256")
    assert info.value.code == "ERR_INVALID_ARG_TYPE"
    with pytest.raises(TypeError, match="'sesion_timeout'.*'session_timeout'"):
        SecureContext({"sesion_timeout": 5})


@pytest.mark.parametrize("name, says", [
    ("secureProtocol", "min_version/max_version"),
    ("secure_protocol", "min_version/max_version"),
    ("privateKeyEngine", "engines are not supported"),
    ("clientCertEngine", "engines are not supported"),
])
def test_node_options_left_out_say_what_to_use(name, says):
    # a typo hint ("did you mean 'secure_options'?") would send a Node user the wrong way
    with pytest.raises(TypeError, match=says) as info:
        SecureContext({name: "TLSv1_2_method"})
    assert info.value.code == "ERR_INVALID_ARG_TYPE"
    assert "did you mean" not in str(info.value)


def test_options_must_be_a_mapping():
    with pytest.raises(TypeError):
        SecureContext(["ca"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("options", "name"),
    [
        ({"ca": 5}, "options.ca"), ({"ca": [b"x", 5]}, "options.ca"), ({"cert": 5}, "options.cert"),
        ({"key": 5}, "options.key"), ({"key": [{"passphrase": "x"}]}, "options.key"),
        ({"passphrase": 5}, "options.passphrase"), ({"pfx": 5}, "options.pfx"),
        ({"crl": 5}, "options.crl"), ({"ciphers": 5}, "options.ciphers"),
        ({"ecdh_curve": 5}, "options.ecdh_curve"), ({"dhparam": 5}, "options.dhparam"),
        ({"sigalgs": 5}, "options.sigalgs"), ({"secure_options": "1"}, "options.secure_options"),
        ({"secure_options": True}, "options.secure_options"),
        ({"session_id_context": 5}, "options.session_id_context"),
        ({"ticket_keys": "x" * 48}, "options.ticket_keys"),
        ({"ticket_keys": [0] * 48}, "options.ticket_keys"),
        ({"session_timeout": "5"}, "options.session_timeout"),
    ],
)
def test_type_errors_name_the_option(options, name):
    with pytest.raises(TypeError) as info:
        SecureContext(options)
    assert isinstance(info.value, InvalidArgTypeError)
    assert info.value.code == "ERR_INVALID_ARG_TYPE"
    assert name in str(info.value)


@pytest.mark.parametrize(
    ("options", "name", "code"),
    [
        ({"ticket_keys": b""}, "options.ticket_keys", "ERR_INVALID_ARG_VALUE"),
        ({"ticket_keys": bytes(47)}, "options.ticket_keys", "ERR_INVALID_ARG_VALUE"),
        ({"ticket_keys": bytes(95)}, "options.ticket_keys", "ERR_INVALID_ARG_VALUE"),
        ({"session_timeout": -1}, "options.session_timeout", "ERR_OUT_OF_RANGE"),
        ({"session_timeout": 2**31}, "options.session_timeout", "ERR_OUT_OF_RANGE"),
        ({"session_timeout": 1.5}, "options.session_timeout", "ERR_OUT_OF_RANGE"),  # as Node
        ({"sessionTimeout": -1}, "options.sessionTimeout", "ERR_OUT_OF_RANGE"),
        ({"secure_options": 2**64}, "options.secure_options", "ERR_OUT_OF_RANGE"),
        ({"sessionIdContext": b"x" * 33}, "options.sessionIdContext", "ERR_INVALID_ARG_VALUE"),
        ({"ticketKeys": bytes(47)}, "options.ticketKeys", "ERR_INVALID_ARG_VALUE"),
        ({"session_id_context": "x" * 33}, "options.session_id_context", "ERR_INVALID_ARG_VALUE"),
        ({"sigalgs": ""}, "options.sigalgs", "ERR_INVALID_ARG_VALUE"),
        ({"ciphers": ":"}, "options.ciphers", "ERR_INVALID_ARG_VALUE"),
        ({"secure_options": -1}, "options.secure_options", "ERR_OUT_OF_RANGE"),
        ({"dhparam": DH512}, "options.dhparam", "ERR_INVALID_ARG_VALUE"),
        ({"ciphers": "NOPE-CIPHER"}, "options.ciphers", "ERR_SSL_NO_CIPHER_MATCH"),
        ({"ciphers": "TLS_NOPE"}, "options.ciphers", "ERR_SSL_NO_CIPHER_MATCH"),
        ({"ecdh_curve": "P-256:nope"}, "options.ecdh_curve", "ERR_CRYPTO_OPERATION_FAILED"),
        ({"sigalgs": "nope"}, "options.sigalgs", "ERR_CRYPTO_OPERATION_FAILED"),
    ],
)
def test_value_errors_name_the_option(options, name, code):
    with pytest.raises(ValueError) as info:
        SecureContext(options)
    assert info.value.code == code
    assert name in str(info.value)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"min_version": "TLSv9"}, '"TLSv9" is not a valid minimum TLS protocol version'),
        ({"max_version": "SSLv3"}, '"SSLv3" is not a valid maximum TLS protocol version'),
        ({"minVersion": 5}, "5 is not a valid minimum TLS protocol version"),
        ({"minVersion": b"TLSv1.2"}, "b'TLSv1.2' is not a valid minimum TLS protocol version"),
    ],
)
def test_invalid_protocol_versions(options, message):
    """Node's ERR_TLS_INVALID_PROTOCOL_VERSION, with Node's message (a TypeError in Node)."""
    with pytest.raises(InvalidProtocolVersionError) as info:
        SecureContext(options)
    assert info.value.code == "ERR_TLS_INVALID_PROTOCOL_VERSION"
    assert str(info.value) == message
    assert isinstance(info.value, TypeError) and isinstance(info.value, ValueError)


@pytest.mark.parametrize("name", ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"])
def test_protocol_versions(name):
    ctx = SecureContext(min_version=name, max_version="TLSv1.3")
    assert ctx.min_version == C.VERSION_NUMBERS[name]
    assert ctx.max_version == C.TLS1_3_VERSION
    ctx = SecureContext(min_version="TLSv1", max_version=name)
    assert ctx.max_version == C.VERSION_NUMBERS[name]


def test_defaults():
    assert DEFAULT_MIN_VERSION == "TLSv1.2" and DEFAULT_MAX_VERSION == "TLSv1.3"
    assert DEFAULT_ECDH_CURVE == "X25519:P-256:P-384"
    ctx = SecureContext()
    assert (ctx.min_version, ctx.max_version) == (C.TLS1_2_VERSION, C.TLS1_3_VERSION)
    assert ctx.session_timeout == 300  # set for real (Node leaves OpenSSL's 7200)
    assert not ctx.has_cert and ctx.cert_chain_der == [] and ctx.ca_der == []
    assert ctx.options == {}


def test_default_ciphers_are_nodes_tls13_suites_then_fs_aead():
    assert DEFAULT_CIPHERS == (
        "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:"
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
        "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
        "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
        "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305"
    )
    # OpenSSL lists the TLS 1.3 suites first, then the TLS 1.2 list, each in the given order.
    assert cipher_names(SecureContext()) == DEFAULT_CIPHERS.split(":")


def test_ciphers_are_split_like_node():
    assert process_ciphers("TLS_AES_128_GCM_SHA256:ECDHE-RSA-AES128-GCM-SHA256::") == (
        "ECDHE-RSA-AES128-GCM-SHA256", "TLS_AES_128_GCM_SHA256"
    )
    ctx = SecureContext(ciphers="ECDHE-RSA-AES128-GCM-SHA256:TLS_AES_128_GCM_SHA256")
    assert cipher_names(ctx) == ["TLS_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256"]
    assert ctx.min_version == C.TLS1_2_VERSION


def test_tls13_only_ciphers_raise_the_minimum_version():
    ctx = SecureContext(ciphers="TLS_AES_128_GCM_SHA256")
    assert cipher_names(ctx) == ["TLS_AES_128_GCM_SHA256"]
    assert ctx.min_version == C.TLS1_3_VERSION
    # Not when TLS 1.3 is not allowed anyway (Node checks max > 1.2 too).
    ctx = SecureContext(ciphers="TLS_AES_128_GCM_SHA256", max_version="TLSv1.2")
    assert ctx.min_version == C.TLS1_2_VERSION


def test_tls12_only_ciphers_keep_openssl_tls13_suites():
    """As in Node: without TLS_* names the TLS 1.3 suites stay OpenSSL's defaults."""
    names = cipher_names(SecureContext(ciphers="ECDHE-RSA-AES128-GCM-SHA256"))
    assert names[-1] == "ECDHE-RSA-AES128-GCM-SHA256"
    assert all(n.startswith("TLS_") for n in names[:-1]) and names[:-1]


def test_empty_ciphers_mean_the_default():
    assert cipher_names(SecureContext(ciphers="")) == DEFAULT_CIPHERS.split(":")


def test_default_ciphers_follow_the_public_module(monkeypatch):
    """Like ``tls.DEFAULT_CIPHERS`` in Node, the public module's value is read at creation."""
    import types

    fake = types.ModuleType("nodetls")
    fake.DEFAULT_CIPHERS = "TLS_AES_128_GCM_SHA256:ECDHE-ECDSA-AES128-GCM-SHA256"
    monkeypatch.setitem(__import__("sys").modules, "nodetls", fake)
    assert cipher_names(SecureContext()) == fake.DEFAULT_CIPHERS.split(":")


def test_base_options_modes_and_cache():
    ctx = SecureContext()
    opts = ctx_options(ctx)
    assert opts & C.SSL_OP_NO_COMPRESSION and opts & C.SSL_OP_NO_SSLv3
    assert not opts & C.SSL_OP_NO_RENEGOTIATION  # the tls layer decides
    assert not opts & C.SSL_OP_CIPHER_SERVER_PREFERENCE
    mode = lib.SSL_CTX_ctrl(ctx.ctx, C.SSL_CTRL_MODE, 0, ffi.NULL)
    for bit in (C.SSL_MODE_RELEASE_BUFFERS, C.SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER):
        assert mode & bit
    # One SSL_write_ex encrypts a whole buffer into the memory BIO: no per-record loop.
    assert not mode & C.SSL_MODE_ENABLE_PARTIAL_WRITE
    cache = lib.SSL_CTX_ctrl(ctx.ctx, C.SSL_CTRL_GET_SESS_CACHE_MODE, 0, ffi.NULL)
    assert cache == (C.SSL_SESS_CACHE_CLIENT | C.SSL_SESS_CACHE_SERVER
                     | C.SSL_SESS_CACHE_NO_INTERNAL | C.SSL_SESS_CACHE_NO_AUTO_CLEAR)


def test_honor_cipher_order_and_secure_options():
    ctx = SecureContext(honor_cipher_order=True, secure_options=C.SSL_OP_NO_TICKET)
    assert ctx_options(ctx) & C.SSL_OP_CIPHER_SERVER_PREFERENCE
    assert ctx_options(ctx) & C.SSL_OP_NO_TICKET


def test_session_timeout_and_id_context():
    ctx = SecureContext(session_timeout=0, session_id_context=b"x" * 32)
    assert ctx.session_timeout == 0
    assert SecureContext(sessionTimeout=86400).session_timeout == 86400


def test_ecdh_curve_values():
    SecureContext(ecdh_curve="auto")
    SecureContext(ecdhCurve="P-521:X448")


def test_dhparam_values():
    SecureContext(dhparam="auto")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SecureContext(dhparam=DH2048)
        SecureContext(dhparam=DH2048.decode())
    # Warned as in Node; OpenSSL itself refuses 1024-bit DH from security level 2 (the system
    # default on Debian/Ubuntu; Node's bundled OpenSSL runs at level 1).
    level = lib.SSL_CTX_get_security_level(SecureContext().ctx)
    with pytest.warns(SecurityWarning, match="less than 2048 bits"):
        if level >= 2:
            with pytest.raises(ContextOptionError, match="dh key too small"):
                SecureContext(dhparam=DH1024)
        else:
            SecureContext(dhparam=DH1024)
    with pytest.raises(ContextOptionError) as info:
        SecureContext(dhparam="garbage")
    assert "options.dhparam" in str(info.value)


def test_openssl_rejections_are_tls_errors_too():
    with pytest.raises(TLSError) as info:
        SecureContext(ciphers="NOPE")
    assert isinstance(info.value, ContextOptionError) and isinstance(info.value, ValueError)
    assert info.value.option == "options.ciphers"
    assert info.value.library == "SSL routines" and info.value.reason == "no cipher match"
    assert info.value.openssl_errors


def test_falsy_material_is_absent(ctx_pki):
    """Node treats '' and null ``ca``/``cert``/``key``/``pfx`` as not given, and an empty list as
    a list of nothing."""
    ctx = SecureContext(ca="", cert=None, key="", pfx=None, passphrase=None)
    assert ctx.cert_store_shared and not ctx.has_cert
    ctx = SecureContext(cert=[], key=[], pfx=[])
    assert not ctx.has_cert


@pytest.mark.parametrize("empty", [b"", bytearray(), memoryview(b"")])
def test_empty_bytes_material_is_present(ctx_pki, empty):
    """An empty bytes value is Node's empty ``Buffer``, which is truthy: loaded, and refused at
    creation with Node's code (before: taken as "not given", so ``create_server(key=b'',
    cert=b'')`` made a server that failed every handshake)."""
    cases = [
        ({"cert": empty, "key": empty}, "options.cert", "ERR_OSSL_PEM_NO_START_LINE"),
        ({"cert": ctx_pki.rsa_chain, "key": empty}, "options.key", "ERR_OSSL_UNSUPPORTED"),
        ({"key": ctx_pki.rsa_key, "cert": empty}, "options.cert", "ERR_OSSL_PEM_NO_START_LINE"),
        ({"cert": [empty]}, "options.cert", "ERR_OSSL_PEM_NO_START_LINE"),
        ({"ca": empty}, "options.ca", "ERR_OSSL_PEM_NO_START_LINE"),  # Node: trusts nothing
        ({"pfx": empty}, "options.pfx", None),  # Node: "not enough data", no code
        ({"crl": empty}, "options.crl", "ERR_CRYPTO_OPERATION_FAILED"),
    ]
    for options, option, code in cases:
        for make in (SecureContext, tls.create_server):
            with pytest.raises(ContextOptionError) as info:
                make(options)
            assert info.value.option == option, options
            if code is not None:
                assert info.value.code == code, options


def test_bad_value_in_later_option_frees_the_context(ctx_pki):
    with pytest.raises(InvalidArgValueError):
        SecureContext(cert=ctx_pki.rsa_chain, key=ctx_pki.rsa_key, session_timeout=-5)
