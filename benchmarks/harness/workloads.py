"""The workloads, the run sizes (profiles), and how one measurement of a workload is taken."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Workload", "WORKLOADS", "Profile", "PROFILES", "workload_named"]


@dataclass(frozen=True)
class Workload:
    """One figure of the benchmark."""

    name: str  # identifier (--only, JSON)
    label: str  # row heading
    unit: str
    higher_is_better: bool
    side: str  # 'server': servers under one C client; 'client': clients against Node's server
    cert: str = "ecdsa"  # the server certificate's key type: 'ecdsa' (P-256) or 'rsa' (2048)
    how: str = ""


WORKLOADS: tuple[Workload, ...] = (
    Workload("hs", "full TLS 1.3 handshake, ECDSA P-256", "µs/hs", False, "server",
             how="tlsbench -m hs -c 16 -S 32 (connect, handshake, 16 B echo, close_notify); "
                 "server CPU / handshakes"),
    Workload("resume", "resumed handshake (ticket)", "µs/hs", False, "server",
             how="tlsbench -m resume -c 16 -S 32 (every connection offers the latest ticket); "
                 "server CPU / handshakes"),
    Workload("rr64", "64 B round trip", "µs/rt", False, "server",
             how="tlsbench -m pingpong -s 64 on one connection, client on the server's CPU; "
                 "server CPU / round trips"),
    Workload("bulk", "bulk echo, 1 connection", "MB/CPU-s", True, "server",
             how="tlsbench -m bulk -c 1 (16 KiB writes, 4 MiB window); echoed MB / server "
                 "CPU seconds"),
    Workload("hs-rsa", "full handshake, RSA-2048", "µs/hs", False, "server", cert="rsa",
             how="as hs, with an RSA-2048 server certificate"),
    Workload("idle", "idle memory per connection", "KiB/conn", False, "server",
             how="fresh server, warmed with 32 connections; tlsbench -m idle -c 32 -S 32 holds N "
                 "connections (handshake + one echo each); server RSS growth / N"),
    Workload("client-hs", "client: full handshake", "µs/hs", False, "client",
             how="each client (own process, 8 loops of connect/verify/end) against Node's "
                 "server; client CPU / handshakes"),
    Workload("client-rr", "client: 64 B round trip", "µs/rt", False, "client",
             how="each client, one connection, write 64 B / wait for the echo, against Node's "
                 "server; client CPU / round trips"),
    Workload("client-rrcb", "client: 64 B round trip, callbacks", "µs/rt", False, "client",
             how="as client-rr, the next write from the 'data' listener (no promise or future and "
                 "no task wake-up per round trip): the TLS client's path and the event loop only"),
)


def workload_named(name: str) -> Workload:
    for w in WORKLOADS:
        if w.name == name:
            return w
    raise KeyError(name)


@dataclass(frozen=True)
class Profile:
    """How long and how big each measurement is."""

    name: str
    reps: int  # interleaved repetitions of every measurement
    seconds: float  # tlsbench -t for hs / resume / hs-rsa
    rr_count: int  # round trips per rr64 measurement (-n), bounded by rr_seconds
    rr_seconds: float
    bulk_seconds: float  # tlsbench -t for bulk (it then drains the window)
    idle_conns: int
    client_seconds: float  # measured window of a client-side run
    client_warmup: float
    server_warmup: float  # seconds of each warm-up run on a newly started long-lived server


PROFILES = {
    "full": Profile("full", 5, 3.0, 20000, 6.0, 4.0, 4000, 3.0, 0.5, 1.0),
    "quick": Profile("quick", 2, 1.5, 5000, 2.0, 2.0, 1000, 1.5, 0.3, 0.5),
    "smoke": Profile("smoke", 1, 0.3, 200, 0.5, 0.3, 50, 0.3, 0.1, 0.1),
}
