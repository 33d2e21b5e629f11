"""tls.connect (Node's ``tls.connect`` and its argument forms)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, Unpack

from .. import _option_table, _options
from .._net.connect import normalize_connect_args
from ..types import ConnectOptions
from .socket import TLSSOCKET_OPTIONS, SocketTemplate, TLSSocket

CONNECT_OPTIONS = _option_table.names("T")


def _normalize_args(args: tuple[Any, ...]) -> tuple[dict[str, Any], Callable[..., Any] | None]:
    """Node's tls forms: net's ``(options[, cb])``, ``(port[, host][, cb])``, ``(path[, cb])``,
    plus an options dict after the port/host/path: ``(port[, host], options[, cb])``."""
    rest = list(args)
    callback = rest.pop() if rest and callable(rest[-1]) else None
    extra: Mapping[str, Any] | None = None
    if len(rest) >= 2 and (rest[-1] is None or isinstance(rest[-1], Mapping)):
        extra = rest.pop()
    if rest and (isinstance(rest[0], bool) or not isinstance(rest[0], (Mapping, int, str))):
        raise _options.InvalidArgTypeError(
            f"connect() takes options, a port or a path first, got {type(rest[0]).__name__}"
        )
    options, _ = normalize_connect_args(tuple(rest), {})
    merged = dict(extra or {})
    merged.update(options)
    return merged, callback


def connect(*args: Any, **kwargs: Unpack[ConnectOptions]) -> TLSSocket:
    """Node's ``tls.connect``; returns the TLSSocket (``await`` it for ``'secureConnect'``)."""
    raw_opts, callback = _normalize_args(args)
    opts = _options.normalize(raw_opts, kwargs, CONNECT_OPTIONS, "options")
    if "reject_unauthorized" not in opts:
        opts["reject_unauthorized"] = os.environ.get("NODE_TLS_REJECT_UNAUTHORIZED") != "0"
    opts.setdefault("min_dh_size", _option_table.default("min_dh_size"))  # checked by normalize
    if opts.get("ocsp") is not None:  # beyond Node: check the staple (nodetls.ocsp)
        opts["request_ocsp"] = True
    if opts.get("path") is None:
        opts.setdefault("host", "localhost")
    if opts.get("no_delay") is None:
        opts["no_delay"] = True  # TCP_NODELAY by default on TLS sockets (see tls.Server)
    sock_opts = SocketTemplate((k, v) for k, v in opts.items() if k in TLSSOCKET_OPTIONS)
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
