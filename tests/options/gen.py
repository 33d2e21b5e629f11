"""Random calls with good and bad arguments, from a seed, for the two runners (``runner.js``:
Node v20; ``runner.py``: nodetls): ``python -m tests.options.gen FIRST COUNT > calls.json``.

A call (JSON)::

    {"target": T, "opts": [[PY_NAME, NODE_NAME, VALUE, BAD], ...], "args": [[VALUE, BAD], ...],
     "method": M}

``target`` is what is made or called: ``ctx`` (``create_secure_context(opts)``), ``tls_server``
(``tls.create_server(opts)``), ``tls_socket`` (``TLSSocket(None, opts)``), ``tls_connect``
(``tls.connect(opts)``), ``net_socket`` (``net.Socket(opts)``), ``net_connect``
(``net.connect(opts)``), ``net_server`` (``net.create_server(opts)``), ``listen``
(``net.create_server().listen(opts)``), ``listen_args`` / ``net_connect_args`` /
``tls_connect_args`` (the positional forms, ``args``), and ``method`` (``M`` called with
``args`` on a new ``net.Socket``, a ``tls.Server`` or a ``TLSSocket``). Options are named in
snake_case or Node's camelCase (``PY_NAME``, half the time each: both are public names);
``NODE_NAME`` comes from the project's option table. Connects go to 127.0.0.1 port 1 unless the
call draws its own host and port, and every socket is destroyed (every server closed) right
after the call: only what happens synchronously is compared.

``BAD`` says the value was drawn from the menu of wrong values (wrong types, numbers out of
range, NaN, infinities, fractions, empty strings, bad enum strings); some of them are right in
Node all the same (``port: '80'``), which the comparison finds out.

A VALUE is JSON, with tagged objects for what JSON has not: ``{"$": "nan"|"inf"|"-inf"}``,
``{"$": "bytes", "hex": ...}``, ``{"$": "obj", "v": {...}}`` (a dict / plain object),
``{"$": "fn"}`` (a function), ``{"$": "pem", "which": "cert"|"key", "as": "str"|"bytes"}``,
``{"$": "ctx"}`` (a SecureContext), ``{"$": "sock"}`` (a new net.Socket), ``{"$": "sockpath"}``
(a fresh Unix socket path); ``null`` is "not given" (Node's ``undefined``).
"""

from __future__ import annotations

import random
import sys
from typing import Any

from nodetls import _option_table
from nodetls._net.args import js_number

Value = Any

NAN = {"$": "nan"}
INF = {"$": "inf"}
NINF = {"$": "-inf"}
FN = {"$": "fn"}


def _bytes(data: bytes) -> dict[str, str]:
    return {"$": "bytes", "hex": data.hex()}


def _obj(v: dict[str, Any]) -> dict[str, Any]:
    return {"$": "obj", "v": v}


def _pem(which: str, form: str = "str") -> dict[str, str]:
    return {"$": "pem", "which": which, "as": form}


#: Wrong values of every type, for any argument.
BAD_ANY: tuple[Value, ...] = (
    -1, 0, 1, 2**31, 2**53, 2**64, -(2**31) - 1, NAN, INF, NINF, 1.5, -0.5, 0.0, 1e3,
    "", "abc", "0", "80", "-1", "1.5", " ", "bogus", True, False,
    [], ["a"], [1], [None], _obj({}), _obj({"a": 1}), _bytes(b""), _bytes(b"ab"), FN,
)

#: Good values by option kind (``_option_table.KINDS`` names), some by option name.
GOOD_KIND: dict[str, tuple[Value, ...]] = {
    "bool": (True, False),
    "str": ("abc",),
    "int": (0, 1),
    "int32>=0": (0, 300, 2**31 - 1),
    "uint64": (0, 0x4000),
    "int>=0": (0, 10, 511),
    "int>0": (1, 1024, 2048),
    "hwm": (0, 1, 16384),
    "hwm_server": (0, 1, 16384),
    "seconds": (0, 1, 0.5, 30),
    "attempt_seconds": (0.25, 1),
    "handshake_seconds": (0, 1, 120, -1, 0.5),
    "function": (FN,),
    "bytes": (),
    "text": ("pw", _bytes(b"pw")),
    "sid_context": ("abc", _bytes(b"x" * 32)),
    "ticket_keys": (_bytes(bytes(range(48))),),
    "pem": (_pem("cert"), _pem("cert", "bytes"), [_pem("cert")]),
    "pem_key": (_pem("key"), _pem("key", "bytes"), [_pem("key")],
                [_obj({"pem": _pem("key")})]),
    "pem_pfx": (),
    "dhparam": ("auto",),
    "alpn": (["h2", "http/1.1"], [_bytes(b"h2")], _bytes(b"\x02h2")),
    "version": ("TLSv1.2", "TLSv1.3", "TLSv1", "TLSv1.1"),
    "family": (0, 4, 6),
    "port": (1,),
    "path": ({"$": "sockpath"},),
    "secure_context": ({"$": "ctx"},),
    "duplex": ({"$": "sock"},),
}
GOOD_NAME: dict[str, tuple[Value, ...]] = {
    "ciphers": ("HIGH", "ECDHE-ECDSA-AES128-GCM-SHA256", "TLS_AES_128_GCM_SHA256"),
    "ecdh_curve": ("P-256", "auto", "X25519:P-256"),
    "sigalgs": ("ECDSA+SHA256", "RSA-PSS+SHA256:ECDSA+SHA256"),
    "servername": ("example.com",),
    "psk_identity_hint": ("hint",),
    "host": ("127.0.0.1",),
    "local_address": ("127.0.0.1",),
    "local_port": (0,),
    "encoding": ("utf8", "hex", "latin1"),
    "crl": (),
    "hints": (0,),
}
#: Wrong values of a kind besides BAD_ANY: bad enums.
BAD_KIND: dict[str, tuple[Value, ...]] = {
    "version": ("TLSv9", "SSLv3", "tlsv1.2", "TLSv1.2 ", "TLS1.2"),
    "family": (5, "IPv4", "IPv6", "ipv4"),
    "alpn": (["h2", ""], ["x" * 256], [_bytes(b"")]),
    "ticket_keys": (_bytes(bytes(47)), _bytes(bytes(96))),
    "sid_context": ("x" * 33,),
    "port": (65536, -1, 1.5, "65536", "0x50", " 80 "),
}

#: Options left out: those that take anything (``server``, ``handle``, ``fd``, ``onread``:
#: checked where used, or ignored as Node does), ``ocsp`` (beyond Node), ``lookup`` (called
#: with host names), and the stream hooks (not in this brief).
_SKIP = {"server", "handle", "fd", "onread", "ocsp", "lookup"}

#: target -> the table's letters of the options it takes.
TARGETS: dict[str, str] = {
    "ctx": "C", "tls_server": "S", "tls_socket": "K", "tls_connect": "T", "net_socket": "N",
    "net_connect": "J", "net_server": "V", "listen": "L",
}
_OPTION_NAMES = {
    t: sorted(n for n in _option_table.names(letters) if n not in _SKIP
              and n not in ("read", "write", "writev", "final", "destroy", "construct",
                            "auto_destroy", "emit_close", "decode_strings", "default_encoding",
                            "readable_high_water_mark", "writable_high_water_mark"))
    for t, letters in TARGETS.items()
}

_ENCODINGS = ("utf8", "hex", "latin1", "base64", "ascii", "utf16le", "bogus", "UTF8", "")
#: method -> (object, arguments' menus: good values of each positional argument)
METHODS: dict[str, tuple[str, tuple[tuple[Value, ...], ...]]] = {
    "set_timeout": ("net_socket", ((0, 1, 0.5, 2**31 // 1000), (FN,))),
    "set_no_delay": ("net_socket", ((True, False),)),
    "set_keep_alive": ("net_socket", ((True, False), (0, 1, 0.5))),
    "write": ("net_socket", (("abc", _bytes(b"ab")), ("utf8", "hex", "latin1"), (FN,))),
    "end": ("net_socket", (("abc", _bytes(b"ab")), ("utf8", "hex"), (FN,))),
    "set_encoding": ("net_socket", (("utf8", "hex", "latin1", "base64"),)),
    "set_ticket_keys": ("tls_server", ((_bytes(bytes(range(48))),),)),
    "set_max_send_fragment": ("tls_socket", ((512, 16384, 1024),)),
}


def _value(r: random.Random, good: tuple[Value, ...], bad_extra: tuple[Value, ...],
           p_bad: float) -> tuple[Value, bool]:
    if not good or r.random() < p_bad:
        pool = bad_extra + BAD_ANY if bad_extra and r.random() < 0.5 else BAD_ANY
        if bad_extra and r.random() < 0.5:
            pool = bad_extra
        return r.choice(pool), True
    return r.choice(good), False


def _option(r: random.Random, name: str, p_bad: float) -> list[Any]:
    opt = _option_table.OPTIONS[name]
    kind = next(k for k, v in _option_table.KINDS.items() if v is opt.kind)
    good = GOOD_NAME.get(name, GOOD_KIND.get(kind, ()))
    value, bad = _value(r, good, BAD_KIND.get(kind, ()), p_bad)
    spelled = opt.node if r.random() < 0.5 else opt.name
    return [spelled, opt.node, value, bad]


def _positional(r: random.Random, target: str) -> list[list[Any]]:
    """``listen(port, host, backlog, cb)`` / ``connect(port, host, cb)`` / ``(path, cb)``."""
    port_good: tuple[Value, ...] = (0, "0") if target == "listen_args" else (1, "1")
    menus: list[tuple[tuple[Value, ...], tuple[Value, ...]]] = [
        (port_good, BAD_KIND["port"]), (("127.0.0.1",), ())]
    if target == "listen_args":
        menus.append(((0, 10, 511), ()))
    menus.append(((FN,), ()))
    n = r.randrange(1, len(menus) + 1)
    out = []
    for i in range(n):
        value, bad = _value(r, *menus[i], 0.5 if i == 0 else 0.3)
        out.append([value, bad])
    if r.random() < 0.15:
        out = [[{"$": "sockpath"}, False]] + out[2:]  # the path form
    return out


def generate(seed: int) -> dict[str, Any]:
    """The call of ``seed``."""
    r = random.Random(seed)
    x = r.random()
    if x < 0.2:
        method = r.choice(sorted(METHODS))
        target, menus = METHODS[method]
        n = r.randrange(0, len(menus) + 1)
        args = []
        for i in range(n):
            bad_extra = _ENCODINGS if (method in ("write", "end") and i == 1) \
                or method == "set_encoding" else ()
            args.append(list(_value(r, menus[i], bad_extra, 0.6 if i == 0 else 0.3)))
        return {"target": "method", "on": target, "method": method, "args": args, "opts": []}
    if x < 0.3:
        target = r.choice(("listen_args", "net_connect_args", "tls_connect_args"))
        return _safe({"target": target, "args": _positional(r, target), "opts": []})
    target = r.choice(sorted(TARGETS))
    names = _OPTION_NAMES[target]
    chosen = r.sample(names, r.choice((1, 1, 1, 2, 2, 3)))
    opts = [_option(r, name, 0.7 if i == 0 else 0.25) for i, name in enumerate(chosen)]
    have = {o[1]: o for o in opts}
    if target == "listen" and "port" not in have and "path" not in have and r.random() < 0.7:
        opts.append(["port", "port", 0, False])
    # a good key needs its certificate, a good certificate its key (else nodetls refuses them
    # by design: see accepted() in compare.py)
    for a, b in (("key", "cert"), ("cert", "key")):
        if a in have and not have[a][3] and b not in have and target in ("ctx", "tls_server",
                                                                          "tls_socket",
                                                                          "tls_connect"):
            opts.append([b, b, _pem(b), False])
    return _safe({"target": target, "opts": opts, "args": []})


_SOCKPATH = {"$": "sockpath"}


def _binds_elsewhere(value: Value) -> bool:
    """A listen() port or path that would bind a real port other than 0, or make a Unix socket
    outside the runners' own directory: replaced before the call is run."""
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return value != 0 and 0 < value <= 0xFFFF and value == int(value)
    if isinstance(value, str):
        n = js_number(value)
        return bool(value.strip()) and (not n >= 0 or (n != 0 and n <= 0xFFFF and n == int(n)))
    return False


def _safe(call: dict[str, Any]) -> dict[str, Any]:
    """Listen only on port 0 or in the runners' directory (see :func:`_binds_elsewhere`)."""
    if call["target"] == "listen":
        for o in call["opts"]:
            if o[1] in ("port", "path") and _binds_elsewhere(o[2]):
                o[2] = 0 if o[1] == "port" else _SOCKPATH
    elif call["target"] == "listen_args" and call["args"] and _binds_elsewhere(call["args"][0][0]):
        call["args"][0][0] = 0
    return call


if __name__ == "__main__":
    from ..helpers.difftest import gen_main
    gen_main(generate)
    sys.exit(0)
