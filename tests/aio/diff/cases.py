"""The named cases of the aio differential test: each divergence class the runs found,
minimised, with what asyncio's and uvloop's SSL transports do (``doc``) and its kind:

* ``"fixed"``: nodetls.aio differed from both and was changed; it now runs as one of them (the
  logs compared whole, up to the first settle when ``upto`` is ``"settle"``, the op results
  alone when ``"ops"``);
* ``"xfail"``: nodetls.aio differs from both, left open (a strict xfail, see the doc;
  ``ours``, when given, holds what nodetls's log of a side must contain, in order);
* ``"follows"``: asyncio and uvloop disagree; nodetls follows the one named (``ref``); with
  ``"asyncio"``, nodetls on uvloop follows asyncio's transport on either loop (the third
  reference, asyncio's transport on uvloop's loop: ``compare.THIRD``);
* ``"deliberate"``: a nodetls feature asyncio's SSL transports lack (``check`` holds what
  nodetls's log of a side must contain, in order).
"""

from __future__ import annotations

from typing import Any

from .runner import chunk, data_str


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
        "kind": "fixed",
        "doc": "close() sends close_notify and waits for the peer's (up to "
               "ssl_shutdown_timeout, 30 s) before closing TCP; the peer's close_notify calls "
               "the closer's eof_received() (-> False here), then connection_lost(None). "
               "(nodetls's close() closed at once after its close_notify: no eof_received)",
        "script": _s([["c", "close"], ["settle"]], eof={"c": False, "s": None}),
    },
    "close_wait_times_out": {
        "kind": "fixed",
        "doc": "a peer that never answers the close_notify (its reading paused): close() "
               "waits ssl_shutdown_timeout (here 20 ms; 30 s by default), then "
               "connection_lost(TimeoutError('SSL shutdown timed out'))",
        "script": {**_s([["s", "pause_reading"], ["c", "close"], ["settle"],
                         ["c", "is_closing"]]), "shutdown_timeout": 0.02},
    },
    "eof_received_raises": {
        "kind": "fixed",
        "doc": "eof_received() raising, on the peer's close_notify (server) and while close() "
               "waits for it (client): reported to the loop's exception handler as 'Error "
               "calling eof_received()' (nodetls said 'Fatal error: protocol.eof_received() "
               "call failed.'), connection_lost(the exception). (uvloop's closer calls no "
               "eof_received(): asyncio's is followed)",
        "script": _s([["c", "close"], ["settle"]], eof={"c": "raise", "s": "raise"}),
    },
    "data_after_close_notify_dropped": {
        "kind": "follows", "ref": "uvloop",
        "doc": "application data arriving after close() sent close_notify (the peer wrote "
               "before it saw it): uvloop drops it and goes on waiting for the peer's "
               "close_notify (eof_received(), connection_lost(None)); asyncio fails with "
               "APPLICATION_DATA_AFTER_CLOSE_NOTIFY (connection_lost(SSLError)). nodetls "
               "follows uvloop",
        "script": _s([["c", "close"], ["s", "write", "62"], ["settle"]]),
    },
    "extra_after_lost": {
        "kind": "fixed",
        "doc": "get_extra_info('peername'/'sockname') is None once the connection is lost "
               "(asyncio's SSL transport asks its TCP transport, gone by then); the TLS keys "
               "('cipher', 'ssl_object') stay. nodetls kept the addresses it had looked up",
        "script": _s([["c", "extra", "peername"], ["c", "close"], ["c", "extra", "peername"],
                      ["settle"], ["c", "extra", "peername"], ["c", "extra", "sockname"],
                      ["c", "extra", "cipher"], ["c", "extra", "ssl_object"], ["settle"]]),
    },
    "peercert_none_without_client_certificate": {
        "kind": "fixed",
        "doc": "get_extra_info('peercert') on a server whose client sent no certificate is "
               "None (ssl's getpeercert()); nodetls gave Node's {} (stream form: the reader "
               "and writer ops)",
        "script": {"mode": "stream", "tls": "TLSv1.3", "limit": 65536,
                   "ops": [["s", "extra", "peercert"], ["c", "extra", "peercert"],
                           ["settle"]]},
    },
    "write_buffer_size_counts_what_tcp_refused": {
        "kind": "fixed",
        "doc": "get_write_buffer_size() is what asyncio's SSL layer holds, not the TCP "
               "transport's buffer: a write into a TCP transport under its own high-water "
               "mark (64 KiB) counts for nothing however large (16 MB here: 0, no "
               "pause_writing); what is written while it is above counts (its ciphertext), "
               "up to the SSL high-water mark (512 KiB: pause_writing), and is 0 again once "
               "the TCP transport drained (resume_writing). nodetls counted the TCP buffer "
               "(16 MB: pause_writing at the first write). (seed 1170)",
        "script": _s([["s", "write", [16000000, 7]], ["s", "get_write_buffer_size"],
                      ["s", "write", [70000, 8]], ["s", "get_write_buffer_size"],
                      ["s", "write", [600000, 9]], ["s", "get_write_buffer_size"],
                      ["settle"], ["s", "get_write_buffer_size"]]),
    },
    "fin_with_high_water_zero": {
        "kind": "follows", "ref": "asyncio",
        "doc": "the peer's FIN without close_notify while paused with a high-water mark of 0: "
               "asyncio's flush and shutdown steps each check the write flow control before "
               "eof_received() (resume_writing, pause_writing; uvloop calls neither, nor "
               "eof_received(): fin_without_close_notify, asyncio followed). nodetls called "
               "eof_received() alone (seed 1185)",
        "script": _s([["s", "set_write_buffer_limits", 0, 0], ["c", "abort"], ["settle"]],
                     eof={"c": None, "s": False}),
    },
    "close_notify_with_high_water_zero": {
        "kind": "follows", "ref": "uvloop",
        "doc": "the peer's close_notify while paused with a high-water mark of 0: uvloop "
               "checks the write flow control once after eof_received() (resume_writing), "
               "asyncio three times (resume, pause, resume). nodetls called none; it follows "
               "uvloop",
        "script": _s([["s", "set_write_buffer_limits", 0, 0], ["c", "close"], ["settle"]],
                     eof={"c": None, "s": False}),
    },
    "peercert_after_close": {
        "kind": "fixed",
        "doc": "get_extra_info('peercert') asked first once the connection is lost: "
               "asyncio's transport keeps the certificate of the handshake (the "
               "client's: present; the server's, no client certificate: None). nodetls read it "
               "from the live connection (None once closing: asked then, it answers now too)",
        "script": _s([["c", "close"], ["settle"], ["c", "extra", "peercert"],
                      ["s", "extra", "peercert"]]),
    },
    "paused_close_sees_peer_close_notify_late": {
        "kind": "fixed",
        "doc": "close() while reading is paused, the peer's close_notify already sent: "
               "asyncio's and uvloop's transports read it while paused, so close() calls "
               "eof_received() before it returns; nodetls stopped reading TCP (see "
               "paused_reading_sees_reset), so close() started reading again and "
               "eof_received() came on a later loop iteration",
        "script": _s([["s", "pause_reading"], ["c", "close"], ["settle"], ["s", "close"],
                      ["settle"]]),
    },
    "paused_reading_sees_reset": {
        "kind": "fixed",
        "doc": "while the protocol is paused (pause_reading()), asyncio's SSL transport keeps "
               "reading TCP into its buffer (up to 256 KiB), so a RST from the peer ends the "
               "connection at once: connection_lost(ConnectionResetError). nodetls stopped "
               "the TCP reads too, so it saw the RST only at resume_reading() or close()",
        "script": _s([["s", "pause_reading"], ["s", "write", "656261"], ["c", "abort"],
                      ["settle"]]),
    },
    "paused_close_drops_data_before_close_notify": {
        "kind": "follows", "ref": "uvloop",
        "doc": "close() while reading is paused, the peer's data and close_notify already "
               "sent: uvloop's close() reads them (the data dropped) and calls eof_received() "
               "before it returns, then connection_lost(None); asyncio's SSL_shutdown finds "
               "the data after its own close_notify (connection_lost(SSLError), "
               "APPLICATION_DATA_AFTER_CLOSE_NOTIFY, as data_after_close_notify_dropped). "
               "nodetls follows uvloop (it called eof_received() on a later loop iteration)",
        "script": _s([["s", "pause_reading"], ["c", "write", "61"], ["c", "close"],
                      ["settle"], ["s", "close"], ["settle"]]),
    },
    "paused_fin_waits_for_resume": {
        "kind": "follows", "ref": "asyncio",
        "doc": "the peer's FIN without close_notify while reading is paused: asyncio's "
               "transport keeps it (its flushing state) until resume_reading(), then delivers "
               "the data, eof_received() and connection_lost(None); uvloop's closes at the FIN "
               "(connection_lost(None), the data dropped). nodetls follows asyncio, as for "
               "fin_without_close_notify (its wrap holds the FIN read while paused)",
        "script": _s([["s", "pause_reading"], ["c", "write", "61"], ["settle"], ["c", "abort"],
                      ["settle"], ["s", "resume_reading"], ["settle"]]),
    },
    "stream_reader_paused_fin_waits": {
        "kind": "follows", "ref": "asyncio",
        "doc": "stream form: a StreamReader (limit 16) holding over twice its limit pauses "
               "reading, then the peer's FIN (its abort(), no close_notify) comes: asyncio's "
               "transport keeps the FIN while paused (paused_fin_waits_for_resume), so the "
               "server's wait_closed() is still pending at the end; uvloop's closes at the "
               "FIN (wait_closed() returns). nodetls follows asyncio on both loops "
               "(stream_reads_together_paused_fin_waits: the same where the loops order the "
               "reads differently)",
        "script": {"mode": "stream", "tls": "TLSv1.3", "limit": 16,
                   "ops": [["c", "writelines", ["0a", [100, 97]]], ["s", "readline"],
                           ["settle"], ["s", "readexactly", 1], ["settle"],
                           ["s", "wait_closed"], ["c", "abort"], ["settle"]]},
    },
    "stream_reads_together_paused_fin_waits": {
        "kind": "follows", "ref": "asyncio",
        "doc": "stream_reader_paused_fin_waits with readline() and readexactly() started "
               "together (seed 5767): on the asyncio loop readexactly() raises RuntimeError "
               "(two waiters), on uvloop's both get data, whoever's transport runs. nodetls "
               "follows asyncio's transport on both loops: on uvloop it logs what asyncio's "
               "transport does on uvloop's loop (compare.THIRD), uvloop's order with asyncio's "
               "held FIN (the harness had no such run: nodetls on uvloop matched neither)",
        "script": {"mode": "stream", "tls": "TLSv1.3", "limit": 16,
                   "ops": [["c", "writelines", ["0a", [100, 97]]], ["s", "readline"],
                           ["s", "readexactly", 1], ["s", "wait_closed"], ["c", "abort"],
                           ["settle"]]},
    },
    "paused_fin_drops_writes": {
        "kind": "follows", "ref": "asyncio",
        "doc": "write() after the peer's FIN (no close_notify) came while reading is paused: "
               "asyncio's transport is flushing (the FIN kept for resume_reading(), as "
               "paused_fin_waits_for_resume) and drops what is written (writelines([]) "
               "checks no flow control either); is_closing() stays False, and "
               "resume_reading() delivers the data sent before the FIN, eof_received(), "
               "connection_lost(None). uvloop's closed at the FIN (connection_lost(None), the "
               "data dropped), so dropped the writes too. nodetls sent them: 3 MB to a peer "
               "gone made connection_lost(BrokenPipeError), the data before the FIN lost "
               "(seed 4650)",
        "script": _s([["s", "write", "6162"], ["s", "abort"], ["c", "pause_reading"],
                      ["settle"], ["c", "set_write_buffer_limits", 0, 0],
                      ["c", "write", [3000000, 218]], ["c", "writelines", []], ["settle"],
                      ["c", "is_closing"], ["c", "set_write_buffer_limits", None, None],
                      ["c", "resume_reading"], ["settle"]]),
    },
    "paused_fin_flush_with_high_water_zero": {
        "kind": "follows", "ref": "asyncio",
        "doc": "the peer's data and FIN (no close_notify) held while reading is paused, with a "
               "write high-water mark of 0: at resume_reading() asyncio's flush reads (the "
               "data, then one write flow-control check: resume_writing) and shuts down (one "
               "more: pause_writing) before eof_received(); a BufferedProtocol's buffer "
               "filled whole the same (the read step it schedules comes after the "
               "shutdown). uvloop's closed at the FIN. nodetls checked after the data and "
               "twice for the FIN (fin_with_high_water_zero): resume, pause, resume",
        "script": _s([["c", "set_write_buffer_limits", 0, 0], ["s", "write", "6162"],
                      ["s", "abort"], ["c", "pause_reading"], ["settle"],
                      ["c", "resume_reading"], ["settle"]]),
    },
    "paused_fin_flush_full_buffer_high_water_zero": {
        "kind": "follows", "ref": "asyncio",
        "doc": "paused_fin_flush_with_high_water_zero with a BufferedProtocol whose one 4 KiB "
               "buffer the held data fills whole: asyncio's flush checks the write flow "
               "control once after the buffer and once at its shutdown, before "
               "eof_received() (the read step it schedules after a full buffer finds the "
               "transport shut down); nodetls checked once more",
        "script": _s([["c", "set_write_buffer_limits", 0, 0], ["s", "write", [4096, 3]],
                      ["s", "abort"], ["c", "pause_reading"], ["settle"],
                      ["c", "resume_reading"], ["settle"]],
                     proto={"c": "buffered", "s": "plain"}),
    },
    "data_with_close_notify_high_water_zero": {
        "kind": "follows", "ref": "uvloop",
        "doc": "the peer's data and close_notify in one read, with a write high-water mark of "
               "0: asyncio's and uvloop's read step delivers the data, then eof_received(), "
               "and checks the write flow control after it (uvloop once: resume_writing, as "
               "close_notify_with_high_water_zero; asyncio three times); a BufferedProtocol's "
               "buffer not filled whole the same. nodetls checked after the data, then after "
               "eof_received(): resume before the EOF, pause after it (the same while paused: "
               "at resume_reading())",
        "script": _s([["c", "set_write_buffer_limits", 0, 0], ["s", "write", "6162"],
                      ["s", "close"], ["settle"], ["s", "write", "63"]]),
    },
    "data_with_close_notify_buffered_high_water_zero": {
        "kind": "follows", "ref": "uvloop",
        "doc": "data_with_close_notify_high_water_zero with a BufferedProtocol (the data in "
               "one 4 KiB buffer, not filled whole), reading paused until they came",
        "script": _s([["c", "set_write_buffer_limits", 0, 0], ["c", "pause_reading"],
                      ["s", "write", "6162"], ["s", "close"], ["settle"],
                      ["c", "resume_reading"], ["settle"]],
                     proto={"c": "buffered", "s": "plain"}),
    },
    "paused_close_after_peer_fin": {
        "kind": "xfail",
        "doc": "close() while reading is paused, after the peer's FIN without close_notify: "
               "asyncio's close() does nothing (its shutdown finds the flushing state the FIN "
               "set: no close_notify, no shutdown timer) and resume_reading() then delivers "
               "the data, eof_received() and connection_lost(None) after the close; without "
               "resume_reading() the connection never ends (the TCP socket stays open past "
               "ssl_shutdown_timeout: a server's wait_closed() would wait for ever), and "
               "the data after close() is what its close() docstring rules out. uvloop's "
               "closed at the FIN (connection_lost(None), the data dropped: not followable "
               "without giving up paused_fin_waits_for_resume's data). nodetls's close() "
               "reads the FIN: eof_received() before it returns, then connection_lost(None) "
               "(the data dropped, as any read once closing). Left open: neither is sane to "
               "copy",
        "script": _s([["s", "pause_reading"], ["c", "write", "61"], ["settle"], ["c", "abort"],
                      ["settle"], ["s", "close"], ["settle"], ["s", "resume_reading"],
                      ["settle"]]),
        "ours": {"s": ["> close", "eof -> None", "= None", "lost None", "~",
                       "> resume_reading", "= None", "~"]},
    },
    "flow_limits_after_lost": {
        "kind": "xfail",
        "doc": "set_write_buffer_limits() with a mark that pauses (0 here), once the connection "
               "is lost: asyncio's and uvloop's SSL transports run their write flow control "
               "on an SSL protocol whose app protocol is None by then (connection_lost() "
               "cleared it), so 'protocol.pause_writing() failed' (AttributeError: None has "
               "no pause_writing) goes to the loop's exception handler; nodetls's flow "
               "control does nothing once lost (no callback after connection_lost(), as the "
               "transports' own docs promise). Left open: their error is a bug, not "
               "followed; compare.accepted() leaves such scripts out (seed 5408)",
        "script": _s([["c", "close"], ["settle"], ["c", "set_write_buffer_limits", 0, 0]]),
        "ours": {"c": ["lost None", "~", "> set_write_buffer_limits 0 0", "= None"]},
    },
    "paused_peer_keeps_sending": {
        "kind": "fixed",
        "doc": "a peer that keeps sending while reading is paused (3 MB): the ciphertext is "
               "held up to the read high-water mark (get_read_buffer_limits(): (65536, "
               "262144), as asyncio's and uvloop's), then the TCP reads stop and the peer "
               "waits; resume_reading() delivers it all, in order, and get_read_buffer_size() "
               "is 0 again (the bound itself: tests/aio/test_aio_paused_reads.py). nodetls "
               "had no get_read_buffer_limits()/get_read_buffer_size()",
        "script": _s([["s", "pause_reading"], ["s", "get_read_buffer_limits"],
                      ["c", "write", [3000000, 7]], ["settle"], ["c", "get_write_buffer_size"],
                      ["s", "resume_reading"], ["settle"], ["s", "get_read_buffer_size"]]),
    },
    "stream_drain_after_peer_close": {
        "kind": "fixed",
        "doc": "stream form: drain() called just before the peer's close(): drain()'s first "
               "step sees the transport closing (the peer's close_notify read) and yields "
               "once (sleep(0)); asyncio's and uvloop's SSL transports call connection_lost() "
               "two loop iterations or more after the close_notify (call_soon hops: asyncio's "
               "three, uvloop's two), so drain() returns None. nodetls called it one "
               "iteration after, so on uvloop (whose I/O callbacks run before the drain's "
               "first step) drain() raised ConnectionResetError('Connection lost'); its close "
               "after the peer's EOF now comes on the next iteration (two, as uvloop's)",
        "script": {"mode": "stream", "tls": "TLSv1.3", "limit": 65536,
                   "ops": [["c", "drain"], ["s", "close"], ["settle"]]},
    },
    "buffered_reads_check_write_flow_control": {
        "kind": "fixed",
        "doc": "a BufferedProtocol (4 KiB buffers) with a write high-water mark of 0: asyncio's "
               "and uvloop's SSL transports check the write flow control after each buffer "
               "they fill (resume_writing, pause_writing, ... between the buffers), and once "
               "more when the last buffer was filled whole (their next read finds nothing). "
               "nodetls checked it only after a Protocol's data_received(), never for a "
               "BufferedProtocol (seed 4183)",
        "script": _s([["s", "set_write_buffer_limits", 0, 0], ["settle"],
                      ["c", "write", [10000, 7]], ["settle"], ["c", "write", [16384, 8]],
                      ["settle"]], proto={"c": "plain", "s": "buffered"}),
    },
    "resume_step_checks_write_flow_control": {
        "kind": "fixed",
        "doc": "resume_reading() schedules asyncio's and uvloop's read step, which checks the "
               "write flow control once at its end also when it finds nothing to read: with "
               "a high-water mark of 0 set meanwhile (pause_writing at once), that step "
               "calls resume_writing(), and the peer's data, read later, pause_writing() "
               "again (asyncio: resume_writing, data, pause_writing; uvloop: the data first, "
               "its loop reading TCP before the step). nodetls's resume step checked only "
               "after data it had held (seeds 5427, 5358)",
        "script": _s([["c", "write", "61"], ["s", "pause_reading"], ["s", "resume_reading"],
                      ["s", "set_write_buffer_limits", 0, None], ["settle"]]),
    },
    "resume_step_checks_with_nothing_held": {
        "kind": "fixed",
        "doc": "resume_step_checks_write_flow_control with no data at all: the step's check "
               "resumes the writing paused by set_write_buffer_limits(0, 0) (size 0 <= low 0); "
               "nodetls stayed paused",
        "script": _s([["s", "pause_reading"], ["s", "resume_reading"],
                      ["s", "set_write_buffer_limits", 0, 0], ["settle"]]),
    },
    "buffered_stream_flow_checks_per_iteration": {
        "kind": "xfail",
        "doc": "a BufferedProtocol (4 KiB buffers) receiving 3 MB with a write high-water mark "
               "of 0: asyncio's and uvloop's SSL transports fill one buffer per read step (a "
               "TCP read, or the step they schedule after a buffer filled whole) and check "
               "the write flow control after each step, also one that found nothing "
               "decryptable yet; nodetls fills buffers until its engine has no more, checking "
               "after each (buffered_reads_check_write_flow_control), so where a step of "
               "theirs finds nothing depends on how their loop iterations and the TCP reads "
               "interleave. Left open: matching it means scheduling one buffer per loop "
               "iteration (seed 4183)",
        "script": _s([["c", "write", [3000000, 212]], ["s", "set_write_buffer_limits", None, 0],
                      ["settle"]], proto={"c": "plain", "s": "buffered"}),
    },
    "buffered_reader_data_before_fin_kept": {
        "kind": "xfail",
        "doc": "a BufferedProtocol whose buffers (4 KiB) are smaller than what arrives just "
               "before the peer's FIN (its abort() right after a 16 KiB write): asyncio's "
               "SSL transport fills one buffer per loop iteration and, at the FIN, drops the "
               "plaintext not delivered yet (12 KiB of 16 KiB here, then eof_received() and "
               "connection_lost(None)); uvloop's too (8 KiB, connection_lost(None)). nodetls "
               "delivers all of it, then eof_received(), connection_lost(None): their data "
               "loss is not followed (seeds 4209, 4265)",
        "script": _s([["s", "write", [16384, 180]], ["s", "abort"], ["settle"]],
                     proto={"c": "buffered", "s": "plain"}),
        "ours": {"c": ["made", data_str(chunk([16384, 180])), "eof -> None", "lost None"]},
    },
    "read_over_256k_one_data_received": {
        "kind": "xfail",
        "doc": "one TCP read that makes more than 256 KiB of plaintext decryptable (a 3 MB "
               "write streaming in): asyncio's and uvloop's SSL transports decrypt all of it "
               "into one data_received() (263872 bytes here) and check the write flow "
               "control once; nodetls's engine decrypts at most 256 KiB per batch "
               "(_engine's read buffer), so the rest (1728 bytes) is a second "
               "data_received() with a check of its own: visible only with a high-water mark "
               "of 0 (resume_writing/pause_writing between them). Left open: joining the "
               "batches of one TCP read would cost a copy on the data path (seed 4217)",
        "script": _s([["c", "set_write_buffer_limits", 0, 0], ["s", "write", [3000000, 150]],
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
