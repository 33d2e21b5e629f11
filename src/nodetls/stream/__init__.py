"""Node-like streams: :class:`Readable`, :class:`Writable`, :class:`Duplex`, :func:`duplex_pair`.

A port of Node v20's ``lib/internal/streams/{readable,writable,duplex,destroy}.js`` state machines
for bytes (and ``str`` after :meth:`Readable.set_encoding`); object mode is not supported.
Node's ``process.nextTick`` is ``loop.call_soon`` on the running loop, so every event Node defers
to the next tick is emitted on a later loop iteration here too, in Node's order:

* Readable: ``push(chunk)`` buffers or (flowing, empty buffer, not inside ``_read``) emits
  ``'data'`` at once; ``push(None)`` ends; ``'end'`` comes once the buffer has been consumed.
* Writable: ``write()`` returns ``False`` when the buffered length reaches the high-water mark,
  ``'drain'`` follows when it is back to 0; ``end()`` -> ``_final`` -> ``'prefinish'`` ->
  ``'finish'``.
* ``destroy(err)``: ``_destroy(err, cb)``, then ``'error'`` (if ``err``) and ``'close'``.
* ``auto_destroy`` (default ``True``): destroyed once ``'end'`` and ``'finish'`` have both happened.

Subclass hooks, as Node's: ``_read(size)``, ``_write(chunk, callback)`` (``callback(err=None)``;
one write in flight at a time), ``_writev(chunks, callback)`` (optional), ``_final(callback)``,
``_destroy(err, callback)``. The same hooks may be passed as options (``read=``, ``write=``,
``writev=``, ``final=``, ``destroy=``); unlike Node's, these receive no ``this``.

Differences from Node: a :class:`Readable` without ``_read`` is a push source (the default
``_read`` does nothing, Node throws); ``async for`` over a stream that ended normally does not
destroy it (Node destroys a half-open duplex there), only ``break``/an exception does.

Modules: ``_base`` (helpers, :class:`Stream`), ``_readable``, ``_pipe`` (``pipe()``),
``_writable``, ``_duplex`` (:class:`Duplex`, :func:`duplex_pair`).
"""

from __future__ import annotations

from ._base import _NO_BUF as _NO_BUF
from ._base import _NO_DRAIN as _NO_DRAIN
from ._base import DEFAULT_HIGH_WATER_MARK as DEFAULT_HIGH_WATER_MARK
from ._base import Chunk as Chunk
from ._base import Stream
from ._base import _get_running_loop as _get_running_loop
from ._base import _soon as _soon
from ._duplex import _D_OPTIONS as _D_OPTIONS
from ._duplex import Duplex, duplex_pair
from ._readable import Readable
from ._writable import Writable

__all__ = ["Stream", "Readable", "Writable", "Duplex", "duplex_pair"]
