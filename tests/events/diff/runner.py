"""Differential EventEmitter runner (nodetls side): runs scripts of the language described in
``gen.py`` against :mod:`nodetls.events` and logs what is observable, in exactly the strings
``runner.js`` logs for Node's ``events``.

Usage: ``python -m tests.events.diff.runner scripts.json > results.json``, or
:func:`run_scripts` from a test. A ``MaxListenersExceededWarning`` (Node: a process warning,
collected from ``process.on('warning')``) is recorded with :func:`warnings.catch_warnings`.
"""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

from nodetls.events import EventEmitter, MaxListenersExceededWarning, error_monitor
from nodetls.stream import Readable

from ...helpers.difftest import BoomError, code_of, runner_main

_COUNTED = ("a", "b", "error", "newListener", "removeListener", "monitor", "close")


def ev(name: str) -> str:
    return error_monitor if name == "monitor" else name


def js(v: Any) -> str:
    return "true" if v is True else "false" if v is False else "null" if v is None else str(v)


class _Run:
    def __init__(self, script: dict[str, Any]) -> None:
        self.log: list[str] = []
        self.em: Any = Readable(read=lambda n: None) if script["kind"] == "readable" \
            else EventEmitter()
        self.names: dict[int, str] = {}
        self.fns: list[Any] = []
        self.depth = 0
        for i, spec in enumerate(script["fns"]):
            self.fns.append(self._make(i, spec))
        self.ops = script["ops"]

    def _make(self, i: int, spec: list[Any]) -> Any:
        reps = 0 if spec[0] == "log" else 1
        calls = [0]
        L = self.log.append

        def fn(*args: Any) -> None:
            L(f"f{i} {' '.join(self.show(a) for a in args)}".rstrip())
            calls[0] += 1
            if calls[0] > reps or self.depth >= 6:
                return
            self.depth += 1
            try:
                r = self.act(spec)
                L(f"f{i} {spec[0]} -> {js(r)}")
            except Exception as e:  # noqa: BLE001 - logged, as the Node runner does
                L(f"f{i} throw {code_of(e)}")
            finally:
                self.depth -= 1

        self.names[id(fn)] = f"f{i}"
        return fn

    def show(self, x: Any) -> str:
        if callable(x) and not isinstance(x, BaseException):
            name = self.names.get(id(x))
            if name is not None:
                return name
            inner = getattr(x, "listener", None)
            if inner is not None and id(inner) in self.names:
                return f"w({self.names[id(inner)]})"
            return "<fn>"
        if x == error_monitor:
            return "monitor"
        if isinstance(x, BaseException):
            return "E:" + code_of(x)
        return str(x)

    def lst(self, a: list[Any]) -> str:
        return "[" + ",".join(self.show(x) for x in a) + "]"

    def this(self, r: Any) -> str:
        return "this" if r is self.em else "?"

    def act(self, a: list[Any]) -> str | None:
        em, name = self.em, a[0]
        if name == "on":
            return self.this(em.on(ev(a[1]), self.fns[a[2]]))
        if name == "once":
            return self.this(em.once(ev(a[1]), self.fns[a[2]]))
        if name == "prepend":
            return self.this(em.prepend_listener(ev(a[1]), self.fns[a[2]]))
        if name == "prepend_once":
            return self.this(em.prepend_once_listener(ev(a[1]), self.fns[a[2]]))
        if name == "off":
            return self.this(em.off(ev(a[1]), self.fns[a[2]]))
        if name == "rmall":
            return self.this(em.remove_all_listeners() if a[1] is None
                             else em.remove_all_listeners(ev(a[1])))
        if name == "emit":
            if len(a) < 3:
                return js(em.emit(ev(a[1]), "x"))
            args: list[Any] = []
            if a[1] == "error":
                if a[2] == 1:
                    args.append(BoomError("EBOOM"))
                elif a[2] == 2:
                    args.append("x0")
            else:
                args = [f"x{i}" for i in range(a[2])]
            return js(em.emit(ev(a[1]), *args))
        if name == "max":
            return self.this(em.set_max_listeners(a[1]))
        if name == "count":
            if len(a) > 2 and a[2] is not None:
                return str(em.listener_count(ev(a[1]), self.fns[a[2]]))
            return str(em.listener_count(ev(a[1])))
        if name == "names":
            return self.lst(em.event_names())
        if name == "listeners":
            return self.lst(em.listeners(ev(a[1])))
        if name == "raw":
            return self.lst(em.raw_listeners(ev(a[1])))
        if name == "bad":
            m = {"on": em.on, "once": em.once, "prepend": em.prepend_listener,
                 "prepend_once": em.prepend_once_listener, "off": em.remove_listener}[a[1]]
            return js(m("a", 42))
        if name == "log":
            return None
        raise ValueError(name)

    def run(self) -> dict[str, Any]:
        L = self.log.append
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for op in self.ops:
                L("> " + " ".join("null" if x is None else str(x) for x in op))
                try:
                    r = self.act(op)
                except Exception as e:  # noqa: BLE001 - logged, as the Node runner does
                    r = "throw " + code_of(e)
                L(f"= {js(r)}")
        em = self.em
        state = {
            "names": self.lst(em.event_names()),
            "counts": [em.listener_count(ev(e)) for e in _COUNTED],
            "max": em.get_max_listeners(),
        }
        warned = [f"warn {self.show(w.message.type)} {w.message.count}" for w in caught
                  if isinstance(w.message, MaxListenersExceededWarning)]
        return {"log": self.log, "state": state, "warnings": warned}


async def run_scripts(scripts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run each script in turn (on the running loop: a Readable wants one)."""
    out = []
    for sc in scripts:
        out.append(_Run(sc).run())
        await asyncio.sleep(0)
    return out


def main() -> None:
    runner_main(run_scripts)


if __name__ == "__main__":
    main()
