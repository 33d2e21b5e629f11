"""A bare SSL_CTX wrapper for engine tests (the engine only needs ``.ctx``)."""

from __future__ import annotations

import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from nodetls._openssl import constants as C
from nodetls._openssl import ffi, lib, macros


def make_ca_and_leaf(name: str = "localhost"):
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Engine Test CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    return (
        ca.public_bytes(pem),
        leaf.public_bytes(pem),
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )


class RawContext:
    def __init__(self, cert: bytes | None = None, key: bytes | None = None, ca: bytes | None = None,
                 max_version: int = C.TLS1_3_VERSION, options: int = 0) -> None:
        self.ctx = lib.SSL_CTX_new(lib.TLS_method())
        macros.SSL_CTX_set_min_proto_version(self.ctx, C.TLS1_2_VERSION)
        macros.SSL_CTX_set_max_proto_version(self.ctx, max_version)
        macros.SSL_CTX_set_mode(self.ctx, C.SSL_MODE_ENABLE_PARTIAL_WRITE
                                | C.SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER)
        macros.SSL_CTX_set_session_cache_mode(self.ctx, C.SSL_SESS_CACHE_BOTH
                                              | C.SSL_SESS_CACHE_NO_INTERNAL)
        lib.SSL_CTX_set_session_id_context(self.ctx, b"engine-test", 11)
        if options:
            lib.SSL_CTX_set_options(self.ctx, options)
        if cert:
            bio = lib.BIO_new_mem_buf(cert, len(cert))
            x = lib.PEM_read_bio_X509(bio, ffi.NULL, ffi.NULL, ffi.NULL)
            lib.BIO_free(bio)
            assert lib.SSL_CTX_use_certificate(self.ctx, x) == 1
            lib.X509_free(x)
            bio = lib.BIO_new_mem_buf(key, len(key))
            k = lib.PEM_read_bio_PrivateKey(bio, ffi.NULL, ffi.NULL, ffi.NULL)
            lib.BIO_free(bio)
            assert lib.SSL_CTX_use_PrivateKey(self.ctx, k) == 1
            lib.EVP_PKEY_free(k)
        if ca:
            store = lib.SSL_CTX_get_cert_store(self.ctx)
            bio = lib.BIO_new_mem_buf(ca, len(ca))
            x = lib.PEM_read_bio_X509(bio, ffi.NULL, ffi.NULL, ffi.NULL)
            lib.BIO_free(bio)
            lib.X509_STORE_add_cert(store, x)
            lib.X509_free(x)

    def __del__(self) -> None:
        if self.ctx is not None:
            lib.SSL_CTX_free(self.ctx)
            self.ctx = None
