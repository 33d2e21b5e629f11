"""Node-like streams: :class:`Readable`, :class:`Writable`, :class:`Duplex`, :class:`Transform`,
:class:`PassThrough`, :func:`duplex_pair`, :func:`pipeline`, :func:`finished`, :mod:`promises`.

A port of Node v20's ``lib/internal/streams/{readable,writable,duplex,transform,destroy,
end-of-stream,pipeline}.js`` state machines for bytes (and ``str`` after
:meth:`Readable.set_encoding`); object mode is not supported.
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
``_destroy(err, callback)``; a :class:`Transform`'s ``_transform(chunk, callback)`` and
``_flush(callback)`` (``callback(err=None, data=None)``; like ``_write``, no ``encoding``
argument); ``_construct(callback)``. The same hooks may be passed as options (``read=``,
``write=``, ``writev=``, ``final=``, ``destroy=``, ``construct=``, ``transform=``,
``flush=``); unlike Node's, these receive no ``this``.

Around them, as Node's ``stream`` module: :func:`finished` (``callback(err)`` once a stream is
done: ended/finished, errored, or ``ERR_STREAM_PREMATURE_CLOSE``), :func:`pipeline` (streams,
iterables and (async) generator functions, every stage destroyed when one fails),
:mod:`nodetls.stream.promises` (awaitable ``pipeline``/``finished``), the predicates
:func:`is_readable`, :func:`is_writable`, :func:`is_errored`, :func:`is_destroyed`,
:func:`is_disturbed`, :func:`destroy` (Node's ``stream.destroy(stream, err)``),
:func:`get_default_high_water_mark` /
:func:`set_default_high_water_mark` (the default of the streams and sockets made afterwards),
:meth:`Readable.from_` (Node's ``Readable.from``: a stream of an iterable's items) and
:meth:`Readable.iterator` (the async iterator, Node's ``destroyOnReturn`` option),
:meth:`Duplex.from_` (Node's ``Duplex.from``: a Duplex of a stream, a ``{readable, writable}``
pair, an iterable, an (async generator) function or an awaitable), :mod:`consumers` (Node's
``stream/consumers``: ``text``, ``json``, ``buffer``, ``array_buffer``), and Node's
``construct`` option / ``_construct(callback)`` hook (construction that holds the stream's
reads, writes and destruction back until its callback).

Differences from Node: ``async for`` over a stream that ended normally does not destroy it
(Node destroys a half-open duplex there), only ``break``/an exception does (with an
``AbortError``, as Node's); ``stream.iterator()`` has Node's ending.

Modules: ``_base`` (helpers, :class:`Stream`), ``_readable`` (``_readable_read``: its
``read()``, end of stream and flowing mode), ``_pipe`` (``pipe()``),
``_writable``, ``_duplex`` (:class:`Duplex`, :func:`duplex_pair`), ``_transform``
(:class:`Transform`, :class:`PassThrough`), ``_utils`` (the predicates, the default high-water
mark), ``_finished`` (:func:`finished`), ``_pipeline`` (:func:`pipeline`; ``_eager`` starts its
async helpers at once, as JavaScript starts an ``async`` function), ``_from``
(``Readable.from_``, the async iterator), ``_construct`` (the ``construct`` hook),
``_duplex_from`` (``Duplex.from_``), ``promises``, ``consumers``.
"""

from __future__ import annotations

from . import consumers, promises
from ._base import _NO_BUF as _NO_BUF
from ._base import _NO_DRAIN as _NO_DRAIN
from ._base import DEFAULT_HIGH_WATER_MARK as DEFAULT_HIGH_WATER_MARK
from ._base import Chunk as Chunk
from ._base import Stream
from ._base import _get_running_loop as _get_running_loop
from ._base import _soon as _soon
from ._compose import compose
from ._duplex import _D_OPTIONS as _D_OPTIONS
from ._duplex import Duplex, duplex_pair
from ._finished import finished
from ._pipeline import destroy, pipeline
from ._readable import Readable
from ._transform import PassThrough, Transform
from ._utils import (
    get_default_high_water_mark,
    is_destroyed,
    is_disturbed,
    is_errored,
    is_readable,
    is_writable,
    set_default_high_water_mark,
)
from ._writable import Writable

__all__ = ["Stream", "Readable", "Writable", "Duplex", "Transform", "PassThrough", "duplex_pair",
           "pipeline", "finished", "promises", "consumers", "is_readable", "is_writable", "is_errored",
           "is_destroyed", "is_disturbed", "get_default_high_water_mark",
           "set_default_high_water_mark", "destroy", "compose"]
