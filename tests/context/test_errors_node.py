"""Bad key material fails at creation, with the code Node v20 reports for the same input.

The expected codes were verified with ``node -e "require('tls').createSecureContext({...})"``
(v20.20.2, OpenSSL 3.0.19); :func:`test_codes_match_node` re-runs Node when it is installed.
Where Node has no code (PKCS#12 failures, which it reports by reason only) or raises nothing
(``ca``/``dhparam`` without PEM, a key of another type than the certificate), nodetls's choice is
marked ``None`` in the Node column.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from nodetls._context import SecureContext
from nodetls.errors import ContextOptionError

from .conftest import PASSPHRASE, PFX_PASSPHRASE

BAD_CERT_BODY = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
BAD_KEY_BODY = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"


def scenarios(pki) -> dict[str, tuple[dict, str, str | None]]:
    """name -> (options, nodetls code, Node's code or None when Node reports none)."""
    return {
        "cert not PEM": ({"cert": "garbage", "key": pki.rsa_key},
                         "ERR_OSSL_PEM_NO_START_LINE", "ERR_OSSL_PEM_NO_START_LINE"),
        "cert PEM with a bad body": ({"cert": BAD_CERT_BODY},
                                     "ERR_OSSL_ASN1_WRONG_TAG", "ERR_OSSL_ASN1_WRONG_TAG"),
        "key not PEM": ({"cert": pki.rsa_chain, "key": "garbage"},
                        "ERR_OSSL_UNSUPPORTED", "ERR_OSSL_UNSUPPORTED"),
        "key PEM with a bad body": ({"cert": pki.rsa_chain, "key": BAD_KEY_BODY},
                                    "ERR_OSSL_UNSUPPORTED", "ERR_OSSL_UNSUPPORTED"),
        "wrong passphrase": ({"cert": pki.rsa_chain, "key": pki.rsa_key_encrypted,
                              "passphrase": "nope"}, "ERR_OSSL_BAD_DECRYPT", "ERR_OSSL_BAD_DECRYPT"),
        "wrong passphrase, legacy PEM": ({"cert": pki.rsa_chain,
                                          "key": pki.rsa_key_encrypted_legacy,
                                          "passphrase": "nope"},
                                         "ERR_OSSL_BAD_DECRYPT", "ERR_OSSL_BAD_DECRYPT"),
        "no passphrase": ({"cert": pki.rsa_chain, "key": pki.rsa_key_encrypted},
                          "ERR_OSSL_BAD_DECRYPT", "ERR_OSSL_BAD_DECRYPT"),
        "wrong passphrase in a key object": (
            {"cert": pki.rsa_chain, "passphrase": PASSPHRASE,
             "key": [{"pem": pki.rsa_key_encrypted, "passphrase": "nope"}]},
            "ERR_OSSL_BAD_DECRYPT", "ERR_OSSL_BAD_DECRYPT"),
        "key does not match cert": ({"cert": pki.rsa_chain, "key": pki.other_rsa_key},
                                    "ERR_OSSL_X509_KEY_VALUES_MISMATCH",
                                    "ERR_OSSL_X509_KEY_VALUES_MISMATCH"),
        "EC key for an RSA cert": ({"cert": pki.rsa_chain, "key": pki.ec_key},
                                   "ERR_OSSL_X509_KEY_VALUES_MISMATCH", None),
        "cipher string": ({"ciphers": "NOPE"}, "ERR_SSL_NO_CIPHER_MATCH",
                          "ERR_SSL_NO_CIPHER_MATCH"),
        "TLS 1.3 suite": ({"ciphers": "TLS_NOPE"}, "ERR_SSL_NO_CIPHER_MATCH",
                          "ERR_SSL_NO_CIPHER_MATCH"),
        "ECDH curve": ({"ecdhCurve": "P-256:nope"}, "ERR_CRYPTO_OPERATION_FAILED",
                       "ERR_CRYPTO_OPERATION_FAILED"),
        "CRL not PEM": ({"crl": "garbage"}, "ERR_CRYPTO_OPERATION_FAILED",
                        "ERR_CRYPTO_OPERATION_FAILED"),
        "pfx wrong passphrase": ({"pfx": pki.pfx, "passphrase": "nope"},
                                 "ERR_OSSL_PKCS12_MAC_VERIFY_FAILURE", None),
        "pfx no passphrase": ({"pfx": pki.pfx}, "ERR_OSSL_PKCS12_MAC_VERIFY_FAILURE", None),
        "pfx garbage": ({"pfx": b"garbage"}, "ERR_OSSL_ASN1_NOT_ENOUGH_DATA", None),
        "ca not PEM": ({"ca": "garbage"}, "ERR_OSSL_PEM_NO_START_LINE", None),
        "dhparam not PEM": ({"dhparam": "garbage"}, "ERR_OSSL_UNSUPPORTED", None),
        # Empty bytes are Node's empty Buffer: present (truthy), and refused when loaded.
        "cert and key empty bytes": ({"cert": b"", "key": b""}, "ERR_OSSL_PEM_NO_START_LINE",
                                     "ERR_OSSL_PEM_NO_START_LINE"),
        "key empty bytes": ({"cert": pki.rsa_chain, "key": b""}, "ERR_OSSL_UNSUPPORTED",
                            "ERR_OSSL_UNSUPPORTED"),
        "crl empty bytes": ({"crl": b""}, "ERR_CRYPTO_OPERATION_FAILED",
                            "ERR_CRYPTO_OPERATION_FAILED"),
        "pfx empty bytes": ({"pfx": b""}, "ERR_CRYPTO_OPERATION_FAILED", None),
        "ca empty bytes": ({"ca": b""}, "ERR_OSSL_PEM_NO_START_LINE", None),  # Node: no roots
    }


@pytest.fixture(scope="module")
def all_scenarios(ctx_pki):
    return scenarios(ctx_pki)


@pytest.mark.parametrize("name", [
    "cert not PEM", "cert PEM with a bad body", "key not PEM", "key PEM with a bad body",
    "wrong passphrase", "wrong passphrase, legacy PEM", "no passphrase",
    "wrong passphrase in a key object", "key does not match cert", "EC key for an RSA cert",
    "cipher string", "TLS 1.3 suite", "ECDH curve", "CRL not PEM", "pfx wrong passphrase",
    "pfx no passphrase", "pfx garbage", "ca not PEM", "dhparam not PEM",
    "cert and key empty bytes", "key empty bytes", "crl empty bytes", "pfx empty bytes",
    "ca empty bytes",
])
def test_bad_material_fails_at_creation(all_scenarios, name):
    options, code, _node = all_scenarios[name]
    with pytest.raises(ContextOptionError) as info:
        SecureContext(options)
    err = info.value
    assert err.code == code
    option = err.option.split(".")[1]
    assert option in {"cert", "key", "ciphers", "ecdh_curve", "crl", "pfx", "ca", "dhparam"}
    assert str(err).startswith(err.option + ": ")


def test_messages_are_clear(ctx_pki):
    with pytest.raises(ContextOptionError, match=r"options\.key: cannot decrypt the private key "
                       r"\(wrong passphrase\): error:1C800064:Provider routines::bad decrypt"):
        SecureContext(cert=ctx_pki.rsa_chain, key=ctx_pki.rsa_key_encrypted, passphrase="no")
    with pytest.raises(ContextOptionError, match="encrypted, and no passphrase was given"):
        SecureContext(cert=ctx_pki.rsa_chain, key=ctx_pki.rsa_key_encrypted)
    with pytest.raises(ContextOptionError, match=r"PKCS#12 data \(wrong passphrase\)"):
        SecureContext(pfx=ctx_pki.pfx, passphrase="no")
    with pytest.raises(ContextOptionError, match="EC private key matches no certificate"):
        SecureContext(cert=ctx_pki.rsa_chain, key=ctx_pki.ec_key)


def test_the_right_passphrases_work(ctx_pki):
    assert SecureContext(cert=ctx_pki.rsa_chain, key=ctx_pki.rsa_key_encrypted,
                         passphrase=PASSPHRASE).has_cert
    assert SecureContext(cert=ctx_pki.rsa_chain, key=ctx_pki.rsa_key_encrypted_legacy,
                         passphrase=PASSPHRASE.encode()).has_cert
    assert SecureContext(cert=ctx_pki.rsa_chain, passphrase="unused-default",
                         key=[{"pem": ctx_pki.rsa_key_encrypted, "passphrase": PASSPHRASE}]).has_cert
    assert SecureContext(pfx=ctx_pki.pfx, passphrase=PFX_PASSPHRASE).has_cert
    assert SecureContext(pfx=[{"buf": ctx_pki.pfx, "passphrase": PFX_PASSPHRASE}]).has_cert


def test_key_and_cert_must_come_in_pairs(ctx_pki):
    """Beyond Node (which accepts both and fails at handshake): a lone key or certificate."""
    with pytest.raises(ContextOptionError) as info:
        SecureContext(key=ctx_pki.rsa_key)
    assert info.value.code == "ERR_SSL_NO_CERTIFICATE_ASSIGNED"
    with pytest.raises(ContextOptionError) as info:
        SecureContext(cert=ctx_pki.rsa_chain)
    assert info.value.code == "ERR_SSL_NO_PRIVATE_KEY_ASSIGNED"
    with pytest.raises(ContextOptionError, match="no private key was given for the EC"):
        SecureContext(cert=[ctx_pki.rsa_chain, ctx_pki.ec_chain], key=ctx_pki.rsa_key)


_NODE_SCRIPT = r"""
const tls = require('tls');
const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const out = {};
for (const [name, opts] of Object.entries(cases)) {
  for (const k of Object.keys(opts)) {
    const v = opts[k];
    if (v && v.b64 !== undefined) opts[k] = Buffer.from(v.b64, 'base64');
    if (Array.isArray(v)) opts[k] = v.map((x) => (x && x.pem && x.pem.b64 !== undefined)
      ? { ...x, pem: Buffer.from(x.pem.b64, 'base64') } : x);
  }
  try { tls.createSecureContext(opts); out[name] = 'OK'; }
  catch (e) { out[name] = e.code === undefined ? null : e.code; }
}
process.stdout.write(JSON.stringify(out));
"""


def _jsonable(options: dict) -> dict:
    import base64

    def conv(v):
        if isinstance(v, bytes):
            return {"b64": base64.b64encode(v).decode()}
        if isinstance(v, list):
            return [{k: conv(x) for k, x in i.items()} if isinstance(i, dict) else conv(i)
                    for i in v]
        return v

    return {k: conv(v) for k, v in options.items()}


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_codes_match_node(all_scenarios):
    """Run every scenario through Node's createSecureContext and compare the codes."""
    cases = {name: _jsonable(opts) for name, (opts, _, _) in all_scenarios.items()}
    proc = subprocess.run(["node", "-e", _NODE_SCRIPT], input=json.dumps(cases),
                          capture_output=True, text=True, timeout=60, check=True)
    node = json.loads(proc.stdout)
    for name, (_opts, ours, expected_node) in all_scenarios.items():
        if expected_node is None:
            # Node reports no code (null) or accepts the input ('OK'); nodetls raises with `ours`.
            assert node[name] in (None, "OK"), (name, node[name])
        else:
            assert node[name] == expected_node == ours, (name, node[name], ours)
