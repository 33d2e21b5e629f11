"""Divergences from Node v20 the bad-arguments differential found (``tests/options``), fixed.

Node's behaviour for each was seen by running the same call in ``node`` (the differential's
``runner.js``; the seed that found it is named).
"""

from __future__ import annotations

import math
from typing import Any

import pytest

import nodetls as tls
from nodetls import net


def _raises(exc: type[BaseException], code: str, make: Any) -> BaseException:
    with pytest.raises(exc) as info:
        obj = make()
        obj.destroy()
    assert getattr(info.value, "code", None) == code, info.value
    return info.value


@pytest.mark.parametrize("value", [lambda: None, 5, {"ca": b""}, "ctx"])
async def test_secure_context_not_a_context(value: Any) -> None:
    # Node: ERR_TLS_INVALID_CONTEXT "context must be a SecureContext" (a TypeError), from
    # tls.connect and new TLSSocket (seeds 11, 2349). Was ERR_INVALID_ARG_TYPE.
    _raises(TypeError, "ERR_TLS_INVALID_CONTEXT",
            lambda: tls.connect({"port": 1, "host": "127.0.0.1", "secure_context": value}))
    _raises(TypeError, "ERR_TLS_INVALID_CONTEXT",
            lambda: tls.TLSSocket(None, {"secureContext": value}))


@pytest.mark.parametrize("value", [0, False, ""])
async def test_a_falsy_secure_context_is_not_given(value: Any) -> None:
    # Node: `options.secureContext || createSecureContext(options)` (seed 1924).
    tls.connect({"port": 1, "host": "127.0.0.1", "secure_context": value}).destroy()


@pytest.mark.parametrize("value", [5, True, [], {}, b"ab", math.inf])
async def test_socket_encoding_not_a_str(value: Any) -> None:
    # Node: new net.Socket({encoding: 5}) -> setEncoding(5): ERR_UNKNOWN_ENCODING "Unknown
    # encoding: 5" (seeds 573, 694, 1369). Was ERR_INVALID_ARG_TYPE.
    err = _raises(TypeError, "ERR_UNKNOWN_ENCODING", lambda: net.Socket({"encoding": value}))
    assert str(err).startswith("Unknown encoding: ")


@pytest.mark.parametrize("value", [0, False, "", math.nan])
async def test_a_falsy_socket_encoding_is_not_given(value: Any) -> None:
    # Node: `if (options.encoding)`.
    net.Socket({"encoding": value}).destroy()


@pytest.mark.parametrize("value", [1, True, [1], b"", b"ab", math.inf])
async def test_local_address_not_a_str(value: Any) -> None:
    # Node: `if (localAddress && !isIP(localAddress))`: ERR_INVALID_IP_ADDRESS, also for an
    # empty Buffer, which is truthy (seeds 650, 692, 949). Was ERR_INVALID_ARG_TYPE.
    _raises(TypeError, "ERR_INVALID_IP_ADDRESS",
            lambda: net.connect({"port": 1, "host": "127.0.0.1", "local_address": value}))
    _raises(TypeError, "ERR_INVALID_IP_ADDRESS",
            lambda: tls.connect({"port": 1, "host": "127.0.0.1", "localAddress": value}))


@pytest.mark.parametrize("value", [0, False, math.nan])
async def test_a_falsy_local_address_or_port_is_not_given(value: Any) -> None:
    # Node: `if (localAddress ...)`, `if (localPort)`: NaN is falsy too (seed 11629).
    net.connect({"port": 1, "host": "127.0.0.1", "local_address": value}).destroy()
    net.connect({"port": 1, "host": "127.0.0.1", "local_port": value}).destroy()


@pytest.mark.parametrize("value", [False, 0])
async def test_crl_false(value: Any) -> None:
    # Node: crl: false -> ERR_INVALID_ARG_TYPE naming options.crl (seed 395); was ignored.
    err = _raises(TypeError, "ERR_INVALID_ARG_TYPE",
                  lambda: tls.create_secure_context({"crl": value}))
    assert '"options.crl"' in str(err)


async def test_pfx_false() -> None:
    # Node loads it (ERR_CRYPTO_OPERATION_FAILED "Unable to load PFX certificate", seed 981);
    # here a wrong type, refused before OpenSSL sees it; it was ignored.
    _raises(TypeError, "ERR_INVALID_ARG_TYPE", lambda: tls.create_secure_context({"pfx": False}))


@pytest.mark.parametrize("curve", [" ", "\t", "  "])
async def test_ecdh_curve_of_blanks(curve: str) -> None:
    # Node (OpenSSL 3.0): "Failed to set ECDH curve" (seed 1504); OpenSSL 3.5 takes it as an
    # empty list, which was accepted.
    _raises(ValueError, "ERR_CRYPTO_OPERATION_FAILED",
            lambda: tls.create_secure_context({"ecdh_curve": curve}))


@pytest.mark.parametrize("first", [[], ["a"], b"ab", bytearray()])
async def test_connect_with_a_list_or_bytes(first: Any) -> None:
    # Node's normalizeArgs: an Array or a Buffer is the options object, without port or path:
    # ERR_MISSING_ARGS (seeds 1220, 2053). Was ERR_INVALID_ARG_TYPE for the port.
    _raises(TypeError, "ERR_MISSING_ARGS", lambda: net.connect(first, "127.0.0.1"))


async def test_connect_with_a_lone_function() -> None:
    # Node's normalizeArgs: the first argument is the port, never the callback:
    # ERR_INVALID_ARG_TYPE for options.port. Was ERR_MISSING_ARGS.
    err = _raises(TypeError, "ERR_INVALID_ARG_TYPE", lambda: net.connect(lambda: None))
    assert '"options.port"' in str(err)


async def test_listen_backlog_too_big() -> None:
    # Was an OverflowError from the kernel call, without a code (seed 1218); Node takes the
    # value (libuv clamps it): here refused at the call, an int32 as Node's other counts.
    server = net.create_server()
    with pytest.raises(ValueError) as info:
        server.listen({"port": 0, "host": "127.0.0.1", "backlog": 2**31})
    assert info.value.code == "ERR_OUT_OF_RANGE"  # type: ignore[attr-defined]
    server.close()


@pytest.mark.parametrize("value", [2**53, 2**64 - 1])
async def test_secure_options_beyond_a_safe_integer(value: int) -> None:
    # Node: validateInteger: ERR_OUT_OF_RANGE above 2**53 - 1 (seed 8683); was up to 2**64 - 1.
    _raises(ValueError, "ERR_OUT_OF_RANGE",
            lambda: tls.create_secure_context({"secureOptions": value}))


async def test_handshake_timeout_infinite() -> None:
    # Node's TLSSocket: setTimeout(Infinity): ERR_OUT_OF_RANGE (seed 23723); was accepted.
    _raises(ValueError, "ERR_OUT_OF_RANGE",
            lambda: tls.TLSSocket(None, {"handshake_timeout": math.inf}))
    with pytest.raises(ValueError):
        tls.create_server({"handshakeTimeout": math.inf})


async def test_connect_with_a_lone_function_takes_it_as_the_port() -> None:
    # Node: tls.connect(fn) -> normalizeArgs makes fn options.port (and the callback):
    # ERR_INVALID_ARG_TYPE 'The "options.port" property must be one of type number or string.
    # Received function' (run in node v20). Was ERR_MISSING_ARGS.
    def fn() -> None: ...

    err = _raises(TypeError, "ERR_INVALID_ARG_TYPE", lambda: tls.connect(fn))
    assert '"options.port"' in str(err)
    # (two functions: the same, as in Node; options then a callback: ERR_MISSING_ARGS)
    _raises(TypeError, "ERR_INVALID_ARG_TYPE", lambda: tls.connect(fn, fn))
    _raises(TypeError, "ERR_MISSING_ARGS", lambda: tls.connect({}, fn))


@pytest.mark.parametrize(("value", "seconds"), [
    ({}, 0), ("abc", 0), ([], 0), (None, 0), (math.nan, 0), (math.inf, 0), ("5", 5),
    (" 0x10 ", 16), (True, 1), (1.5, 1), (-1.5, -1), (2**32 + 3, 3)])
async def test_set_keep_alive_reads_any_delay_as_a_number(value: Any, seconds: int) -> None:
    # Node: setKeepAlive(enable, initialDelay) keeps `~~(initialDelay / 1000)`: whatever is not
    # a number is NaN, so 0; never an error (node v20 keeps: {} -> 0, 'abc' -> 0,
    # '5000' -> 5, 1500 -> 1, -5000 -> -5). nodetls's delay is in seconds: ~~value. float()
    # raised a TypeError/ValueError without a code.
    sock = net.Socket()
    try:
        assert sock.set_keep_alive(True, value) is sock
        assert sock._keep_alive == (True, seconds)
    finally:
        sock.destroy()
