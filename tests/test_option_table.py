"""Options are checked when the object is made, from one table (``nodetls._option_table``).

Every option of every entry point: a value of the wrong type is a ``TypeError`` naming the option
as the caller spelled it (``ERR_INVALID_ARG_TYPE``), a value out of range a ``ValueError``, at
creation and not at the first handshake; Node's own creation-time checks give the same codes.
PEM inputs may be ``os.PathLike`` (read from the file); a ``str`` naming a file is refused with a
hint.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

import nodetls as tls
from nodetls import _option_table, net, stream
from nodetls._context import SecureContext

TIMEOUT = 10.0

# Skipped: options that take anything (``server``, ``handle``) and protocol
# versions, whose names the context checks (ERR_TLS_INVALID_PROTOCOL_VERSION, tested there).
_UNCHECKED = {"any", "version"}


class _Bad:
    """A value no option accepts."""

    def __repr__(self) -> str:
        return "<bad>"


def _make(letter: str, options: dict[str, Any]) -> Any:
    """Create the object entry point ``letter`` stands for, with ``options``."""
    if letter == "C":
        return SecureContext(options)
    if letter == "S":
        return tls.create_server(options)
    if letter == "K":
        return tls.TLSSocket(None, options)
    if letter == "T":
        return tls.connect({"port": 1, **options})
    if letter == "N":
        return net.Socket(options)
    if letter == "J":
        return net.Socket().connect({"port": 1, **options})
    if letter == "net.connect":
        return net.connect({"port": 1, **options})
    if letter == "V":
        return net.Server(options)
    if letter == "L":
        return net.Server().listen({"port": 0, "host": "127.0.0.1", **options})
    if letter == "R":
        return stream.Readable(options)
    if letter == "W":
        return stream.Writable(options)
    if letter == "D":
        return stream.Duplex(options)
    raise AssertionError(letter)


#: Options for which Node raises a code of its own (checked in tests/options, against node).
_NODE_CODES = {"secure_context": "ERR_TLS_INVALID_CONTEXT", "encoding": "ERR_UNKNOWN_ENCODING",
               "local_address": "ERR_INVALID_IP_ADDRESS"}

_CASES = [(o.name, o.node, letter) for o in _option_table.OPTIONS.values()
          if o.kind not in [_option_table.KINDS[k] for k in _UNCHECKED] for letter in o.where]


@pytest.mark.parametrize(("name", "node", "letter"), _CASES,
                         ids=[f"{letter}-{name}" for name, _, letter in _CASES])
async def test_every_option_is_type_checked_at_creation(name: str, node: str, letter: str) -> None:
    if name == "timeout" and letter in "NJ":
        # Node's Socket() and socket.connect() ignore it unchecked; net.connect() checks it
        letter = "net.connect"
    for spelled in {name, node}:
        with pytest.raises((TypeError, ValueError)) as info:
            _make(letter, {spelled: _Bad()})
        err = info.value
        own = _NODE_CODES.get(name)
        if own is not None:  # Node's own code for this option, and its message
            assert getattr(err, "code", None) == own, err
            continue
        assert getattr(err, "code", None) in ("ERR_INVALID_ARG_TYPE", "ERR_INVALID_ARG_VALUE"), err
        assert f"options.{spelled}" in str(err), err


@pytest.mark.parametrize(("options", "code", "exc"), [
    ({"handshake_timeout": "10"}, "ERR_INVALID_ARG_TYPE", TypeError),
    ({"handshake_timeout": float("nan")}, "ERR_OUT_OF_RANGE", ValueError),
    ({"request_cert": "yes"}, "ERR_INVALID_ARG_TYPE", TypeError),
    ({"alpn_protocols": "h2"}, "ERR_INVALID_ARG_TYPE", TypeError),
    ({"alpn_protocols": ["h2", ""]}, "ERR_INVALID_ARG_VALUE", ValueError),
    ({"alpn_protocols": ["h2", 5]}, "ERR_INVALID_ARG_TYPE", TypeError),
    ({"sni_callback": "cb"}, "ERR_INVALID_ARG_TYPE", TypeError),
    ({"session_timeout": 1.5}, "ERR_OUT_OF_RANGE", ValueError),  # Node: "must be an integer"
    ({"high_water_mark": -1}, "ERR_INVALID_ARG_VALUE", ValueError),  # as Node's streams
])
async def test_server_options_are_checked_at_creation(options: dict[str, Any], code: str,
                                                      exc: type[Exception]) -> None:
    with pytest.raises(exc) as info:
        tls.create_server(options)
    assert info.value.code == code  # type: ignore[attr-defined]
    assert f"options.{next(iter(options))}" in str(info.value)


@pytest.mark.parametrize(("options", "code"), [
    ({"min_dh_size": 0}, "ERR_OUT_OF_RANGE"),
    ({"servername": 5}, "ERR_INVALID_ARG_TYPE"),
    ({"check_server_identity": 5}, "ERR_INVALID_ARG_TYPE"),
    ({"family": 5}, "ERR_INVALID_ARG_VALUE"),
    ({"timeout": "x"}, "ERR_INVALID_ARG_TYPE"),
    ({"session": "abc"}, "ERR_INVALID_ARG_TYPE"),
    ({"secure_context": {"ca": b""}}, "ERR_TLS_INVALID_CONTEXT"),  # as Node
    ({"socket": b"raw"}, "ERR_INVALID_ARG_TYPE"),
])
async def test_connect_options_are_checked_at_creation(options: dict[str, Any], code: str) -> None:
    with pytest.raises((TypeError, ValueError)) as info:
        tls.connect(1, "127.0.0.1", options)
    assert info.value.code == code  # type: ignore[union-attr]


async def test_a_server_with_a_bad_option_never_serves(certs: Any) -> None:
    """Before: ``handshake_timeout='10'`` was accepted and every connection then failed with an
    internal TypeError without a code."""
    with pytest.raises(TypeError, match="handshake_timeout"):
        tls.create_server({"key": certs.server.key_pem, "cert": certs.server.chain_pem,
                           "handshake_timeout": "10"})


NODE_CHECKS = {
    "handshakeTimeout": "tls.createServer({handshakeTimeout: '10'})",
    "sessionTimeout": "tls.createServer({sessionTimeout: 'x'})",
    "key": "tls.createServer({key: 123})",
    "SNICallback": "tls.createServer({SNICallback: 5})",
    "pskCallback": "tls.createServer({pskCallback: 5})",
    "pskIdentityHint": "tls.createServer({pskIdentityHint: 5})",
    "ecdhCurve": "tls.createServer({ecdhCurve: 5})",
    "ciphers": "tls.createServer({ciphers: 5})",
    "keepAliveInitialDelay": "tls.createServer({keepAliveInitialDelay: 'x'})",
    "ticketKeys": "tls.createServer({ticketKeys: 'x'})",
    "family": "tls.connect({port: 1, family: 5})",
}
PY_CHECKS: dict[str, Any] = {
    "handshakeTimeout": lambda: tls.create_server({"handshakeTimeout": "10"}),
    "sessionTimeout": lambda: tls.create_server({"sessionTimeout": "x"}),
    "key": lambda: tls.create_server({"key": 123}),
    "SNICallback": lambda: tls.create_server({"SNICallback": 5}),
    "pskCallback": lambda: tls.create_server({"pskCallback": 5}),
    "pskIdentityHint": lambda: tls.create_server({"pskIdentityHint": 5}),
    "ecdhCurve": lambda: tls.create_server({"ecdhCurve": 5}),
    "ciphers": lambda: tls.create_server({"ciphers": 5}),
    "keepAliveInitialDelay": lambda: tls.create_server({"keepAliveInitialDelay": "x"}),
    "ticketKeys": lambda: tls.create_server({"ticketKeys": "x"}),
    "family": lambda: tls.connect({"port": 1, "family": 5}),
}


async def test_creation_checks_give_nodes_codes(node_bin: str, tmp_path: Path) -> None:
    lines = [
        "const tls = require('tls'); const out = {};",
        *[f"try {{ {expr}; out['{k}'] = null; }} catch (e) {{ out['{k}'] = e.code; }}"
          for k, expr in NODE_CHECKS.items()],
        "console.log(JSON.stringify(out)); process.exit(0);",
    ]
    script = tmp_path / "checks.js"
    script.write_text("\n".join(lines))
    proc = await asyncio.create_subprocess_exec(node_bin, str(script), stdout=subprocess.PIPE)
    out, _ = await asyncio.wait_for(proc.communicate(), TIMEOUT)
    node_codes = json.loads(out)
    ours = {}
    for k, make in PY_CHECKS.items():
        try:
            make()
            ours[k] = None
        except (TypeError, ValueError) as exc:
            ours[k] = getattr(exc, "code", None)
    assert ours == node_codes


# ---------------------------------------------------------------------------- files


async def test_pem_options_accept_paths(certs: Any) -> None:
    server = tls.create_server({"key": certs.server.key_path, "cert": certs.server.chain_path},
                               lambda s: s.end(b"hi"))
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    try:
        sock = tls.connect(server.address()["port"], "127.0.0.1",
                           ca=[certs.root.cert_path], crl=[certs.crl.path, certs.crl.root_path])
        got = []
        sock.on("data", got.append)
        await asyncio.wait_for(sock.wait_closed(), TIMEOUT)
        assert sock.authorized and b"".join(got) == b"hi"
    finally:
        await asyncio.wait_for(server.close(), TIMEOUT)


async def test_key_and_pfx_dicts_accept_paths(certs: Any) -> None:
    ctx = SecureContext(key=[{"pem": certs.encrypted.key_path, "passphrase": certs.passphrase}],
                        cert=certs.encrypted.cert_path)
    assert ctx.ctx is not None
    ctx = SecureContext(pfx=[{"buf": certs.pfx.path, "passphrase": certs.passphrase}])
    assert ctx.ctx is not None


async def test_a_file_name_as_str_gets_a_hint(certs: Any) -> None:
    with pytest.raises(ValueError) as info:
        tls.create_server(key=str(certs.server.key_path), cert=certs.server.chain_pem)
    assert info.value.code == "ERR_INVALID_ARG_VALUE"  # type: ignore[attr-defined]
    assert "options.key" in str(info.value)
    assert "pass the file's contents, or a pathlib.Path" in str(info.value)


async def test_a_missing_file_is_an_error_naming_the_option(tmp_path: Path) -> None:
    with pytest.raises(ValueError) as info:
        tls.connect(1, "127.0.0.1", ca=tmp_path / "missing.pem")
    assert info.value.code == "ERR_INVALID_ARG_VALUE"  # type: ignore[attr-defined]
    assert "options.ca" in str(info.value) and "cannot be read" in str(info.value)


# ---------------------------------------------------------------------------- the table


def test_the_table_is_consistent() -> None:
    rows = _option_table.ROWS
    assert len({r[0] for r in rows}) == len(rows)  # one row per option
    assert len({r[1] for r in rows}) == len(rows)  # Node names distinct
    for name, node, kind, _default, where in rows:
        assert kind in _option_table.KINDS and where and set(where) <= set("CSKTNJVLRWD"), name
        assert tls._options.to_snake(node) == name  # type: ignore[attr-defined]
        assert _option_table.KINDS[kind].annotation
    # Each entry point's accepted names come from the table.
    assert tls.Server is not None
    from nodetls._context.secure_context import CONTEXT_OPTIONS
    from nodetls._tls.connect import CONNECT_OPTIONS
    from nodetls._tls.server import SERVER_OPTIONS

    assert CONTEXT_OPTIONS == _option_table.names("C")
    assert SERVER_OPTIONS == _option_table.names("S") >= CONTEXT_OPTIONS
    assert CONNECT_OPTIONS == _option_table.names("T") >= CONTEXT_OPTIONS
    assert _option_table.default("handshake_timeout") == 120.0


# ---------------------------------------------------------------------------- Node's answers

# One row per input: (id, entry point letter, the options in JavaScript, the same in Python,
# what Node v20 does at creation (its error `code`, or "ok"), what nodetls does (its code, or
# "ok")). Where the two differ, nodetls is stricter on purpose: Node takes any truthy value as a
# bool (`rejectUnauthorized: 'no'` rejects, `0` accepts every certificate), ignores a str for
# `ALPNProtocols`, sends an empty protocol name, and sets every option bit for `secureOptions: -1`;
# `ticketKeys` of n*48 bytes are a documented extension (rotation).
_S = "x" * 256
NODE_TABLE: list[tuple[str, str, str, dict[str, Any], str, str]] = [
    ("sessionTimeout 1.5", "C", "{sessionTimeout: 1.5}", {"sessionTimeout": 1.5},
     "ERR_OUT_OF_RANGE", "ERR_OUT_OF_RANGE"),
    ("sessionTimeout 1e3", "C", "{sessionTimeout: 1e3}", {"sessionTimeout": 1e3}, "ok", "ok"),
    ("sessionTimeout -1", "S", "{sessionTimeout: -1}", {"sessionTimeout": -1},
     "ERR_OUT_OF_RANGE", "ERR_OUT_OF_RANGE"),
    ("sessionTimeout 2**31", "C", "{sessionTimeout: 2**31}", {"sessionTimeout": 2**31},
     "ERR_OUT_OF_RANGE", "ERR_OUT_OF_RANGE"),
    ("sessionTimeout str", "C", "{sessionTimeout: '5'}", {"sessionTimeout": "5"},
     "ERR_INVALID_ARG_TYPE", "ERR_INVALID_ARG_TYPE"),
    ("secureOptions 1.5", "C", "{secureOptions: 1.5}", {"secureOptions": 1.5},
     "ERR_OUT_OF_RANGE", "ERR_OUT_OF_RANGE"),
    ("secureOptions str", "C", "{secureOptions: '1'}", {"secureOptions": "1"},
     "ERR_INVALID_ARG_TYPE", "ERR_INVALID_ARG_TYPE"),
    ("secureOptions -1", "C", "{secureOptions: -1}", {"secureOptions": -1},
     "ok", "ERR_OUT_OF_RANGE"),
    ("ALPNProtocols 256-byte name", "S", f"{{ALPNProtocols: ['{_S}']}}",
     {"ALPNProtocols": [_S]}, "ERR_OUT_OF_RANGE", "ERR_OUT_OF_RANGE"),
    ("ALPNProtocols 256-byte name, client", "T", f"{{ALPNProtocols: ['{_S}']}}",
     {"ALPNProtocols": [_S]}, "ERR_OUT_OF_RANGE", "ERR_OUT_OF_RANGE"),
    ("ALPNProtocols [5]", "S", "{ALPNProtocols: [5]}", {"ALPNProtocols": [5]},
     "ERR_INVALID_ARG_TYPE", "ERR_INVALID_ARG_TYPE"),
    ("ALPNProtocols str", "S", "{ALPNProtocols: 'h2'}", {"ALPNProtocols": "h2"},
     "ok", "ERR_INVALID_ARG_TYPE"),
    ("ALPNProtocols empty name", "S", "{ALPNProtocols: ['']}", {"ALPNProtocols": [""]},
     "ok", "ERR_INVALID_ARG_VALUE"),
    ("ciphers 5", "T", "{ciphers: 5}", {"ciphers": 5},
     "ERR_INVALID_ARG_TYPE", "ERR_INVALID_ARG_TYPE"),
    ("ciphers ':'", "C", "{ciphers: ':'}", {"ciphers": ":"},
     "ERR_INVALID_ARG_VALUE", "ERR_INVALID_ARG_VALUE"),
    ("ciphers NOPE", "C", "{ciphers: 'NOPE'}", {"ciphers": "NOPE"},
     "ERR_SSL_NO_CIPHER_MATCH", "ERR_SSL_NO_CIPHER_MATCH"),
    ("minVersion TLSv9", "C", "{minVersion: 'TLSv9'}", {"minVersion": "TLSv9"},
     "ERR_TLS_INVALID_PROTOCOL_VERSION", "ERR_TLS_INVALID_PROTOCOL_VERSION"),
    ("minVersion 5", "C", "{minVersion: 5}", {"minVersion": 5},
     "ERR_TLS_INVALID_PROTOCOL_VERSION", "ERR_TLS_INVALID_PROTOCOL_VERSION"),
    ("maxVersion ''", "C", "{maxVersion: ''}", {"maxVersion": ""},
     "ERR_TLS_INVALID_PROTOCOL_VERSION", "ERR_TLS_INVALID_PROTOCOL_VERSION"),
    ("minVersion above maxVersion", "S", "{minVersion: 'TLSv1.3', maxVersion: 'TLSv1.2'}",
     {"minVersion": "TLSv1.3", "maxVersion": "TLSv1.2"}, "ok", "ok"),
    # Node's legacy secureProtocol is not among the API's option names: an unknown option here.
    ("secureProtocol", "S", "{secureProtocol: 'TLSv1_2_method'}",
     {"secureProtocol": "TLSv1_2_method"}, "ok", "ERR_INVALID_ARG_TYPE"),
    ("ecdhCurve 5", "C", "{ecdhCurve: 5}", {"ecdhCurve": 5},
     "ERR_INVALID_ARG_TYPE", "ERR_INVALID_ARG_TYPE"),
    ("ecdhCurve ''", "C", "{ecdhCurve: ''}", {"ecdhCurve": ""},
     "ERR_CRYPTO_OPERATION_FAILED", "ERR_CRYPTO_OPERATION_FAILED"),
    ("ticketKeys 47 bytes", "S", "{ticketKeys: Buffer.alloc(47)}", {"ticketKeys": bytes(47)},
     "ERR_INVALID_ARG_VALUE", "ERR_INVALID_ARG_VALUE"),
    ("ticketKeys 96 bytes", "S", "{ticketKeys: Buffer.alloc(96)}", {"ticketKeys": bytes(96)},
     "ERR_INVALID_ARG_VALUE", "ok"),
    ("ticketKeys str", "S", "{ticketKeys: 'x'.repeat(48)}", {"ticketKeys": "x" * 48},
     "ERR_INVALID_ARG_TYPE", "ERR_INVALID_ARG_TYPE"),
    ("pskIdentityHint 5", "S", "{pskIdentityHint: 5}", {"pskIdentityHint": 5},
     "ERR_INVALID_ARG_TYPE", "ERR_INVALID_ARG_TYPE"),
    ("pskIdentityHint bytes", "S", "{pskIdentityHint: Buffer.from('x')}",
     {"pskIdentityHint": b"x"}, "ERR_INVALID_ARG_TYPE", "ERR_INVALID_ARG_TYPE"),
    ("requestCert 'yes'", "S", "{requestCert: 'yes'}", {"requestCert": "yes"},
     "ok", "ERR_INVALID_ARG_TYPE"),
    ("rejectUnauthorized 'no'", "S", "{rejectUnauthorized: 'no'}", {"rejectUnauthorized": "no"},
     "ok", "ERR_INVALID_ARG_TYPE"),
    ("rejectUnauthorized 0", "T", "{rejectUnauthorized: 0}", {"rejectUnauthorized": 0},
     "ok", "ERR_INVALID_ARG_TYPE"),
    ("sigalgs ''", "C", "{sigalgs: ''}", {"sigalgs": ""},
     "ERR_INVALID_ARG_VALUE", "ERR_INVALID_ARG_VALUE"),
    ("sessionIdContext 5", "S", "{sessionIdContext: 5}", {"sessionIdContext": 5},
     "ERR_INVALID_ARG_TYPE", "ERR_INVALID_ARG_TYPE"),
    ("handshakeTimeout -1", "S", "{handshakeTimeout: -1}", {"handshakeTimeout": -1}, "ok", "ok"),
    ("handshakeTimeout str", "S", "{handshakeTimeout: 'x'}", {"handshakeTimeout": "x"},
     "ERR_INVALID_ARG_TYPE", "ERR_INVALID_ARG_TYPE"),
    ("port 1.5", "T", "{port: 1.5}", {"port": 1.5}, "ERR_SOCKET_BAD_PORT", "ERR_SOCKET_BAD_PORT"),
    ("port -1", "T", "{port: -1}", {"port": -1}, "ERR_SOCKET_BAD_PORT", "ERR_SOCKET_BAD_PORT"),
    ("highWaterMark -1", "T", "{highWaterMark: -1}", {"highWaterMark": -1},
     "ERR_INVALID_ARG_VALUE", "ERR_INVALID_ARG_VALUE"),
    ("highWaterMark 1.5", "T", "{highWaterMark: 1.5}", {"highWaterMark": 1.5},
     "ERR_INVALID_ARG_VALUE", "ERR_INVALID_ARG_VALUE"),
    ("key empty Buffer", "S", "{key: Buffer.alloc(0)}", {"key": b""},
     "ERR_OSSL_UNSUPPORTED", "ERR_OSSL_UNSUPPORTED"),
    ("cert empty Buffer", "T", "{cert: Buffer.alloc(0)}", {"cert": b""},
     "ERR_OSSL_PEM_NO_START_LINE", "ERR_OSSL_PEM_NO_START_LINE"),
    ("key and cert ''", "S", "{key: '', cert: ''}", {"key": "", "cert": ""}, "ok", "ok"),
    ("key and cert []", "C", "{key: [], cert: []}", {"key": [], "cert": []}, "ok", "ok"),
]

# Node's error classes by code; nodetls raises TypeError for a type and ValueError for a value
# (Node's ERR_INVALID_ARG_VALUE is a TypeError; here it is a ValueError, as the API says).
_OURS_CLASS = {"ERR_INVALID_ARG_TYPE": TypeError, "ERR_TLS_INVALID_PROTOCOL_VERSION": TypeError}


def _make_node_style(letter: str, options: dict[str, Any]) -> Any:
    if letter == "T":
        sock = tls.connect({"port": 1, "host": "127.0.0.1", **options})
        sock.on("error", lambda err: None)
        sock.destroy()
        return sock
    return _make(letter, options)


@pytest.mark.parametrize("row", NODE_TABLE, ids=[row[0] for row in NODE_TABLE])
async def test_creation_answers_match_the_node_table(row: tuple[Any, ...]) -> None:
    _id, letter, _js, options, _node, ours = row
    if ours == "ok":
        _make_node_style(letter, options)
        return
    with pytest.raises((TypeError, ValueError)) as info:
        _make_node_style(letter, options)
    assert getattr(info.value, "code", None) == ours, info.value
    assert isinstance(info.value, _OURS_CLASS.get(ours, ValueError)), info.value


async def test_the_node_table_is_what_node_does(node_bin: str, tmp_path: Path) -> None:
    """Run every input of :data:`NODE_TABLE` through Node v20 and compare its answers."""
    lines = [
        "const tls = require('tls'); const out = {};",
        "function make(w, o) {",
        "  if (w === 'C') return tls.createSecureContext(o);",
        "  if (w === 'S') return tls.createServer(o);",
        "  const s = tls.connect({port: 1, host: '127.0.0.1', ...o});",
        "  s.on('error', () => {}); s.destroy();",
        "}",
        *[f"try {{ make({json.dumps(letter)}, {js}); out[{json.dumps(name)}] = 'ok'; }} "
          f"catch (e) {{ out[{json.dumps(name)}] = e.code === undefined ? null : e.code; }}"
          for name, letter, js, _py, _node, _ours in NODE_TABLE],
        "console.log(JSON.stringify(out)); process.exit(0);",
    ]
    script = tmp_path / "table.js"
    script.write_text("\n".join(lines))
    proc = await asyncio.create_subprocess_exec(node_bin, str(script), stdout=subprocess.PIPE)
    out, _ = await asyncio.wait_for(proc.communicate(), TIMEOUT)
    got = json.loads(out)
    assert got == {row[0]: row[4] for row in NODE_TABLE}
