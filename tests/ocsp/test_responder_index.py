"""``OcspPKI.index`` writes the dates of an ``openssl ca`` index as openssl reads them.

``openssl ca`` stores a certificate's notAfter as encoded: UTCTime ``YYMMDDHHMMSSZ`` up to 2049,
GeneralizedTime ``YYYYMMDDHHMMSSZ`` from 2050 (RFC 5280), and reads a revocation date as UTCTime
only.  A leaf valid until 2051 written with a two-digit year ("51...") reads as 1951: ``openssl
ca -updatedb`` marks it expired.  Checked with openssl itself (``-updatedb``, then ``-status``).
"""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest

from helpers.peers import require_peer

from .responder import OcspPKI, utc_time


def test_index_dates_read_back_by_openssl_ca(tmp_path: Path) -> None:
    openssl = require_peer("openssl")
    opki = OcspPKI(tmp_path)
    late = opki.leaf("late", not_after=dt.datetime(2051, 6, 1, tzinfo=dt.UTC))
    soon = opki.leaf("soon")  # the usual validity: UTCTime
    gone = opki.leaf("gone")
    index = opki.index("db", good=[late, soon], revoked=[gone])
    rows = [line.split("\t") for line in index.read_text().splitlines()]
    conf = tmp_path / "ca.cnf"
    conf.write_text(f"[ca]\ndefault_ca = c\n[c]\ndatabase = {index}\ndefault_md = sha256\n"
                    f"private_key = {opki.ca.key_path}\ncertificate = {opki.ca.cert_path}\n")
    res = subprocess.run([openssl, "ca", "-config", conf, "-updatedb"], capture_output=True,
                         text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    status = {}
    for b in (late, soon, gone):
        serial = format(b.x509.serial_number, "X")
        serial = serial if len(serial) % 2 == 0 else "0" + serial
        out = subprocess.run([openssl, "ca", "-config", conf, "-status", serial],
                             capture_output=True, text=True, timeout=30)
        status[b.name] = (out.stdout + out.stderr).strip().splitlines()[-1]
    assert status["late"].endswith("=Valid (V)"), status
    assert status["soon"].endswith("=Valid (V)"), status
    assert status["gone"].endswith("=Revoked (R)"), status
    assert [r[1] for r in rows] == [
        "20510601000000Z", *(b.x509.not_valid_after_utc.strftime("%y%m%d%H%M%SZ")
                             for b in (soon, gone))]


def test_revocation_date_outside_utctime_is_refused() -> None:
    assert utc_time(dt.datetime(2049, 12, 31, 23, 59, 59, tzinfo=dt.UTC)) == "491231235959Z"
    with pytest.raises(ValueError):
        utc_time(dt.datetime(2050, 1, 1, tzinfo=dt.UTC))
