"""A pause-point callback (``SNICallback``'s, ``'OCSPRequest'``'s, ``'resumeSession'``'s,
``'newSession'``'s) called twice, never, or after the socket is gone -- compared with node v20
running the same scenario (``node_misuse.js``).

Node's rules (``lib/_tls_wrap.js``), now nodetls's:

* twice: the second call returns normally and destroys the socket with
  ``ERR_MULTIPLE_CALLBACK`` -- ``'tlsClientError'`` while the handshake is still running, the
  socket's ``'error'`` after ``'secureConnection'``; ``'newSession'``'s second call is ignored;
* never: the handshake timer fires, ``'tlsClientError'`` ``ERR_TLS_HANDSHAKE_TIMEOUT``;
* after the socket is gone: ignored (the engine is freed by then: nothing may touch it).

The server keeps serving and every engine is freed in each case.
"""

from __future__ import annotations

import asyncio
import gc
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

import nodetls as tls
from nodetls import constants as C
from nodetls._engine import live_engines

from ..tls.tlsutil import close_server, connect, event, read_until, wait

POINTS = ["SNICallback", "OCSPRequest", "resumeSession", "newSession"]
MODES = ["twice", "twice_late", "never", "gone"]
HANDSHAKE_TIMEOUT = 1.0  # what 'never' waits; normal handshakes fit in it on a loaded machine


@pytest.fixture(scope="module")
def node_outcomes(node_bin: str, certs: Any) -> dict[tuple[str, str], dict[str, Any]]:
    """Every scenario, run once by node (one process, ~3 s: the four callbacks side by side)."""
    script = Path(__file__).with_name("node_misuse.js")
    proc = subprocess.run(
        [node_bin, str(script), str(certs.server.key_path), str(certs.server.chain_path),
         str(certs.root.cert_path)], capture_output=True, text=True, timeout=60, check=True)
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    return {(r.pop("point"), r.pop("mode")): r for r in rows}


def _code(exc: BaseException) -> str:
    return getattr(exc, "code", None) or str(exc)


async def nodetls_scenario(certs: Any, point: str, mode: str) -> dict[str, Any]:
    """The scenario of ``node_misuse.js``, in nodetls (same names, same outcome record)."""
    loop = asyncio.get_running_loop()
    out: dict[str, Any] = {"server": [], "call": None, "served": False}
    st: dict[str, Any] = {"armed": point != "resumeSession", "late": None, "faulty": None}
    st["recording"] = st["armed"]
    faulty_side: asyncio.Future[Any] = loop.create_future()  # the server's socket for it

    def record(what: str, sock: Any = None) -> None:
        if st["recording"]:
            out["server"].append(what)
            if sock is not None and not faulty_side.done():
                faulty_side.set_result(sock)

    def extra(cb: Any, args: tuple[Any, ...]) -> None:
        try:
            cb(*args)
            out["call"] = "returned"
        except Exception as exc:  # noqa: BLE001 - what node reports as 'threw'
            out["call"] = "threw:" + _code(exc)

    def answer(cb: Any, *args: Any) -> None:
        if not st["armed"]:
            cb(*args)
            return
        st["armed"] = False
        if mode == "never":
            return
        if mode == "gone":
            st["late"] = lambda: extra(cb, args)
            st["faulty"].destroy()
            return
        cb(*args)
        if mode == "twice":
            extra(cb, args)
        if mode == "twice_late":
            st["late"] = lambda: extra(cb, args)

    opts: dict[str, Any] = {**certs.server.options, "handshake_timeout": HANDSHAKE_TIMEOUT,
                            "max_version": "TLSv1.2", "secure_options": C.SSL_OP_NO_TICKET}
    copts: dict[str, Any] = {"host": "127.0.0.1", "ca": certs.root.cert_pem,
                             "servername": "localhost", "max_version": "TLSv1.2"}
    if point == "SNICallback":
        opts["sni_callback"] = lambda name, cb: answer(cb, None, None)
    if point == "OCSPRequest":
        copts["request_ocsp"] = True

    def on_secure(sock: Any) -> None:
        record("secureConnection", sock)
        sock.on("error", lambda e: record("error:" + _code(e)))
        sock.on("data", sock.write)
        sock.on("end", sock.end)
        if st["late"] is not None and mode == "twice_late":
            late, st["late"] = st["late"], None
            loop.call_soon(late)

    server = tls.create_server(opts, on_secure)
    server.on("tlsClientError", lambda e, sock: record("tlsClientError:" + _code(e), sock))
    if point == "OCSPRequest":
        server.on("OCSPRequest", lambda cert, issuer, cb: answer(cb, None, None))
    store: dict[bytes, bytes] = {}

    def on_new(sid: bytes, data: bytes, cb: Any) -> None:
        store[sid] = data
        if point == "newSession":
            answer(cb)
        else:
            cb()

    server.on("newSession", on_new)
    if point == "resumeSession":
        server.on("resumeSession", lambda sid, cb: answer(cb, None, store.get(sid)))
    await wait(server.listen(0, "127.0.0.1"))
    port = server.address()["port"]
    try:
        if point == "resumeSession":  # a first, normal connection makes the session offered
            first = await connect(port, **copts)
            copts["session"] = first.get_session()
            first.end()
            await wait(event(first, "close"))
            st["armed"] = st["recording"] = True
        faulty = st["faulty"] = tls.connect(port, copts)
        faulty.on("secureConnect", lambda: faulty.write(b"hi"))
        faulty.on("data", lambda chunk: faulty.end())
        faulty.on("error", lambda e: None)
        await wait(event(faulty, "close"), HANDSHAKE_TIMEOUT + 10)
        side = await wait(faulty_side)
        await wait(side.wait_closed())  # the server has reported all it will
        if st["late"] is not None:
            st["late"]()
        st["recording"] = False
        copts.pop("session", None)
        again = await connect(port, **copts)
        again.write(b"again")
        out["served"] = await read_until(again, 5) == b"again"
        again.destroy()
    finally:
        closed = event(server, "close")
        close_server(server)
    await wait(closed)
    return out


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("point", POINTS)
async def test_callback_misuse_matches_node(certs, node_outcomes, point, mode):
    gc.collect()
    engines = live_engines()
    ours = await nodetls_scenario(certs, point, mode)
    assert ours == node_outcomes[(point, mode)]
    gc.collect()
    assert live_engines() <= engines
