"""The OpenSSL binding: finding libssl (``NODETLS_LIBSSL``), the version floor, and the error
queue turned into records and Node-coded ``TLSError``s (``nodetls._openssl``)."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import textwrap

import pytest

import nodetls
from nodetls import _openssl
from nodetls._openssl import OpenSSLLoadError, ffi, lib
from nodetls._openssl._loader import MIN_VERSION
from nodetls._openssl.errors import OpenSSLErrorRecord, consume_errors, tls_error

_IMPORT = textwrap.dedent("""
    import json
    try:
        import nodetls
        from nodetls import _openssl
    except BaseException as exc:
        print(json.dumps({"ok": False, "type": type(exc).__name__, "message": str(exc),
                          "import_error": isinstance(exc, ImportError)}))
    else:
        print(json.dumps({"ok": True, "path": _openssl.LIBSSL_PATH,
                          "version": _openssl.OPENSSL_VERSION_NUMBER}))
""")


def import_with(**env: str) -> dict:
    full = {k: v for k, v in os.environ.items()
            if k not in ("NODETLS_LIBSSL", "NODETLS_LIBCRYPTO")}
    full.update(env)
    res = subprocess.run([sys.executable, "-c", _IMPORT], capture_output=True, text=True,
                         env=full, timeout=30)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.splitlines()[-1])


def test_missing_libssl_fails_the_import_naming_the_path():
    out = import_with(NODETLS_LIBSSL="/nonexistent/libssl.so")
    assert out["ok"] is False
    assert out["type"] == "OpenSSLLoadError"
    assert out["import_error"] is True
    assert "/nonexistent/libssl.so" in out["message"]
    assert "NODETLS_LIBSSL" in out["message"]


def test_nodetls_libssl_pointing_at_the_real_library_is_used(tmp_path):
    # A symlink with a name of its own: LIBSSL_PATH shows the variable was honoured, not a
    # fallback to the library Python's ssl module uses.
    link = tmp_path / "libssl-under-test.so"
    link.symlink_to(os.path.realpath(_openssl.LIBSSL_PATH))
    out = import_with(NODETLS_LIBSSL=str(link))
    assert out["ok"] is True, out
    assert out["path"] == str(link)
    # (A binding with its own OpenSSL may be another release than the shared library.)
    assert out["version"] == (ssl.OPENSSL_VERSION_NUMBER if _openssl.STATIC
                              else _openssl.OPENSSL_VERSION_NUMBER)


def test_load_error_is_an_import_error():
    assert issubclass(OpenSSLLoadError, ImportError)


def test_loaded_openssl_is_3_or_newer():
    assert MIN_VERSION == 0x30000000
    assert _openssl.OPENSSL_VERSION_NUMBER >= 0x30000000
    assert lib.OpenSSL_version_num() == _openssl.OPENSSL_VERSION_NUMBER
    assert _openssl.OPENSSL_VERSION.startswith("OpenSSL 3.")
    assert os.path.basename(_openssl.LIBSSL_PATH).startswith("libssl")


def test_feature_probe():
    assert _openssl.has("SSL_CTX_new") is True
    assert _openssl.has("SSL_no_such_function") is False


def test_declared_functions_are_resolved_at_import():
    # Eager resolution (DESIGN.md): cffi caches a resolved function in the lib's __dict__, so the
    # free functions a __del__ may call never take cffi's lazy-resolution lock later.
    resolved = vars(lib)
    for name in ("SSL_CTX_free", "SSL_free", "SSL_SESSION_free", "BIO_free", "X509_free"):
        assert name in resolved, name


@pytest.fixture
def ssl_ctx():
    lib.ERR_clear_error()
    ctx = lib.SSL_CTX_new(lib.TLS_method())
    assert ctx != ffi.NULL
    yield ctx
    lib.SSL_CTX_free(ctx)
    lib.ERR_clear_error()


def test_error_queue_becomes_records_and_a_node_coded_tls_error(ssl_ctx):
    assert consume_errors(ffi, lib) == []
    assert lib.SSL_CTX_set_cipher_list(ssl_ctx, b"nonsense") == 0
    records = consume_errors(ffi, lib)
    assert records, "OpenSSL queued an error"
    assert all(isinstance(r, OpenSSLErrorRecord) for r in records)
    last = records[-1]
    assert last.reason == "no cipher match"
    assert last.library == "SSL routines"
    assert last.code != 0
    assert last.text.startswith(f"error:{last.code:08X}:SSL routines:")
    assert last.text.endswith(":no cipher match")
    assert consume_errors(ffi, lib) == [], "the queue was drained"

    err = tls_error(records)
    assert isinstance(err, nodetls.errors.TLSError)
    assert err.code == "ERR_SSL_NO_CIPHER_MATCH"
    assert err.library == "SSL routines"
    assert err.reason == "no cipher match"
    assert err.openssl_errors == records
    assert str(err) == last.text


def test_tls_error_without_records_and_with_an_explicit_code():
    err = tls_error([], "nothing queued")
    assert err.code == "ERR_SSL_UNKNOWN" and str(err) == "nothing queued"
    assert err.openssl_errors == []
    assert tls_error([], code="ERR_SSL_X").code == "ERR_SSL_X"


def test_the_same_failure_through_the_public_api():
    with pytest.raises(nodetls.errors.TLSError) as info:
        nodetls.create_secure_context(ciphers="nonsense")
    assert info.value.code == "ERR_SSL_NO_CIPHER_MATCH"
    assert consume_errors(ffi, lib) == []
