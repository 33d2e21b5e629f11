"""The nodetls side of the bad-arguments differential (``gen.py`` describes the calls,
``runner.js`` is Node's side): :func:`run_calls`, or ``python -m tests.options.runner
calls.json > results.json``.

A result is ``{"threw": False}`` or ``{"threw": True, "cls", "code", "msg"}``, ``cls`` being the
Python class's place in Node's: ``TypeError`` (a ``TypeError`` that is no ``ValueError``),
``RangeError`` (a ``ValueError`` that is no ``TypeError``), ``TypeError|RangeError`` (both, as
``ERR_TLS_INVALID_PROTOCOL_VERSION``), else the class's name.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import nodetls as tls
from nodetls import net

_HERE = Path(__file__).parent
PEM = {"cert": (_HERE / "cert.pem").read_text(), "key": (_HERE / "key.pem").read_text()}


def _fn(*args: Any) -> None:
    return None


def classify(exc: BaseException) -> str:
    """The Node class ``exc`` stands for (module docstring)."""
    t, v = isinstance(exc, TypeError), isinstance(exc, ValueError)
    if t and v:
        return "TypeError|RangeError"
    if t:
        return "TypeError"
    if v:
        return "RangeError"
    return type(exc).__name__


class _Run:
    """One batch: the objects one call made, and where its Unix sockets go."""

    def __init__(self, directory: str) -> None:
        self.dir = directory
        self.paths = 0
        self.made: list[Any] = []

    def track(self, obj: Any) -> Any:
        self.made.append(obj)
        return obj

    def decode(self, v: Any) -> Any:
        if isinstance(v, list):
            return [self.decode(x) for x in v]
        if not isinstance(v, dict):
            return v
        tag = v["$"]
        if tag in ("nan", "inf", "-inf"):
            return float(tag)
        if tag == "bytes":
            return bytes.fromhex(v["hex"])
        if tag == "obj":
            return {k: self.decode(x) for k, x in v["v"].items()}
        if tag == "fn":
            return _fn
        if tag == "pem":
            text = PEM[v["which"]]
            return text.encode() if v["as"] == "bytes" else text
        if tag == "ctx":
            return tls.create_secure_context()
        if tag == "sock":
            return self.track(net.Socket())
        if tag == "sockpath":
            self.paths += 1
            return os.path.join(self.dir, f"s{self.paths}.sock")
        raise AssertionError(v)

    def options(self, call: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
        out = dict(defaults)
        for spelled, node, value, _bad in call["opts"]:
            # (a default is replaced under either spelling of its name)
            out.pop(node, None)
            out[spelled] = self.decode(value)
        return out

    def make(self, call: dict[str, Any]) -> Any:
        args = [self.decode(a[0]) for a in call["args"]]
        dest = {"port": 1, "host": "127.0.0.1"}
        target = call["target"]
        if target == "ctx":
            return tls.create_secure_context(self.options(call, {}))
        if target == "tls_server":
            return self.track(tls.create_server(self.options(call, {})))
        if target == "tls_socket":
            return self.track(tls.TLSSocket(None, self.options(call, {})))
        if target == "tls_connect":
            return self.track(tls.connect(self.options(call, dest)))
        if target == "net_socket":
            return self.track(net.Socket(self.options(call, {})))
        if target == "net_connect":
            return self.track(net.connect(self.options(call, dest)))
        if target == "net_server":
            return self.track(net.create_server(self.options(call, {})))
        if target == "listen":
            return self.track(net.create_server()).listen(self.options(call, {}))
        if target == "listen_args":
            return self.track(net.create_server()).listen(*args)
        if target == "net_connect_args":
            return self.track(net.connect(*args))
        if target == "tls_connect_args":
            return self.track(tls.connect(*args))
        if target == "method":
            on = call["on"]
            obj = (net.Socket() if on == "net_socket" else tls.create_server()
                   if on == "tls_server" else tls.TLSSocket())
            self.track(obj)
            return getattr(obj, call["method"])(*args)
        raise AssertionError(target)

    def cleanup(self) -> None:
        for obj in self.made:
            try:
                if isinstance(obj, net.Server):
                    obj.close(_fn)
                else:
                    obj.destroy()
            except Exception:  # noqa: BLE001 (already gone)
                pass
        self.made = []

    def run(self, call: dict[str, Any]) -> dict[str, Any]:
        try:
            self.make(call)
            result: dict[str, Any] = {"threw": False}
        except Exception as exc:  # noqa: BLE001 (every failure is a result)
            result = {"threw": True, "cls": classify(exc), "code": getattr(exc, "code", None),
                      "msg": str(exc)}
        self.cleanup()
        return result


async def run_calls(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """nodetls's results for ``calls``, on the running loop."""
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _loop, _ctx: None)  # asynchronous failures: not compared
    directory = tempfile.mkdtemp(prefix="nodetls-opts-")
    run = _Run(directory)
    out = []
    try:
        for i, call in enumerate(calls):
            out.append(run.run(call))
            if i % 50 == 49:
                await asyncio.sleep(0)
        await asyncio.sleep(0.05)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return out


def main() -> None:
    import json
    with open(sys.argv[1]) as f:
        calls = json.load(f)
    sys.stdout.write(json.dumps(asyncio.run(run_calls(calls))))


if __name__ == "__main__":
    main()
