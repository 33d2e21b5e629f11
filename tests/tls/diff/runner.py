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
import atexit
import os
import shutil
import tempfile
from typing import Any

import nodetls as tls
from nodetls import constants

from ...helpers.certs import PKI
from ...helpers.difftest import BoomError, code_of, runner_main
from ...net.diff.runner import Log, _Clock, arg, js, settle
from ...net.diff.runner import state as net_state

ENV = "NODETLS_TLSDIFF_CERTS"
SECURE_MAX = 1.0
_FILES = ("server-key.pem", "server-chain.pem", "root.pem", "client-ca.pem", "client-key.pem",
          "client-cert.pem", "client-self-key.pem", "client-self-cert.pem")


def cert_dir() -> str:
    """The directory of the runners' certificates (made on the first call, removed at exit),
    also set as ``NODETLS_TLSDIFF_CERTS`` for the Node runner started after it."""
    d = os.environ.get(ENV)
    if d and all(os.path.exists(os.path.join(d, f)) for f in _FILES):
        return d
    d = tempfile.mkdtemp(prefix="tlsdiff-")
    atexit.register(shutil.rmtree, d, True)
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


def watch(sock: Any, log: Log) -> None:
    for ev in ("connect", "ready", "secure", "secureConnect", "end", "finish", "drain",
               "timeout"):
        sock.on(ev, lambda *_, ev=ev: log.add(ev))
    sock.on("data", log.data)
    sock.on("error", lambda e: log.add(f"error {code_of(e)}"))
    sock.on("close", lambda h=False: log.add(f"close {js(h)}"))


def state(s: Any) -> dict[str, Any]:
    o = net_state(s)
    o.pop("timeout")
    errored = o.pop("errored")
    for py, name in (("authorized", "authorized"), ("authorization_error", "authorizationError"),
                     ("alpn_protocol", "alpnProtocol"), ("servername", "servername"),
                     ("encrypted", "encrypted")):
        o[name] = getattr(s, py, None)
    t = s.timeout
    o["timeout"] = None if t is None else round(t * 1000)
    o["errored"] = errored
    return o


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


def _call(name: str, s: Any, op: list[Any], k: int, log: Log, socks: dict[str, Any]) -> Any:
    if name == "write":
        return s.write(arg(op[2]), callback=lambda e=None: log.add(f"wcb@{k} {code_of(e)}"))
    if name == "end":
        def cb(e: Any = None) -> None:
            log.add(f"endcb@{k} {code_of(e)}")
        return s.end(arg(op[2]), callback=cb)
    if name == "destroy":
        return s.destroy(BoomError("EBOOM") if op[2] else None)
    if name == "destroy_soon":
        return s.destroy_soon()
    if name == "pause":
        return s.pause()
    if name == "resume":
        return s.resume()
    if name == "enc":
        return s.set_encoding(op[2])
    if name == "timeout":
        return s.set_timeout(op[2] / 1000)
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


def run_op(op: list[Any], k: int, socks: dict[str, Any], logs: dict[str, Log]) -> None:
    t, name = op[0], op[1]
    s, log = socks[t], logs[t]
    log.add(f"> {name}")
    if s is None:
        log.add("= nosock")
        return
    try:
        r = _call(name, s, op, k, log, socks)
        ret = "this" if r is s else js(r)
    except Exception as e:  # noqa: BLE001 - logged, as the Node runner logs a throw
        ret = "throw " + code_of(e)
    log.add(f"= {ret}")


async def run_script(script: dict[str, Any]) -> dict[str, Any]:
    clock = _Clock()
    logs = {"c": Log(clock), "s": Log(clock)}
    counts = {"keylogC": 0, "keylogS": 0, "session": 0}
    socks: dict[str, Any] = {"c": None, "s": None}
    loop = asyncio.get_running_loop()
    server_done: asyncio.Future[None] = loop.create_future()
    client_done: asyncio.Future[None] = loop.create_future()
    server = tls.create_server(server_options(script["server"]))
    raws: list[Any] = []

    def on_secure(s: Any) -> None:
        logs["s"].add("secureConnection")
        if socks["s"] is None:
            socks["s"] = s
            watch(s, logs["s"])
        if not server_done.done():
            server_done.set_result(None)

    def on_client_error(e: Any, _s: Any = None) -> None:
        logs["s"].add(f"tlsClientError {code_of(e)}")
        if not server_done.done():
            server_done.set_result(None)

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
    watch(client, logs["c"])

    def count(key: str) -> Any:
        def f(*_: Any) -> None:
            counts[key] += 1
        return f

    client.on("session", count("session"))
    client.on("keylog", count("keylogC"))

    def settled(*_: Any) -> None:
        if not client_done.done():
            client_done.set_result(None)

    protocol: list[str | None] = [None]
    client.once("secureConnect", lambda: protocol.__setitem__(0, client.get_protocol()))
    client.once("secureConnect", settled)
    client.once("close", settled)
    for k, op in enumerate(script["pre"]):
        run_op(op, k, socks, logs)
    try:
        await asyncio.wait_for(asyncio.gather(server_done, client_done), SECURE_MAX)
    except TimeoutError:
        pass
    for k, op in enumerate(script["ops"]):
        if op[0] == "settle":
            logs["c"].add("~")
            logs["s"].add("~")
            await settle(clock)
            continue
        run_op(op, len(script["pre"]) + k, socks, logs)
    logs["c"].add("~")
    logs["s"].add("~")
    await settle(clock)
    result = {"c": logs["c"].render(), "s": logs["s"].render(),
              "state": {"c": state(client), "s": state(socks["s"]) if socks["s"] else None},
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
