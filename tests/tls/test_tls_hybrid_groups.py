"""Post-quantum hybrid key exchange (X25519MLKEM768) through the public API, where the OpenSSL
nodetls runs knows the group (the bundled 3.5 build; not the system's 3.0).

Not a default: ``DEFAULT_ECDH_CURVE`` is ``'X25519:P-256:P-384'``; a user opts in with
``ecdh_curve``.  On the bundled build a server lets go of the key shares (the client's is the
ML-KEM public key, ~6 KiB) once it has made its own (``_openssl/_bundle.py``, ``EDITS``): the
connection must go on as before, through a HelloRetryRequest, data both ways and a resumption.
"""

from __future__ import annotations

import pytest
from tlsutil import connect, echo_server, event, read_until, shut, wait

import nodetls as tls

HYBRID = "X25519MLKEM768"


def _hybrid_known() -> bool:
    try:
        tls.create_secure_context(ecdh_curve=HYBRID)
    except Exception:  # noqa: BLE001 - an OpenSSL without ML-KEM refuses the group list
        return False
    return True


pytestmark = pytest.mark.skipif(not _hybrid_known(), reason=f"this OpenSSL has no {HYBRID}")


@pytest.mark.parametrize("client_groups", [f"{HYBRID}:X25519",
                                           # first key share X25519: HelloRetryRequest
                                           f"X25519:{HYBRID}"])
async def test_a_hybrid_only_server_serves_and_resumes(certs, client_groups):
    server, port = await echo_server({**certs.server.options, "ecdh_curve": HYBRID,
                                      "min_version": "TLSv1.3"})
    try:
        session = None
        for attempt in range(2):
            opts = {"ca": certs.root.cert_pem, "servername": "localhost",
                    "ecdh_curve": client_groups}
            if session is not None:
                opts["session"] = session
            sock = tls.connect(port, {"host": "127.0.0.1", **opts})
            ticket = event(sock, "session")
            await wait(sock)
            assert sock.is_session_reused() is (attempt == 1)
            # (no ECDH key to describe: the server's share is a KEM ciphertext)
            assert sock.get_ephemeral_key_info() == {}
            message = b"after the key exchange, %d" % attempt
            sock.write(message)
            assert await read_until(sock, len(message)) == message
            if session is None:
                session = await wait(ticket)
            sock.destroy()
    finally:
        await shut(server)


async def test_a_server_offering_both_takes_the_hybrid_first(certs):
    server, port = await echo_server({**certs.server.options,
                                      "ecdh_curve": f"{HYBRID}:X25519"})
    try:
        hybrid = await connect(port, ca=certs.root.cert_pem, servername="localhost",
                               ecdh_curve=f"{HYBRID}:X25519")
        classic = await connect(port, ca=certs.root.cert_pem, servername="localhost")
        assert hybrid.get_ephemeral_key_info() == {}
        assert classic.get_ephemeral_key_info() == {"type": "ECDH", "name": "X25519",
                                                    "size": 253}
        for sock in (hybrid, classic):
            sock.write(b"ping")
            assert await read_until(sock, 4) == b"ping"
            sock.destroy()
    finally:
        await shut(server)
