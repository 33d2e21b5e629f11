"""Differential TLS runner (nodetls side): runs scripts of the language described in ``gen.py``
(one TLS server and one TLS client over 127.0.0.1) against :mod:`nodetls` and logs what is
observable, in exactly the strings ``runner.js`` logs for Node's ``tls``.

Usage: ``python -m tests.tls.diff.runner scripts.json > results.json``, or :func:`run_scripts`
from a test. The certificates are made once per process in a temporary directory
(:func:`cert_dir`, which also puts it in ``NODETLS_TLSDIFF_CERTS`` for ``runner.js``). Node's
times are milliseconds: ``timeout MS`` is ``set_timeout(MS / 1000)``, ``handshakeTimeout`` is
``handshake_timeout=MS / 1000``, and the final state's ``timeout`` is logged in milliseconds.
The server allows client renegotiation, as Node's does by default (nodetls's refuses it unless
``allow_client_renegotiation``: a deliberate difference).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from typing import Any

import nodetls as tls
from nodetls import constants

from ...helpers.certs import PKI
from ...helpers.difftest import code_of, runner_main
from ...helpers.difftest_sockets import Log, js, new_logs, run_op, run_ops, settle, state, watch
from ...helpers.temp_files import remove_at_session_end

ENV = "NODETLS_TLSDIFF_CERTS"
SECURE_MAX = 1.0
EVENTS = ("connect", "ready", "secure", "secureConnect", "end", "finish", "drain", "timeout")
#: the final state's properties beyond net.Socket's
EXTRA_STATE = (("authorized", "authorized"), ("authorization_error", "authorizationError"),
               ("alpn_protocol", "alpnProtocol"), ("servername", "servername"),
               ("encrypted", "encrypted"))
_FILES = ("server-key.pem", "server-chain.pem", "root.pem", "client-ca.pem", "client-key.pem",
          "client-cert.pem", "client-self-key.pem", "client-self-cert.pem")


def cert_dir() -> str:
    """The directory of the runners' certificates (made on the first call, removed at exit),
    also set as ``NODETLS_TLSDIFF_CERTS`` for the Node runner started after it."""
    d = os.environ.get(ENV)
    if d and all(os.path.exists(os.path.join(d, f)) for f in _FILES):
        return d
    d = tempfile.mkdtemp(prefix="tlsdiff-")
    remove_at_session_end(d)  # (at exit outside pytest)
    pki = PKI(os.path.join(d, "pki"))
    server = pki.make_leaf("localhost", ("DNS:localhost", "IP:127.0.0.1"), name="server")
    client = pki.make_client("client", name="client")
    selfc = pki.make_client("client", self_signed=True, name="client-self")
    for name, data in zip(_FILES, (server.key_pem, server.chain_pem, server.ca_pem,
                                   pki.client_ca.cert_pem, client.key_pem, client.cert_pem,
                                   selfc.key_pem, selfc.cert_pem), strict=True):
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    os.environ[ENV] = d
    return d


def _pem(name: str) -> bytes:
    with open(os.path.join(cert_dir(), name), "rb") as f:
        return f.read()


def q(f: Any) -> str:
    try:
        v = f()
    except Exception as e:  # noqa: BLE001 - logged, as the Node runner logs a throw
        return "!" + code_of(e)
    return "null" if v is None else js(v)


def info(s: Any) -> str:
    def cipher(k: str) -> str:
        return q(lambda: (s.get_cipher() or {}).get(k))

    def cn() -> Any:
        c = s.get_peer_certificate()
        return c["subject"].get("CN") if c and c.get("subject") else None

    def flen(f: Any) -> Any:
        b = f()
        return len(b) if b else None

    return " ".join((
        f"p={q(s.get_protocol)}",
        f"c={cipher('name')}/{cipher('standardName')}/{cipher('version')}",
        f"alpn={q(lambda: s.alpn_protocol)}", f"a={q(lambda: s.authorized)}",
        f"e={q(lambda: s.authorization_error)}", f"cn={q(cn)}",
        f"r={q(s.is_session_reused)}",
        f"f={q(lambda: flen(s.get_finished))}/{q(lambda: flen(s.get_peer_finished))}",
        f"sn={q(lambda: s.servername)}"))


def ekm(a: Any, b: Any) -> str:
    if b is None:
        return "nosock"
    if a.destroyed or b.destroyed:
        return "gone"
    x = q(lambda: a.export_keying_material(16, "nodetls diff").hex())
    y = q(lambda: b.export_keying_material(16, "nodetls diff").hex())
    if x.startswith("!") or y.startswith("!"):
        return f"c:{x if x.startswith('!') else 'ok'} s:{y if y.startswith('!') else 'ok'}"
    return "same" if x == y else "differ"


def server_options(sc: dict[str, Any]) -> dict[str, Any]:
    o: dict[str, Any] = {
        "key": _pem("server-key.pem"), "cert": _pem("server-chain.pem"),
        "ca": _pem("client-ca.pem"), "allow_half_open": sc["allowHalfOpen"],
        "pause_on_connect": sc["pauseOnConnect"], "request_cert": sc["requestCert"],
        "reject_unauthorized": sc["rejectUnauthorized"], "allow_client_renegotiation": True}
    _versions(o, sc)
    if sc["handshakeTimeout"] is not None:
        o["handshake_timeout"] = sc["handshakeTimeout"] / 1000
    if not sc["tickets"]:
        o["secure_options"] = constants.SSL_OP_NO_TICKET
    return o


def client_options(cc: dict[str, Any], port: int) -> dict[str, Any]:
    o: dict[str, Any] = {"port": port, "host": "127.0.0.1",
                         "allow_half_open": cc["allowHalfOpen"],
                         "reject_unauthorized": cc["rejectUnauthorized"]}
    _versions(o, cc)
    if cc["servername"] is not None:
        o["servername"] = cc["servername"]
    if cc["ca"]:
        o["ca"] = _pem("root.pem")
    if cc["cert"] == "good":
        o.update(key=_pem("client-key.pem"), cert=_pem("client-cert.pem"))
    elif cc["cert"] == "self":
        o.update(key=_pem("client-self-key.pem"), cert=_pem("client-self-cert.pem"))
    return o


def _versions(o: dict[str, Any], side: dict[str, Any]) -> None:
    if side["minVersion"]:
        o["min_version"] = side["minVersion"]
    if side["maxVersion"]:
        o["max_version"] = side["maxVersion"]
    if side["ALPNProtocols"]:
        o["alpn_protocols"] = side["ALPNProtocols"]


def _own(name: str, s: Any, op: list[Any], k: int, log: Log, socks: dict[str, Any]) -> Any:
    """The ops only TLS scripts have."""
    if name == "maxfrag":  # (Node's throws a TypeError once destroyed: its null handle)
        return "gone" if s.destroyed else s.set_max_send_fragment(op[2])
    if name == "noreneg":
        return s.disable_renegotiation()
    if name == "reneg":
        return s.renegotiate({"rejectUnauthorized": op[2]},
                             lambda e=None: log.add(f"renegcb@{k} {code_of(e)}"))
    if name == "info":
        return info(s)
    if name == "ekm":
        return ekm(s, socks["s"])
    raise ValueError(name)


async def run_script(script: dict[str, Any]) -> dict[str, Any]:
    clock, logs = new_logs()
    counts = {"keylogC": 0, "keylogS": 0, "session": 0}
    socks: dict[str, Any] = {"c": None, "s": None}
    loop = asyncio.get_running_loop()
    # the ops start once both sides are settled (or after SECURE_MAX): Node's runner runs them
    # in the microtasks right after the event that completes the pair, before its TLSWrap
    # goes on (the server's session tickets, a TLS 1.2 client's writes made before the
    # handshake go out after them); here the ops up to the first settle run in that event's
    # listener (the last one), and that settle's '~' is logged there too (Node's runOps logs it
    # in the same microtask), the rest once the future it sets wakes the script up
    waiting = {"c", "s"}
    secure: asyncio.Future[None] = loop.create_future()
    ops = script["ops"]
    head = next((i for i, op in enumerate(ops) if op[0] == "settle"), len(ops))

    def done(side: str) -> None:
        waiting.discard(side)
        if not waiting and not secure.done():
            secure.set_result(None)
            for k, op in enumerate(ops[:head]):
                run_op(op, len(script["pre"]) + k, socks, logs, _own)
            for log in logs.values():  # (the settle's mark, as Node's runOps logs it there too)
                log.add("~")
    server = tls.create_server(server_options(script["server"]))
    raws: list[Any] = []

    def on_secure(s: Any) -> None:
        logs["s"].add("secureConnection")
        if socks["s"] is None:
            socks["s"] = s
            watch(s, logs["s"], EVENTS)
        done("s")

    def on_client_error(e: Any, _s: Any = None) -> None:
        logs["s"].add(f"tlsClientError {code_of(e)}")
        done("s")

    def on_keylog(*_: Any) -> None:
        counts["keylogS"] += 1

    server.on("secureConnection", on_secure)
    server.on("tlsClientError", on_client_error)
    server.on("keylog", on_keylog)
    server.on("connection", raws.append)
    server.listen(0, "127.0.0.1")
    await asyncio.wait_for(server, 5)
    client = tls.connect(client_options(script["client"], server.address()["port"]))
    socks["c"] = client
    watch(client, logs["c"], EVENTS)

    def count(key: str) -> Any:
        def f(*_: Any) -> None:
            counts[key] += 1
        return f

    client.on("session", count("session"))
    client.on("keylog", count("keylogC"))

    def settled(*_: Any) -> None:
        done("c")

    protocol: list[str | None] = [None]
    client.once("secureConnect", lambda: protocol.__setitem__(0, client.get_protocol()))
    client.once("secure", settled)  # (after secureConnect: onConnectSecure is its first listener)
    client.once("close", settled)
    for k, op in enumerate(script["pre"]):
        run_op(op, k, socks, logs, _own)
    timer = loop.call_later(SECURE_MAX, lambda: waiting.clear() or done(""))
    await secure
    timer.cancel()
    await settle(clock)  # (the settle after the head ops, its '~' logged in done())
    if head < len(ops):
        await run_ops(ops[head + 1:], len(script["pre"]) + head + 1, socks, logs, clock, _own)
    result = {"c": logs["c"].render(), "s": logs["s"].render(),
              "state": {"c": state(client, EXTRA_STATE),
                        "s": state(socks["s"], EXTRA_STATE) if socks["s"] else None},
              "counts": {"keylog": {"c": counts["keylogC"], "s": counts["keylogS"]},
                         "session": counts["session"] if protocol[0] == "TLSv1.2" else None}}
    client.destroy()
    if socks["s"] is not None:
        socks["s"].destroy()
    for raw in raws:
        raw.destroy()
    try:
        await asyncio.wait_for(server.close(), 5)
    except TimeoutError:
        pass
    return result


async def run_scripts(scripts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run each script in turn on the running loop."""
    cert_dir()
    return [await run_script(sc) for sc in scripts]


def main() -> None:
    runner_main(run_scripts)


if __name__ == "__main__":
    main()
