"""The invariant oracle every harness checks after each input.

"No crash" is not enough: an input passes only when

* no exception escapes except the documented types (:data:`ENGINE_ERRORS` for the engine:
  ``NodeError`` and its subclasses; parsers may also raise ``TypeError``/``ValueError``);
* every OpenSSL object is freed: the engine's live-``SSL*`` counter and the ``SSL_CTX`` counter are
  back where they were, and no engine is left in the callback registry;
* OpenSSL's thread error queue is empty (a stale record would be blamed on the next connection);
* no hook (OpenSSL callback routed to Python) fires after the engine was freed.
"""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import Iterator
from typing import Any

from nodetls._context.secure_context import live_contexts
from nodetls._engine import callbacks as _callbacks
from nodetls._engine import live_engines
from nodetls._openssl import lib
from nodetls.errors import NodeError

ENGINE_ERRORS: tuple[type[BaseException], ...] = (NodeError,)
ARG_ERRORS: tuple[type[BaseException], ...] = (NodeError, TypeError, ValueError)


@contextlib.contextmanager
def quiet(logger_name: str) -> Iterator[None]:
    """``logger_name``'s records off while a harness runs an input (what nodetls logs about a
    hostile input it ignores -- a store record, a corrupt pipe -- is not the fuzzer's output)."""
    logger = logging.getLogger(logger_name)
    was, logger.disabled = logger.disabled, True
    try:
        yield
    finally:
        logger.disabled = was


class OracleViolation(AssertionError):
    """An invariant broke: the fuzzer reports this input as a crash."""


class Baseline:
    """Counters taken before an input; :meth:`check` compares after it."""

    def __init__(self) -> None:
        self.engines = live_engines()
        self.contexts = live_contexts()
        self.registered = len(_callbacks.ENGINES)

    def check(self, collect: bool = False) -> None:
        if collect:
            gc.collect()
        # Never more than before: in a fuzzer process nothing else frees engines, so this is
        # "back to the same number"; in the test suite, other tests' engines may be collected.
        if live_engines() > self.engines:
            raise OracleViolation(f"SSL* leaked: {live_engines()} live, {self.engines} before")
        if live_contexts() > self.contexts:
            raise OracleViolation(f"SSL_CTX leaked: {live_contexts()} live, {self.contexts} before")
        if len(_callbacks.ENGINES) > self.registered:
            raise OracleViolation(f"{len(_callbacks.ENGINES)} engine(s) left in callbacks.ENGINES")
        if lib.ERR_peek_error():
            lib.ERR_clear_error()
            raise OracleViolation("OpenSSL error queue not empty after the input")


class Hooks:
    """The engine's hooks object for harnesses: records calls, answers by ``plan``, and fails
    the input if OpenSSL calls back after :meth:`destroyed`."""

    def __init__(self, pause_hello: bool = False, pause_cert: bool = False,
                 psk: bytes | None = None) -> None:
        self.pause_hello = pause_hello
        self.pause_cert = pause_cert
        self.psk = psk
        self.gone = False
        self.calls: list[str] = []

    def _call(self, name: str) -> None:
        if self.gone:
            raise OracleViolation(f"hook {name} called after the engine was freed")
        self.calls.append(name)

    def destroyed(self) -> None:
        self.gone = True

    def on_client_hello(self, ch: Any) -> bool:
        self._call("client_hello")
        return self.pause_hello

    def on_cert(self, servername: str | None) -> bool:
        self._call("cert")
        return self.pause_cert

    def psk_server(self, identity: str) -> bytes | None:
        self._call("psk_server")
        return self.psk

    def psk_client(self, hint: str | None) -> tuple[str, bytes] | None:
        self._call("psk_client")
        return ("client", self.psk) if self.psk else None

    def on_handshake_start(self, count: int) -> None:
        self._call("handshake_start")
