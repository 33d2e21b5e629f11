"""Hostile TLS clients for the live-server check (``test_hostile_clients.py``): each case, chosen
by its seed, connects over loopback and sends one of

* ``hello``: a genuine ClientHello (Python's ``ssl``, TLS 1.3 or 1.2) mutated as the fuzzers do
  (``fuzz.run.mutate``: flips, interesting bytes, inserts, erases, splices, lying lengths);
* ``later``: a genuine ClientHello, then the client's next flight (its Finished, with TLS 1.2's
  key exchange) mutated;
* ``garbage``: bytes that are no TLS (an HTTP request, random bytes, records of a wrong type or
  version, an SSLv2-style hello, a record longer than the protocol allows);
* ``half``: the first bytes of the ClientHello (a record cut in the middle);
* ``silent``: nothing;
* ``after``: a whole genuine handshake, then a mutated application-data record, garbage, or
  the first bytes of a record;

then goes away by FIN (and reads until the server closes) or by RST.  The server must give each
such connection one ``'tlsClientError'`` with a Node code; an ``after`` case is a connection
(``'secureConnection'``), then at most one ``'error'`` with a Node code on its socket.
"""

from __future__ import annotations

import asyncio
import random

from fuzz.run import mutate

from ..tls.tlsutil import wait
from .faultutil import ScriptedClient

KINDS = ("hello", "later", "garbage", "half", "silent", "after")
#: The codes Node's ``'tlsClientError'`` carries for a client that breaks the protocol or leaves.
NODE_CODE = r"^(ECONNRESET|EPIPE|ERR_SSL_[A-Z0-9_]+)$"


def _garbage(rng: random.Random) -> bytes:
    return rng.choice([
        b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
        bytes(rng.randrange(256) for _ in range(rng.randint(1, 300))),
        b"\x17\x03\x03\x00\x05hello",  # application data before any handshake
        b"\x16\x03\x09\x00\x04\x01\x00\x00\x00",  # a version that does not exist
        b"\x16\x03\x01\x48\x01" + bytes(20),  # a record longer than 2^14 + 256 (cut short)
        b"\x80\x2e\x01\x00\x02\x00\x15\x00\x00\x00\x10" + bytes(37),  # SSLv2-style hello
        b"\x15\x03\x03\x00\x02\x02\x28",  # a fatal alert as the first record
        b"\x16\x03\x01\x00\x00" * 3,  # empty handshake records
    ])


async def _drain(client: ScriptedClient) -> None:
    """Read until the server closes (an RST from it ends the read too)."""
    loop = asyncio.get_running_loop()
    try:
        while await wait(loop.sock_recv(client.sock, 65536)):
            pass
    except ConnectionError:
        pass


def kind_of(seed: int) -> str:
    """The kind of case ``seed`` plays (its first draw)."""
    return random.Random(seed).choice(KINDS)


async def run_case(port: int, ca_pem: bytes, seed: int) -> str:
    """Play case ``seed``; return its description (``kind/version/how``)."""
    rng = random.Random(seed)
    kind = rng.choice(KINDS)
    version = rng.choice(["TLSv1.3", "TLSv1.2"])
    how = rng.choice(["fin", "rst"])
    client = ScriptedClient(port, ca_pem, version)
    try:
        await client.open()
        hello = client.client_hello()
        if kind == "hello":
            payload = mutate(rng, hello, [hello])
        elif kind == "later":
            await client.send(hello)
            flight = await client.finished_flight()
            payload = mutate(rng, flight, [flight])
            if payload[: len(flight)] == flight:  # unchanged, or only extended: break it
                payload = flight[:-1] + bytes([flight[-1] ^ 0x55])
        elif kind == "garbage":
            payload = _garbage(rng)
        elif kind == "after":
            await client.send(hello)
            await client.send(await client.finished_flight())
            if version == "TLSv1.2":
                await client.complete()
            record = client.app_data(b"hostile" * rng.randint(1, 40))
            payload = rng.choice([mutate(rng, record, [record]), _garbage(rng),
                                  record[: rng.randrange(1, len(record))]])
        elif kind == "half":
            payload = hello[: rng.randrange(1, len(hello))]
        else:
            payload = b""
        if payload:
            await client.send(payload)
        client.vanish(how)
        if how == "fin":
            await _drain(client)
    finally:
        client.close()
    return f"{kind}/{version}/{how}"
