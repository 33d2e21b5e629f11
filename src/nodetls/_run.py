"""``run(main)`` and Node's process lifetime: the loop runs while a *referenced* handle is open.

Servers (while listening) and socket handles (from ``connect()``/accept until the transport is
gone, or until both directions have ended) call :func:`ref_handle` / :func:`unref_handle`; their
``ref()``/``unref()`` methods toggle membership. Only loops started by :func:`run` keep a registry,
so outside ``run()`` both calls are a dict lookup and nothing else.

Under ``run()`` the program also ends as a Node process does:

* An ``'error'`` nobody listens to (reported by :func:`nodetls.events._report` to the loop's
  exception handler with the emitter) ends ``run()``, which raises it (Node: uncaught, exit 1).
  On a server's per-connection socket it is one WARNING line on the ``nodetls`` logger instead,
  and the server keeps serving.
* SIGINT (Ctrl-C) closes every listening server (no new connections), gives open connections
  :data:`SHUTDOWN_GRACE` seconds to end (a second Ctrl-C skips the wait), closes what is left so
  each server emits ``'close'``, and raises ``KeyboardInterrupt``.

Whichever way ``run()`` ends, what its loop still has open (an unreferenced server still
listening, an unreferenced or idle connection, or anything when an error ends it) is then closed
silently, as the OS does when a Node process exits: the sockets are closed (a peer sees the
connection end, a port is free again) and no Node event (``'end'``, ``'error'``, ``'close'``)
reaches user code after the program's end. A handle that stops keeping ``run()`` alive while
still open records itself in the registry's ``open_unrefd`` (:meth:`_Registry.release`), and
every listening server does; an entry leaves it once really closed.

The raised exception carries a note naming the object, and its traceback holds no frame of
nodetls or asyncio: only the caller's ``run(main)`` line and the user's own code.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import signal
import threading
import types
from collections.abc import Callable
from typing import Any

__all__ = ["run", "ref_handle", "unref_handle", "current_registry", "SHUTDOWN_GRACE"]

_get_running_loop = asyncio._get_running_loop
_log = logging.getLogger("nodetls")

#: Seconds that open connections get to end after Ctrl-C before they are closed.
SHUTDOWN_GRACE = 2.0
#: Seconds to wait for ``'close'`` events once everything has been closed.
_CLOSE_WAIT = 1.0

_INTERNAL_DIRS = (os.path.dirname(__file__) + os.sep, os.path.dirname(asyncio.__file__) + os.sep)


class _Registry:
    """One ``run()``: its referenced handles and how it ends."""

    __slots__ = ("refs", "open_unrefd", "waiter", "fatal", "interrupts", "main_task", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        #: The loop of this ``run()``: a handle that keeps the registry schedules on it without
        #: ``asyncio.get_running_loop()`` (a ``getpid()`` system call each on CPython 3.11).
        self.loop = loop
        self.refs: set[Any] = set()
        #: Handles and servers that may be open without being in ``refs`` (an unreferenced or
        #: idle handle, a listening server): closed silently when ``run()`` returns
        #: (:func:`_release_all`). Each entry discards itself once really closed.
        self.open_unrefd: set[Any] = set()
        self.waiter: asyncio.Future[None] | None = None
        self.fatal: BaseException | None = None
        self.interrupts = 0
        self.main_task: asyncio.Task[Any] | None = None

    def wake(self) -> None:
        w = self.waiter
        if w is not None and not w.done():
            w.set_result(None)

    def unref(self, obj: Any) -> None:
        """:func:`unref_handle` with the registry already known."""
        refs = self.refs
        refs.discard(obj)
        if not refs:
            self.wake()

    def release(self, obj: Any) -> None:
        """:meth:`unref` for a handle that stays open (unreferenced, idle, both directions
        ended): it is recorded in ``open_unrefd``, so that ``run()`` closes it when it returns
        (Node: the process exits and the OS closes it)."""
        self.open_unrefd.add(obj)
        self.unref(obj)


_REGISTRIES: dict[asyncio.AbstractEventLoop, _Registry] = {}


def current_registry() -> _Registry | None:
    """The running loop's registry (``None`` outside :func:`run`). A handle that keeps it
    registers and unregisters itself without looking the loop up each time (a handle never
    changes loops): ``registry.refs.add(obj)`` / ``registry.unref(obj)``."""
    if _REGISTRIES:
        return _REGISTRIES.get(_get_running_loop())  # type: ignore[arg-type]
    return None


def ref_handle(obj: Any) -> None:
    """``obj`` keeps :func:`run` alive (Node: a referenced, active handle)."""
    if _REGISTRIES:
        reg = _REGISTRIES.get(_get_running_loop())  # type: ignore[arg-type]
        if reg is not None:
            reg.refs.add(obj)


def unref_handle(obj: Any) -> None:
    """``obj`` no longer keeps :func:`run` alive (closed, inactive, or ``unref()``)."""
    if _REGISTRIES:
        reg = _REGISTRIES.get(_get_running_loop())  # type: ignore[arg-type]
        if reg is not None:
            reg.refs.discard(obj)
            if not reg.refs:
                reg.wake()


def _loop_factory(loop: Any) -> Callable[[], asyncio.AbstractEventLoop] | None:
    if callable(loop):
        return loop  # type: ignore[no-any-return]
    explicit = loop is not None
    # Default: uvloop where it is installed (a dependency on every platform it supports; Node
    # runs on libuv too), else asyncio's own loop.  NODETLS_LOOP=asyncio forces the latter.
    name = loop if explicit else (os.environ.get("NODETLS_LOOP", "") or "uvloop")
    if name == "asyncio":
        return None
    if name == "uvloop":
        try:
            import uvloop  # type: ignore[import-not-found,unused-ignore]
        except ImportError:
            if explicit:
                raise
            return None
        return uvloop.new_event_loop
    raise ValueError(f"unknown loop {name!r}: expected 'asyncio' or 'uvloop'")


# ---------------------------------------------------------------------------- unhandled errors


def _describe(emitter: Any) -> str:
    """``TLSSocket 127.0.0.1:8000`` (the peer), ``Server 127.0.0.1:8000`` or the type name."""
    name = type(emitter).__name__
    try:
        host, port = getattr(emitter, "remote_address", None), getattr(emitter, "remote_port", None)
        if host is None and callable(getattr(emitter, "address", None)):
            addr = emitter.address()
            if isinstance(addr, dict) and addr:
                host, port = addr.get("address"), addr.get("port")
            elif isinstance(addr, str):
                host = addr
    except Exception:  # noqa: BLE001 - a description must never fail
        host = None
    if host is None:
        return name
    return f"{name} {host}" + (f":{port}" if port is not None else "")


def _is_server_connection(emitter: Any) -> bool:
    """A socket a server accepted (Node would crash; a server here keeps serving)."""
    return getattr(emitter, "_server", None) is not None and hasattr(emitter, "destroy")


def _exception_handler(reg: _Registry) -> Callable[[asyncio.AbstractEventLoop, dict[str, Any]], None]:
    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        emitter = context.get("emitter")
        if emitter is None or not isinstance(exc, BaseException):
            loop.default_exception_handler(context)
            return
        code = getattr(exc, "code", None)
        what = type(exc).__name__ + (f" [{code}]" if isinstance(code, str) else "")
        message = str(context.get("message") or "unhandled 'error' event")
        desc = _describe(emitter)
        where = message if desc == type(emitter).__name__ else f"{message} ({desc})"
        if _is_server_connection(emitter):
            _log.warning("%s: %s: %s", where, what, exc)
            return
        if reg.fatal is None:
            exc.add_note(f"nodetls: {where}" + (f", code {code}" if isinstance(code, str) else ""))
            reg.fatal = exc
            task = reg.main_task
            if task is not None and not task.done():
                task.cancel()
            reg.wake()

    return handler


def _user_traceback(tb: types.TracebackType | None) -> types.TracebackType | None:
    """``tb`` without the frames of nodetls and asyncio (the user's frames stay)."""
    frames = []
    while tb is not None:
        if not tb.tb_frame.f_code.co_filename.startswith(_INTERNAL_DIRS):
            frames.append(tb)
        tb = tb.tb_next
    out = None
    for item in reversed(frames):
        out = types.TracebackType(out, item.tb_frame, item.tb_lasti, item.tb_lineno)
    return out


def _clean(exc: BaseException) -> BaseException:
    """The exception as ``run()`` raises it: user frames only, no internal cause chain."""
    exc.__traceback__ = _user_traceback(exc.__traceback__)
    cause = exc.__cause__
    if cause is not None and type(cause).__module__ in ("builtins", "asyncio.exceptions"):
        exc.__cause__ = None  # the OSError under a Node-coded system error: same information
    exc.__suppress_context__ = True
    return exc


# ---------------------------------------------------------------------------- Ctrl-C


def _close_all(reg: _Registry, servers_only: bool) -> None:
    for obj in list(reg.refs):
        is_server = hasattr(obj, "listening")
        if servers_only and not is_server:
            continue
        try:
            obj.close()
        except Exception:  # noqa: BLE001 - closing on the way out must not stop the others
            _log.debug("closing %r failed", obj, exc_info=True)


def _on_sigint(reg: _Registry) -> None:
    reg.interrupts += 1
    if reg.interrupts == 1:
        task = reg.main_task
        if task is not None and not task.done():
            task.cancel()
        _close_all(reg, servers_only=True)  # no new connections
    reg.wake()


async def _wait_refs(reg: _Registry, timeout: float, *, until_interrupts: int = 0) -> None:
    """Wait until no referenced handle is left, ``timeout`` passes or another Ctrl-C comes."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while reg.refs and loop.time() < deadline:
        if until_interrupts and reg.interrupts >= until_interrupts:
            return
        reg.waiter = loop.create_future()
        try:
            await asyncio.wait_for(reg.waiter, max(0.0, deadline - loop.time()))
        except TimeoutError:
            return
        finally:
            reg.waiter = None


async def _shutdown(reg: _Registry) -> None:
    """After Ctrl-C: connections get :data:`SHUTDOWN_GRACE` seconds, then everything closes."""
    await _wait_refs(reg, SHUTDOWN_GRACE, until_interrupts=2)
    _close_all(reg, servers_only=False)
    await _wait_refs(reg, _CLOSE_WAIT)
    for _ in range(3):  # 'close' events are emitted on the next iterations
        await asyncio.sleep(0)


# ---------------------------------------------------------------------------- the lifetime


async def _lifetime(main: Callable[[], Any]) -> tuple[str, Any]:
    """Run ``main`` and wait for the handles; returns ``('ok', result)``, ``('error', exc)``
    or ``('interrupt', None)``."""
    from .events import _TASKS

    loop = asyncio.get_running_loop()
    reg = _REGISTRIES[loop] = _Registry(loop)
    loop.set_exception_handler(_exception_handler(reg))
    sigint = threading.current_thread() is threading.main_thread()
    if sigint:
        try:
            loop.add_signal_handler(signal.SIGINT, _on_sigint, reg)
        except (NotImplementedError, RuntimeError, ValueError):  # pragma: no cover
            sigint = False
    try:
        try:
            outcome = await _main_and_handles(main, reg, _TASKS)
        except BaseException:
            _release_all(reg)  # (the loop runs again in asyncio.Runner.close: they finish there)
            raise
        _release_all(reg)
        for _ in range(3):  # transports finish closing before the loop closes (uvloop: a
            await asyncio.sleep(0)  # uv_close callback; asyncio: connection_lost, call_soon)
        return outcome
    finally:
        if sigint:
            loop.remove_signal_handler(signal.SIGINT)
        del _REGISTRIES[loop]


def _release_all(reg: _Registry) -> None:
    """``run()`` returns: close what its loop still has open as a process exit would, without
    a Node event (each handle's and server's ``_release_at_exit``)."""
    objs = reg.open_unrefd | reg.refs
    reg.open_unrefd.clear()
    for obj in objs:
        release = getattr(obj, "_release_at_exit", None)
        if release is None:
            continue
        try:
            release()
        except Exception:  # noqa: BLE001 - closing on the way out must not stop the others
            _log.debug("releasing %r failed", obj, exc_info=True)


async def _main_and_handles(main: Callable[[], Any], reg: _Registry,
                            tasks: set[asyncio.Task[Any]]) -> tuple[str, Any]:
    loop = asyncio.get_running_loop()

    async def call_main() -> Any:
        result = main()
        if inspect.isawaitable(result):
            result = await result
        return result

    reg.main_task = task = loop.create_task(call_main())
    try:
        result = await asyncio.shield(task)
    except asyncio.CancelledError:
        if not task.cancelled():  # run() itself was cancelled
            raise
        result = None
    except Exception as exc:  # noqa: BLE001 - main raised: run() raises it
        if reg.fatal is None:
            return ("error", exc)
        result = None
    finally:
        reg.main_task = None
    while True:
        if reg.fatal is not None:
            return ("error", reg.fatal)  # (Node: the process exits; _lifetime releases the rest)
        if reg.interrupts:
            await _shutdown(reg)
            return ("interrupt", None)
        if reg.refs:
            reg.waiter = loop.create_future()
            try:
                await reg.waiter
            finally:
                reg.waiter = None
            continue
        if not await _settled(reg):
            continue
        pending = [t for t in tasks if not t.done() and t.get_loop() is loop]
        if pending:  # async listeners still running
            reg.waiter = loop.create_future()
            waiter = reg.waiter
            try:
                await asyncio.wait([*pending, waiter], return_when=asyncio.FIRST_COMPLETED)
            finally:
                reg.waiter = None
            continue
        return ("ok", result)


#: Loop steps :func:`run` lets pass with no handle referenced before it ends. Node looks for
#: live handles only once a callback's ticks have run; what nodetls does in one such tick may
#: take a few ``call_soon`` steps (the peer's EOF, ``'end'``, ``end()``, the shutdown request,
#: the ``'close'`` that follows...), each of which may make a handle count again.
_SETTLE_STEPS = 8


async def _settled(reg: _Registry) -> bool:
    """True when :data:`_SETTLE_STEPS` loop steps pass with no handle referenced, no fatal
    error and no Ctrl-C (callbacks already scheduled may open or reactivate handles)."""
    for _ in range(_SETTLE_STEPS):
        await asyncio.sleep(0)
        if reg.refs or reg.fatal is not None or reg.interrupts:
            return False
    return True


def run(main: Callable[[], Any], *, loop: Any = None, debug: bool | None = None,
        workers: int | None = None, **worker_options: Any) -> Any:
    """Run ``main`` (a function or coroutine function) on a new event loop, as a Node program.

    Returns ``main``'s result once ``main`` has returned and no referenced server or socket is
    left open (and no ``async`` listener is still running): Node's process lifetime. ``unref()``
    a server or socket to let ``run`` return while it is open: it is then closed, silently, as
    the OS closes a Node process's sockets when it exits (the port is free, the peer sees the
    connection end; no ``'end'``, ``'error'`` or ``'close'`` event after the program's end).

    Raises what ``main`` raised, or the first ``'error'`` event nobody listened to (Node: an
    uncaught exception, exit status 1), with a note naming the object and the error's code.
    Ctrl-C (SIGINT) closes the servers gracefully and raises ``KeyboardInterrupt``.

    Args:
        main: called with no arguments on the new loop; may be ``async``.
        loop: ``'uvloop'`` (``ImportError`` if not installed), ``'asyncio'``, or a loop factory.
            Without it: ``NODETLS_LOOP`` (``'asyncio'`` or ``'uvloop'``) if set, else uvloop when
            installed (the default dependency where uvloop exists), else asyncio.
        debug: asyncio debug mode.
        workers: run ``main`` in that many worker processes sharing ports and ticket keys
            (``worker_options``: ``ticket_keys``, ``grace``); see ``nodetls._workers``.
    """
    if workers is not None:
        from ._workers import run_workers

        return run_workers(main, workers, loop=loop, debug=debug, **worker_options)
    if worker_options:
        raise TypeError(f"run() got unexpected keyword arguments {sorted(worker_options)}")
    with asyncio.Runner(loop_factory=_loop_factory(loop), debug=debug) as runner:
        kind, value = runner.run(_lifetime(main))
    if kind == "ok":
        return value
    if kind == "interrupt":
        raise KeyboardInterrupt from None
    raise _clean(value)
