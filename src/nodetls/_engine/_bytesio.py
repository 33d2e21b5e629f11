"""Large reads and writes into ``bytes`` objects that OpenSSL writes itself.

cffi cannot hand a Python object back from C: the compiled binding's data-path loops
(``nodetls_read``, ``nodetls_seal``) fill this thread's buffers and the engine then copies them
into ``bytes``, one extra pass over every byte each way.  The optional extension
``nodetls._openssl._bytesio`` (``_bytesio.c``, built by setup.py beside the binding) allocates the
``bytes`` first and has OpenSSL write into it, as CPython's ``ssl`` module does.  The engine uses
it for reads and writes of at least :data:`MIN_BYTES`, where the copy outweighs the few pointer
conversions per call; smaller ones keep the buffers.  Without the compiled binding or without the
extension, :data:`read` and :data:`seal` are None and nothing changes.
"""

from __future__ import annotations

import threading
from typing import Any

from .._openssl import ffi, lib

__all__ = ["MIN_BYTES", "addr", "out_slots", "read", "seal"]

MIN_BYTES = 8192
_local = threading.local()


def addr(ptr: Any) -> int:
    """A cdata pointer's address, as the extension takes it."""
    return int(ffi.cast("uintptr_t", ptr))


def _load() -> Any:
    if getattr(lib, "nodetls_read", None) is None:  # ABI mode: no nodetls_read to call
        return None
    try:
        from .._openssl import _bytesio  # type: ignore[attr-defined]
    except ImportError:
        return None
    _bytesio.init(*(addr(ffi.addressof(lib, name)) for name in
                    ("nodetls_read", "SSL_write_ex", "BIO_ctrl_pending", "BIO_read")))
    return _bytesio


_module = _load()
read: Any = _module.read if _module is not None else None
seal: Any = _module.seal if _module is not None else None


def out_slots() -> tuple[Any, int]:
    """This thread's ``intptr_t[3]`` the extension reports into, and its address."""
    try:
        return _local.out
    except AttributeError:
        out = ffi.new("intptr_t[3]")
        pair = _local.out = (out, addr(out))
        return pair
