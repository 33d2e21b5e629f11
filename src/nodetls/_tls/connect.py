"""tls.connect (Node's ``tls.connect`` and its argument forms)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from .. import _options
from .socket import CONTEXT_OPTIONS, TLSSocket

CONNECT_OPTIONS = CONTEXT_OPTIONS | frozenset({
    "host", "port", "path", "socket", "allow_half_open", "reject_unauthorized", "psk_callback",
    "alpn_protocols", "servername", "check_server_identity", "session", "min_dh_size",
    "secure_context", "enable_trace", "request_ocsp", "timeout", "family", "local_address",
    "local_port", "npn_protocols", "no_delay", "keep_alive", "keep_alive_initial_delay",
    "high_water_mark", "hints", "lookup", "signal",
})

_SOCKET_KEYS = ("reject_unauthorized", "psk_callback", "alpn_protocols", "servername",
                "check_server_identity", "session", "min_dh_size", "secure_context",
                "enable_trace", "request_ocsp", "npn_protocols", "host", "port", "path",
                "allow_half_open")


def _normalize_args(args: tuple[Any, ...]) -> tuple[dict[str, Any], Callable[..., Any] | None]:
    """Node's forms: ``(options[, cb])``, ``(port[, host][, options][, cb])``,
    ``(path[, options][, cb])``."""
    args_l = list(args)
    callback = args_l.pop() if args_l and callable(args_l[-1]) else None
    options: dict[str, Any] = {}
    if not args_l:
        return options, callback
    first = args_l.pop(0)
    if isinstance(first, Mapping):
        options.update(first)
    elif isinstance(first, int) and not isinstance(first, bool):
        options["port"] = first
        if args_l and isinstance(args_l[0], str):
            options["host"] = args_l.pop(0)
    elif isinstance(first, str):
        if first.isdigit():
            options["port"] = int(first)
            if args_l and isinstance(args_l[0], str):
                options["host"] = args_l.pop(0)
        else:
            options["path"] = first
    else:
        raise _options.InvalidArgTypeError(
            f"connect() takes options, a port or a path first, got {type(first).__name__}"
        )
    if args_l:
        extra = args_l.pop(0)
        if extra is not None:
            if not isinstance(extra, Mapping):
                raise _options.InvalidArgTypeError("connect(): options must be a dict")
            merged = dict(extra)
            merged.update(options)
            options = merged
    if args_l:
        raise _options.InvalidArgTypeError("connect(): too many positional arguments")
    return options, callback


def connect(*args: Any, **kwargs: Any) -> TLSSocket:
    """Node's ``tls.connect``; returns the TLSSocket (``await`` it for ``'secureConnect'``)."""
    raw_opts, callback = _normalize_args(args)
    opts = _options.normalize(raw_opts, kwargs, CONNECT_OPTIONS, "options")
    if "reject_unauthorized" not in opts:
        opts["reject_unauthorized"] = os.environ.get("NODE_TLS_REJECT_UNAUTHORIZED") != "0"
    opts.setdefault("min_dh_size", 1024)
    min_dh = opts["min_dh_size"]
    if not isinstance(min_dh, int) or isinstance(min_dh, bool) or min_dh <= 0:
        raise _options.InvalidArgValueError("min_dh_size must be a positive int")
    if opts.get("path") is None:
        opts.setdefault("host", "localhost")
    sock_opts = {k: opts[k] for k in _SOCKET_KEYS if k in opts}
    sock_opts.update({k: v for k, v in opts.items() if k in CONTEXT_OPTIONS})
    given = opts.get("socket")
    tlssock = TLSSocket(given, sock_opts)
    tlssock._is_client_connect = True
    if callback is not None:
        tlssock.once("secureConnect", callback)
    if opts.get("timeout"):
        tlssock.set_timeout(opts["timeout"])
    if given is None:
        net_keys = ("port", "host", "path", "family", "local_address", "local_port", "no_delay",
                    "keep_alive", "keep_alive_initial_delay", "hints", "lookup")
        tlssock.connect({k: opts[k] for k in net_keys if k in opts and opts[k] is not None})
    return tlssock
