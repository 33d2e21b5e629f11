"""``write(chunk, encoding)`` / ``end(chunk, encoding)``: a falsy encoding, and Node's lenient
base64 decoder (found by the bad-arguments differential, tests/options).

Node v20.20 (checked with the same calls in node): ``Writable.write/end`` and ``net.Socket.write/end`` take
``''``, ``false``, ``0``, ``-0``, ``NaN``, ``null``, ``undefined`` (``if (!encoding)``) as the
stream's default encoding, with ``decodeStrings`` true or false; ``[]``, ``{}``, ``' '``,
``1``, ``true`` throw ERR_UNKNOWN_ENCODING. nodetls refused ``''``, ``False`` and ``0``.

Node's ``Buffer.from(s, 'base64')`` (and 'base64url', the same decoder)
never throws; nodetls raised binascii.Error (no code) for "0", "1.5", "Q".
The decoder was compared with Node's on 20,000 random strings in one node process (session 37).
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

import pytest

from nodetls import net
from nodetls.stream import Readable, Writable

from .streamutil import done, when

FALSY = ["", False, 0, 0.0, -0.0, math.nan, None]
NOT_ENCODINGS = [[], {}, b"", " ", 1, True]


def _writable(decode_strings: bool = True) -> tuple[Writable, list[Any]]:
    got: list[Any] = []
    w = Writable(write=lambda c, cb: (got.append(bytes(c) if decode_strings else c), cb()),
                 decode_strings=decode_strings, default_encoding="hex")
    w.on("error", lambda err: None)
    return w, got


@pytest.mark.parametrize("method", ["write", "end"])
@pytest.mark.parametrize("encoding", FALSY, ids=repr)
async def test_a_falsy_encoding_is_the_default_one(method: str, encoding: Any) -> None:
    w, got = _writable()
    getattr(w, method)("6869", encoding)
    assert got == [b"hi"]  # decoded as 'hex', the default encoding
    w, got = _writable(decode_strings=False)
    getattr(w, method)("6869", encoding)
    assert got == ["6869"]


@pytest.mark.parametrize("method", ["write", "end"])
@pytest.mark.parametrize("encoding", NOT_ENCODINGS, ids=repr)
async def test_a_truthy_value_that_names_no_encoding_throws(method: str, encoding: Any) -> None:
    w, got = _writable()
    with pytest.raises(TypeError) as info:
        getattr(w, method)("6869", encoding)
    assert getattr(info.value, "code", None) == "ERR_UNKNOWN_ENCODING"
    assert got == []


async def test_net_socket_write_and_end_take_a_falsy_encoding_as_the_default() -> None:
    received: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    def on_connection(sock: net.Socket) -> None:
        chunks: list[bytes] = []
        sock.on("data", chunks.append)
        sock.on("end", lambda: received.done() or received.set_result(b"".join(chunks)))

    server = net.create_server(on_connection)
    listening = when(server, "listening")
    server.listen(0, "127.0.0.1")
    await done(listening)
    client = net.connect(server.address()["port"], "127.0.0.1")
    await done(when(client, "connect"))
    client.set_default_encoding("hex")
    for encoding in FALSY:
        assert client.write("6869", encoding) in (True, False)
    client.end("4142", "")
    assert await done(received) == b"hi" * len(FALSY) + b"AB"
    client.destroy()
    await done(server.close())


# (input, Node's Buffer.from(input, 'base64') as hex; 'base64url' gives the same)
NODE_BASE64 = [
    ("0", ""), ("1.5", "d7"), ("Q", ""), ("QQ", "41"), ("QQ=", "41"), ("QQ===", "41"),
    ("QUI", "4142"), ("QUJD", "414243"), ("QUJDRA", "41424344"), (" Q\nQ\t", "41"),
    ("QQ=QQ", "41"), ("=QQ", ""), ("QR==", "41"), ("-_-_", "fbffbf"), ("+/+/", "fbffbf"),
    ("+_-/", "fbffbf"), ("a b c d e", "69b71d"), ("!!!!", ""), ("Q.Q.Q", "4104"),
    ("SGVs bG8s\r\nIFdv cmxk IQ==garbage", "48656c6c6f2c20576f726c6421"),
    ("\u0141\u0141", "00"),  # (a UTF-16 code unit counts as its low byte: 'AA')
    ("QQ\u013dQQ", "41"), ("QQ\U0001F600QQ", "41"),  # (low bytes 0x3d: '=')
    ("\u00c1\u00c1", ""), ("Q\u00ffQ", "41"), ("====QQ", ""), ("", ""),
]


@pytest.mark.parametrize("encoding", ["base64", "base64url", "Base64", "BASE64URL"])
@pytest.mark.parametrize(("text", "hex_bytes"), NODE_BASE64, ids=repr)
async def test_base64_is_decoded_as_node_does(text: str, hex_bytes: str, encoding: str) -> None:
    for method in ("write", "end"):
        got: list[bytes] = []
        w = Writable(write=lambda c, cb, got=got: (got.append(bytes(c)), cb()))
        getattr(w, method)(text, encoding)
        assert got == [bytes.fromhex(hex_bytes)]


async def test_readable_push_decodes_base64_as_node() -> None:
    r = Readable(read=lambda n: None)
    assert r.push("1.5", "base64") is True
    assert r.read() == bytes.fromhex("d7")
