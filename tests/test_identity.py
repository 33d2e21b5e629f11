"""``check_server_identity`` == Node's ``tls.checkServerIdentity``.

Every row of the table is asserted on its own (expected outcome written out), and the whole
table is run through ``tls.checkServerIdentity`` in one ``node`` process and compared field by
field: ``code``, ``message``, ``reason``, ``host`` -- or the code of what it throws.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from helpers.certs import CertSet
from helpers.peers import require_peer, run_node
from nodetls._tls_identity import (
    AltNameFormatError,
    canonicalize_ip,
    check_server_identity,
    is_ip,
)
from nodetls._x509 import certificate_to_dict
from nodetls.errors import CertificateError

LOCAL = {"subject": {"CN": "localhost"}, "subjectaltname": "DNS:localhost, IP Address:127.0.0.1"}
V6 = {"subject": {}, "subjectaltname":
      "IP Address:0:0:0:0:0:0:0:1, IP Address:FE80:0:0:0:0:0:0:1, "
      "IP Address:0:0:0:0:0:FFFF:102:304, IP Address:2001:DB8:0:0:1:0:0:0"}


def san(*names: str, cn: Any = None) -> dict[str, Any]:
    cert: dict[str, Any] = {"subject": {} if cn is None else {"CN": cn}}
    if names:
        cert["subjectaltname"] = ", ".join(names)
    return cert


def cn_only(cn: Any) -> dict[str, Any]:
    return {"subject": {"CN": cn}}


ALT = "Hostname/IP does not match certificate's altnames: "

# (hostname, cert, expected reason or None for a match)
CASES: list[tuple[str, dict[str, Any], str | None]] = [
    # exact names, case, trailing dots
    ("localhost", LOCAL, None),
    ("LOCALHOST", LOCAL, None),
    ("localhost.", LOCAL, None),
    ("localhost..", LOCAL, None),  # one dot dropped for the message, one by splitHost
    ("bad.example", LOCAL, "Host: bad.example. is not in the cert's altnames: "
                           "DNS:localhost, IP Address:127.0.0.1"),
    ("bad.example.", LOCAL, "Host: bad.example. is not in the cert's altnames: "
                            "DNS:localhost, IP Address:127.0.0.1"),
    ("bad.example..", LOCAL, "Host: bad.example.. is not in the cert's altnames: "
                             "DNS:localhost, IP Address:127.0.0.1"),
    ("", LOCAL, "Host: . is not in the cert's altnames: DNS:localhost, IP Address:127.0.0.1"),
    # IP literals: only IP Address SANs, canonicalised
    ("127.0.0.1", LOCAL, None),
    ("127.0.0.2", LOCAL, "IP: 127.0.0.2 is not in the cert's list: 127.0.0.1"),
    ("::1", V6, None),
    ("0:0::1", V6, None),
    ("0000:0000:0000:0000:0000:0000:0000:0001", V6, None),
    ("FE80::1", V6, None),
    ("fe80::1%eth0", V6, None),
    ("::ffff:1.2.3.4", V6, None),
    ("::ffff:102:304", V6, None),
    ("2001:db8:0:0:1::", V6, None),
    ("::2", V6, "IP: ::2 is not in the cert's list: ::1, fe80::1, ::ffff:1.2.3.4, 2001:db8:0:0:1::"),
    ("127.0.0.1", san("DNS:127.0.0.1"), "IP: 127.0.0.1 is not in the cert's list: "),
    ("127.0.0.1", cn_only("127.0.0.1"), "IP: 127.0.0.1 is not in the cert's list: "),
    ("127.0.0.1", san("IP Address:<invalid length=5>"),
     "IP: 127.0.0.1 is not in the cert's list: "),
    ("127.000.0.1", LOCAL, "Host: 127.000.0.1. is not in the cert's altnames: "
                           "DNS:localhost, IP Address:127.0.0.1"),  # not an IP for Node
    # wildcards
    ("a.example.com", san("DNS:*.example.com"), None),
    ("A.EXAMPLE.COM", san("DNS:*.Example.COM"), None),
    ("example.com", san("DNS:*.example.com"),
     "Host: example.com. is not in the cert's altnames: DNS:*.example.com"),
    ("a.b.example.com", san("DNS:*.example.com"),
     "Host: a.b.example.com. is not in the cert's altnames: DNS:*.example.com"),
    (".example.com", san("DNS:*.example.com"), None),  # Node accepts an empty left label
    ("example.com", san("DNS:*.com"), "Host: example.com. is not in the cert's altnames: DNS:*.com"),
    ("localhost", san("DNS:*"), "Host: localhost. is not in the cert's altnames: DNS:*"),
    ("abc.example.com", san("DNS:a*.example.com"), None),
    ("a.example.com", san("DNS:a*.example.com"), None),
    ("bc.example.com", san("DNS:a*.example.com"),
     "Host: bc.example.com. is not in the cert's altnames: DNS:a*.example.com"),
    ("foo.example.com", san("DNS:f*o.example.com"), None),
    ("fo.example.com", san("DNS:f*o.example.com"), None),
    ("f.example.com", san("DNS:f*o.example.com"),
     "Host: f.example.com. is not in the cert's altnames: DNS:f*o.example.com"),
    ("ab.example.com", san("DNS:**.example.com"),
     "Host: ab.example.com. is not in the cert's altnames: DNS:**.example.com"),
    ("a.b.example.com", san("DNS:a.*.example.com"),
     "Host: a.b.example.com. is not in the cert's altnames: DNS:a.*.example.com"),
    ("xn--abc.example.com", san("DNS:xn--*.example.com"),
     "Host: xn--abc.example.com. is not in the cert's altnames: DNS:xn--*.example.com"),
    ("xn--*.example.com", san("DNS:xn--*.example.com"), None),  # verbatim A-label match
    ("a.xn--abc.com", san("DNS:*.xn--abc.com"), None),
    ("a..example.com", san("DNS:a..example.com"),
     "Host: a..example.com. is not in the cert's altnames: DNS:a..example.com"),
    ("ü.example", san("DNS:ü.example"),
     "Host: ü.example. is not in the cert's altnames: DNS:ü.example"),
    ("second.example", san("DNS:first.example", "DNS:second.example"), None),
    # a lone surrogate (a JavaScript string may hold one; so may a Python str): one UTF-16 unit
    ("\udc00a.example.com", san("DNS:*a.example.com"), None),
    ("\udc00.example.com", san("DNS:*a.example.com"),
     "Host: \udc00.example.com. is not in the cert's altnames: DNS:*a.example.com"),
    # CN only when there is no DNS SAN
    ("localhost", cn_only("localhost"), None),
    ("other", cn_only("localhost"), "Host: other. is not cert's CN: localhost"),
    ("b.example", cn_only(["a.example", "b.example"]), None),
    ("c.example", cn_only(["a.example", "b.example"]),
     "Host: c.example. is not cert's CN: a.example,b.example"),
    ("x.example.com", cn_only("*.example.com"), None),
    ("localhost", san("DNS:other.example", cn="localhost"),
     "Host: localhost. is not in the cert's altnames: DNS:other.example"),
    ("localhost", san("IP Address:127.0.0.1", "URI:http://localhost/", cn="localhost"), None),
    ("localhost", san("URI:http://localhost/"), "Cert does not contain a DNS name"),
    ("localhost", san("email:localhost"), "Cert does not contain a DNS name"),
    ("localhost", {}, "Cert does not contain a DNS name"),
    ("localhost", cn_only(""), "Cert does not contain a DNS name"),
    ("localhost", cn_only([]), "Host: localhost. is not cert's CN: "),  # [] is truthy in JS
    ("localhost", {"subjectaltname": "DNS:localhost"}, None),  # no subject at all
    # quoted (escaped) SAN entries
    ("good.example", san('DNS:"a\\u002cb.example"', "DNS:good.example"), None),
    ("a,b.example", san('DNS:"a\\u002cb.example"', "DNS:good.example"), None),
    ("evil.example", san('DNS:"a\\u002cb.example"', "DNS:good.example"),
     'Host: evil.example. is not in the cert\'s altnames: DNS:"a\\u002cb.example", '
     "DNS:good.example"),
    ("good.example", san('URI:"http://x/a\\u002cDNS:evil.example"', "DNS:good.example"), None),
    ("evil.example", san('URI:"http://x/a\\u002cDNS:evil.example"'),
     "Cert does not contain a DNS name"),
]

THROWS: list[tuple[str, dict[str, Any]]] = [
    ("localhost", san('DNS:"unterminated')),
    ("localhost", san('DNS:"bad\\escape"')),
]


def _ours(host: str, cert: dict[str, Any]) -> dict[str, Any]:
    try:
        err = check_server_identity(host, cert)
    except AltNameFormatError as e:
        return {"threw": e.code, "message": e.message}
    if err is None:
        return {"ok": True}
    assert isinstance(err, CertificateError)
    assert err.cert is cert  # type: ignore[attr-defined]
    return {"code": err.code, "message": str(err), "reason": err.reason,  # type: ignore[attr-defined]
            "host": err.host}  # type: ignore[attr-defined]


@pytest.mark.parametrize(("host", "cert", "reason"), CASES,
                         ids=[f"{i}:{c[0]!r}" for i, c in enumerate(CASES)])
def test_table(host: str, cert: dict[str, Any], reason: str | None) -> None:
    got = _ours(host, cert)
    if reason is None:
        assert got == {"ok": True}
    else:
        assert got["code"] == "ERR_TLS_CERT_ALTNAME_INVALID"
        assert got["reason"] == reason
        assert got["message"] == ALT + reason
        assert got["host"] == (host[:-1] if host.endswith(".") else host)


@pytest.mark.parametrize(("host", "cert"), THROWS)
def test_malformed_quoted_san_raises(host: str, cert: dict[str, Any]) -> None:
    with pytest.raises(AltNameFormatError) as info:
        check_server_identity(host, cert)
    assert info.value.code == "ERR_TLS_CERT_ALTNAME_FORMAT"
    assert isinstance(info.value, SyntaxError)


def test_error_object() -> None:
    err = check_server_identity("bad.example.", LOCAL)
    assert isinstance(err, CertificateError) and isinstance(err, Exception)
    assert err.code == "ERR_TLS_CERT_ALTNAME_INVALID"
    assert str(err) == ("Hostname/IP does not match certificate's altnames: Host: bad.example. "
                        "is not in the cert's altnames: DNS:localhost, IP Address:127.0.0.1")
    assert err.host == "bad.example"  # type: ignore[attr-defined]
    assert err.cert is LOCAL  # type: ignore[attr-defined]
    ip_err = check_server_identity("127.0.0.2", LOCAL)
    assert str(ip_err) == ("Hostname/IP does not match certificate's altnames: "
                           "IP: 127.0.0.2 is not in the cert's list: 127.0.0.1")


def test_ip_helpers() -> None:
    assert [is_ip(s) for s in ("127.0.0.1", "::1", "fe80::1%eth0", "1.2.3", "01.2.3.4",
                               "localhost", "::ffff:1.2.3.4", "1:2:3:4:5:6:7:8:9", "")] == \
        [4, 6, 6, 0, 0, 0, 6, 0, 0]
    assert canonicalize_ip("0:0:0:0:0:0:0:1") == "::1"
    assert canonicalize_ip("0:0:0:0:0:FFFF:102:304") == "::ffff:1.2.3.4"
    assert canonicalize_ip("2001:DB8:0:0:0:0:0:0") == "2001:db8::"
    assert canonicalize_ip("1:0:2:0:3:0:4:0") == "1:0:2:0:3:0:4:0"
    assert canonicalize_ip("<invalid length=5>") is None


IP_SAMPLES = ["0:0:0:0:0:0:0:0", "0:0:0:0:0:0:0:1", "0:0:0:0:0:0:0:2", "0:0:0:0:0:0:102:304",
              "0:0:0:0:0:FFFF:102:304", "0:0:0:0:1:FFFF:102:304", "1:0:0:0:0:0:0:0",
              "1:0:0:1:0:0:0:1", "1:0:0:2:0:0:3:4", "FE80:0:0:0:0:0:1:ABCD", "1:2:3:4:5:6:7:8",
              "0:0:1:0:0:0:0:0", "1:0:2:0:3:0:4:0", "0:0:0:0:0:0:FFFF:1", "127.0.0.1",
              "fe80::1%eth0", "1.2.3", "01.2.3.4", "::ffff:1.2.3.4", "::1.2.3.04", "nonsense", ""]


async def test_against_node(certs: CertSet) -> None:
    """The whole table, the IP canonicalisation samples and real certificate dicts, in Node."""
    require_peer("node")
    real = {
        "server": certs.server, "wildcard": certs.wildcard, "client": certs.client,
    }
    real_cases = []
    for name, bundle in real.items():
        d = certificate_to_dict(bundle.x509)
        for k in ("raw", "pubkey"):
            d.pop(k, None)
        for host in ("localhost", "127.0.0.1", "::1", "0:0::1", "127.0.0.2", "bad.example",
                     "a.example.com", "example.com", "a.b.example.com", "client"):
            real_cases.append((f"{name}/{host}", host, d))
    table = [(f"case {i}", h, c) for i, (h, c, _r) in enumerate(CASES)]
    table += [(f"throws {i}", h, c) for i, (h, c) in enumerate(THROWS)] + real_cases

    js = r"""
    const tls = require('tls'); const net = require('net');
    const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
    const out = input.cases.map(([host, cert]) => {
      try {
        const e = tls.checkServerIdentity(host, cert);
        if (!e) return {ok: true};
        if (e.cert !== cert) return {wrongCert: true};
        return {code: e.code, message: e.message, reason: e.reason, host: e.host};
      } catch (e) { return {threw: e.code, message: e.message}; }
    });
    // canonicalizeIP is internal; observe it through the message of a failing IP match.
    const ips = input.ips.map((ip) => {
      const e = tls.checkServerIdentity('255.255.255.254', {subjectaltname: 'IP Address:' + ip});
      return e.reason.slice("IP: 255.255.255.254 is not in the cert's list: ".length);
    });
    const isIP = input.ips.map((ip) => net.isIP(ip));
    console.log(JSON.stringify({out, ips, isIP}));
    """
    payload = json.dumps({"cases": [[h, c] for _n, h, c in table], "ips": IP_SAMPLES})
    rc, out, err = await run_node(js, stdin=payload, timeout=20)
    assert rc == 0, err
    node = json.loads(out)
    mismatches = []
    for (name, host, cert), expected in zip(table, node["out"], strict=True):
        got = _ours(host, cert)
        if got != expected:
            mismatches.append((name, host, got, expected))
    assert len(node["out"]) == len(table) > 90
    assert not mismatches, "\n".join(map(repr, mismatches))
    assert [canonicalize_ip(ip) or "" for ip in IP_SAMPLES] == node["ips"]
    assert [is_ip(ip) for ip in IP_SAMPLES] == node["isIP"]
