"""Node's ``stream/consumers`` (``lib/stream/consumers.js``): read a whole stream into one value.

Each function takes a :class:`~nodetls.stream.Readable` (a socket too), or any async iterable
or iterable of chunks (as Node's take any async iterable; ``for await`` takes sync ones too:
an awaitable item of a sync iterable is awaited first), reads it to its end, and returns:

* :func:`text`: ``str`` (Node's ``TextDecoder``: UTF-8, a leading byte order mark dropped,
  invalid bytes as U+FFFD; ``str`` chunks are taken as they are);
* :func:`json`: ``text()`` parsed by Python's :func:`json.loads`;
* :func:`buffer`: ``bytes``;
* :func:`array_buffer`: ``bytes`` too (Python has no ``ArrayBuffer``).

A nodetls Readable is read through its Node-style async iterator (:meth:`Readable.iterator`):
once read to the end it is destroyed (Node's ``for await`` does the same); a stream that fails
(or closes before its end: ``ERR_STREAM_PREMATURE_CLOSE``) makes the call raise its error.

Node's ``blob()`` is not ported: Python has no ``Blob`` type (use :func:`buffer`).
"""

from __future__ import annotations

import codecs
import inspect
import json as _json
from collections.abc import Callable
from typing import Any

from .._option_table import type_error
from ._readable import Readable
from ._utils import _is_iterable

__all__ = ["text", "json", "buffer", "array_buffer"]


async def _each(stream: Any, take: Callable[[Any], None]) -> None:
    """Node's ``for await (const chunk of stream)``: ``take`` each chunk; on an exception the
    iterator is closed (Node's ``return()``: a Readable is destroyed) and it propagates."""
    if isinstance(stream, Readable):
        it: Any = stream.iterator()
    elif _is_iterable(stream, True):
        it = stream.__aiter__()
    elif _is_iterable(stream, False):
        for chunk in stream:
            if inspect.isawaitable(chunk):
                chunk = await chunk
            take(chunk)
        return
    else:
        raise type_error("stream", "async iterable", stream)
    try:
        async for chunk in it:
            take(chunk)
    except BaseException:
        aclose = getattr(it, "aclose", None)
        if callable(aclose):
            await aclose()
        raise


def _bytes_of(chunk: Any) -> bytes:
    """A chunk as ``TextDecoder.decode`` takes it: any object of the buffer protocol (Node: an
    ArrayBuffer or ArrayBufferView), else ``ERR_INVALID_ARG_TYPE`` naming ``"input"``."""
    if type(chunk) is bytes:
        return chunk
    try:
        return memoryview(chunk).tobytes()
    except TypeError:
        raise type_error("input", "bytes, bytearray or memoryview", chunk) from None


def _utf8(s: str) -> bytes:
    """Node's ``TextEncoder``: UTF-8, a lone surrogate as U+FFFD."""
    try:
        return s.encode()
    except UnicodeEncodeError:
        return s.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace").encode()


async def text(stream: Any) -> str:
    """Node ``streamConsumers.text(stream)``: the stream's chunks decoded as UTF-8 (Node's
    ``TextDecoder``: a leading byte order mark is dropped, invalid or truncated sequences
    become U+FFFD, a character split across chunks is decoded whole); ``str`` chunks are taken
    as they are; any other chunk raises ``ERR_INVALID_ARG_TYPE`` (``"input"``). Raises the
    stream's error if it fails; ``stream`` neither iterable nor async iterable raises
    ``ERR_INVALID_ARG_TYPE`` (a ``TypeError``, as Node's)."""
    dec = codecs.getincrementaldecoder("utf-8-sig")("replace")
    parts: list[str] = []

    def take(chunk: Any) -> None:
        parts.append(chunk if isinstance(chunk, str) else dec.decode(_bytes_of(chunk)))

    await _each(stream, take)
    parts.append(dec.decode(b"", True))
    return "".join(parts)


async def json(stream: Any) -> Any:
    """Node ``streamConsumers.json(stream)``: :func:`text`, parsed with :func:`json.loads`.
    Text that is no JSON (the empty text too) raises what Python's ``json`` raises:
    :class:`json.JSONDecodeError` (a ``ValueError``; Node's is a ``SyntaxError``)."""
    return _json.loads(await text(stream))


async def buffer(stream: Any) -> bytes:
    """Node ``streamConsumers.buffer(stream)``: the stream's chunks as one ``bytes``. As Node's
    ``Blob`` takes them: ``bytes``-like chunks as they are, ``str`` chunks UTF-8 encoded, any
    other chunk as its ``str()`` encoded (Node's ``String(chunk)``: ``1`` -> ``b'1'``)."""
    parts: list[bytes] = []

    def take(chunk: Any) -> None:
        if type(chunk) is bytes:
            parts.append(chunk)
        elif isinstance(chunk, str):
            parts.append(_utf8(chunk))
        else:
            try:
                parts.append(memoryview(chunk).tobytes())
            except TypeError:
                parts.append(_utf8(str(chunk)))

    await _each(stream, take)
    return b"".join(parts)


async def array_buffer(stream: Any) -> bytes:
    """Node ``streamConsumers.arrayBuffer(stream)``: as :func:`buffer`, and ``bytes`` too
    (Python has no ``ArrayBuffer``; ``bytes`` is its immutable counterpart)."""
    return await buffer(stream)
