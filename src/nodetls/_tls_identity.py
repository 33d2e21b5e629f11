"""``check_server_identity``: Node v20's ``tls.checkServerIdentity``, rule for rule.

Ported from Node's ``lib/tls.js`` (``checkServerIdentity``, ``check``, ``splitHost``,
``unfqdn``, ``splitEscapedAltNames``) with ``net.isIP`` (``lib/internal/net.js``) and
``canonicalizeIP`` (``cares_wrap``: libuv ``inet_pton`` then ``inet_ntop``):

* The certificate is Node's certificate object (``get_peer_certificate()``): only ``subject``
  and ``subjectaltname`` are read.
* An IP literal host is compared only with ``IP Address:`` SANs, both canonicalised
  (``0:0:0:0:0:0:0:1`` == ``::1``); never with DNS names or the CN.
* Otherwise DNS SANs are used, and the subject CN only when there is no DNS SAN at all (URI SANs
  are ignored: CVE-2021-44531).
* Matching is case-insensitive for ASCII, a trailing dot is ignored, and a wildcard is accepted
  only as the one ``*`` of the left-most label (``f*o``, ``*``, ``a*``), never for ``*.tld``,
  never inside an ``xn--`` label; patterns with empty labels or bytes outside ``!``..``DEL``
  never match.

A mismatch is *returned* (not raised), as in Node: a :class:`~nodetls.errors.CertificateError`
with ``code == 'ERR_TLS_CERT_ALTNAME_INVALID'``, Node's message, and ``reason``, ``host`` and
``cert`` attributes. A ``subjectaltname`` string with a malformed quoted entry *raises*
``ERR_TLS_CERT_ALTNAME_FORMAT`` (a ``SyntaxError``), as Node throws.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from typing import Any

from .errors import MESSAGES, CertificateError, NodeError

__all__ = [
    "AltNameFormatError",
    "canonicalize_ip",
    "check_server_identity",
    "is_ip",
]


class AltNameFormatError(NodeError, SyntaxError):
    """Node's ``ERR_TLS_CERT_ALTNAME_FORMAT`` (a ``SyntaxError`` in Node too)."""

    code = "ERR_TLS_CERT_ALTNAME_FORMAT"


# -- net.isIP (lib/internal/net.js, Node v20) ---------------------------------------------------

_V4_SEG = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])"
_V4_STR = rf"(?:{_V4_SEG}\.){{3}}{_V4_SEG}"
_V6_SEG = r"(?:[0-9a-fA-F]{1,4})"
_IPV4_RE = re.compile(_V4_STR)
_IPV6_RE = re.compile(
    "(?:"
    rf"(?:{_V6_SEG}:){{7}}(?:{_V6_SEG}|:)|"
    rf"(?:{_V6_SEG}:){{6}}(?:{_V4_STR}|:{_V6_SEG}|:)|"
    rf"(?:{_V6_SEG}:){{5}}(?::{_V4_STR}|(?::{_V6_SEG}){{1,2}}|:)|"
    rf"(?:{_V6_SEG}:){{4}}(?:(?::{_V6_SEG}){{0,1}}:{_V4_STR}|(?::{_V6_SEG}){{1,3}}|:)|"
    rf"(?:{_V6_SEG}:){{3}}(?:(?::{_V6_SEG}){{0,2}}:{_V4_STR}|(?::{_V6_SEG}){{1,4}}|:)|"
    rf"(?:{_V6_SEG}:){{2}}(?:(?::{_V6_SEG}){{0,3}}:{_V4_STR}|(?::{_V6_SEG}){{1,5}}|:)|"
    rf"(?:{_V6_SEG}:){{1}}(?:(?::{_V6_SEG}){{0,4}}:{_V4_STR}|(?::{_V6_SEG}){{1,6}}|:)|"
    rf"(?::(?:(?::{_V6_SEG}){{0,5}}:{_V4_STR}|(?::{_V6_SEG}){{1,7}}|:))"
    r")(?:%[0-9a-zA-Z\-.:]{1,})?"
)


def is_ip(s: str) -> int:
    """Node's ``net.isIP``: ``4``, ``6`` or ``0`` (same regular expressions, whole string)."""
    if _IPV4_RE.fullmatch(s):
        return 4
    if _IPV6_RE.fullmatch(s):
        return 6
    return 0


# -- canonicalizeIP (cares_wrap.cc: uv_inet_pton + uv_inet_ntop) -------------------------------

_INET6_ADDRSTRLEN = 46


def _inet_pton4(s: str) -> bytes | None:
    # libuv inet_pton4: exactly four decimal octets, no leading zeros, nothing else.
    parts = s.split(".")
    if len(parts) != 4:
        return None
    out = bytearray()
    for p in parts:
        if not p or not p.isascii() or not p.isdigit() or (len(p) > 1 and p[0] == "0"):
            return None
        v = int(p)
        if v > 255:
            return None
        out.append(v)
    return bytes(out)


def _inet_pton6(s: str) -> bytes | None:
    if "%" in s:  # libuv drops a zone id ("fe80::1%eth0")
        s = s[: s.index("%")]
        if len(s) > _INET6_ADDRSTRLEN - 1:
            return None
    if not s.isascii() or not re.fullmatch(r"[0-9A-Fa-f:.]+", s):
        return None
    tail = s.rsplit(":", 1)[-1]
    if "." in tail and _inet_pton4(tail) is None:
        return None
    try:
        return ipaddress.IPv6Address(s).packed
    except ValueError:
        return None


def _inet_ntop6(packed: bytes) -> str:
    """libuv ``inet_ntop6`` (BIND's): the longest run (>= 2) of zero words becomes ``::``,
    lower-case hex, ``::a.b.c.d`` / ``::ffff:a.b.c.d`` for IPv4-compatible / -mapped."""
    words = [(packed[i] << 8) | packed[i + 1] for i in range(0, 16, 2)]
    best_base, best_len, cur_base, cur_len = -1, 0, -1, 0
    for i, w in enumerate(words):
        if w == 0:
            if cur_base == -1:
                cur_base, cur_len = i, 1
            else:
                cur_len += 1
        elif cur_base != -1:
            if best_base == -1 or cur_len > best_len:
                best_base, best_len = cur_base, cur_len
            cur_base = -1
    if cur_base != -1 and (best_base == -1 or cur_len > best_len):
        best_base, best_len = cur_base, cur_len
    if best_base != -1 and best_len < 2:
        best_base = -1
    out: list[str] = []
    for i, w in enumerate(words):
        if best_base != -1 and best_base <= i < best_base + best_len:
            if i == best_base:
                out.append(":")
            continue
        if i != 0:
            out.append(":")
        if i == 6 and best_base == 0 and (
                best_len == 6 or (best_len == 7 and words[7] != 1)
                or (best_len == 5 and words[5] == 0xFFFF)):
            out.append(".".join(str(b) for b in packed[12:]))
            break
        out.append(f"{w:x}")
    if best_base != -1 and best_base + best_len == 8:
        out.append(":")
    return "".join(out)


def canonicalize_ip(ip: str) -> str | None:
    """Node's internal ``canonicalizeIP``: ``'0:0:0:0:0:0:0:1'`` -> ``'::1'``; ``None`` (Node's
    ``undefined``) for anything that is not an address."""
    v4 = _inet_pton4(ip)
    if v4 is not None:
        return ".".join(str(b) for b in v4)
    v6 = _inet_pton6(ip)
    if v6 is not None:
        return _inet_ntop6(v6)
    return None


# -- host name matching (lib/tls.js) -----------------------------------------------------------


def _unfqdn(host: str) -> str:
    return host[:-1] if host.endswith(".") else host


def _split_host(host: str) -> list[str]:
    # String#toLowerCase() is locale-sensitive, so Node lower-cases only A-Z.
    return re.sub(r"[A-Z]", lambda m: m.group(0).lower(), _unfqdn(host)).split(".")


_BAD_LABEL = re.compile(r"[^\u0021-\u007f]")


def _js_len(s: str) -> int:
    """String length in UTF-16 code units, as JavaScript counts it (a lone surrogate, which a
    JavaScript string may hold too, is one unit)."""
    return len(s.encode("utf-16-le", "surrogatepass")) // 2


def _check(host_parts: list[str], pattern: Any, wildcards: bool) -> bool:
    # Empty strings, null, undefined, etc. never match.
    if not _js_truthy(pattern):
        return False
    pattern_parts = _split_host(str(pattern))
    if len(host_parts) != len(pattern_parts):
        return False
    # Pattern has empty components, e.g. "bad..example.com".
    if "" in pattern_parts:
        return False
    # U-labels, control characters and blanks are rejected outright.
    if any(_BAD_LABEL.search(part) for part in pattern_parts):
        return False
    # Host parts from right to left first.
    for i in range(len(host_parts) - 1, 0, -1):
        if host_parts[i] != pattern_parts[i]:
            return False
    host_sub, pattern_sub = host_parts[0], pattern_parts[0]
    pieces = pattern_sub.split("*")
    # No wildcard, or an A-label (Punycode): match verbatim.
    if len(pieces) == 1 or "xn--" in pattern_sub:
        return host_sub == pattern_sub
    if not wildcards:
        return False
    # More than one wildcard is always wrong.
    if len(pieces) > 2:
        return False
    # *.tld wildcards are not allowed.
    if len(pattern_parts) <= 2:
        return False
    prefix, suffix = pieces
    if _js_len(prefix) + _js_len(suffix) > _js_len(host_sub):
        return False
    return host_sub.startswith(prefix) and host_sub.endswith(suffix)


# Any valid JSON string literal (Node's jsonStringPattern).
_JSON_STRING = re.compile(r'"(?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"')


def _split_escaped_alt_names(alt_names: str) -> list[str]:
    """Split a ``subjectaltname`` string that contains JSON-quoted entries (Node's
    ``splitEscapedAltNames``, including its ``indexOf(',')`` + 2 stepping)."""
    result: list[str] = []
    current = ""
    offset = 0
    while offset != len(alt_names):
        next_sep = alt_names.find(",", offset)
        next_quote = alt_names.find('"', offset)
        if next_quote != -1 and (next_sep == -1 or next_quote < next_sep):
            # A quote, and no separator before it.
            current += alt_names[offset:next_quote]
            m = _JSON_STRING.match(alt_names, next_quote)
            if m is None:
                raise AltNameFormatError("Invalid subject alternative name string")
            current += json.loads(m.group(0))
            offset = m.end()
        elif next_sep != -1:
            current += alt_names[offset:next_sep]
            result.append(current)
            current = ""
            offset = min(next_sep + 2, len(alt_names))
        else:
            current += alt_names[offset:]
            offset = len(alt_names)
    result.append(current)
    return result


# -- JavaScript value semantics ----------------------------------------------------------------


def _js_truthy(v: Any) -> bool:
    # [] and {} are truthy in JavaScript; '', 0, null/undefined, false and NaN are not.
    if v is None or v is False:
        return False
    if isinstance(v, str):
        return v != ""
    if isinstance(v, int | float):
        return v == v and v != 0
    return True


def _js_str(v: Any) -> str:
    """``String(v)`` / template-literal conversion for the values a cert dict holds."""
    if v is None:
        return "undefined"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, list | tuple):
        return ",".join("" if x is None else _js_str(x) for x in v)
    return str(v)


def check_server_identity(hostname: str, cert: Mapping[str, Any]) -> Exception | None:
    """Verify that ``cert`` (Node's certificate object) is issued to ``hostname``.

    Node's ``tls.checkServerIdentity(hostname, cert)``.

    Args:
        hostname: the host or IP literal the client wanted (Node: ``servername || host``).
        cert: the dict of ``get_peer_certificate()`` (``subject`` and ``subjectaltname`` used).

    Returns:
        ``None`` when it matches, else (not raised) a ``CertificateError`` with
        ``code='ERR_TLS_CERT_ALTNAME_INVALID'``, ``reason``, ``host`` (the host without a
        trailing dot) and ``cert``, and Node's message, e.g. ``"Hostname/IP does not match
        certificate's altnames: Host: bad.example. is not in the cert's altnames:
        DNS:localhost"`` or ``"...: IP: 127.0.0.2 is not in the cert's list: 127.0.0.1"``.

    Raises:
        AltNameFormatError: ``subjectaltname`` holds a malformed quoted entry
            (``ERR_TLS_CERT_ALTNAME_FORMAT``).
    """
    subject = cert.get("subject") if isinstance(cert, Mapping) else None
    alt_names = cert.get("subjectaltname") if isinstance(cert, Mapping) else None
    dns_names: list[str] = []
    ips: list[str | None] = []

    hostname = _js_str(hostname)

    if _js_truthy(alt_names):
        alt = str(alt_names)
        names = _split_escaped_alt_names(alt) if '"' in alt else alt.split(", ")
        for name in names:
            if name.startswith("DNS:"):
                dns_names.append(name[4:])
            elif name.startswith("IP Address:"):
                ips.append(canonicalize_ip(name[11:]))

    valid = False
    reason = "Unknown reason"

    hostname = _unfqdn(hostname)  # Remove trailing dot for error messages.

    cn = subject.get("CN") if isinstance(subject, Mapping) else None
    if is_ip(hostname):
        valid = canonicalize_ip(hostname) in ips
        if not valid:
            reason = f"IP: {hostname} is not in the cert's list: " + ", ".join(
                "" if ip is None else ip for ip in ips)
    elif dns_names or _js_truthy(cn):
        host_parts = _split_host(hostname)
        if dns_names:
            valid = any(_check(host_parts, pattern, True) for pattern in dns_names)
            if not valid:
                reason = f"Host: {hostname}. is not in the cert's altnames: {_js_str(alt_names)}"
        else:
            # Match against the Common Name only if no supported identifiers exist.
            if isinstance(cn, list | tuple):
                valid = any(_check(host_parts, c, True) for c in cn)
            elif _js_truthy(cn):
                valid = _check(host_parts, cn, True)
            if not valid:
                reason = f"Host: {hostname}. is not cert's CN: {_js_str(cn)}"
    else:
        reason = "Cert does not contain a DNS name"

    if valid:
        return None
    code = "ERR_TLS_CERT_ALTNAME_INVALID"
    return CertificateError(MESSAGES[code].format(reason), code, reason=reason, host=hostname,
                            cert=cert)
