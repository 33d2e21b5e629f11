"""Comparing one call's results (Node's, nodetls's), and the differences accepted on purpose.

:func:`verdict` says ``None`` (alike), ``"accepted: WHY"`` or ``"differs: HOW"``. Alike means:
both return, or both throw with Node's class (``TypeError`` -> a Python ``TypeError``,
``RangeError`` -> a ``ValueError``; a plain ``Error`` -> any class), the same ``code``, and a
message naming the same argument (:func:`arg_name`; snake_case and camelCase spellings count
as one).
"""

from __future__ import annotations

import re
from typing import Any

from nodetls._options import to_snake

_NAMED = (
    re.compile(r'^The "([^"]+)" (?:property|argument)'),
    re.compile(r'^The value of "([^"]+)" is out of range'),
    re.compile(r"^The (?:property|argument) '([^']+)'"),
    re.compile(r"^(\S+) should be >= 0 and < 65536"),
)
_VERSION = re.compile(r"is not a valid (minimum|maximum) TLS protocol version")


def arg_name(msg: str) -> str | None:
    """The argument a message names, snake_case, without ``options.`` (``options.minVersion``
    -> ``min_version``; Node's ``Port`` -> ``port``), or None."""
    for rx in _NAMED:
        m = rx.search(msg)
        if m:
            parts = [to_snake(p.removesuffix("[]")) for p in m.group(1).split(".")]
            if parts[0] == "options" and len(parts) > 1:
                parts = parts[1:]
            return ".".join(parts).lower()
    m = _VERSION.search(msg)
    if m:
        return "min_version" if m.group(1) == "minimum" else "max_version"
    return None


#: Node's internal argument names where nodetls names the option or parameter the caller gave.
ALIASES: dict[str, set[str]] = {
    # socket.setTimeout(options.timeout / handshakeTimeout): Node names its own parameter
    "msecs": {"timeout", "handshake_timeout"},
    "hostname": {"host"},  # listen({host}) -> dns.lookup(hostname)
    "buffer": {"ticket_keys", "keys"},  # setTicketKeys(keys) -> Buffer checks
    "chunk": {"data"},  # write(data)
    "readable_high_water_mark": {"high_water_mark"},  # Socket passes highWaterMark on as that
    "name": {"servername"},  # tls.connect({servername}) -> setServername(name)
    "string": {"alpn_protocols", "npn_protocols"},  # Buffer.byteLength(string) on each name
}

#: Options whose values nodetls takes wider than Node (API.md: bytes for Buffers everywhere):
#: Node takes only a string for these.
_WIDER_BYTES = {"passphrase", "session_id_context"}


def _names_match(node: str | None, ours: str | None) -> bool:
    if node is None:  # Node's message names nothing ("Session must be a buffer")
        return True
    return node == ours or ours in ALIASES.get(node, ())


def _class_matches(node_cls: str, ours: str, code: str | None = None) -> bool:
    if code == "ERR_INVALID_ARG_VALUE":  # always a ValueError here (docs/errors.md)
        return ours in ("RangeError", "TypeError|RangeError")
    if node_cls == "TypeError":
        return ours in ("TypeError", "TypeError|RangeError")
    if node_cls == "RangeError":
        return ours in ("RangeError", "TypeError|RangeError")
    return True


def _bad_names(call: dict[str, Any]) -> set[str]:
    """The options (snake_case) or argument positions drawn from the wrong-value menu."""
    names = {to_snake(o[1]) for o in call["opts"] if o[3] or (
        to_snake(o[1]) in _WIDER_BYTES and isinstance(o[2], dict) and o[2].get("$") == "bytes")}
    names |= {f"#{i}" for i, a in enumerate(call["args"]) if a[1]}
    return names


def known_bug(call: dict[str, Any], node: dict[str, Any], ours: dict[str, Any]) -> str | None:
    """Divergences found here in code other helpers own, reported (the owner's file, in the
    reason); each is to be fixed there, and then removed from this list."""
    return None


# Accepted differences: (target or None for all, predicate on (call, node, ours), why).
# Each is a deliberate choice, documented in docs/errors.md ("Bad arguments").
def accepted(call: dict[str, Any], node: dict[str, Any], ours: dict[str, Any]) -> str | None:
    """Why this difference is accepted, or None."""
    node = {"cls": None, "code": None, "msg": "", **node}
    ours = {"cls": None, "code": None, "msg": "", **ours}
    bad = _bad_names(call)
    if node["threw"] and ours["threw"] and ours["cls"] == "TypeError" and ours["code"] is None \
            and "required positional argument" in ours["msg"]:
        return "signature: a missing required argument is Python's own TypeError"
    if not node["threw"] and ours["threw"] and ours["code"] is None \
            and "required positional argument" in ours["msg"]:
        return "signature: a missing required argument is Python's own TypeError"
    given = {to_snake(o[1]): o[2] for o in call["opts"]}
    if node["threw"] and not ours["threw"] and node["code"] == "ERR_INVALID_ARG_TYPE" \
            and arg_name(node["msg"]) in _WIDER_BYTES and "Buffer" in node["msg"]:
        return "wider: bytes accepted where Node takes only a string"
    if node["threw"] and "ticketKeys' must be exactly 48 bytes" in node["msg"]:
        return "beyond Node: ticket_keys takes n*48 bytes (API.md)"
    if not node["threw"] and ours["code"] in ("ERR_OSSL_PEM_NO_START_LINE", "ERR_OSSL_UNSUPPORTED") \
            and (ours["msg"].startswith(("options.ca:", "options.dhparam:"))):
        return "deliberate: a ca/dhparam holding no PEM is refused (Node ignores it)"
    if given.get("pfx") == "" and node["threw"] and not ours["threw"]:
        return "deliberate: pfx='' is not given, everywhere (as Node's tls.Server reads it)"
    if node["threw"] and ours["threw"] and str(node["code"]).startswith("ERR_SSL_") \
            and str(ours["code"]).startswith("ERR_SSL_") and node["cls"] == "Error":
        return "openssl: the reason OpenSSL 3.5 gives (Node v20 links OpenSSL 3.0)"
    known = known_bug(call, node, ours)
    if known is not None:
        return "known: " + known
    if given.get("crl") == "" and not node["threw"] and ours["msg"].startswith("options.crl:"):
        return "deliberate: crl='' is loaded (and refused) everywhere, as createSecureContext does"
    if not node["threw"] and ours["code"] in ("ERR_SSL_NO_PRIVATE_KEY_ASSIGNED",
                                              "ERR_SSL_NO_CERTIFICATE_ASSIGNED"):
        return "deliberate: a certificate without its key (or a key without its certificate)" \
            " is refused (Node serves nothing)"
    if node["code"] == "ERR_TLS_ALPN_CALLBACK_WITH_PROTOCOLS" and ours["threw"]:
        return "order: Node refuses ALPNCallback with ALPNProtocols before checking either"
    if "auto_select_family_attempt_timeout" in given:
        return "units: autoSelectFamilyAttemptTimeout is seconds here, milliseconds in Node"
    if node["threw"] and node["msg"] == "argument must be a string" and any(
            isinstance(v, list) and any(isinstance(x, dict) and x.get("$") == "bytes" for x in v)
            for v in given.values()):
        return "node-bug: Node v20 refuses the Buffer[] ALPNProtocols its docs allow"
    if ours["threw"] and "unknown option" in ours["msg"]:
        return "API: an unknown option name is a TypeError (Node ignores it)"
    if node["code"] == "NODE_ABORT":
        return "node-bug: Node v20 aborts the process (client ALPN names that make no list)"
    if node["code"] == "ERR_INTERNAL_ASSERTION":
        return "node-bug: Node fails an internal assertion (ERR_INTERNAL_ASSERTION)"
    if node["threw"] and node["code"] is None and ours["threw"] and ours["code"]:
        return "node-no-code: Node's error (from OpenSSL) has no code, nodetls's has one"
    if node["threw"] and node["cls"] == "Error" and ours["cls"] in ("TypeError", "RangeError") \
            and ours["code"] in ("ERR_INVALID_ARG_TYPE", "ERR_INVALID_ARG_VALUE") \
            and (arg_name(ours["msg"]) or "").split(".")[0] in bad:
        return "stricter: a wrong type is refused before OpenSSL sees it"
    if node["threw"] and ours["threw"] and "must have the property \"port\" or \"path\"" \
            in node["msg"]:
        return "order: listen() options without port or path and another wrong value"
    if ours["threw"] and not node["threw"] and bad \
            and not (call.get("method") in ("write", "end") and ours["code"] == "ERR_UNKNOWN_ENCODING"):
        # (write/end check their encoding at the call, as Node: no refusal there is stricter)
        name = arg_name(ours["msg"])
        if ours["code"] in ("ERR_INVALID_ARG_TYPE", "ERR_INVALID_ARG_VALUE", "ERR_OUT_OF_RANGE",
                            "ERR_SOCKET_BAD_PORT", "ERR_TLS_INVALID_PROTOCOL_VERSION",
                            "ERR_INVALID_IP_ADDRESS", "ERR_UNKNOWN_ENCODING",
                            "ERR_TLS_INVALID_CONTEXT") \
                and (name is None or name.split(".")[0] in bad or call["args"]):
            return "stricter: nodetls refuses at creation a wrong value Node ignores or fails on later"
    if ours["threw"] and node["threw"] and len(bad) > 1:
        return "order: several wrong values, each side reports the first it checks"
    return None


def verdict(call: dict[str, Any], node: dict[str, Any], ours: dict[str, Any]) -> str | None:
    """None when alike, else ``accepted: ...`` or ``differs: ...`` (module docstring)."""
    if not node["threw"] and not ours["threw"]:
        return None
    if node["threw"] and ours["threw"] and node["code"] == ours["code"] \
            and _class_matches(node["cls"], ours["cls"], ours["code"]) \
            and _names_match(arg_name(node["msg"]), arg_name(ours["msg"])):
        return None
    why = accepted(call, node, ours)
    if why is not None:
        return "accepted: " + why
    return "differs: " + describe(node, ours)


def describe(node: dict[str, Any], ours: dict[str, Any]) -> str:
    def one(r: dict[str, Any]) -> str:
        if not r["threw"]:
            return "returns"
        return f"{r['cls']} {r['code']} [{arg_name(r['msg'])}] {r['msg'][:110]!r}"
    return f"node {one(node)} / ours {one(ours)}"
