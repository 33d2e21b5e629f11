"""``nodetls._x509.certificate_to_dict`` against Node v20 itself.

Node is the oracle: ``new crypto.X509Certificate(pem).toLegacyObject()`` gives the same object as
``getPeerCertificate()`` for one certificate, and a real TLS connection in ``node`` gives
``getPeerCertificate(true)`` with its ``issuerCertificate`` links. Buffers become hex and a circular
``issuerCertificate`` becomes ``'$circular'`` on both sides; everything else -- keys, key order,
strings -- must be identical.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID, ObjectIdentifier

from helpers.certs import PKI, CertBundle, CertSet
from helpers.peers import require_peer, run_node
from nodetls._x509 import (
    certificate_to_dict,
    check_issued,
    find_issuer,
    identity_fields,
)

from .x509.compare import JS_SERIALIZE, normalize

N = x509.NameAttribute
RDN = x509.RelativeDistinguishedName
UTC = dt.UTC


_normalize = normalize  # bytes -> {'$buffer': hex}, self-reference -> '$circular'


JS_LEGACY = JS_SERIALIZE + r"""
const { X509Certificate } = require('crypto'); const fs = require('fs');
const out = process.argv.slice(2).map(
  (p) => ser(new X509Certificate(fs.readFileSync(p)).toLegacyObject()));
console.log(JSON.stringify(out));
"""


def _exotic_subject() -> x509.Name:
    return x509.Name([
        RDN([N(NameOID.COUNTRY_NAME, "DE")]),
        RDN([N(NameOID.STATE_OR_PROVINCE_NAME, "Bayern"), N(NameOID.LOCALITY_NAME, "München")]),
        RDN([N(NameOID.ORGANIZATIONAL_UNIT_NAME, "ou1")]),
        RDN([N(NameOID.ORGANIZATIONAL_UNIT_NAME, "ou2")]),
        RDN([N(NameOID.ORGANIZATIONAL_UNIT_NAME, "ou3")]),
        RDN([N(NameOID.EMAIL_ADDRESS, "a@b.example")]),
        RDN([N(NameOID.SERIAL_NUMBER, "1234")]),
        RDN([N(NameOID.DOMAIN_COMPONENT, "example")]),
        RDN([N(NameOID.DOMAIN_COMPONENT, "com")]),
        RDN([N(NameOID.USER_ID, "uid1")]),
        RDN([N(NameOID.GIVEN_NAME, "G"), N(NameOID.SURNAME, "S"), N(NameOID.TITLE, "T"),
             N(NameOID.PSEUDONYM, "P"), N(NameOID.POSTAL_CODE, "80331"),
             N(NameOID.BUSINESS_CATEGORY, "bc"), N(NameOID.JURISDICTION_COUNTRY_NAME, "DE"),
             N(NameOID.ORGANIZATION_IDENTIFIER, "oi"), N(NameOID.UNSTRUCTURED_NAME, "un"),
             N(ObjectIdentifier("1.2.3.4.5"), "custom"), N(ObjectIdentifier("2.5.4.41"), "nm")]),
        RDN([N(NameOID.COMMON_NAME, 'a,b"c\\d')]),
        RDN([N(NameOID.COMMON_NAME, "second cn")]),
    ])


EXOTIC_SANS = [
    "DNS:a.example", "IP:fe80::1:abcd", "IP:::ffff:1.2.3.4", "IP:2001:db8::", "IP:10.0.0.255",
    "URI:http://x.example/a,b", "email:a@b.example", 'DNS:we"ird', "DNS:it's", "DNS:tab\there",
    "DNS:back\\slash",
    x509.DirectoryName(x509.Name([N(NameOID.COMMON_NAME, "dir, name"),
                                  N(NameOID.ORGANIZATION_NAME, "O+x")])),
    x509.DirectoryName(x509.Name([N(NameOID.COMMON_NAME, "plain")])),
    x509.RegisteredID(ObjectIdentifier("1.2.3.4")),
    x509.OtherName(ObjectIdentifier("1.3.6.1.4.1.311.20.2.3"), b"\x0c\x0bu@b.example"),
    x509.OtherName(ObjectIdentifier("1.3.6.1.4.1.311.20.2.3"), b"\x0c\x03a,b"),
    x509.OtherName(ObjectIdentifier("1.3.6.1.5.5.7.8.7"), b"\x16\x0a_x.example"),
    x509.OtherName(ObjectIdentifier("1.2.3.9"), b"\x0c\x01a"),
]


@pytest.fixture(scope="module")
def legacy_cases(certs: CertSet, pki: PKI) -> dict[str, CertBundle]:
    """Certificates covering every field format, keyed by a readable name."""
    t = dt.datetime
    return {
        "ec_leaf": certs.server,
        "rsa_leaf": certs.server_rsa,
        "root_ca": certs.root,
        "intermediate_ca": certs.intermediate,
        "ocsp_aia": certs.ocsp,
        "client": certs.client,
        "self_signed": certs.self_signed,
        "wildcard": certs.wildcard,
        "exotic": pki.make_leaf(
            None, EXOTIC_SANS, subject=_exotic_subject(), serial=5,
            not_before=t(2025, 3, 4, 5, 6, 7, tzinfo=UTC),
            not_after=t(2051, 1, 9, 0, 0, 0, tzinfo=UTC),  # GeneralizedTime
            eku=["serverAuth", "clientAuth", ObjectIdentifier("1.2.3.4.5.6")],
            ocsp_url=["http://127.0.0.1:1/a", "http://127.0.0.1:1/b,c"],
            ca_issuers_url="http://127.0.0.1:1/ca"),
        "secp256k1": pki.make_leaf("k1", curve=ec.SECP256K1(), serial=0x0102),
        "p384": pki.make_leaf("p384", curve=ec.SECP384R1(), serial=0xFF),
        "p521": pki.make_leaf("p521", curve=ec.SECP521R1(), serial=0x80),
        "brainpool": pki.make_leaf("bp", curve=ec.BrainpoolP256R1(), serial=1),
        "ed25519": pki.make_leaf("ed", key_type="ed25519", serial=0x7F),
        "rsa_1028": pki.make_leaf("r1028", key_type="rsa", rsa_bits=1028, serial=0xFFFF),
        "rsa_2047": pki.make_leaf("r2047", key_type="rsa", rsa_bits=2047, serial=2**158 + 1),
        "empty_subject_no_eku": pki.make_leaf(None, ["DNS:x.example"], eku=None),
        "no_san": pki.make_leaf("nosan.example", [], eku=None),
        "ca_with_ku": pki.make_leaf("ca-ku", is_ca=True),
        "ca_without_certsign": pki.make_leaf(
            "ca-noku", sans=[], self_signed=True, eku=None,
            extra_extensions=[(x509.KeyUsage(True, False, False, False, False, False, False,
                                             False, False), True)]),
    }


async def test_single_certificates_match_node(legacy_cases: dict[str, CertBundle]) -> None:
    require_peer("node")
    names = list(legacy_cases)
    rc, out, err = await run_node(JS_LEGACY, *[legacy_cases[n].cert_path for n in names],
                                  timeout=20)
    assert rc == 0, err
    node_objs = json.loads(out)
    for name, node in zip(names, node_objs, strict=True):
        ours = _normalize(certificate_to_dict(legacy_cases[name].x509))
        assert list(ours) == list(node), f"{name}: key order/presence"
        assert ours == node, name


def test_known_formats(legacy_cases: dict[str, CertBundle], certs: CertSet) -> None:
    """Spot checks that document the formats (the Node comparison above is the real test)."""
    ex = certificate_to_dict(legacy_cases["exotic"].x509)
    assert ex["valid_from"] == "Mar  4 05:06:07 2025 GMT"
    assert ex["valid_to"] == "Jan  9 00:00:00 2051 GMT"
    assert ex["serialNumber"] == "05"
    assert ex["subject"]["OU"] == ["ou1", "ou2", "ou3"]
    assert ex["subject"]["CN"] == ['a,b"c\\d', "second cn"]
    assert ex["subject"]["1.2.3.4.5"] == "custom"
    assert ex["infoAccess"] == {"OCSP - URI": ["http://127.0.0.1:1/a", "http://127.0.0.1:1/b,c"],
                                "CA Issuers - URI": ["http://127.0.0.1:1/ca"]}
    san = ex["subjectaltname"]
    assert san.startswith("DNS:a.example, IP Address:FE80:0:0:0:0:0:1:ABCD, "
                          "IP Address:0:0:0:0:0:FFFF:102:304, IP Address:2001:DB8:0:0:0:0:0:0, ")
    assert 'URI:"http://x.example/a\\u002cb"' in san
    assert 'DNS:"tab\\u0009here"' in san and "othername:UPN:u@b.example" in san
    assert 'othername:"UPN:a\\u002cb"' in san and "othername:SRVName:_x.example" in san
    assert san.endswith("othername:<unsupported>")

    srv = certificate_to_dict(certs.server.x509)
    assert srv["subjectaltname"] == (
        "DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1")
    assert srv["asn1Curve"] == "prime256v1" and srv["nistCurve"] == "P-256"
    assert srv["bits"] == 256 and len(srv["pubkey"]) == 65 and srv["pubkey"][0] == 4
    assert "modulus" not in srv and "infoAccess" not in srv
    rsa_ = certificate_to_dict(certs.server_rsa.x509)
    assert rsa_["exponent"] == "0x10001" and rsa_["bits"] == 2048
    assert rsa_["modulus"] == f"{certs.server_rsa.key.public_key().public_numbers().n:X}"
    assert rsa_["raw"] == certs.server_rsa.der
    assert all(k not in rsa_ for k in ("asn1Curve", "nistCurve", "issuerCertificate"))
    assert certificate_to_dict(certs.root.x509)["ca"] is True
    assert certificate_to_dict(legacy_cases["ca_without_certsign"].x509)["ca"] is False
    assert certificate_to_dict(certs.server.der) == srv  # DER input works too


def test_format_helpers(certs: CertSet, pki: PKI) -> None:
    name = x509.Name([N(NameOID.COMMON_NAME, "a"), N(NameOID.COMMON_NAME, "b"),
                      N(NameOID.COMMON_NAME, "c")])
    repeated = pki.make_leaf(None, ["DNS:x.example"], subject=name)
    assert certificate_to_dict(repeated.der)["subject"] == {"CN": ["a", "b", "c"]}
    full = certificate_to_dict(certs.server.der)
    assert identity_fields(certs.server.der) == {
        "subject": full["subject"], "subjectaltname": full["subjectaltname"]}


def test_no_san_is_none(legacy_cases: dict[str, CertBundle]) -> None:
    assert "subjectaltname" not in identity_fields(legacy_cases["no_san"].der)
    assert "subjectaltname" not in certificate_to_dict(legacy_cases["no_san"].x509)


def test_check_issued(certs: CertSet, pki: PKI, legacy_cases: dict[str, CertBundle]) -> None:
    assert check_issued(certs.intermediate.x509, certs.server.x509)
    assert check_issued(certs.root.x509, certs.intermediate.x509)
    assert not check_issued(certs.root.x509, certs.server.x509)
    assert not check_issued(certs.server.x509, certs.server.x509)
    assert check_issued(certs.root.x509, certs.root.x509)
    assert check_issued(certs.self_signed.x509, certs.self_signed.x509)
    noku = legacy_cases["ca_without_certsign"].x509
    assert not check_issued(noku, noku)
    assert check_issued(certs.client_ca.x509, certs.client.x509)
    assert not check_issued(certs.intermediate.x509, certs.client.x509)
    # Same subject name, other key: the authorityKeyIdentifier tells them apart.
    twin = pki.make_ca("nodetls Test Intermediate CA", issuer=certs.root, name="twin")
    assert twin.x509.subject == certs.intermediate.x509.subject
    assert not check_issued(twin.x509, certs.server.x509)
    # A CA whose keyUsage lacks keyCertSign issues nothing (X509_check_issued); DER works too.
    noku_ca = legacy_cases["ca_without_certsign"]
    child = pki.make_leaf("child.example", issuer=noku_ca)
    assert not check_issued(noku_ca.x509, child.x509)
    assert check_issued(certs.intermediate.der, certs.server.der)


# -- detailed chains over a real TLS connection in node ----------------------------------------

JS_DETAILED = JS_SERIALIZE + r"""
const tls = require('tls'); const fs = require('fs');
const cases = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const results = [];
function run(i) {
  if (i === cases.length) { console.log(JSON.stringify(results)); return; }
  const c = cases[i];
  const srv = tls.createServer({key: fs.readFileSync(c.key), cert: fs.readFileSync(c.chain)},
                               (s) => s.end());
  srv.listen(0, '127.0.0.1', () => {
    const opts = {port: srv.address().port, host: '127.0.0.1', rejectUnauthorized: false};
    if (c.ca) opts.ca = fs.readFileSync(c.ca);
    const sock = tls.connect(opts, () => {
      results.push({detailed: ser(sock.getPeerCertificate(true)),
                    short: ser(sock.getPeerCertificate())});
      sock.destroy(); srv.close(() => run(i + 1));
    });
    sock.on('error', (e) => { console.error(e); process.exit(1); });
  });
}
run(0);
"""


async def test_detailed_chains_match_node(certs: CertSet, pki: PKI, tmp_path: Path,
                                          legacy_cases: dict[str, CertBundle]) -> None:
    require_peer("node")
    full_chain = tmp_path / "server-full-chain.pem"
    full_chain.write_bytes(certs.server.chain_pem + certs.root.cert_pem)
    noku_server = pki.make_leaf("localhost", self_signed=True, name="noku-server",
                                extra_extensions=[(x509.KeyUsage(
                                    True, False, False, False, False, False, False, False,
                                    False), True)])
    # (name, key, chain the server sends, certs it sends, ca trusted by the client)
    cases: list[tuple[str, CertBundle, Path, list[x509.Certificate], CertBundle | None]] = [
        ("via intermediate", certs.server, certs.server.chain_path, list(certs.server.chain),
         certs.root),
        ("rsa", certs.server_rsa, certs.server_rsa.chain_path, list(certs.server_rsa.chain),
         certs.root),
        ("direct from root", certs.server_direct, certs.server_direct.chain_path,
         list(certs.server_direct.chain), certs.root),
        ("root sent too", certs.server, full_chain,
         [*certs.server.chain, certs.root.x509], certs.root),
        ("root unknown", certs.server, certs.server.chain_path, list(certs.server.chain), None),
        ("self-signed", certs.self_signed, certs.self_signed.chain_path,
         [certs.self_signed.x509], certs.self_signed),
        ("self-signed untrusted", certs.self_signed, certs.self_signed.chain_path,
         [certs.self_signed.x509], None),
        ("self-signed, no keyCertSign, trusted", noku_server, noku_server.chain_path,
         [noku_server.x509], noku_server),
        ("aia", certs.ocsp, certs.ocsp.chain_path, list(certs.ocsp.chain), certs.root),
    ]
    config = tmp_path / "cases.json"
    config.write_text(json.dumps([
        {"key": str(b.key_path), "chain": str(chain), "ca": str(ca.cert_path) if ca else None}
        for _name, b, chain, _sent, ca in cases]))
    rc, out, err = await run_node(JS_DETAILED, config, timeout=30)
    assert rc == 0, err
    node_results = json.loads(out)

    for (name, b, _chain, sent, ca), node in zip(cases, node_results, strict=True):
        trusted = [ca.x509] if ca else []
        detailed = certificate_to_dict(b.x509, True, issuer_chain=sent, trusted=trusted)
        assert _normalize(detailed) == node["detailed"], name
        assert _normalize(certificate_to_dict(b.x509)) == node["short"], name


def test_detailed_structure(certs: CertSet) -> None:
    d = certificate_to_dict(certs.server.x509, detailed=True,
                            issuer_chain=[certs.server.x509, certs.intermediate.x509],
                            trusted=[certs.root.x509])
    inter = d["issuerCertificate"]
    root = inter["issuerCertificate"]
    assert inter["subject"]["CN"] == "nodetls Test Intermediate CA"
    assert root["subject"]["CN"] == "nodetls Test Root CA"
    assert root["issuerCertificate"] is root  # circular, as Node
    # Without the root available the chain just stops (no issuerCertificate key at all).
    d = certificate_to_dict(certs.server.x509, detailed=True,
                            issuer_chain=[certs.intermediate.x509])
    assert "issuerCertificate" not in d["issuerCertificate"]
    # A self-signed certificate is its own issuer.
    s = certificate_to_dict(certs.self_signed.x509, detailed=True)
    assert s["issuerCertificate"] is s
    # Not detailed: no link, even for a self-signed certificate.
    assert "issuerCertificate" not in certificate_to_dict(certs.self_signed.x509)


def test_find_issuer(certs: CertSet, legacy_cases: dict[str, CertBundle]) -> None:
    # the first candidate X509_check_issued accepts (Node's issuer for 'OCSPRequest'); DER in,
    # the candidate itself out; what OpenSSL cannot parse is skipped
    cands = [b"junk", certs.root.der, certs.intermediate.der]
    assert find_issuer(certs.server.der, cands) is cands[2]
    assert find_issuer(certs.intermediate.der, cands) is cands[1]
    assert find_issuer(certs.server.der, [certs.root.der]) is None
    noku = legacy_cases["ca_without_certsign"].der
    assert find_issuer(noku, [noku]) is None  # (no keyCertSign: not its own issuer)
