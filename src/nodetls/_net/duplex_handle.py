"""The handle seam (``handle.py``'s module docstring) over any :class:`nodetls.stream.Duplex`
(Node's JSStreamSocket): what ``TLSSocket`` wraps when its socket is not a plain ``net.Socket``
over a TCP handle, and :func:`nodetls._net.socket.wrap_duplex`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from .handle import NO_OWNER, AddresslessHandle

__all__ = ["DuplexHandle"]


class DuplexHandle(AddresslessHandle):
    """The handle seam over any :class:`nodetls.stream.Duplex` (Node's JSStreamSocket).

    ``'data'`` -> ``_on_handle_read(memoryview)``, ``'end'`` -> ``_on_handle_eof``, ``'drain'``
    -> ``_on_handle_drain``, ``'error'`` -> ``_on_handle_error``, ``'close'`` ->
    ``_on_handle_close``; ``write`` -> ``duplex.write``, ``shutdown`` -> ``duplex.end()``,
    ``close`` -> ``duplex.destroy()``. Address properties are ``None``; ``ref``/``unref`` and
    socket options do nothing. Attaching puts the duplex in flowing mode.
    """

    def __init__(self, duplex: Any, owner: Any = None) -> None:
        self.owner: Any = owner if owner is not None else NO_OWNER
        self.duplex = duplex
        self._reading = True
        self._closing = False
        self._close_notified = False
        duplex.on("end", self._on_end)
        duplex.on("drain", self._on_drain)
        duplex.on("error", self._on_error)
        duplex.on("close", self._on_close)
        duplex.on("data", self._on_data)

    def __repr__(self) -> str:
        return f"<DuplexHandle {self.duplex!r}>"

    def _on_data(self, chunk: Any) -> None:
        if self._closing:
            return
        if isinstance(chunk, str):
            chunk = chunk.encode()
        self.owner._on_handle_read(memoryview(chunk))

    def _on_end(self) -> None:
        if not self._closing:
            self.owner._on_handle_eof()

    def _on_drain(self) -> None:
        self.owner._on_handle_drain()

    def _on_error(self, err: BaseException) -> None:
        self.owner._on_handle_error(err)

    def _on_close(self, *_: Any) -> None:
        if not self._close_notified:
            self._close_notified = True
            self.owner._on_handle_close()

    def write(self, data: bytes | bytearray | memoryview) -> bool:
        if self._closing:
            return False
        return bool(self.duplex.write(data if type(data) is bytes else bytes(data)))

    def read_start(self) -> None:
        if not self._reading:
            self._reading = True
            self.duplex.resume()

    def read_stop(self) -> None:
        if self._reading:
            self._reading = False
            self.duplex.pause()

    @property
    def reading(self) -> bool:
        return self._reading

    def shutdown(self, callback: Callable[[], None] | None = None) -> None:
        if self._closing:
            if callback is not None:
                callback()
            return
        if callback is None:
            self.duplex.end()
        else:
            self.duplex.end(lambda err=None: callback())

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        d = self.duplex
        if getattr(d, "_close_emitted", False) or (getattr(d, "destroyed", False) and not hasattr(d, "_close_emitted")):
            asyncio.get_running_loop().call_soon(self._on_close)
        else:
            d.destroy()

    @property
    def closed(self) -> bool:
        return self._closing or self._close_notified

    def get_write_buffer_size(self) -> int:
        return int(getattr(self.duplex, "writable_length", 0) or 0)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default

    def set_no_delay(self, enable: bool = True) -> None:
        pass

    def set_keep_alive(self, enable: bool = False, delay: float = 0) -> None:
        pass

    def ref(self) -> None:
        pass

    def unref(self) -> None:
        pass
