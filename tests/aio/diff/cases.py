"""The named cases of the aio differential test: each divergence class the runs found,
minimised, with what asyncio's and uvloop's SSL transports do (``doc``) and its kind:

* ``"fixed"``: nodetls.aio differed from both and was changed; it now runs as one of them (the
  logs compared whole, up to the first settle when ``upto`` is ``"settle"``, the op results
  alone when ``"ops"``);
* ``"xfail"``: nodetls.aio differs from both, left open (a strict xfail, see the doc);
* ``"follows"``: asyncio and uvloop disagree; nodetls follows the one named (``ref``);
* ``"deliberate"``: a nodetls feature asyncio's SSL transports lack (``check`` holds what
  nodetls's log of a side must contain, in order).
"""

from __future__ import annotations

from typing import Any


def _s(ops: list[Any], tls: str = "TLSv1.3", eof: dict[str, Any] | None = None,
       proto: dict[str, str] | None = None) -> dict[str, Any]:
    return {"tls": tls, "proto": proto or {"c": "plain", "s": "plain"},
            "eof": eof or {"c": None, "s": None}, "ops": ops}


NAMED: dict[str, dict[str, Any]] = {
    "default_write_buffer_limits": {
        "kind": "fixed",
        "doc": "get_write_buffer_limits() of a new SSL transport, and after "
               "set_write_buffer_limits() with no argument, is (131072, 524288): asyncio's "
               "FLOW_CONTROL_HIGH_WATER_SSL_WRITE (512 KiB), uvloop's too (nodetls had asyncio's "
               "TCP default, (16384, 65536))",
        "script": _s([["s", "get_write_buffer_limits"], ["c", "set_write_buffer_limits", 8, 4],
                      ["c", "set_write_buffer_limits", None, None],
                      ["c", "get_write_buffer_limits"], ["settle"]]),
    },
    "high_water_zero_pauses_at_once": {
        "kind": "fixed",
        "doc": "set_write_buffer_limits(0, 0) calls pause_writing() at once, an empty buffer "
               "being at the high-water mark (asyncio's SSL flow control tests size >= high); "
               "each later write (writelines([]) too) runs the check again, which resumes "
               "(size <= low while paused), the next one pauses again",
        "upto": "settle",
        "script": _s([["c", "set_write_buffer_limits", 0, 0], ["c", "write", "61"],
                      ["c", "writelines", []], ["c", "write", [70000, 7]], ["settle"]]),
    },
    "is_reading_after_close": {
        "kind": "fixed",
        "doc": "is_reading() answers the pause_reading()/resume_reading() flag alone: True "
               "after close() (nodetls said False), and pause_reading() after close() makes it "
               "False (the op results compared: the close itself is the open divergence below)",
        "upto": "ops",
        "script": _s([["c", "close"], ["c", "is_reading"], ["c", "pause_reading"],
                      ["c", "is_reading"], ["c", "resume_reading"], ["c", "is_reading"],
                      ["settle"]]),
    },
    "abort_sends_no_close_notify": {
        "kind": "fixed",
        "doc": "abort() closes the TCP connection without close_notify, on the next loop "
               "iteration: data the peer writes meanwhile is unread, so the peer gets a RST, "
               "connection_lost(ConnectionResetError), and no eof_received() (nodetls sent "
               "close_notify and closed at once: the peer saw an orderly end)",
        "script": _s([["c", "abort"], ["s", "write", "6261626565"], ["settle"]]),
    },
    "close_waits_for_peer_close_notify": {
        "kind": "xfail",
        "doc": "close() sends close_notify and waits for the peer's (up to "
               "ssl_shutdown_timeout, 30 s) before closing TCP; the peer's close_notify calls "
               "the closer's eof_received() (-> False here), then connection_lost(None). "
               "nodetls's close() closes at once after its close_notify (no eof_received)",
        "script": _s([["c", "close"], ["settle"]], eof={"c": False, "s": None}),
    },
    "paused_reading_sees_reset": {
        "kind": "xfail",
        "doc": "while the protocol is paused (pause_reading()), asyncio's SSL transport keeps "
               "reading TCP into its buffer (up to 256 KiB), so a RST from the peer ends the "
               "connection at once: connection_lost(ConnectionResetError). nodetls stops the "
               "TCP reads too (bounded memory, TCP back-pressure), so it sees the RST only at "
               "resume_reading() or close()",
        "script": _s([["s", "pause_reading"], ["s", "write", "656261"], ["c", "abort"],
                      ["settle"]]),
    },
    "fin_without_close_notify": {
        "kind": "follows", "ref": "asyncio",
        "doc": "the peer closes TCP without close_notify (an abort() when nothing is unread: "
               "a FIN): asyncio calls eof_received() then connection_lost(None); uvloop calls "
               "connection_lost(None) alone. nodetls follows asyncio",
        "script": _s([["settle"], ["c", "abort"], ["settle"]]),
    },
    "write_eof_half_close": {
        "kind": "deliberate",
        "doc": "write_eof(): asyncio's and uvloop's SSL transports raise NotImplementedError; "
               "nodetls sends close_notify then FIN after the data written so far, and reads "
               "on: the server's answer still arrives",
        "script": _s([["c", "write", "61"], ["c", "write_eof"], ["s", "write", "62"],
                      ["settle"]]),
        "check": {"c": ["> write_eof", "= None", "data 62"], "s": ["data 61", "eof -> None"]},
        "refs": {"c": ["> write_eof", "! NotImplementedError"]},
    },
    "eof_received_true_keeps_write_side": {
        "kind": "deliberate",
        "doc": "eof_received() returning True: asyncio's SSL transports log a warning and close; "
               "nodetls keeps the write side open (TLS half-close), so the server answers after "
               "the client's write_eof()",
        "script": _s([["c", "write_eof"], ["settle"], ["s", "write", "62"], ["s", "close"],
                      ["settle"]], eof={"c": None, "s": True}),
        "check": {"s": ["eof -> True", "~", "> write 62", "= None"], "c": ["data 62"]},
        "refs": {"c": ["> write_eof", "! NotImplementedError"]},
    },
}
