"""The negotiation differential's nodetls side, as ``peer.js`` is Node's, logging the same
records: ``python -m tests.nego.peer server|client cases.json [ports.json]`` (see peer.js).
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import sys
from typing import Any

import nodetls as tls
from nodetls import constants

from .certs import ENV

LIMIT = 5.0


def _rd(name: str) -> bytes:
    with open(os.path.join(os.environ[ENV], name), "rb") as f:
        return f.read()


def code_of(e: BaseException | None) -> str | None:
    return None if e is None else getattr(e, "code", None) or f"<{type(e).__name__}>"


def _pairs(certs: str, role: str) -> dict[str, Any]:
    kinds = certs.split("+")
    return {"key": [_rd(f"{role}-{k}.key") for k in kinds],
            "cert": [_rd(f"{role}-{k}.pem") for k in kinds]}


_NAMES = {"minVersion": "min_version", "maxVersion": "max_version", "ciphers": "ciphers",
          "ecdhCurve": "ecdh_curve", "sigalgs": "sigalgs", "ALPNProtocols": "alpn_protocols"}


def _common(o: dict[str, Any]) -> dict[str, Any]:
    r = {ours: o[node] for node, ours in _NAMES.items() if o[node] is not None}
    if o["secureOptions"]:
        r["secure_options"] = functools.reduce(
            lambda a, n: a | getattr(constants, n), o["secureOptions"], 0)
    return r


def _q(f: Any) -> Any:
    try:
        return f()
    except Exception as e:  # noqa: BLE001 - recorded, as peer.js records a throw
        return "!" + str(code_of(e))


def _info(s: Any) -> dict[str, Any]:
    return {"protocol": _q(s.get_protocol), "cipher": _q(s.get_cipher),
            "alpn": _q(lambda: s.alpn_protocol), "servername": _q(lambda: s.servername),
            "eph": _q(s.get_ephemeral_key_info), "sigalgs": _q(s.get_shared_sigalgs),
            "reused": _q(s.is_session_reused), "authorized": _q(lambda: s.authorized),
            "authError": _q(lambda: s.authorization_error)}


def _server_options(o: dict[str, Any]) -> dict[str, Any]:
    opts = {**_common(o), **_pairs(o["certs"], "server"), "ca": _rd("client-ca.pem"),
            "request_cert": o["requestCert"], "reject_unauthorized": o["rejectUnauthorized"]}
    if o["honorCipherOrder"] is not None:
        opts["honor_cipher_order"] = o["honorCipherOrder"]
    if o["dhparam"]:
        opts["dhparam"] = "auto" if o["dhparam"] == "auto" else _rd("dh.pem")
    if o["sni"]:
        sni = _pairs(o["sni"]["certs"], "other")
        if o["sni"]["ciphers"] is not None:
            sni["ciphers"] = o["sni"]["ciphers"]
        ctx = tls.create_secure_context(sni)
        opts["sni_callback"] = lambda name, cb: cb(None, ctx if name == "other.example" else None)
    return opts


async def server(cases: list[dict[str, Any]]) -> None:
    out: list[dict[str, Any]] = [{"create": None, "conns": []} for _ in cases]
    servers, ports = [], []
    for i, c in enumerate(cases):
        try:
            s = tls.create_server(_server_options(c["server"]))
        except Exception as e:  # noqa: BLE001 - recorded
            out[i]["create"] = code_of(e)
            ports.append(None)
            continue

        def on_secure(sock: Any, conns: list[dict[str, Any]] = out[i]["conns"]) -> None:
            rec = {"ev": "secure", **_info(sock)}
            conns.append(rec)
            sock.on("error", lambda e, rec=rec: rec.__setitem__("err", code_of(e)))
            sock.end(b"x")

        s.on("secureConnection", on_secure)
        s.on("tlsClientError", lambda e, _s, conns=out[i]["conns"]: conns.append(
            {"ev": "tlsClientError", "code": code_of(e)}))
        await s.listen(0, "127.0.0.1")
        servers.append(s)
        ports.append(s.address()["port"])
    sys.stdout.write(json.dumps(ports) + "\n")
    sys.stdout.flush()
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 3
    for s in servers:
        while s.connections and loop.time() < deadline:
            await asyncio.sleep(0.01)
        s.close()
    sys.stdout.write(json.dumps(out))


async def _connect_once(opts: dict[str, Any]) -> tuple[dict[str, Any], bytes | None]:
    rec: dict[str, Any] = {}
    session: list[bytes] = []
    done = asyncio.get_running_loop().create_future()
    try:
        s = tls.connect(opts)
    except Exception as e:  # noqa: BLE001 - recorded
        return {"create": code_of(e)}, None

    def on_data(d: bytes) -> None:
        rec["data"] = rec.get("data", "") + d.decode("latin1")

    def on_error(e: BaseException) -> None:
        rec.setdefault("err", code_of(e))

    s.on("secureConnect", lambda: rec.update({"ev": "secureConnect", **_info(s)}))
    s.on("session", session.append)
    s.on("data", on_data)
    s.on("error", on_error)
    s.on("close", lambda *_: done.done() or done.set_result(None))
    try:
        await asyncio.wait_for(asyncio.shield(done), LIMIT)
    except TimeoutError:
        rec["timeout"] = True
        s.destroy()
        await asyncio.wait_for(done, LIMIT)
    return rec, session[-1] if session else None


async def client(cases: list[dict[str, Any]], ports: list[int | None]) -> None:
    out: list[list[dict[str, Any]] | None] = []
    for c, port in zip(cases, ports, strict=True):
        if port is None:
            out.append(None)
            continue
        o = c["client"]
        opts = {**_common(o), "host": "127.0.0.1", "port": port, "ca": _rd("root.pem"),
                "reject_unauthorized": False}
        if o["servername"] is not None:
            opts["servername"] = o["servername"]
        if o["cert"]:
            opts["key"], opts["cert"] = _rd(f"client-{o['cert']}.key"), _rd(f"client-{o['cert']}.pem")
        rec, session = await _connect_once(opts)
        recs = [rec]
        if o["resume"] and session:
            recs.append((await _connect_once({**opts, "session": session}))[0])
        out.append(recs)
    sys.stdout.write(json.dumps(out))


def main() -> None:
    with open(sys.argv[2]) as f:
        cases = json.load(f)
    if sys.argv[1] == "server":
        asyncio.run(server(cases))
    else:
        with open(sys.argv[3]) as f:
            ports = json.load(f)
        asyncio.run(client(cases, ports))


if __name__ == "__main__":
    main()
