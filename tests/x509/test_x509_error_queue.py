"""The certificate readers leave OpenSSL's error queue as they found it, on OpenSSL 3.0 too.

Found by the ``x509_der`` fuzz harness under atheris (``NODETLS_PURE=1``: the system's OpenSSL
3.0.19): a certificate whose CRL distribution point has a relative name holding a UTF8String
that is not UTF-8. OpenSSL's extension cache (``X509_check_ca``, ``X509_cmp``,
``X509_check_issued`` run it) finds the certificate invalid and queues ``invalid utf8string``.
The readers dropped what they queued with ``ERR_set_mark``/``ERR_pop_to_mark``, but
``ERR_set_mark`` cannot mark an empty queue, and 3.0's extension cache, run again on a second
copy of the certificate (``getPeerCertificate(true)`` with the peer's chain) while that error
is queued, sets a mark it never clears: ``ERR_pop_to_mark`` stopped there and the error stayed,
to be blamed on the thread's next TLS operation. OpenSSL 3.5 clears its mark; nodetls now
empties a queue that was empty when it started.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nodetls._openssl import lib
from nodetls._x509 import certificate_to_dict, identity_fields
from nodetls._x509_ssl import ssl_dict

from .gen import build, ext, name, oid, seq, tlv

ROOT = Path(__file__).resolve().parents[2]
_NAME = name([("2.5.4.3", 12, b"localhost")])
#: distributionPoint [0] { nameRelativeToCRLIssuer [1] { CN = UTF8String 'c\x95l' } }
_DP = seq(tlv(0xA0, tlv(0xA1, seq(oid("2.5.4.3"), tlv(0x0C, b"c\x95l")))))
DER = build(issuer=_NAME, subject=_NAME, extensions=[ext("2.5.29.31", seq(_DP))])


def _readers() -> None:
    certificate_to_dict(DER)
    certificate_to_dict(DER, detailed=True, issuer_chain=(DER,), trusted=(DER,))
    ssl_dict(DER)
    identity_fields(DER)


def test_the_readers_leave_an_empty_queue_empty() -> None:
    lib.ERR_clear_error()
    _readers()
    assert lib.ERR_peek_error() == 0


_CHILD = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
from nodetls._openssl import ffi, lib
from tests.x509.test_x509_error_queue import _readers
_readers()
print(ffi.string(lib.OpenSSL_version(0)).decode(), lib.ERR_peek_error())
"""


def test_the_readers_leave_an_empty_queue_empty_on_the_systems_openssl() -> None:
    # NODETLS_PURE=1 loads the system's OpenSSL (3.0 here, Node v20's line), where the
    # extension cache leaves its mark behind.
    env = {**os.environ, "NODETLS_PURE": "1"}
    out = subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, text=True,
                         env=env, timeout=60, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    version, _, err = out.stdout.strip().rpartition(" ")
    if not version.startswith("OpenSSL 3."):
        pytest.skip(f"pure mode loads {version!r}")
    assert err == "0", f"{version}: error {int(err):#x} left on the queue"
