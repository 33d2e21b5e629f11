"""Certificates as dicts, against Node v20 and CPython's ``ssl``, on seeded random certificates.

``gen.generate(seed)`` makes a certificate that stresses the formatting (every key type, names
of every string type with characters that need escaping, serials of every length and sign,
dates from year 1 to 9999, every subjectAltName kind, AIA, EKU, CRL distribution points...).
``nodetls._x509.certificate_to_dict`` must equal Node's ``X509Certificate.toLegacyObject()``
(the ``getPeerCertificate()`` object; key order included) and ``nodetls.aio``'s
``ssl_style_cert`` must equal ``ssl._ssl._test_decode_cert`` (what ``getpeercert()`` returns).
``python -m tests.x509.batch FIRST COUNT`` runs bigger ranges by hand (docs/fuzzing.md).

nodetls reads certificates through OpenSSL, as both oracles do: certificates ``cryptography``
refuses (any version) or whose extensions it cannot decode are compared like any other.
"""

from __future__ import annotations

import shutil
import warnings
from typing import Any

import pytest
from cryptography import x509

from nodetls import check_server_identity
from nodetls._x509 import certificate_to_dict, identity_fields
from nodetls.aio._sslobject import ssl_style_cert

from ..helpers.peers import require_peer
from .cases import CASES, EXTENSIONS_REFUSED, REFUSED_BY_51
from .compare import compare, node_objects, normalize, ssl_objects
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


def test_hostile_certificates_match_both_oracles() -> None:
    """With the features cryptography refuses (fractional seconds, a T61String that is not
    UTF-8, a duplicate subjectAltName, x400Address / ediPartyName): read through OpenSSL,
    every certificate is compared, and matches."""
    ders = [generate(s, hostile=True) for s in HOSTILE_SEEDS]
    node = node_objects(ders, timeout=60) if shutil.which("node") else None
    diffs, compared = compare(HOSTILE_SEEDS, ders, node, ssl_objects(ders))
    assert compared == len(ders)
    assert not diffs, _report(diffs)


@pytest.mark.parametrize("name", sorted(CASES))
def test_named_case_matches_both_oracles(name: str) -> None:
    der = CASES[name]
    node = node_objects([der], timeout=30) if shutil.which("node") else None
    diffs, compared = compare([0], [der], node, ssl_objects([der]))
    assert compared == 1
    assert not diffs, _report(diffs)


def _dicts(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    der = CASES[name]  # DER in, as a peer's certificate arrives
    return certificate_to_dict(der), ssl_style_cert(der)


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
    anything to stderr (Node and ssl show the certificate without a word), whatever it is
    given: DER or a cryptography certificate."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cert = x509.load_der_x509_certificate(CASES["odd_country"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        node, ssl_ = certificate_to_dict(cert), ssl_style_cert(cert)
        assert (node, ssl_) == _dicts("odd_country")
    assert node["subject"] == {"C": "DEU", "CN": ""}
    assert ssl_["subject"] == ((("countryName", "DEU"),), (("commonName", ""),))


def test_names_cryptography_51_refuses() -> None:
    """cryptography >= 51 refuses a certificate whose names hold values outside their string
    type; OpenSSL, Node and ssl read it, and so does nodetls (whatever cryptography is
    installed): getPeerCertificate()'s dict, ssl's dict and the identity check are those of
    any other certificate."""
    der = CASES["refused_by_cryptography_51"]
    node, ssl_ = _dicts("refused_by_cryptography_51")
    assert node["subject"] == {"CN": "localhost", "O": "A&B @ C", "OU": "ZÃ¼rich",
                               "emailAddress": "Ã¼@x"}
    assert node["issuer"] == {"CN": "CA & Co", "O": "x"}
    assert node["raw"] == der and node["ca"] is True
    assert ssl_ == ssl_objects([der])[0]
    assert identity_fields(der) == {"subject": node["subject"]}
    assert check_server_identity("localhost", node) is None
    err = check_server_identity("example.com", node)
    assert err is not None and "localhost" in str(err)


def test_extensions_cryptography_51_drops() -> None:
    """cryptography 51 cannot decode the extensions of a certificate with a DirName holding
    such a value (nor an empty subjectAltName): the dict would lose subjectaltname,
    infoAccess, ext_key_usage and ca. Read through OpenSSL, all are there."""
    node, ssl_ = _dicts("dirname_refused_by_cryptography_51")
    assert node["subjectaltname"] == 'DNS:localhost, DirName:CN=a@b'
    assert node["infoAccess"] == {"OCSP - URI": ["http://o/1"]}
    assert node["ext_key_usage"] == ["1.3.6.1.5.5.7.3.1"]
    assert node["ca"] is True
    assert ssl_["subjectAltName"] == (("DNS", "localhost"),
                                      ("DirName", ((("commonName", "a@b"),),)))
    assert check_server_identity("localhost", node) is None
    assert identity_fields(CASES["dirname_refused_by_cryptography_51"]) == {
        "subject": {"CN": "localhost"}, "subjectaltname": node["subjectaltname"]}


@pytest.mark.parametrize("name", REFUSED_BY_51 + EXTENSIONS_REFUSED)
def test_cases_cryptography_refuses_are_read(name: str) -> None:
    """The named certificates cryptography (51, or any version) refuses or reads without
    extensions: equal to Node's object (when node is there) and ssl's dict."""
    der = CASES[name]
    node, ssl_ = _dicts(name)
    assert ssl_ == ssl_objects([der])[0]
    if shutil.which("node"):
        assert normalize(node) == node_objects([der], timeout=30)[0]


def test_x400_edi_and_duplicate_san() -> None:
    node, ssl_ = _dicts("x400_in_san")
    assert node["subjectaltname"] == "DNS:a, X400Name:<unsupported>"
    assert ssl_["subjectAltName"] == (("DNS", "a"), ("X400Name", "<unsupported>"))
    node, ssl_ = _dicts("edi_party_in_san")
    assert node["subjectaltname"] == "EdiPartyName:<unsupported>, DNS:b"
    node, ssl_ = _dicts("duplicate_san")
    assert node["subjectaltname"] == "DNS:a"  # Node: the first one
    assert "subjectAltName" not in ssl_  # ssl: X509_get_ext_d2i finds two, so none


def _x509(der: bytes) -> Any:
    from nodetls._openssl import ffi, lib

    buf = ffi.from_buffer(der)
    x = lib.d2i_X509(ffi.NULL, ffi.new("const unsigned char **",
                                        ffi.cast("const unsigned char *", buf)), len(der))
    assert x != ffi.NULL
    return x


def test_identity_fields_are_the_dicts_fields(seeded: list[bytes]) -> None:
    """The identity check's inputs (from DER: only the subject and subjectAltName decoded;
    from an ``X509*``: the certificate's) are exactly the full object's."""
    from nodetls._openssl import lib

    hostile = [generate(s, hostile=True) for s in HOSTILE_SEEDS]
    for der in [*seeded, *hostile, *CASES.values()]:
        full = certificate_to_dict(der)
        want = {k: full[k] for k in ("subject", "subjectaltname") if k in full}
        assert identity_fields(der) == want
        x = _x509(der)
        try:
            assert identity_fields(x) == want
        finally:
            lib.X509_free(x)


def test_x509_pointer_in_is_borrowed() -> None:
    """An ``X509*`` (a connection's certificate) is read in place and left to its owner."""
    from nodetls._openssl import lib

    der = CASES["san_kinds"]
    x = _x509(der)
    try:
        for _ in range(2):  # (still valid after the first read)
            assert certificate_to_dict(x) == certificate_to_dict(der)
            assert ssl_style_cert(x) == ssl_style_cert(der)
    finally:
        lib.X509_free(x)


def test_unparsable_der_raises_value_error() -> None:
    for bad in (b"", b"\x30\x03\x02\x01\x01", CASES["san_kinds"][:-10]):
        for build in (certificate_to_dict, ssl_style_cert, identity_fields):
            with pytest.raises(ValueError):
                build(bad)
