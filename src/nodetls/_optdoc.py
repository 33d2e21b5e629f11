"""The option lists of the docs: what ``help(tls.connect)`` shows and docs/ renders.

Rendered from the one option table (``_option_table``) when it is present, otherwise from the
option name sets each entry point accepts. :func:`document` appends the list to the docstrings of
the public entry points; ``docs/gen_reference.py`` renders the same rows as Markdown tables.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

__all__ = ["ENTRY_POINTS", "rows", "docstring_block", "markdown_table", "document"]

#: Entry point letter -> what it is (the letters of the option table).
ENTRY_POINTS: dict[str, str] = {
    "C": "tls.create_secure_context / SecureContext",
    "S": "tls.create_server / tls.Server",
    "K": "tls.TLSSocket(...)",
    "T": "tls.connect",
    "N": "net.Socket(...)",
    "J": "net.connect / net.Socket.connect",
    "V": "net.create_server / net.Server",
    "L": "server.listen({...})",
}

# What "not given" means where the table's default is None (the value used instead).
_NONE_MEANS: dict[str, str] = {
    "ca": "the root certificates (nodetls.root_certificates)",
    "ciphers": "nodetls.DEFAULT_CIPHERS",
    "ecdh_curve": "nodetls.DEFAULT_ECDH_CURVE",
    "min_version": "nodetls.DEFAULT_MIN_VERSION",
    "max_version": "nodetls.DEFAULT_MAX_VERSION",
    "ticket_keys": "a random key",
    "no_delay": "True for TLS; for net, the event loop's setting",
    "auto_select_family": "net.get_default_auto_select_family() (True)",
    "auto_select_family_attempt_timeout":
        "net.get_default_auto_select_family_attempt_timeout() (0.25)",
    "high_water_mark": "16384",
    "session_id_context": "derived from the command line (as Node)",
    "host": "'localhost'",
    "port": "0 (a free port) when listening",
    "timeout": "no timeout",
    "check_server_identity": "tls.check_server_identity",
}


def _fallback_sets() -> dict[str, frozenset[str]]:
    from ._context import CONTEXT_OPTIONS
    from ._net.server import LISTEN_OPTIONS
    from ._net.server import SERVER_OPTIONS as NET_SERVER
    from ._net.socket import CONNECT_OPTIONS as NET_CONNECT
    from ._net.socket import SOCKET_OPTIONS
    from ._tls.connect import CONNECT_OPTIONS
    from ._tls.server import SERVER_OPTIONS
    from ._tls.socket import TLSSOCKET_OPTIONS

    return {"C": CONTEXT_OPTIONS, "S": SERVER_OPTIONS, "K": TLSSOCKET_OPTIONS,
            "T": CONNECT_OPTIONS, "N": SOCKET_OPTIONS, "J": NET_CONNECT, "V": NET_SERVER,
            "L": LISTEN_OPTIONS}


def _node_name(name: str) -> str:
    from . import _options

    special: dict[str, str] = getattr(_options, "_SPECIAL", {})
    for node, snake in special.items():
        if snake == name:
            return node
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def rows(where: str) -> list[tuple[str, str, str, str]]:
    """``(name, node_name, type, default)`` for every option the entry point ``where`` takes,
    in the table's order (by name without the table)."""
    table: Any
    try:
        table = importlib.import_module("nodetls._option_table")
    except ImportError:  # the name sets of each entry point, without types
        table = None
    out: list[tuple[str, str, str, str]] = []
    if table is not None:
        for opt in table.OPTIONS.values():
            if where in opt.where:
                out.append((str(opt.name), str(opt.node), str(opt.kind.annotation),
                            _default(opt.name, opt.default)))
        return out
    for name in sorted(_fallback_sets()[where]):
        out.append((name, _node_name(name), "", _default(name, None)))
    return out


def _default(name: str, value: Any) -> str:
    if value is None:
        return _NONE_MEANS.get(name, "None")
    return repr(value)


def docstring_block(where: str) -> str:
    """The ``Options`` section a docstring ends with (plain text, one option a line)."""
    lines = [f"Options ({ENTRY_POINTS[where]}); each as a keyword or in the options dict, under",
             "its snake_case name or its Node name:", ""]
    for name, node, kind, default in rows(where):
        alias = f" ({node})" if node != name else ""
        kind_text = f": {kind}" if kind else ""
        lines.append(f"    {name}{alias}{kind_text} = {default}")
    return "\n".join(lines) + "\n"


def markdown_table(where: str) -> str:
    """The same rows as a Markdown table."""
    out = ["| option | Node name | type | default |", "|---|---|---|---|"]
    for name, node, kind, default in rows(where):
        kind_text = f"`{kind}`".replace("|", "\\|") if kind else ""
        out.append(f"| `{name}` | `{node}` | {kind_text} | {default.replace('|', chr(92) + '|')} |")
    return "\n".join(out) + "\n"


def _append(obj: Callable[..., Any] | type, where: str) -> None:
    doc = (obj.__doc__ or "").rstrip()
    if "\nOptions (" in doc:
        return
    obj.__doc__ = f"{doc}\n\n{docstring_block(where)}"


def document() -> None:
    """Append the option lists to the public entry points' docstrings (``help()`` shows them)."""
    from . import _context, _tls, net

    _append(_tls.connect, "T")
    _append(_tls.create_server, "S")
    _append(_tls.Server, "S")
    _append(_tls.TLSSocket, "K")
    _append(_context.create_secure_context, "C")
    _append(_context.SecureContext, "C")
    _append(net.connect, "J")
    _append(net.create_server, "V")
    _append(net.Socket, "N")
