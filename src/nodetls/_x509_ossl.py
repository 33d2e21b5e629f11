"""Certificates read through OpenSSL's own parse, as Node v20 and CPython's ``ssl`` read them.

The low layer of :mod:`nodetls._x509` (Node's ``getPeerCertificate()`` object, the identity
check's inputs) and :mod:`nodetls._x509_ssl` (``ssl``'s ``getpeercert()`` dict): an ``X509*``
from ``d2i_X509`` (DER in) or the caller's (a connection's peer certificate: borrowed, no DER
round trip), and the pieces both formats are built from -- names entry by entry
(``X509_NAME_get_entry``, ``ASN1_STRING_to_UTF8``), extensions decoded by OpenSSL
(``X509_get_ext_d2i`` / ``X509V3_EXT_d2i``: ``GENERAL_NAMES``, ``AUTHORITY_INFO_ACCESS``...),
and OpenSSL's printers (``ASN1_TIME_print``, ``X509_NAME_print_ex``, ``i2a_ASN1_INTEGER``,
``GENERAL_NAME_print``) into one memory BIO. So a certificate Node and ``ssl`` read is read here
too, whatever ``cryptography`` would refuse (names outside their string type, an empty
subjectAltName, x400Address...).

Every object OpenSSL allocates for us is freed exactly once, in a ``finally`` (the ``d2i``'d
certificate, the decoded extensions, BIOs, BIGNUMs, ``OPENSSL_malloc``'d strings); errors
OpenSSL queues meanwhile are dropped (``ERR_set_mark``/``ERR_pop_to_mark``), so a caller's
queue -- a handshake's, in the verify callback -- is left as it was. No callback into Python.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeAlias

from ._openssl import ffi, lib

__all__ = [
    "EVP_PKEY_EC", "EVP_PKEY_RSA", "GEN_DIRNAME", "GEN_DNS", "GEN_EMAIL", "GEN_IPADD",
    "GEN_OTHERNAME", "GEN_RID", "GEN_URI", "GEN_X400", "NID_CRL_DISTRIBUTION_POINTS",
    "NID_EXT_KEY_USAGE", "NID_INFO_ACCESS", "NID_SUBJECT_ALT_NAME", "CertLike", "Reader",
    "asn1_bytes", "curve_nist_name", "errors_dropped", "general_names_of_der", "nid_name", "opened",
    "stack_items", "subject_and_san_der", "x509_name_of_der", "x509_of",
]

NULL = ffi.NULL

#: A certificate: DER (``bytes``-like), an ``X509*`` cdata (borrowed: valid for the call), or
#: a ``cryptography`` certificate (read from its DER).
CertLike: TypeAlias = Any

# GENERAL_NAME types (x509v3.h)
GEN_OTHERNAME, GEN_EMAIL, GEN_DNS, GEN_X400, GEN_DIRNAME, GEN_EDIPARTY, GEN_URI, GEN_IPADD, \
    GEN_RID = range(9)
# NIDs (obj_mac.h)
NID_SUBJECT_ALT_NAME = 85
NID_INFO_ACCESS = 177
NID_EXT_KEY_USAGE = 126
NID_CRL_DISTRIBUTION_POINTS = 103
EVP_PKEY_RSA = 6
EVP_PKEY_EC = 408
_BIO_CTRL_RESET = 1
_BIO_CTRL_INFO = 3
_V_ASN1_NEG = 0x100

# the free function of each extension's decoded form
_FREE: dict[int, Callable[[Any], None]] = {
    NID_SUBJECT_ALT_NAME: lib.GENERAL_NAMES_free,
    NID_INFO_ACCESS: lib.AUTHORITY_INFO_ACCESS_free,
    NID_EXT_KEY_USAGE: lib.EXTENDED_KEY_USAGE_free,
    NID_CRL_DISTRIBUTION_POINTS: lib.CRL_DIST_POINTS_free,
}

_SN: dict[int, str] = {}  # nid -> OBJ_nid2sn
_LN: dict[int, str] = {}  # nid -> OBJ_nid2ln


def x509_of(cert: CertLike) -> tuple[Any, bool]:
    """``(X509*, owned)``: DER is parsed (``ValueError`` when OpenSSL refuses it)."""
    if isinstance(cert, ffi.CData):
        return cert, False
    if not isinstance(cert, bytes | bytearray | memoryview):
        from cryptography.hazmat.primitives.serialization import Encoding

        cert = cert.public_bytes(Encoding.DER)
    x = _d2i(lib.d2i_X509, cert)
    if x == NULL:
        raise ValueError("OpenSSL cannot parse the certificate")
    return x, True


@contextmanager
def errors_dropped() -> Iterator[None]:
    """OpenSSL errors queued in the ``with`` block are dropped; the caller's are kept.

    ``ERR_set_mark`` cannot mark an empty queue (it returns 0), and OpenSSL 3.0's extension
    cache (``ossl_x509v3_cache_extensions``) leaves a mark of its own behind when it finds a
    certificate invalid on a non-empty queue (3.0 has no ``ERR_clear_last_mark`` there), where
    ``ERR_pop_to_mark`` then stops: a queue that was empty is emptied instead."""
    empty = lib.ERR_peek_error() == 0
    lib.ERR_set_mark()
    try:
        yield
    finally:
        if empty:
            lib.ERR_clear_error()
        else:
            lib.ERR_pop_to_mark()


@contextmanager
def opened(cert: CertLike) -> Iterator[Reader]:
    """A :class:`Reader` of ``cert`` for the ``with`` block; the certificate (when parsed here),
    the BIO and OpenSSL's queued errors go at its end."""
    with errors_dropped():
        x, owned = NULL, False
        try:
            x, owned = x509_of(cert)
            reader = Reader(x)
            try:
                yield reader
            finally:
                reader.close()
        finally:
            if owned:
                lib.X509_free(x)


class Reader:
    """One certificate's fields as OpenSSL reads them (scratch buffers and one memory BIO,
    freed by :meth:`close`). ``x`` is the ``X509*``."""

    __slots__ = ("_bio", "_int", "_pp", "_txt", "x")

    def __init__(self, x: Any) -> None:
        self.x = x
        self._bio = NULL
        self._int = ffi.new("int *")
        self._pp = ffi.new("unsigned char **")
        self._txt = ffi.new("char[]", 2048)

    def close(self) -> None:
        if self._bio != NULL:
            lib.BIO_free(self._bio)
            self._bio = NULL

    # -- printing into the memory BIO ----------------------------------------------------------

    def bio(self) -> Any:
        if self._bio == NULL:
            self._bio = lib.BIO_new(lib.BIO_s_mem())
            if self._bio == NULL:
                raise MemoryError("OpenSSL: BIO_new failed")
        return self._bio

    def take(self) -> bytes:
        """What was printed into the BIO since the last :meth:`take` (the BIO is reset)."""
        bio = self._bio
        if bio == NULL:
            return b""
        pp = ffi.cast("char **", self._pp)
        n = lib.BIO_ctrl(bio, _BIO_CTRL_INFO, 0, pp)
        data = bytes(ffi.buffer(pp[0], n)) if n > 0 else b""
        lib.BIO_ctrl(bio, _BIO_CTRL_RESET, 0, NULL)
        return data

    def time(self, before: bool) -> bytes:
        """``ASN1_TIME_print`` of notBefore / notAfter."""
        t = lib.X509_get0_notBefore(self.x) if before else lib.X509_get0_notAfter(self.x)
        lib.ASN1_TIME_print(self.bio(), t)
        return self.take()

    def serial_printed(self) -> bytes:
        """``i2a_ASN1_INTEGER`` of the serial number."""
        lib.i2a_ASN1_INTEGER(self.bio(), lib.X509_get0_serialNumber(self.x))
        return self.take()

    def name_printed(self, name: Any, flags: int) -> bytes | None:
        """``X509_NAME_print_ex(name, 0, flags)``, ``None`` when it fails."""
        if lib.X509_NAME_print_ex(self.bio(), name, 0, flags) < 0:
            self.take()
            return None
        return self.take()

    def general_name_printed(self, gn: Any) -> bytes:
        """``GENERAL_NAME_print``."""
        lib.GENERAL_NAME_print(self.bio(), gn)
        return self.take()

    # -- values --------------------------------------------------------------------------------

    def utf8(self, s: Any) -> bytes | None:
        """``ASN1_STRING_to_UTF8``; ``None`` when OpenSSL cannot convert the string."""
        pp = self._pp
        n = lib.ASN1_STRING_to_UTF8(pp, s)
        if n < 0:
            return None
        try:
            return bytes(ffi.buffer(pp[0], n))
        finally:
            lib.CRYPTO_free(pp[0], NULL, 0)

    def obj_txt(self, obj: Any, no_name: int, size: int = 256) -> str:
        """``OBJ_obj2txt(buf, size, obj, no_name)`` (truncated to ``size`` as OpenSSL does)."""
        n = lib.OBJ_obj2txt(self._txt, size, obj, no_name)
        return ffi.string(self._txt).decode("latin-1") if n > 0 else ""

    def i2t(self, obj: Any, size: int) -> tuple[int, str]:
        """``i2t_ASN1_OBJECT(buf, size, obj)``: its result and the text."""
        n = lib.i2t_ASN1_OBJECT(self._txt, size, obj)
        return n, ffi.string(self._txt).decode("latin-1") if n > 0 else ""

    def short_name(self, obj: Any) -> str:
        """Node's key for a name attribute: ``OBJ_nid2sn``, else the dotted OID."""
        nid = lib.OBJ_obj2nid(obj)
        if nid == 0:
            return self.obj_txt(obj, 1, 80)
        sn = _SN.get(nid)
        if sn is None:
            sn = _SN[nid] = ffi.string(lib.OBJ_nid2sn(nid)).decode("latin-1")
        return sn

    def long_name(self, obj: Any) -> str:
        """``OBJ_obj2txt(obj, no_name=0)``: the long name, else the dotted OID (``ssl``)."""
        nid = lib.OBJ_obj2nid(obj)
        if nid == 0:
            n = lib.OBJ_obj2txt(NULL, 0, obj, 0)
            if n >= 2048:
                big = ffi.new("char[]", n + 1)
                lib.OBJ_obj2txt(big, n + 1, obj, 0)
                return str(ffi.string(big).decode("latin-1"))
            return self.obj_txt(obj, 0, 2048)
        ln = _LN.get(nid)
        if ln is None:
            p = lib.OBJ_nid2ln(nid)
            ln = _LN[nid] = ffi.string(p if p != NULL else lib.OBJ_nid2sn(nid)).decode("latin-1")
        return str(ln)

    def entries(self, name: Any) -> Iterator[tuple[Any, Any, int]]:
        """``(ASN1_OBJECT*, ASN1_STRING*, set)`` of each entry of an ``X509_NAME``, in order."""
        for i in range(lib.X509_NAME_entry_count(name)):
            e = lib.X509_NAME_get_entry(name, i)
            yield (lib.X509_NAME_ENTRY_get_object(e), lib.X509_NAME_ENTRY_get_data(e),
                   lib.X509_NAME_ENTRY_set(e))

    def general_name(self, gn: Any) -> tuple[int, Any]:
        """``(type, value)``: ``bytes`` for the string kinds (and x400Address), the
        ``X509_NAME*`` of a directoryName, the ``ASN1_OBJECT*`` of a registeredID,
        ``(type-id ASN1_OBJECT*, ASN1 type, contents)`` of an otherName, ``None`` for an
        ediPartyName."""
        v = lib.GENERAL_NAME_get0_value(gn, self._int)
        kind = self._int[0]
        if kind in (GEN_DNS, GEN_EMAIL, GEN_URI, GEN_IPADD, GEN_X400):
            return kind, asn1_bytes(v)
        if kind == GEN_DIRNAME or kind == GEN_RID:
            return kind, v
        if kind == GEN_OTHERNAME:
            oid = ffi.new("ASN1_OBJECT **")
            value = ffi.new("ASN1_TYPE **")
            lib.GENERAL_NAME_get0_otherName(gn, oid, value)
            return kind, (oid[0], lib.ASN1_TYPE_get(value[0]), self._type_contents(value[0]))
        return kind, None

    def _type_contents(self, t: Any) -> bytes:
        # an ASN1_TYPE's contents octets (its DER, tag and length dropped)
        pp = self._pp
        pp[0] = NULL
        n = lib.i2d_ASN1_TYPE(t, pp)
        if n <= 0:
            return b""
        try:
            der = bytes(ffi.buffer(pp[0], n))
        finally:
            lib.CRYPTO_free(pp[0], NULL, 0)
        if len(der) < 2:
            return b""
        first, pos = der[1], 2
        if first & 0x80:
            pos += first & 0x7F
        return der[pos:]

    @staticmethod
    def access(item: Any) -> tuple[Any, Any]:
        """An ``ACCESS_DESCRIPTION``'s ``(method, location)``."""
        ad = ffi.cast("ACCESS_DESCRIPTION *", item)
        return ad.method, ad.location

    @staticmethod
    def crl_uri_names(item: Any) -> list[Any]:
        """A ``DIST_POINT``'s fullName general names (``[]`` without a distributionPoint or
        with a nameRelativeToCRLIssuer)."""
        dpn = ffi.cast("DIST_POINT *", item).distpoint
        if dpn == NULL or dpn.type != 0:
            return []
        names = dpn.name.fullname
        return [] if names == NULL else stack_items(names)

    # -- extensions ----------------------------------------------------------------------------

    @contextmanager
    def extension(self, nid: int, first: bool) -> Iterator[tuple[bool, list[Any] | None]]:
        """``(present, items)`` of a decoded extension (its stack's elements), freed at the end
        of the block; ``items`` is ``None`` when OpenSSL cannot decode it.

        ``first``: Node's way -- the first such extension (``X509_get_ext_by_NID``) decoded by
        ``X509V3_EXT_d2i``; ``present`` says whether there is one. Else ``ssl``'s:
        ``X509_get_ext_d2i``, which finds nothing (``present`` false) also when the extension
        is there twice or cannot be decoded."""
        x = self.x
        if first:
            index = lib.X509_get_ext_by_NID(x, nid, -1)
            if index < 0:
                yield False, None
                return
            decoded = lib.X509V3_EXT_d2i(lib.X509_get_ext(x, index))
        else:
            decoded = lib.X509_get_ext_d2i(x, nid, NULL, NULL)
        if decoded == NULL:
            yield first, None
            return
        try:
            yield True, stack_items(decoded)
        finally:
            _FREE[nid](decoded)

    # -- the whole certificate -----------------------------------------------------------------

    def der(self) -> bytes:
        """``i2d_X509``."""
        pp = self._pp
        pp[0] = NULL
        n = lib.i2d_X509(self.x, pp)
        if n <= 0:
            return b""
        try:
            return bytes(ffi.buffer(pp[0], n))
        finally:
            lib.CRYPTO_free(pp[0], NULL, 0)

    def serial(self) -> int:
        """The serial number (``ASN1_INTEGER``: magnitude and sign)."""
        s = lib.X509_get0_serialNumber(self.x)
        n = int.from_bytes(asn1_bytes(s), "big")
        return -n if lib.ASN1_STRING_type(s) & _V_ASN1_NEG else n

    def key(self) -> tuple[int, Any]:
        """``(EVP_PKEY_get_id, EVP_PKEY*)`` of the public key (``(0, NULL)``: OpenSSL cannot
        decode it). The key belongs to the certificate."""
        pkey = lib.X509_get0_pubkey(self.x)
        if pkey == NULL:
            return 0, NULL
        return lib.EVP_PKEY_get_id(pkey), pkey

    def bn_param(self, pkey: Any, name: bytes) -> int | None:
        """``EVP_PKEY_get_bn_param``: the number, ``None`` when the key has no such one."""
        pbn = ffi.new("BIGNUM **")
        if lib.EVP_PKEY_get_bn_param(pkey, name, pbn) != 1:
            return None
        bn = pbn[0]
        try:
            size = (lib.BN_num_bits(bn) + 7) // 8
            out = ffi.new("unsigned char[]", max(size, 1))
            lib.BN_bn2bin(bn, out)
            return int.from_bytes(bytes(ffi.buffer(out, size)), "big")
        finally:
            lib.BN_free(bn)

    def ec_point(self, pkey: Any) -> bytes | None:
        """The EC public point as the key encodes it (uncompressed unless asked otherwise:
        also when the certificate holds it compressed, as Node's ``ECPointToBuffer``)."""
        buf = ffi.new("unsigned char[]", 512)
        size = ffi.new("size_t *")
        if lib.EVP_PKEY_get_octet_string_param(pkey, b"encoded-pub-key", buf, 512, size) != 1:
            return None
        return bytes(ffi.buffer(buf, size[0]))

    def ec_curve_nid(self, pkey: Any) -> int:
        """The named curve's NID, 0 when the key has explicit parameters."""
        size = ffi.new("size_t *")
        if lib.EVP_PKEY_get_group_name(pkey, self._txt, 80, size) != 1:
            return 0
        return int(lib.OBJ_txt2nid(self._txt))


def asn1_bytes(s: Any) -> bytes:
    """An ``ASN1_STRING``'s contents octets."""
    n = lib.ASN1_STRING_length(s)
    return bytes(ffi.buffer(lib.ASN1_STRING_get0_data(s), n)) if n > 0 else b""


def nid_name(nid: int, long: bool) -> str | None:
    """``OBJ_nid2ln`` / ``OBJ_nid2sn`` (``None`` for an unknown NID)."""
    p = lib.OBJ_nid2ln(nid) if long else lib.OBJ_nid2sn(nid)
    return None if p == NULL else ffi.string(p).decode("latin-1")


def curve_nist_name(nid: int) -> str | None:
    """``EC_curve_nid2nist``."""
    p = lib.EC_curve_nid2nist(nid)
    return None if p == NULL else ffi.string(p).decode("latin-1")


def _d2i(func: Any, der: bytes) -> Any:
    buf = ffi.from_buffer(der)
    pp = ffi.new("const unsigned char **", ffi.cast("const unsigned char *", buf))
    return func(NULL, pp, len(buf))


def x509_name_of_der(der: bytes) -> Any:
    """``d2i_X509_NAME`` of a Name's DER (the caller frees it with ``X509_NAME_free``)."""
    name = _d2i(lib.d2i_X509_NAME, der)
    if name == NULL:
        raise ValueError("OpenSSL cannot parse the name")
    return name


def general_names_of_der(der: bytes) -> Any:
    """``d2i_GENERAL_NAMES`` (NULL when OpenSSL cannot decode them; the caller frees them with
    ``GENERAL_NAMES_free``)."""
    return _d2i(lib.d2i_GENERAL_NAMES, der)


def stack_items(sk: Any) -> list[Any]:
    """The elements of an OpenSSL stack (any ``STACK_OF(T) *``)."""
    sk = ffi.cast("OPENSSL_STACK *", sk)
    return [lib.OPENSSL_sk_value(sk, i) for i in range(lib.OPENSSL_sk_num(sk))]


# -- locating the subject and subjectAltName in a certificate's DER ----------------------------
# (``d2i_X509`` decodes the public key through OpenSSL 3's providers, ~0.1 ms: the identity
# check needs only these two, which OpenSSL then decodes on their own)

_SAN_OID = b"\x06\x03\x55\x1d\x11"


def _tlv(der: bytes, pos: int) -> tuple[int, int, int]:
    """``(tag, contents start, end)`` of the DER element at ``pos``: ``ValueError`` for
    anything but DER's own encoding (a one-byte tag, a minimal definite length). OpenSSL also
    reads BER's other length forms (long form for a short length, leading zero octets,
    indefinite), so whatever the walk does not read exactly as OpenSSL does is left to
    OpenSSL's whole parse."""
    tag, n, p = der[pos], der[pos + 1], pos + 2
    if tag & 0x1F == 0x1F:
        raise ValueError("DER tag")
    if n & 0x80:
        k = n & 0x7F
        if not 0 < k <= 4 or der[p] == 0:
            raise ValueError("DER length")
        n, p = int.from_bytes(der[p:p + k], "big"), p + k
        if n < 0x80:
            raise ValueError("DER length")
    if p + n > len(der):
        raise ValueError("DER length")
    return tag, p, p + n


def _elements(der: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    out = []
    while start < end:
        tag, c, e = _tlv(der, start)
        out.append((tag, start, c, e))
        start = e
    return out


def subject_and_san_der(der: bytes) -> tuple[bytes, bytes | None]:
    """The subject Name's DER and the first subjectAltName extension's value (``None``
    without one), located in a certificate's DER (``ValueError``/``IndexError`` when it is
    not one, or not in DER's own encoding: then only OpenSSL's whole parse reads it as
    OpenSSL does -- a long-form length of the extension's OID hid the subjectAltName from
    this walk and the identity check fell back to the CN)."""
    _, p, _ = _tlv(der, 0)
    _, p, tbs_end = _tlv(der, p)
    fields = _elements(der, p, tbs_end)
    i = 1 if fields[0][0] == 0xA0 else 0  # [0] version
    _, s_start, _, s_end = fields[i + 4]  # serial, signature, issuer, validity, subject
    for tag, _, c, e in fields[i + 6:]:
        if tag != 0xA3:  # [3] extensions
            continue
        _, c, e = _tlv(der, c)
        for _, _, xc, xe in _elements(der, c, e):
            parts = _elements(der, xc, xe)
            if der[parts[0][1]:parts[0][3]] == _SAN_OID:
                value = parts[-1]
                if value[0] != 0x04:
                    raise ValueError("extension value")
                return der[s_start:s_end], der[value[2]:value[3]]
    return der[s_start:s_end], None
