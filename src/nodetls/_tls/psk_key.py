"""The key a ``psk_callback`` answers with, as it goes to OpenSSL: without a copy of ours that
cannot be wiped.

The engine copies the key into OpenSSL's buffer (``ffi.memmove``) as soon as the wrap handle's
``psk_server``/``psk_client`` hook returns it.  A ``bytes`` key is passed on as it is; a
``bytearray`` (the caller's, read in place: not copied and not wiped, since a callback may answer
every connection with the same buffer) too; a ``memoryview`` as a byte view of the caller's
buffer when it is contiguous, else copied into a :class:`~nodetls._option_table.SecretBytes`
that is zeroed once the engine has read it (at the event loop's next turn: the engine's copy is
made in the same call).  Node reads the ``Buffer`` its ``pskCallback`` returns in place
(``memcpy`` into OpenSSL's buffer) too.
"""

from __future__ import annotations

import asyncio
from typing import Any

from .. import _options
from .._option_table import SecretBytes


def for_openssl(value: Any) -> bytes | bytearray | memoryview:
    """``value`` (a ``psk_callback``'s key) as the engine is to read it; a bad type is
    ``ERR_INVALID_ARG_TYPE`` naming ``psk`` (the value is not shown)."""
    if isinstance(value, bytes):
        return value
    if not isinstance(value, (bytearray, memoryview)):
        return _options.as_bytes(value, "psk")  # (raises: names the type only)
    if isinstance(value, bytearray):
        return value
    try:
        return value.cast("B")  # (a byte view of the same memory; len() is its size)
    except TypeError:  # not C-contiguous: a copy of ours, wiped once read
        copy = SecretBytes(value)
        loop = asyncio._get_running_loop()
        if loop is not None:
            loop.call_soon(copy.wipe)
        return copy
