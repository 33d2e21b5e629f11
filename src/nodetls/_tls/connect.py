"""tls.connect (Node's ``tls.connect`` and its argument forms)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping
from typing import Any, Unpack

from .. import _option_table, _options
from .._net.address import is_ip
from .._net.args import normalize_connect_args
from .._net.socket import _Normalized
from ..types import ConnectOptions
from ._socket_setup import _ENV_DATA
from .socket import TLSSOCKET_OPTIONS, TLSSocket
from .template import SocketTemplate

CONNECT_OPTIONS = _option_table.names("T")
_MIN_DH_SIZE = _option_table.default("min_dh_size")
#: Node's DEP0123 (``tls.connect``): an IP address as ``servername``, warned once per process.
IP_SERVERNAME_WARNING = ("Setting the TLS ServerName to an IP address is not permitted by RFC 6066."
                         " This will be ignored in a future version.")
_ip_servername_warned = False
# (net.Socket.connect's options: already normalised and checked here, as tls.connect's)
_NET_KEYS = ("port", "host", "path", "family", "local_address", "local_port", "no_delay",
             "keep_alive", "keep_alive_initial_delay", "hints", "lookup", "auto_select_family",
             "auto_select_family_attempt_timeout")


def _normalize_args(args: tuple[Any, ...]) -> tuple[dict[str, Any], Callable[..., Any] | None]:
    """Node's tls forms: net's ``(options[, cb])``, ``(port[, host][, cb])``, ``(path[, cb])``,
    plus an options dict after the port/host/path: ``(port[, host], options[, cb])``. A lone
    function is the port (Node's ``normalizeArgs``: the first argument is always the options,
    path or port), so ``tls.connect(fn)`` is ``ERR_INVALID_ARG_TYPE`` for ``options.port``."""
    rest = list(args)
    callback = rest.pop() if len(rest) > 1 and callable(rest[-1]) else None
    extra: Mapping[str, Any] | None = None
    if len(rest) >= 2 and (rest[-1] is None or isinstance(rest[-1], Mapping)):
        extra = rest.pop()
    options, _ = normalize_connect_args(tuple(rest), {})
    options.update(extra or {})  # (Node: "options.host overrides a host arg")
    return options, callback


def _warn_ip_servername() -> None:
    """Node's DEP0123 ``DeprecationWarning`` (``tls.connect``), once per process as Node's."""
    global _ip_servername_warned
    _ip_servername_warned = True
    # (stacklevel 3: the caller of tls.connect)
    warnings.warn(IP_SERVERNAME_WARNING, DeprecationWarning, stacklevel=3)


def connect(*args: Any, **kwargs: Unpack[ConnectOptions]) -> TLSSocket:
    """Node's ``tls.connect``; returns the TLSSocket (``await`` it for ``'secureConnect'``)."""
    raw_opts, callback = _normalize_args(args)
    opts = _options.normalize(raw_opts, kwargs, CONNECT_OPTIONS, "options")
    if "reject_unauthorized" not in opts:
        opts["reject_unauthorized"] = (  # (os.environ's own dict: no Python call)
            _ENV_DATA.get(b"NODE_TLS_REJECT_UNAUTHORIZED") != b"0" if _ENV_DATA is not None
            else os.environ.get("NODE_TLS_REJECT_UNAUTHORIZED") != "0")
    if "min_dh_size" not in opts:  # (a given one was checked by normalize)
        opts["min_dh_size"] = _MIN_DH_SIZE
    if opts.get("ocsp") is not None:  # beyond Node: check the staple (nodetls.ocsp)
        opts["request_ocsp"] = True
    # (Node's onConnectEnd error reports the options as given: no host given, none reported)
    as_given = {k: opts.get(k) for k in ("path", "host", "port", "local_address")}
    given = opts.get("socket")
    if opts.get("path") is None and given is None:
        opts.setdefault("host", "localhost")
    servername = opts.get("servername")
    if servername and not _ip_servername_warned and is_ip(servername):
        _warn_ip_servername()
    if opts.get("no_delay") is None:
        opts["no_delay"] = True  # TCP_NODELAY by default on TLS sockets (see tls.Server)
    sock_opts = SocketTemplate(opts)
    for k in opts.keys() - TLSSOCKET_OPTIONS:  # (the socket's options: no generator to run)
        del sock_opts[k]
    tlssock = TLSSocket(given, sock_opts)
    tlssock._is_client_connect = True
    if given is not None and not opts.get("host"):
        # Node: the identity is checked against the host name the given socket connects to
        # (options.socket._host), read when the certificate is
        tlssock._host_socket = given
    if given is not None:
        tlssock._start_tls()  # Node's tlssock._start() (a TLSSocket made by hand waits)
    tlssock._connect_fields = as_given
    if callback is not None:
        tlssock.once("secureConnect", callback)
    if opts.get("timeout"):
        tlssock.set_timeout(opts["timeout"])
    if given is None:
        # (through Socket.connect, as Node's tlssock.connect(connectOpt): a patched one is
        # called; the options, marked as normalised, are not normalised again)
        net_opts = _Normalized()
        for k in _NET_KEYS:
            v = opts.get(k)
            if v is not None:
                net_opts[k] = v
        tlssock.connect(net_opts)
    return tlssock
