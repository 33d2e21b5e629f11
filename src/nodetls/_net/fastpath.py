"""net.Socket's two per-message methods in C, when the optional extension is built.

``Socket._on_handle_read`` (every chunk a socket receives) and ``Socket.write`` (every message it
sends) stay defined in Python in ``socket.py``: they are the reference, and what runs without a
C compiler or with ``NODETLS_PURE=1``. :func:`install` replaces the two class attributes with
method descriptors of ``_fastpath.c``, which take the Python methods' data paths reading the
stream's slots directly and call the Python methods for everything else (see the C file). Called
once, at the end of ``socket.py``'s import; the C methods carry the Python methods' docstrings.
:func:`install_completion` does the same for a TLS socket's write completion
(``_tls/write_completion.py``'s two functions, ``TLSSocket._tls_write_done`` and
``_tls_write_settle``): the one step of every message a TLS socket sends that is not in the
handle's compiled code.
"""

from __future__ import annotations

import asyncio
import inspect
import os
from typing import Any

#: The slots the C methods read or write, in the order of the C file's enum.
SLOTS = ("_bytes_read", "_timeout", "_r_flowing", "_r_data_listening", "_r_len", "_r_sync",
         "_r_decoder", "_r_ended", "_destroyed", "_errored", "_r_reading", "_r_data_emitted",
         "_events", "_r_hwm", "_handle", "_bytes_dispatched", "_w_writing", "_w_corked",
         "_w_ending", "_w_need_drain", "_w_len", "connecting", "_w_buf", "_w_pending_cb",
         "_w_write_len", "_w_sync", "_pending_write_cb", "_w_hwm", "_w_cb",
         "_w_after_write_pending")
_READ, _WRITE = 1, 2

#: Why the C methods are not in use (None: they are), decided by :func:`install`.
reason: str | None = "not installed"
#: The Python methods (``Socket._on_handle_read``, ``Socket.write``) the C ones replace.
py_read: Any = None
py_write: Any = None


def _lookup(cls: type, name: str) -> Any:
    """What an attribute lookup on an instance of ``cls`` finds first for ``name`` (its class
    dictionaries in MRO order; a slot's descriptor wins over the instance's ``__dict__``)."""
    for klass in cls.__mro__:
        if name in klass.__dict__:
            return klass.__dict__[name]
    return None


def _doc(name: str, fn: Any) -> str:
    """``fn``'s docstring, led by its signature in the form ``inspect.signature`` reads from a
    C method's ``__text_signature__`` (parameters and defaults, no annotations)."""
    sig = inspect.signature(fn)
    sig = sig.replace(parameters=[p.replace(annotation=p.empty) for p in sig.parameters.values()],
                      return_annotation=sig.empty)
    return f"{name}{str(sig).replace('(self', '($self', 1)}\n--\n\n{fn.__doc__ or ''}"


def install(socket_cls: type, emit1: Any) -> None:
    """Put the C methods on ``socket_cls`` (``net.Socket``), if the extension is there."""
    global reason, py_read, py_write
    py_read = socket_cls.__dict__["_on_handle_read"]
    py_write = socket_cls.__dict__["write"]
    if os.environ.get("NODETLS_PURE", "") not in ("", "0"):
        reason = "NODETLS_PURE"
        return
    try:
        from . import _fastpath  # type: ignore[attr-defined]
    except ImportError:
        reason = "extension not built"
        return
    descriptors = tuple(_lookup(socket_cls, name) for name in SLOTS)

    def eligible(cls: type) -> int:
        """The C data paths ``cls`` may take: every slot is Duplex's/Socket's own descriptor
        (a subclass shadowing one with a property reads it through Python), and for reads,
        ``'data'`` is emitted by EventEmitter's ``_emit1`` (an override gets its call)."""
        if any(_lookup(cls, n) is not d for n, d in zip(SLOTS, descriptors, strict=True)):
            return 0
        return _WRITE | (_READ if getattr(cls, "_emit1", None) is emit1 else 0)

    _fastpath.setup(descriptors, py_read, py_write, eligible, asyncio.iscoroutine)
    for name, fn in (("_on_handle_read", py_read), ("write", py_write)):
        setattr(socket_cls, name, _fastpath.method(socket_cls, name, _doc(name, fn)))
    reason = None


def install_completion(cls: type, write_done: Any, write_settle: Any, onwrite: Any) -> None:
    """Put the C twins of ``write_done`` and ``write_settle`` (``_tls/write_completion.py``: a
    TLS socket's write completion, every message a TLS socket sends outside a pass of its
    handle's pump) on ``cls`` (``TLSSocket``) as ``_tls_write_done`` and ``_tls_write_settle``,
    when the C methods of :func:`install` are in use. ``onwrite``: Writable's
    ``_on_write_done``, the completion whose usual case they settle. Like the methods of
    :func:`install`, they serve a class only while :func:`install`'s ``eligible`` does, and
    call the Python function otherwise."""
    if reason is not None:
        return
    from . import _fastpath  # type: ignore[attr-defined]

    _fastpath.setup_completion(write_done, write_settle, onwrite)
    for name, fn in (("_tls_write_done", write_done), ("_tls_write_settle", write_settle)):
        doc = _doc(name, fn).replace("(sock", "($self", 1)  # (a function of the socket)
        setattr(cls, name, _fastpath.method(cls, name, doc))
