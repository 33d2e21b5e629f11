"""The engine's data path as direct CPython entries (``nodetls._openssl._bytesio``).

The compiled binding's data-path helpers (``nodetls_read``, ``nodetls_seal``) are cffi functions:
each call converts about ten pointer and integer arguments, releases and retakes the GIL, and
returns through out-parameters Python reads one by one; cffi cannot return a Python object
either, so Python copies the bytes out of a buffer of its own.  The optional extension
(``_openssl/_bytesio.c``, built by setup.py beside the binding) takes the SSL as one integer
address and the data as a buffer object, keeps the GIL for small records (microseconds of work),
and answers with one object:

* :data:`read_into` -- ``nodetls_read`` into the caller's buffer; the outcome packed in one int
  (:func:`unpack_total`, :func:`unpack_status`, :func:`unpack_out`);
* :data:`read_bytes` -- the same, but plaintext alone comes back as new ``bytes``;
* :data:`read` -- large reads straight into new ``bytes`` (no copy at all), with the packed
  outcome;
* :data:`seal` -- ``SSL_write_ex`` then the write BIO's ciphertext into new ``bytes``.

Without the compiled binding (ABI mode, ``NODETLS_PURE=1``) or without the extension (or with
one built from other sources: :data:`API`), all four are None and the engine runs its cffi
helpers or its Python steps, as before.
"""

from __future__ import annotations

from typing import Any, Final

from .._openssl import ffi, lib

__all__ = ["API", "MIN_BYTES", "PACK_SHIFT", "addr", "read", "read_bytes", "read_into", "seal"]

#: Reads of this much ciphertext and more go into ``bytes`` OpenSSL writes itself (:data:`read`):
#: there the copy out of the read buffer outweighs the new object's reallocation.
MIN_BYTES: Final = 8192
#: The packed outcome of :data:`read_into`: ``(total << PACK_SHIFT) | ((status + 2) << 1) | out``.
PACK_SHIFT: Final = 9


def addr(ptr: Any) -> int:
    """A cdata pointer's address, as the extension takes it."""
    return int(ffi.cast("uintptr_t", ptr))


#: The extension's API this module calls (``API`` in ``_bytesio.c``): an extension built from
#: older sources (an editable install not rebuilt yet) is not used, as if it were not built.
API: Final = 2


def _load() -> Any:
    if getattr(lib, "nodetls_read", None) is None:  # ABI mode: no nodetls_read to call
        return None
    try:
        from .._openssl import _bytesio  # type: ignore[attr-defined]
    except ImportError:
        return None
    if getattr(_bytesio, "API", None) != API:
        return None
    _bytesio.init(*(addr(ffi.addressof(lib, name)) for name in (
        "nodetls_read", "SSL_write_ex", "BIO_ctrl_pending", "BIO_read", "SSL_get_rbio",
        "SSL_get_wbio")))
    return _bytesio


_module = _load()
read: Any = _module.read if _module is not None else None
read_into: Any = _module.read_into if _module is not None else None
read_bytes: Any = _module.read_bytes if _module is not None else None
seal: Any = _module.seal if _module is not None else None


def unpack_total(code: int) -> int:
    """The plaintext bytes a packed outcome reports."""
    return code >> PACK_SHIFT


def unpack_status(code: int) -> int:
    """``nodetls_read``'s status in a packed outcome: -2 nothing new, -1 the buffer is full, 0
    the read BIO is drained, 1 and up ``SSL_get_error()`` of the read that stopped."""
    return ((code >> 1) & 255) - 2


def unpack_out(code: int) -> bool:
    """A packed outcome's flag: ciphertext waits in the write BIO."""
    return bool(code & 1)
