"""``Readable``'s async iteration and Node's iterator helpers (``map``, ``filter``,
``to_array``...: :mod:`nodetls.stream._operators`), ``Readable.from_`` and ``wrap()``
(:mod:`nodetls.stream._legacy`): a mixin of :class:`nodetls.stream.Readable` kept in its own
module so that ``_readable.py`` reads in one sitting. Everything here is documented on
``Readable`` (``docs/stream.md``).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, cast

from . import _legacy, _operators
from ._base import Chunk

if TYPE_CHECKING:
    from ._from import ReadableIterator
    from ._readable import Readable


def _readable(self: ReadableIteration) -> Readable:
    """The mixin's ``self``, which is a :class:`Readable` (for the type checker)."""
    return cast("Readable", self)


class ReadableIteration:
    """The members of :class:`~nodetls.stream.Readable` that turn it into something else: an
    async iterator, a new stream, a value (Node's ``Readable.prototype`` iterator helpers)."""

    __slots__ = ()
    #: (docs/gen_reference.py: these are Readable's own members)
    _MEMBERS_OF_SUBCLASS = True

    # -- async iteration, Readable.from --------------------------------------------------------

    def __aiter__(self) -> ReadableIterator:
        """``async for chunk in stream``: chunks until ``'end'``; raises the stream's error (or
        ``ERR_STREAM_PREMATURE_CLOSE`` if it closes before ``'end'``). Leaving the loop early
        (``break``, exception) destroys the stream (an ``AbortError`` unless it had finished), as
        Node's async iterator does; unlike Node's, ending normally does not destroy it (a
        half-open socket stays writable): see :meth:`iterator`."""
        from ._from import ReadableIterator  # (not at the top: _from needs this module)

        return ReadableIterator(_readable(self), True, True)

    def iterator(self, options: Mapping[str, Any] | None = None, *,
                 destroy_on_return: bool = True) -> ReadableIterator:
        """Node ``readable.iterator({destroyOnReturn})``: the async iterator ``async for``
        uses, with Node's ending: the stream is destroyed when the iteration ends -- normally
        too (with ``auto_destroy``), an ``AbortError`` if it was not finished -- unless
        ``destroy_on_return=False`` and the iteration stopped early (``break``, ``aclose()``):
        then the stream is left as it is, and a later iterator goes on reading it."""
        from ._from import ReadableIterator, check_iterator_options

        return ReadableIterator(_readable(self), check_iterator_options(options, destroy_on_return))

    @classmethod
    def from_(cls, iterable: Any, options: Mapping[str, Any] | None = None,
              **kwargs: Any) -> Readable:
        """Node ``Readable.from(iterable[, options])`` (``from`` is a Python keyword): a
        :class:`Readable` of the items of an iterable or async iterable (an async generator's,
        say); ``str``, ``bytes``-like: one chunk. Each item is pushed as it is (``bytes``-like;
        a ``str`` is encoded with ``default_encoding``, 'utf8'); an awaitable item is awaited
        first. Node's default object mode does not exist here: any other item fails the stream
        with ``ERR_INVALID_ARG_TYPE``, ``None`` with ``ERR_STREAM_NULL_VALUES``, as Node's
        ``{objectMode: false}``. An error raised by the iterator destroys the stream with it;
        destroying the stream closes the iterator (``throw(err)`` then ``close()``; an async
        one's ``athrow``/``aclose`` once its pending ``__anext__`` has settled) before
        ``'close'``. ``options``: the Readable ones (``high_water_mark`` defaults to 1: one item
        read ahead, as Node's), ``default_encoding``, ``object_mode=False``. Raises
        ERR_INVALID_ARG_TYPE for what is not iterable."""
        from ._from import readable_from

        return readable_from(iterable, options, **kwargs)

    # -- Node's iterator helpers (in _operators), wrap() (in _legacy) ----------------------------

    wrap = _legacy.WrapMethod()

    def map(self, fn: Callable[[Any], Any], options: Mapping[str, Any] | None = None,
            **kwargs: Any) -> Readable:
        """Node ``readable.map(fn[, options])``: a Readable of ``fn(chunk)`` for each chunk
        (``fn`` sync or ``async def``; its results must be chunks: see
        :mod:`nodetls.stream._operators`). ``options``: ``concurrency`` (calls running at once,
        1), ``high_water_mark`` (results kept ready beyond those, ``concurrency - 1``); the
        results come in the source's order."""
        return _operators.map_(_readable(self), fn, options, kwargs)

    def filter(self, fn: Callable[[Any], Any], options: Mapping[str, Any] | None = None,
               **kwargs: Any) -> Readable:
        """Node ``readable.filter(fn[, options])``: a Readable of the chunks for which
        ``fn(chunk)`` (awaited if awaitable) is true; options as :meth:`map`'s."""
        return _operators.filter_(_readable(self), fn, options, kwargs)

    def flat_map(self, fn: Callable[[Any], Any], options: Mapping[str, Any] | None = None,
                 **kwargs: Any) -> Readable:
        """Node ``readable.flatMap(fn[, options])``: a Readable of the items of each
        ``fn(chunk)`` (a stream, an (async) iterable of chunks); options as :meth:`map`'s."""
        return _operators.flat_map(_readable(self), fn, options, kwargs)

    def drop(self, limit: float, options: Mapping[str, Any] | None = None,
             **kwargs: Any) -> Readable:
        """Node ``readable.drop(limit)``: a Readable of the chunks after the first ``limit``
        (a number >= 0, ERR_OUT_OF_RANGE below)."""
        return _operators.drop(_readable(self), limit, options, kwargs)

    def take(self, limit: float, options: Mapping[str, Any] | None = None,
             **kwargs: Any) -> Readable:
        """Node ``readable.take(limit)``: a Readable of the first ``limit`` chunks (then the
        source is destroyed, as Node's: an ``AbortError`` if it had not ended)."""
        return _operators.take(_readable(self), limit, options, kwargs)

    def compose(self, stream: Any, options: Mapping[str, Any] | None = None,
                **kwargs: Any) -> Readable:
        """Node ``readable.compose(stream)``: a Readable of what ``stream`` (a writable stream,
        an async generator function...) makes of this one (:func:`nodetls.stream.compose`)."""
        return _operators.compose(_readable(self), stream, options, kwargs)

    def to_array(self, options: Mapping[str, Any] | None = None,
                 **kwargs: Any) -> Coroutine[Any, Any, list[Chunk]]:
        """Node ``readable.toArray()``: awaitable, the list of the chunks read to the end."""
        return _operators.to_array(_readable(self), options, kwargs)

    def for_each(self, fn: Callable[[Any], Any], options: Mapping[str, Any] | None = None,
                 **kwargs: Any) -> Coroutine[Any, Any, None]:
        """Node ``readable.forEach(fn[, options])``: awaitable, ``fn(chunk)`` (awaited) for each
        chunk; options as :meth:`map`'s."""
        return _operators.for_each(_readable(self), fn, options, kwargs)

    def some(self, fn: Callable[[Any], Any], options: Mapping[str, Any] | None = None,
             **kwargs: Any) -> Coroutine[Any, Any, bool]:
        """Node ``readable.some(fn[, options])``: awaitable, whether ``fn`` is true for a chunk
        (the source is destroyed at the first one)."""
        return _operators.some(_readable(self), fn, options, kwargs)

    def every(self, fn: Callable[[Any], Any], options: Mapping[str, Any] | None = None,
              **kwargs: Any) -> Coroutine[Any, Any, bool]:
        """Node ``readable.every(fn[, options])``: awaitable, whether ``fn`` is true for every
        chunk (the source is destroyed at the first false one)."""
        return _operators.every(_readable(self), fn, options, kwargs)

    def find(self, fn: Callable[[Any], Any], options: Mapping[str, Any] | None = None,
             **kwargs: Any) -> Coroutine[Any, Any, Chunk | None]:
        """Node ``readable.find(fn[, options])``: awaitable, the first chunk for which ``fn`` is
        true, or ``None``."""
        return _operators.find(_readable(self), fn, options, kwargs)

    def reduce(self, fn: Callable[[Any, Any], Any], initial: Any = _operators._UNSET,
               options: Mapping[str, Any] | None = None, **kwargs: Any) -> Coroutine[Any, Any, Any]:
        """Node ``readable.reduce(fn[, initial[, options]])``: awaitable, ``fn(acc, chunk)``
        (awaited) over the chunks from ``initial`` (none: the first chunk; an empty stream then
        raises ERR_MISSING_ARGS)."""
        return _operators.reduce(_readable(self), fn, initial, options, kwargs)
