"""The development CA kept on disk against the calendar: a CA past its end (825 days after
``nodetls devcert`` or ``nodetls serve`` first made it) or not valid yet is made anew, and no leaf
outlives its CA.  Fixed dates: these hold at any time of day and on any date."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from helpers.peers import require_peer, run_process
from nodetls import devcert

T = 30.0
UTC = dt.UTC


def _stored_ca(directory: Path, not_before: dt.datetime, not_after: dt.datetime) -> bytes:
    """A CA as ``dev_ca`` writes one, with the given validity, in ``directory``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "nodetls development CA")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(not_before).not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    kp = devcert.KeyPair(cert, key)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "ca-key.pem").write_bytes(kp.key_pem)
    (directory / "ca-cert.pem").write_bytes(kp.cert_pem)
    return kp.cert_pem


@pytest.mark.parametrize("validity", [
    (dt.datetime(2020, 1, 1, tzinfo=UTC), dt.datetime(2022, 4, 5, 0, 5, tzinfo=UTC)),  # expired
    (dt.datetime(2090, 1, 1, tzinfo=UTC), dt.datetime(2092, 4, 5, tzinfo=UTC)),  # not yet valid
], ids=["expired", "not-yet-valid"])
def test_a_stored_ca_that_is_not_valid_now_is_made_anew(
        tmp_path: Path, validity: tuple[dt.datetime, dt.datetime]) -> None:
    old = _stored_ca(tmp_path, *validity)
    ca, created = devcert.dev_ca(tmp_path)
    now = dt.datetime.now(UTC)
    assert created
    assert ca.cert.not_valid_before_utc <= now < ca.cert.not_valid_after_utc
    assert (tmp_path / "ca-cert.pem").read_bytes() == ca.cert_pem != old
    assert (tmp_path / "ca-key.pem").read_bytes() == ca.key_pem
    assert (tmp_path / "ca-key.pem").stat().st_mode & 0o077 == 0
    # and a valid one is kept
    again, created = devcert.dev_ca(tmp_path)
    assert not created and again.cert_pem == ca.cert_pem


def test_a_leaf_never_outlives_its_ca(tmp_path: Path) -> None:
    now = dt.datetime.now(UTC).replace(microsecond=0)
    end = now + dt.timedelta(days=3)
    _stored_ca(tmp_path, now - dt.timedelta(days=822), end)
    ca, created = devcert.dev_ca(tmp_path)
    assert not created and ca.cert.not_valid_after_utc == end
    leaf = devcert.issue(ca, ["localhost"], days=30)
    assert leaf.cert.not_valid_after_utc == end
    short = devcert.issue(ca, ["localhost"], days=1)  # within the CA's life: as asked
    assert short.cert.not_valid_after_utc < end


async def test_devcert_replaces_an_expired_ca_and_its_certificate_verifies(tmp_path: Path) -> None:
    openssl = require_peer("openssl")
    old = _stored_ca(tmp_path, dt.datetime(2020, 1, 1, tzinfo=UTC),
                     dt.datetime(2022, 4, 5, tzinfo=UTC))
    res = await run_process([sys.executable, "-m", "nodetls", "devcert", "app.test",
                             "--dir", tmp_path], timeout=T)
    assert res.rc == 0, res.stderr
    assert "created the development CA" in res.stderr
    assert (tmp_path / "ca-cert.pem").read_bytes() != old
    check = await run_process([openssl, "verify", "-CAfile", tmp_path / "ca-cert.pem",
                               tmp_path / "app.test-cert.pem"], timeout=T)
    assert check.rc == 0 and ": OK" in check.stdout, check.stdout + check.stderr
