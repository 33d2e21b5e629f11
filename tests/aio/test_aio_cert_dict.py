"""``ssl_object.getpeercert()`` dates and serial are ``ssl``'s own strings at every hour and day.

The dates come from OpenSSL's ``ASN1_TIME_print`` in ``ssl``: the day padded with a space, the
hour with a zero. A formatter that got the hour wrong passed for years of runs made between
10:00 and 23:59 UTC (the test certificates are issued "now"); these dates are fixed, so the
cases below fail at any time of day if the format is wrong. The serial number is whole bytes
(``i2a_ASN1_INTEGER``): a random serial with an odd number of hex digits needs a leading zero.
"""

from __future__ import annotations

import datetime as dt
import ssl
from pathlib import Path

import pytest

from helpers.certs import PKI
from nodetls.aio._sslobject import ssl_style_cert

UTC = dt.UTC

CASES = [
    # (not_before, not_after, serial): serials with an odd and an even number of hex digits
    (dt.datetime(2025, 3, 4, 0, 5, 6, tzinfo=UTC), dt.datetime(2031, 3, 10, 0, 34, 52, tzinfo=UTC),
     0x073C5D1CF63A7A0AF7C6A02588EC4955A5F2085E),
    (dt.datetime(2025, 1, 1, 9, 0, 0, tzinfo=UTC), dt.datetime(2031, 12, 31, 23, 59, 59, tzinfo=UTC),
     0x5D1CF63A7A0AF7C6A02588EC4955A5F2085E),
    (dt.datetime(2025, 11, 20, 10, 1, 2, tzinfo=UTC), dt.datetime(2032, 6, 1, 1, 2, 3, tzinfo=UTC),
     0x1),
]


@pytest.mark.parametrize("not_before,not_after,serial", CASES)
def test_dates_and_serial_are_ssl_s_own(tmp_path: Path, not_before: dt.datetime,
                                        not_after: dt.datetime, serial: int) -> None:
    pki = PKI(tmp_path)
    ca = pki.make_ca("dates CA")
    leaf = pki.make_leaf("localhost", issuer=ca, not_before=not_before, not_after=not_after,
                         serial=serial)
    ours = ssl_style_cert(leaf.x509)
    theirs = ssl._ssl._test_decode_cert(str(leaf.cert_path))  # type: ignore[attr-defined]
    assert ours["notBefore"] == theirs["notBefore"]
    assert ours["notAfter"] == theirs["notAfter"]
    assert ours["subject"] == theirs["subject"]
    assert ours["issuer"] == theirs["issuer"]
    assert ours["serialNumber"] == theirs["serialNumber"]
