"""Random scripts for the differential TLS runners (``runner.js`` for Node's ``tls``,
``runner.py`` for :mod:`nodetls`), from a seed:
``python -m tests.tls.diff.gen FIRST COUNT > scripts.json``.

The script language (JSON)::

    {"server": {"allowHalfOpen": bool, "pauseOnConnect": bool, "requestCert": bool,
                "rejectUnauthorized": bool, "ALPNProtocols": [str] | null,
                "minVersion": V | null, "maxVersion": V | null,
                "handshakeTimeout": MS | null, "tickets": bool},
     "client": {"allowHalfOpen": bool, "servername": "localhost" | "bad.example" | null,
                "ALPNProtocols": [str] | null, "rejectUnauthorized": bool, "ca": bool,
                "cert": null | "good" | "self", "minVersion": V | null, "maxVersion": V | null},
     "pre": [OP, ...], "ops": [OP, ...]}

with V ``"TLSv1.2"`` or ``"TLSv1.3"``. One ``tls.createServer`` on 127.0.0.1 (port 0, the test
PKI's ``localhost`` certificate, its chain; ``ca`` the client CA) and one ``tls.connect`` client
to it (host 127.0.0.1; ``ca``: the test root, else the default roots; ``cert``: a certificate
of the client CA or a self-signed one), in the same process. ``tickets`` false is
``secureOptions: SSL_OP_NO_TICKET``. The ``pre`` ops (client only) run right after
``connect()`` returns, before the handshake; then the runner waits (at most 1 s) until the
client saw 'secureConnect' or 'close' and the server 'secureConnection' or 'tlsClientError',
then runs ``ops``: Node's in the microtasks right after the event that completed the pair
(before its TLSWrap goes on: the server's session tickets, a TLS 1.2 client's writes made
before the handshake), nodetls's ops up to the first settle (and that settle's ``~``) in that
event's listener. Both
sides' sockets have TCP_NODELAY (nodetls's TLS default, a deliberate difference: Node's
runner sets it).

Logs: ``c`` (the client) and ``s`` (the server's socket, from 'secureConnection' on; the
server's own ``secureConnection`` and ``tlsClientError CODE`` are logged there too). Each
socket logs ``secure``, ``secureConnect``, ``connect``, ``ready``, ``data``, ``end``,
``finish``, ``drain``, ``timeout``, ``error CODE``, ``close HAD_ERROR``, callbacks ``wcb@K
CODE`` / ``endcb@K CODE`` / ``renegcb@K CODE``; consecutive 'data' are one line, as in the net
harness. 'session' and 'keylog' are only counted (``counts``: whether any came; their number
and timing are OpenSSL's and Node's own ticket policy).

An OP is ``["settle"]`` (wait until neither socket logged anything for 30 ms, at most 1 s;
``~`` in both logs) or ``[T, NAME, ARGS...]`` with T ``"c"`` or ``"s"``, logged ``> NAME`` then
``= RESULT`` in T's log (``= nosock`` when the server has no secure socket): ``write CHUNK``,
``end CHUNK|null``, ``destroy ERR``, ``destroy_soon``, ``pause``, ``resume``, ``enc NAME``,
``timeout MS``, ``maxfrag N`` (setMaxSendFragment), ``noreneg`` (disableRenegotiation),
``reneg REJECT`` (client: renegotiate({rejectUnauthorized: REJECT}, cb)), ``info`` (the
queries: protocol, cipher, ALPN, authorized / authorizationError, peer CN, session reused,
Finished lengths, servername, as one string) and ``ekm`` (exportKeyingMaterial on both sides:
``same`` when equal). ``ekm`` and ``maxfrag`` on a destroyed socket log ``gone`` without a
call (Node's throw a TypeError there: its handle is null). A CHUNK is hex or ``[N, BYTE]``.
The final state of each socket (the net harness's, plus ``authorized``,
``authorizationError``, ``alpnProtocol``, ``servername``, ``encrypted``) closes the result.
"""

from __future__ import annotations

import random
from typing import Any

from ...helpers.difftest import gen_main

_ENCODINGS = ("utf8", "hex", "latin1", "base64")
#: (minVersion, maxVersion) pairs that are never contradictory
_VERSIONS = ((None, None), (None, None), ("TLSv1.2", "TLSv1.2"), ("TLSv1.3", None),
             (None, "TLSv1.2"))


def _chunk(r: random.Random) -> Any:
    x = r.random()
    if x < 0.12:
        return [r.choice((16384, 20000, 65536, 200000)), r.randrange(256)]
    if x < 0.22:
        return r.choice(("c3", "a9", "e282", "ac", "c3a9"))
    return bytes(r.randrange(0x61, 0x67) for _ in range(r.choice((1, 2, 3, 5, 8)))).hex()


def _op(r: random.Random, t: str | None = None) -> list[list[Any]]:
    t = t or r.choice("cs")
    x = r.random()
    if x < 0.18:
        return [["settle"]]
    if x < 0.38:
        return [[t, "write", _chunk(r)]]
    if x < 0.47:
        return [[t, "end", None if r.random() < 0.6 else _chunk(r)]]
    if x < 0.52:
        return [[t, "destroy", r.random() < 0.4]]
    if x < 0.55:
        return [[t, "destroy_soon"]]
    if x < 0.60:
        return [[t, "pause"]]
    if x < 0.65:
        return [[t, "resume"]]
    if x < 0.68:
        return [[t, "enc", r.choice(_ENCODINGS)]]
    if x < 0.72:
        return [[t, "timeout", r.choice((10, 10, 0))]]
    if x < 0.75:
        return [[t, "maxfrag", r.choice((512, 1000, 16384, 100, 20000))]]
    if x < 0.77:
        return [[t, "noreneg"]]
    if x < 0.82:
        return [["c", "reneg", r.random() < 0.5]]
    if x < 0.90:
        return [[t, "info"]]
    if x < 0.94:
        return [["c", "ekm"]]
    return r.choice((
        [[t, "end", None], [t, "write", "61"]],
        [[t, "end", _chunk(r)], [t, "destroy", False]],
        [[t, "pause"], ["cs".replace(t, ""), "write", _chunk(r)], ["settle"], [t, "resume"]],
        [["c", "reneg", False], ["c", "write", "6162"], ["settle"], ["c", "info"]],
    ))


def _pre_op(r: random.Random) -> list[Any]:
    x = r.random()
    if x < 0.45:
        return ["c", "write", _chunk(r)]
    if x < 0.65:
        return ["c", "end", None if r.random() < 0.5 else _chunk(r)]
    if x < 0.75:
        return ["c", "destroy", r.random() < 0.5]
    if x < 0.80:
        return ["c", "destroy_soon"]
    if x < 0.85:
        return ["c", r.choice(("pause", "resume"))]
    if x < 0.90:
        return ["c", "timeout", r.choice((10, 0))]
    if x < 0.95:
        return ["c", "info"]
    return ["c", "ekm"]


def generate(seed: int) -> dict[str, Any]:
    """The script of ``seed``: 2-10 ops, and in a third of the scripts 1-3 ops before the
    handshake."""
    r = random.Random(seed)
    smin, smax = r.choice(_VERSIONS)
    cmin, cmax = r.choice(_VERSIONS)
    server = {
        "allowHalfOpen": r.random() < 0.4, "pauseOnConnect": r.random() < 0.1,
        "requestCert": r.random() < 0.3, "rejectUnauthorized": r.random() < 0.6,
        "ALPNProtocols": r.choice((None, None, ["http/1.1", "h2"], ["h2"])),
        "minVersion": smin, "maxVersion": smax,
        "handshakeTimeout": r.choice((None, None, None, None, 5000, 50)),
        "tickets": r.random() < 0.8,
    }
    client = {
        "allowHalfOpen": r.random() < 0.3,
        "servername": r.choice(("localhost", None, None, None, "bad.example")),
        "ALPNProtocols": r.choice((None, None, ["h2", "http/1.1"], ["x"])),
        "rejectUnauthorized": r.random() < 0.7, "ca": r.random() < 0.85,
        "cert": r.choice((None, None, "good", "self")),
        "minVersion": cmin, "maxVersion": cmax,
    }
    pre = [_pre_op(r) for _ in range(r.randrange(1, 4))] if r.random() < 0.33 else []
    ops: list[list[Any]] = []
    n = r.randrange(2, 11)
    while len(ops) < n:
        ops += _op(r)
    return {"server": server, "client": client, "pre": pre, "ops": ops}


def main() -> None:
    gen_main(generate)


if __name__ == "__main__":
    main()
