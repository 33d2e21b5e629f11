"""The verdict over the runs of one script: nodetls.aio (on each loop) against asyncio's SSL
transport and uvloop's.

* nodetls on a loop equal to either reference: fine (``follows`` says which: when the two
  references disagree, that is an accepted difference between them, logged);
* differing from both: a divergence (a bug of nodetls.aio, unless :func:`accepted` says it is
  one of the deliberate differences, docs/aio.md "Differences from asyncio's SSL transport").

A third reference, asyncio's SSL transport on uvloop's loop (``"asyncio@uvloop"``, ``THIRD``,
``sslproto_loop.py``), is asyncio's behaviour in uvloop's scheduling: nodetls on uvloop may
follow it (where nodetls follows asyncio's transport, the two loops ordering the script's
coroutines differently), and only when nodetls on the asyncio loop follows asyncio's transport
there (or was not run): nodetls following asyncio on one loop and uvloop on the other is still a
divergence. It takes no part in :func:`accepted` or ``refs_agree``.
"""

from __future__ import annotations

from typing import Any

Result = dict[str, Any]
REFS = {"asyncio": ("asyncio-ssl", "asyncio"), "uvloop": ("asyncio-ssl", "uvloop")}
THIRD = ("asyncio@uvloop", ("asyncio-sslproto", "uvloop"))


def normalise(result: Result) -> Result:
    """What is compared: ``can_write_eof()``'s answer is the deliberate difference (nodetls:
    ``True``, both references ``False``), so it is left out."""
    out = dict(result)
    for t in ("c", "s"):
        log = list(result[t])
        for i in range(1, len(log)):
            if log[i - 1] == "> can_write_eof" and log[i] in ("= True", "= False"):
                log[i] = "= (deliberate)"
        out[t] = log
    return out


def accepted(script: dict[str, Any], ours: Result,
             refs: tuple[Result, ...] = ()) -> str | None:
    """Why ``script`` is not compared, or None: the deliberate differences, and an asyncio bug
    seen in a reference's logs."""
    if any(op[0] != "settle" and op[1] == "write_eof" for op in script["ops"]):
        return "write_eof: TLS half-close (asyncio's SSL transports raise NotImplementedError)"
    if any("eof -> True" in ours[t] for t in ("c", "s")):
        return "eof_received() returned True: the write side stays open (asyncio closes)"
    if any("! AttributeError" in r[t] for r in refs for t in ("c", "s")):
        return ("asyncio's transport raises AttributeError after a second close()/abort() "
                "(its _ssl_protocol is None): an asyncio bug, not compared")
    if any("failed AttributeError" in h for r in refs for h in r["handled"]):
        return ("asyncio's transport calls pause_writing()/resume_writing() on its app "
                "protocol cleared at connection_lost() (AttributeError to the exception "
                "handler): an asyncio bug, not compared (cases.py flow_limits_after_lost)")
    if len(refs) == 2 and "TLSError" in repr(refs[0]) and "TLSError" not in repr(refs[1]):
        return ("application data after close_notify: asyncio fails the connection "
                "(APPLICATION_DATA_AFTER_CLOSE_NOTIFY), uvloop drops the data; nodetls drops "
                "it (uvloop's), the rest of its log on the asyncio loop is that loop's")
    return None


def first_difference(a: Result, b: Result) -> str | None:
    """Where reference ``a`` and ours ``b`` first differ."""
    for key in ("c", "s"):
        x, y = a[key], b[key]
        for i, (u, v) in enumerate(zip(x, y, strict=False)):
            if u != v:
                return f"{key}[{i}]: ref {u!r} / ours {v!r}"
        if len(x) != len(y):
            i = min(len(x), len(y))
            return f"{key}[{i}]: ref {x[i:i + 1]} / ours {y[i:i + 1]}"
    for key in ("handled", "final"):
        if a[key] != b[key]:
            return f"{key}: ref {a[key]!r} / ours {b[key]!r}"
    return None


def verdict(script: dict[str, Any], runs: dict[tuple[str, str], Result],
            loops: tuple[str, ...] = ("asyncio", "uvloop")) -> dict[str, Any]:
    """``runs``: ``{(impl, loop): result}`` holding both references and nodetls on ``loops``
    (and the third reference, when nodetls on uvloop may follow it: see the module).
    Returns ``{"accepted": reason|None, "refs_agree": bool, "loops": {loop: {"follows":
    [references equal], "diff": first difference from that loop's reference (None when it
    follows one)}}}``."""
    refs = {name: normalise(runs[key]) for name, key in REFS.items()}
    out: dict[str, Any] = {"accepted": None,
                           "refs_agree": refs["asyncio"] == refs["uvloop"], "loops": {}}
    for loop in loops:
        ours = normalise(runs[("nodetls-aio", loop)])
        follows = [name for name, ref in refs.items() if ref == ours]
        if loop == "uvloop" and not follows and THIRD[1] in runs and (
                ("nodetls-aio", "asyncio") not in runs
                or normalise(runs[("nodetls-aio", "asyncio")]) == refs["asyncio"]):
            follows = [THIRD[0]] if normalise(runs[THIRD[1]]) == ours else []
        diff = None if follows else (first_difference(refs[loop], ours) or "?")
        out["accepted"] = out["accepted"] or accepted(script, ours, tuple(refs.values()))
        out["loops"][loop] = {"follows": follows, "diff": diff}
    return out


def divergent(v: dict[str, Any]) -> bool:
    """A divergence to report: nodetls differs from both references on some loop, and the
    script is not one of the accepted differences."""
    return v["accepted"] is None and any(x["diff"] for x in v["loops"].values())


def signature(v: dict[str, Any]) -> str:
    """A divergence's class (kept while minimising): the first difference without its index."""
    diffs = [x["diff"] for x in v["loops"].values() if x["diff"]]
    if not diffs:
        return ""
    d = diffs[0]
    return d.split(":", 1)[0][:1] + d.split(":", 1)[1] if ":" in d else d
