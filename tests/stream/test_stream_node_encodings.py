"""``set_encoding()``: Node's StringDecoder (src/string_decoder.cc), chunk boundaries included.

The expected 'data' chunks were taken from node v20.20: a ``stream.Readable`` in flowing mode,
``setEncoding(enc)``, each chunk pushed on its own, then ``push(null)``."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import nodetls as tls
from nodetls import net
from nodetls.stream import Readable


def noread(*_: Any) -> None:
    """A ``read`` hook that does nothing: the test pushes (Node's ``read() {}``; a
    Readable given no ``read`` errors with ERR_METHOD_NOT_IMPLEMENTED at its first read)."""


def next_event(emitter: Any, name: str) -> asyncio.Future[None]:
    fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    emitter.once(name, lambda *a: fut.done() or fut.set_result(None))
    return fut


async def data_events(enc: str, chunks: list[bytes]) -> tuple[list[str], Any]:
    r = Readable(read=noread)
    r.set_encoding(enc)
    got: list[str] = []
    flowing = next_event(r, "resume")
    r.on("data", got.append)
    # (the 'data' listener resumes the stream on a later tick: push once it flows, as Node's
    # script did, so that each chunk is pushed on its own)
    await asyncio.wait_for(flowing, 10)
    ended = next_event(r, "end")
    for c in chunks:
        r.push(c)
    r.push(None)
    await asyncio.wait_for(ended, 10)  # (after every 'data')
    return got, r.readable_encoding


H = bytes.fromhex

NODE_VECTORS = [
    # 'ascii': the low 7 bits of every byte, never U+FFFD
    ("ascii", [H("78e2889a61622063")], ["xb\x08\x1aab c"], "ascii"),
    ("ascii", [H("ff80007f"), H("c3a9")], ["\x7f\x00\x00\x7f", "C)"], "ascii"),
    ("latin1", [H("e2889a"), H("ff")], ["\xe2\x88\x9a", "\xff"], "latin1"),
    ("binary", [H("41e9")], ["A\xe9"], "latin1"),
    ("hex", [H("01ff"), H("00")], ["01ff", "00"], "hex"),
    # base64: whole 3-byte groups; the rest at the end, padded
    ("base64", [H("61"), H("6263"), H("64")], ["YWJj", "ZA=="], "base64"),
    ("base64", [H("616263")], ["YWJj"], "base64"),
    ("base64url", [H("fbff"), H("bf"), H("fe")], ["-_-_", "_g"], "base64url"),
    # utf8: a character split over three chunks
    ("utf8", [H("e2"), H("82"), H("ac21")], ["\u20ac!"], "utf8"),
    # an invalid sequence at the end of a chunk waits like an incomplete one (its lead byte
    # announces 3 bytes), and is replaced when the next chunk ends it
    ("utf8", [H("e080"), H("41")], ["\ufffd\ufffdA"], "utf8"),
    # an incomplete character at the end of the stream: one U+FFFD
    ("utf8", [H("61f09f")], ["a", "\ufffd"], "utf8"),
    ("utf8", [H("c3"), H("c3a9")], ["\ufffd\xe9"], "utf8"),
    ("utf8", [H("eda080"), H("f09f9880")], ["\ufffd\ufffd\ufffd", "\U0001f600"], "utf8"),
    # utf16le: an odd byte and a trailing high surrogate wait; lone surrogates stay themselves;
    # an odd byte at the end is dropped, a waiting high surrogate comes out alone
    ("utf16le", [H("61003d"), H("d800de")], ["a", "\U0001f600"], "utf16le"),
    ("utf16le", [H("00d84100")], ["\ud800A"], "utf16le"),
    ("utf16le", [H("41003dd8")], ["A", "\ud83d"], "utf16le"),
    ("utf16le", [H("410042")], ["A"], "utf16le"),
    ("utf16le", [H("3dd8"), H("00de")], ["\U0001f600"], "utf16le"),
]


@pytest.mark.parametrize(("enc", "chunks", "want", "name"), NODE_VECTORS)
async def test_data_chunks_like_node(enc, chunks, want, name):
    got, readable_encoding = await data_events(enc, chunks)
    assert got == want
    assert readable_encoding == name


async def test_utf16_pair_split_inside_a_code_unit():
    # node gives ['A', '\ud83d', '\ude00']: two JavaScript strings that concatenate to the pair.
    # A Python str cannot hold half a character, so the high surrogate waits for its low one:
    # the text is the same, one 'data' event fewer.
    got, name = await data_events("ucs2", [H("4100"), H("3d"), H("d8"), H("00"), H("de")])
    assert got == ["A", "\U0001f600"]
    assert name == "utf16le"


@pytest.mark.parametrize(
    ("alias", "name"),
    [(None, "utf8"), ("", "utf8"), ("UTF8", "utf8"), ("Utf-8", "utf8"), ("BINARY", "latin1"),
     ("UCS-2", "utf16le"), ("utf-16le", "utf16le"), ("HEX", "hex"), ("base64url", "base64url"),
     ("ASCII", "ascii")],
)
def test_encoding_names_like_node(alias, name):
    assert Readable().set_encoding(alias).readable_encoding == name


@pytest.mark.parametrize("enc", ["cp1252", "utf16", "utf-16", "us-ascii", "iso-8859-1", "buffer",
                                 "utf32", "bogus"])
def test_unknown_encoding_raises_at_the_call(enc):
    # node: TypeError [ERR_UNKNOWN_ENCODING]: Unknown encoding: <enc> (Python codec names too)
    r = Readable()
    with pytest.raises(TypeError) as info:
        r.set_encoding(enc)
    assert info.value.code == "ERR_UNKNOWN_ENCODING"
    assert str(info.value) == f"Unknown encoding: {enc}"
    assert r.readable_encoding is None
    with pytest.raises(TypeError) as info:
        Readable(encoding=enc)
    assert info.value.code == "ERR_UNKNOWN_ENCODING"


async def test_push_of_a_string_in_another_encoding():
    # node: setEncoding('hex'); push('ab') -> '6162' (the default 'utf8' is not the stream's);
    # push('cd', 'hex') is kept as it is; unshift('ef') -> '6566'
    r = Readable(read=noread)
    r.set_encoding("hex")
    r.push("ab")
    r.push("cd", "hex")
    r.unshift("ef")
    assert r.read() == "65666162cd"


async def test_utf8_set_encoding_on_buffered_bytes():
    # node: push(<e2 82>) then setEncoding('utf8'): the buffered bytes go through the decoder
    r = Readable(read=noread)
    r.push(H("41e282"))
    r.set_encoding("utf8")
    r.push(H("ac"))
    assert r.read() == "A\u20ac"


async def _read_all(sock: Any) -> str:
    out: list[str] = []
    sock.on("data", out.append)
    done = asyncio.get_running_loop().create_future()
    sock.on("close", lambda *a: done.done() or done.set_result(None))
    await asyncio.wait_for(done, 10)
    assert all(isinstance(o, str) for o in out)
    return "".join(out)


async def test_net_socket_ascii():
    # node (net and tls alike): 'x\u221aab c' written as utf8, read with setEncoding('ascii')
    server = net.create_server(lambda sock: sock.end("x\u221aab c"))
    await server.listen(0, "127.0.0.1")
    try:
        c = net.connect(server.address()["port"], "127.0.0.1")
        c.set_encoding("ascii")
        assert await _read_all(c) == "xb\x08\x1aab c"
    finally:
        server.close()


async def test_tls_socket_ascii(certs):
    server = tls.create_server(certs.server.options, lambda sock: sock.end("x\u221aab c"))
    await server.listen(0, "127.0.0.1")
    try:
        c = tls.connect(server.address()["port"],
                        {"host": "127.0.0.1", "reject_unauthorized": False})
        c.set_encoding("ascii")
        assert await _read_all(c) == "xb\x08\x1aab c"
    finally:
        server.close()


# -- read(n) on a string stream: Node v20's fromList slip (an accepted difference, stream.md) --

async def test_string_read_n_spanning_chunks_returns_n_characters():
    """Node v20's fromList compares the characters still wanted with the number of buffered
    chunks (``n === buf.length``): ``read(3)`` of ``'a'``, ``'bcd'`` returns ``'abcd'`` there
    (with its readableLength still 1; checked in node v20.20); nodetls returns 3 characters and
    keeps ``'d'``."""
    r = Readable({"read": lambda n: None})
    r.set_encoding("utf8")
    r.push(b"a")
    r.push(b"bcd")
    assert r.read(3) == "abc"
    assert r.readable_length == 1
    assert r.read() == "d"


async def test_string_read_n_ending_at_a_chunk_end_keeps_flowing():
    """The same slip when the ``n`` characters end exactly at a chunk's end with chunks behind
    it: Node v20 leaves ``''`` at the head of its buffer and flowing mode stops there (``read()``
    sees a first chunk of length 0), its ``'data'`` listener never gets ``'慡'`` (checked in node
    v20.20, scratch script fromlist_empty.js); nodetls flows on."""
    r = Readable({"read": lambda n: None})
    r.set_encoding("utf16le")
    r.unshift("hi")  # (utf8 'hi' re-decoded as UTF-16LE: one character, U+6968)
    r.push(b"f")  # (half a character: nothing buffered yet)
    r.push(b"f")
    r.push(b"aa")
    assert r.read(2) == "\u6968\u6666"
    assert r.readable_length == 1
    got: list[str] = []
    data = next_event(r, "data")
    r.on("data", got.append)
    await asyncio.wait_for(data, 10)
    assert got == ["\u6161"]
    assert r.readable_length == 0
