"""Certificates as dicts, against Node v20 and CPython's ``ssl``, on seeded random certificates.

``gen.generate(seed)`` makes a certificate that stresses the formatting (every key type, names
of every string type with characters that need escaping, serials of every length and sign,
dates from year 1 to 9999, every subjectAltName kind, AIA, EKU, CRL distribution points...).
``nodetls._x509.certificate_to_dict`` must equal Node's ``X509Certificate.toLegacyObject()``
(the ``getPeerCertificate()`` object; key order included) and ``nodetls.aio``'s
``ssl_style_cert`` must equal ``ssl._ssl._test_decode_cert`` (what ``getpeercert()`` returns).
``python -m tests.x509.batch FIRST COUNT`` runs bigger ranges by hand (docs/fuzzing.md).

Accepted differences (``compare.ACCEPTED``): certificates cryptography cannot load or whose
extensions it cannot decode -- nodetls reads peer certificates with cryptography.
"""

from __future__ import annotations

import shutil
import warnings
from typing import Any

import pytest
from cryptography import x509

from nodetls._x509 import certificate_to_dict
from nodetls.aio._sslobject import ssl_style_cert

from ..helpers.peers import require_peer
from .cases import CASES, UNDECODABLE
from .compare import ACCEPTED, compare, load, node_objects, ssl_objects
from .gen import generate

SEEDS = range(300)  # one node process, one ssl pass: a few seconds
HOSTILE_SEEDS = range(1_000_000, 1_000_200)


@pytest.fixture(scope="module")
def seeded() -> list[bytes]:
    return [generate(s) for s in SEEDS]


def _report(diffs: list[Any]) -> str:
    return "\n".join(str(d)[:800] for d in diffs[:10])


def test_seeded_certificates_match_node(seeded: list[bytes]) -> None:
    require_peer("node")
    diffs, compared = compare(SEEDS, seeded, node_objects(seeded, timeout=60), None)
    assert compared == len(SEEDS)  # every generated certificate is one nodetls can read
    assert not diffs, _report(diffs)


def test_seeded_certificates_match_ssl(seeded: list[bytes]) -> None:
    diffs, compared = compare(SEEDS, seeded, None, ssl_objects(seeded))
    assert compared == len(SEEDS)
    assert not diffs, _report(diffs)


def test_hostile_certificates_only_accepted_differences() -> None:
    """With the features cryptography refuses: nothing raises, every difference is one of the
    accepted classes (and there are some: the generator does reach them)."""
    ders = [generate(s, hostile=True) for s in HOSTILE_SEEDS]
    node = node_objects(ders, timeout=60) if shutil.which("node") else None
    diffs, compared = compare(HOSTILE_SEEDS, ders, node, ssl_objects(ders))
    assert 0 < compared < len(ders)
    assert [str(d) for d in diffs if d.oracle not in ACCEPTED] == []
    assert {d.oracle for d in diffs} >= {"unloadable", "ssl/extensions"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_named_case_matches_both_oracles(name: str) -> None:
    der = CASES[name]
    node = node_objects([der], timeout=30) if shutil.which("node") else None
    diffs, compared = compare([0], [der], node, ssl_objects([der]))
    assert compared == 1
    assert not diffs, _report(diffs)


def _dicts(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    cert = load(CASES[name])
    assert cert is not None
    return certificate_to_dict(cert), ssl_style_cert(cert)


def test_one_byte_string_types_are_latin1() -> None:
    # OpenSSL's ASN1_STRING_to_UTF8 takes each byte of a T61String / IA5String as a character
    node, ssl_ = _dicts("one_byte_strings")
    assert node["subject"] == {"CN": "cafÃ©", "O": "ZÃ¼rich ð\x9f\x98\x80", "OU": "中",
                               "C": "DE"}
    assert ssl_["subject"][:2] == ((("commonName", "cafÃ©"),),
                                   (("organizationName", "ZÃ¼rich ð\x9f\x98\x80"),))


def test_compressed_ec_point_is_shown_uncompressed() -> None:
    node, _ = _dicts("compressed_point")
    assert len(node["pubkey"]) == 65 and node["pubkey"][0] == 4
    assert node["asn1Curve"] == "prime256v1" and node["bits"] == 256


def test_alt_names_and_long_attribute_names() -> None:
    node, ssl_ = _dicts("san_kinds")
    assert node["subjectaltname"] == (
        'DirName:"CN=\\\\#x\\u002cpostalCode=#", Registered ID:2.5.4.3, Registered ID:1.2.3.4, '
        'othername:"UPN:u@x\\u000arest", othername:<unsupported>, '
        'IP Address:0:0:0:0:0:0:0:1, DNS:"\\u00c3\\u00a9.example"')
    assert ssl_["subject"] == ((("givenName", "Gina"),), (("surname", "Sur"),),
                               (("businessCategory", "bc"), ("1.2.3.4.5", "x")))
    assert ssl_["subjectAltName"] == (
        ("DirName", ((("postalCode", "#"),), (("commonName", "#x"),))),
        ("Registered ID", "commonName"), ("Registered ID", "1.2.3.4"),
        ("othername", "UPN:u@x\n"), ("othername", "<unsupported>"),
        ("IP Address", "0:0:0:0:0:0:0:1"), ("DNS", "é.example"))


def test_ip_with_mask_and_empty_san() -> None:
    node, ssl_ = _dicts("ip_with_mask")
    assert node["subjectaltname"] == "IP Address:<invalid length=8>"
    assert ssl_["subjectAltName"] == (("IP Address", "<invalid>"),)
    node, ssl_ = _dicts("empty_san")
    assert node["subjectaltname"] == "" and ssl_["subjectAltName"] == ()


def test_ssl_aia_and_crl_distribution_points() -> None:
    _, ssl_ = _dicts("aia_cdp")
    assert list(ssl_)[-3:] == ["OCSP", "caIssuers", "crlDistributionPoints"]
    assert ssl_["OCSP"] == ("http://o/1", "http://o/2")
    assert ssl_["caIssuers"] == ("http://c/1",)
    assert ssl_["crlDistributionPoints"] == ("http://crl/1", "http://crl/2")


def test_ssl_serial_numbers() -> None:
    assert _dicts("negative_serial")[1]["serialNumber"] == "-80"
    # i2a_ASN1_INTEGER breaks the line after 35 bytes; ssl keeps the first line
    long_ = _dicts("long_serial")
    assert long_[1]["serialNumber"] == bytes(range(1, 36)).hex().upper() + "\\\n"
    assert long_[0]["serialNumber"] == bytes(range(1, 41)).hex().upper()


def test_formatting_is_silent() -> None:
    """cryptography warns about a 3-letter country and an empty CN; nodetls must not write
    them to stderr (Node and ssl show the certificate without a word)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cert = x509.load_der_x509_certificate(CASES["odd_country"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        node, ssl_ = certificate_to_dict(cert), ssl_style_cert(cert)
    assert node["subject"] == {"C": "DEU", "CN": ""}
    assert ssl_["subject"] == ((("countryName", "DEU"),), (("commonName", ""),))


@pytest.mark.parametrize("name", sorted(UNDECODABLE))
def test_undecodable_extensions_do_not_raise(name: str) -> None:
    cert = x509.load_der_x509_certificate(UNDECODABLE[name])
    node, ssl_ = certificate_to_dict(cert), ssl_style_cert(cert)
    assert "subjectaltname" not in node  # accepted difference: Node prints the names
    assert "subjectAltName" not in ssl_
