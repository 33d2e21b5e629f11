"""Seeded ``(hostname, cert)`` pairs for ``check_server_identity`` against Node's
``tls.checkServerIdentity``.

``case(seed)`` is a pure function of ``seed``. It stresses what Node's rules turn on: wildcards
in every position (``*.a.b``, ``a*.b.c``, ``*a.b``, ``*.*.b``, ``*``, ``*.com``, ``xn--*``),
trailing and leading dots, upper case, empty labels, U-labels, astral characters and lone
surrogates, IP hosts in every textual form (v4 with leading zeros or missing octets, v6 expanded,
compressed, upper case, mapped and compatible, zone ids, brackets), SAN strings with several
entries, ``URI:``/``email:``/``DirName:`` entries, Node's JSON-quoted entries (``,`` ``"`` and
``\\`` inside, escaped or not, some malformed), separators without the space, CN only, CN arrays,
empty CNs and no subject. About half the hosts are derived from one of the certificate's own
names, so matches are common.
"""

from __future__ import annotations

import json
import random
from typing import Any

__all__ = ["case", "cases"]

_LABELS = ["a", "b", "www", "foo", "example", "com", "org", "localhost", "x", "test",
           "xn--bcher-kva", "xn--", "XN--ABC", "ü", "bücher", "\U0001f600", "a\ud800", "",
           "A", "FOO", "Example", "1", "123", "-", "_", "a-b", "a b", "a\tb", "a,b", 'a"b',
           "a\\b", "f*o", "*", "**", "*a", "a*", "xn--*", "É", "ı", "K"]  # last: Kelvin sign
_TLDS = ["com", "org", "test", "b", "example", "COM", "xn--p1ai", ""]


def _v6_words(r: random.Random) -> list[int]:
    kind = r.randrange(6)
    if kind == 0:
        return [0] * 7 + [r.choice([0, 1, 2])]
    if kind == 1:
        return [0] * 5 + [0xFFFF, r.randrange(65536), r.randrange(65536)]
    if kind == 2:
        return [0] * 6 + [r.randrange(65536), r.randrange(65536)]
    if kind == 3:
        return [0xFE80, 0, 0, 0] + [r.choice([0, 1, r.randrange(65536)]) for _ in range(4)]
    return [r.choice([0, 0, 1, r.randrange(65536)]) for _ in range(8)]


def _v6_text(r: random.Random, words: list[int]) -> str:
    style = r.randrange(7)
    if style == 0:  # OpenSSL's form, as in a certificate dict: upper, unpadded, expanded
        return ":".join(f"{w:X}" for w in words)
    if style == 1:  # zero-padded
        return ":".join(f"{w:04x}" for w in words)
    if style in (2, 3):  # compress one run of zeros (any run, not only the longest)
        runs = [(i, j) for i in range(8) for j in range(i + 1, 9) if not any(words[i:j])]
        if runs:
            i, j = r.choice(runs)
            left = ":".join(f"{w:x}" for w in words[:i])
            right = ":".join(f"{w:x}" for w in words[j:])
            text = f"{left}::{right}"
            return text.upper() if style == 3 else text
    if style == 4:  # embedded IPv4 tail
        v4 = ".".join(str(b) for b in (words[6] >> 8, words[6] & 255, words[7] >> 8, words[7] & 255))
        head = ":".join(f"{w:x}" for w in words[:6])
        if not any(words[:5]) and words[5] in (0, 0xFFFF):
            head = "::ffff" if words[5] else ":"
            return f"{head}:{v4}" if words[5] else f"::{v4}"
        return f"{head}:{v4}"
    return ":".join(f"{w:x}" for w in words)


def _ip(r: random.Random) -> str:
    kind = r.randrange(10)
    if kind < 4:
        octets = [r.choice([0, 1, 2, 10, 127, 255, r.randrange(256)]) for _ in range(4)]
        text = ".".join(str(o) for o in octets)
        if r.random() < 0.2:
            text = ".".join(r.choice([str(o), f"0{o}", f"{o:03d}"]) for o in octets)
        if r.random() < 0.05:
            text = r.choice([text.rsplit(".", 1)[0], text + ".1", "256.1.1.1", "1.2.3.4 "])
        return text
    text = _v6_text(r, _v6_words(r))
    if r.random() < 0.15:
        text += "%" + r.choice(["eth0", "1", "lo", "a.b", "x" * 50, "", "é"])
    if r.random() < 0.05:
        text = f"[{text}]"
    if r.random() < 0.05:
        text = r.choice([text + ":1", ":::" + text, text.replace(":", "::", 1), "1:2:3:4:5:6:7::",
                         "::1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "0000:0:0:0:0:0:0:00001"])
    return text


def _label(r: random.Random) -> str:
    if r.random() < 0.6:
        return r.choice(["a", "b", "www", "foo", "example", "x", "test", "localhost"])
    return r.choice(_LABELS)


def _dns(r: random.Random) -> str:
    n = r.choice([1, 2, 2, 3, 3, 3, 4])
    labels = [_label(r) for _ in range(n - 1)] + [r.choice(_TLDS) if n > 1 else _label(r)]
    if r.random() < 0.35:  # a wildcard somewhere
        pos = r.choice([0, 0, 0, r.randrange(n)])
        labels[pos] = r.choice(["*", "*", "a*", "*a", "f*o", "**", "xn--*", "*-x", "*.*"])
    name = ".".join(labels)
    if r.random() < 0.1:
        name += r.choice([".", ".", ".."])
    if r.random() < 0.03:
        name = "." + name
    if r.random() < 0.1:
        name = name.upper()
    return name


def _quoted(r: random.Random, value: str) -> str:
    """Node's quoting of a SAN value holding ``,`` ``"`` or ``\\``: a JSON string with the
    comma escaped (``\\u002c``); sometimes left bare or broken on purpose."""
    k = r.randrange(10)
    if k < 6:
        return json.dumps(value).replace(",", "\\u002c")
    if k < 8:
        return json.dumps(value)
    return r.choice(['"' + value, '"a\\x"', '"\\u12"', '"\x01"', value])


def _san_entry(r: random.Random) -> str:
    kind = r.randrange(12)
    if kind < 5:
        value = _dns(r)
        if r.random() < 0.1:
            value = r.choice([value + ",DNS:evil.example", value + '"', value + "\\"])
        if any(c in value for c in ',"\\') or r.random() < 0.05:
            if r.random() < 0.5:  # Node's own form: the whole entry quoted, prefix inside
                return _quoted(r, "DNS:" + value)
            return "DNS:" + _quoted(r, value)
        return "DNS:" + value
    if kind < 8:
        if r.random() < 0.1:
            return "IP Address:" + r.choice(["<invalid length=5>", "<invalid>", ""])
        return "IP Address:" + _ip(r)
    if kind == 8:
        uri = "http://" + _dns(r) + r.choice(["/", "/a,DNS:evil.example", ""])
        return "URI:" + (_quoted(r, uri) if "," in uri else uri)
    if kind == 9:
        return "email:" + r.choice(["a@b.example", "localhost", "x@" + _dns(r)])
    if kind == 10:
        return r.choice(["DirName:CN=localhost", "othername: 1.2.3.4::x", "Registered ID:1.2.3",
                         "dns:lower.example", "DNS: spaced.example", "IP:127.0.0.1"])
    return "DNS:" + _dns(r) + ", DNS:" + _dns(r)


def _subject(r: random.Random) -> Any:
    k = r.randrange(12)
    if k == 0:
        return None  # no subject key at all
    if k == 1:
        return {}
    if k == 2:
        return {"O": "nodetls"}
    if k == 3:
        return {"CN": ""}
    if k == 4:
        return {"CN": []}
    if k == 5:
        return {"CN": [_dns(r) for _ in range(r.randrange(1, 4))]}
    if k == 6:
        return {"CN": _ip(r)}
    return {"CN": _dns(r)}


def _host_from(r: random.Random, pattern: str) -> str:
    """A host built from a name of the certificate: wildcards filled in, case, dots."""
    host = pattern
    if host.startswith(("DNS:", "IP Address:")):
        host = host.split(":", 1)[1]
    host = host.strip('"')
    while "*" in host:
        host = host.replace("*", r.choice(["", "a", "foo", "xyz", "A", "ü", "\U0001f600", "\udc00",
                                             "a.b"]), 1)
    k = r.randrange(8)
    if k == 0:
        host = host.upper()
    elif k == 1:
        host += "."
    elif k == 2:
        host = "x." + host
    elif k == 3 and "." in host:
        host = host.split(".", 1)[1]
    return host


def case(seed: int) -> tuple[str, dict[str, Any]]:
    """The ``(hostname, cert)`` of ``seed``."""
    r = random.Random(seed)
    cert: dict[str, Any] = {}
    subject = _subject(r)
    if subject is not None:
        cert["subject"] = subject
    n = r.choice([0, 0, 1, 1, 1, 2, 2, 3, 5])
    entries = [_san_entry(r) for _ in range(n)]
    if n or r.random() < 0.1:
        sep = ", " if r.random() < 0.9 else r.choice([",", ",  ", " ,"])
        cert["subjectaltname"] = sep.join(entries)
    names = entries + ([subject["CN"]] if isinstance(subject, dict)
                       and isinstance(subject.get("CN"), str) else [])
    k = r.randrange(10)
    if names and k < 5:
        host = _host_from(r, r.choice(names))
    elif k < 7:
        host = _ip(r)
    else:
        host = _dns(r)
    return host, cert


def cases(first: int, count: int) -> list[tuple[int, str, dict[str, Any]]]:
    """``(seed, hostname, cert)`` for ``count`` seeds from ``first``."""
    return [(s, *case(s)) for s in range(first, first + count)]
