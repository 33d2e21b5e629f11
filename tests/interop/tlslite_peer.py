"""A tlslite-ng peer for ``test_interop_tlslite.py``, run as a child process.

tlslite-ng is an independent, pure-Python TLS stack, so it exercises nodetls against code that
shares nothing with OpenSSL.  Every run prints one JSON line (the scenario's observations) on
stdout; a server first prints ``LISTENING <port>``.  Every socket has a timeout.

    tlslite_peer.py client PORT SCENARIO VERSION
    tlslite_peer.py server SCENARIO VERSION CERT KEY

``VERSION`` is ``TLSv1.2`` or ``TLSv1.3``.  Client scenarios talk to an echo server:
``echo``, ``keyupdate`` (a KeyUpdate with update_requested between two writes),
``padding`` (every TLS 1.3 record padded), ``ccs`` (no key share offered: after the server's
HelloRetryRequest, the middlebox-compatibility CCS and a second ClientHello), ``resume`` (a second connection offering the first one's session),
``halfclose`` (the client's close_notify, then it reads the server's answer), ``alerts``
(a warning-level unknown alert in TLS 1.2: the server must go on), ``reneg-scsv`` (TLS 1.2: a
renegotiation ClientHello with the renegotiation SCSV, which the server must refuse with a fatal
alert that reaches the client).
Server scenarios: ``echo`` (echo until close_notify), ``keyupdate`` (the server asks for a
KeyUpdate after the first chunk), ``resume`` (two connections, tickets on).
"""

from __future__ import annotations

import json
import os
import socket
import sys

from tlslite import HandshakeSettings, TLSConnection, X509CertChain, parsePEMKey
from tlslite.constants import (
    AlertDescription,
    AlertLevel,
    CipherSuite,
    GroupName,
    KeyUpdateMessageType,
    SignatureScheme,
)
from tlslite.errors import TLSAbruptCloseError, TLSRemoteAlert
from tlslite.extensions import SignatureAlgorithmsExtension, SupportedGroupsExtension
from tlslite.messages import Alert, ClientHello

TIMEOUT = 15.0
VERSIONS = {"TLSv1.2": (3, 3), "TLSv1.3": (3, 4)}
NAMES = {(3, 3): "TLSv1.2", (3, 4): "TLSv1.3"}


def settings_for(version: str) -> HandshakeSettings:
    s = HandshakeSettings()
    s.minVersion = s.maxVersion = VERSIONS[version]
    return s


def count_keyupdates(conn: TLSConnection) -> list[int]:
    """Count the KeyUpdate messages tlslite-ng receives on ``conn`` (by message type)."""
    seen: list[int] = []
    original = conn._handle_keyupdate_request

    def wrapper(request):  # type: ignore[no-untyped-def]
        seen.append(int(request.message_type))
        yield from original(request)

    conn._handle_keyupdate_request = wrapper  # type: ignore[method-assign]
    return seen


def read_exactly(conn: TLSConnection, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = conn.read(max=n - len(buf), min=1)
        if not chunk:
            break
        buf += chunk
    return bytes(buf)


def read_to_close(conn: TLSConnection) -> bytes:
    buf = bytearray()
    while True:
        chunk = conn.read()
        if not chunk:
            return bytes(buf)
        buf += chunk


def send_alert(conn: TLSConnection, level: int, description: int) -> None:
    for _ in conn._sendMsg(Alert().create(description, level)):
        pass


def client_connect(port: int, settings: HandshakeSettings, session=None):  # type: ignore[no-untyped-def]
    sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    sock.settimeout(TIMEOUT)
    conn = TLSConnection(sock)
    conn.handshakeClientCert(settings=settings, serverName="localhost", session=session)
    return conn


def run_client(port: int, scenario: str, version: str) -> dict[str, object]:
    settings = settings_for(version)
    out: dict[str, object] = {}
    if scenario == "ccs":
        # no key share: the server must ask for one (HelloRetryRequest), and tlslite-ng then
        # sends the middlebox-compatibility CCS before its second ClientHello
        settings.keyShares = []
    if scenario == "padding":
        # pad every record to the largest size allowed (RFC 8446 section 5.4)
        settings.padding_cb = lambda size, content_type, max_size: max_size - size
    conn = client_connect(port, settings)
    seen = count_keyupdates(conn)
    out["version"] = NAMES.get(tuple(conn.version), str(conn.version))
    out["cipher"] = conn.getCipherName()
    if scenario in ("echo", "padding", "ccs"):
        payload = os.urandom(20000)
        conn.write(payload)
        out["echo_ok"] = read_exactly(conn, len(payload)) == payload
        if scenario == "ccs":
            out["hrr_ccs_sent"] = bool(conn._ccs_sent)
        conn.close()
    elif scenario == "keyupdate":
        first = os.urandom(3000)
        conn.write(first)
        ok1 = read_exactly(conn, len(first)) == first
        for _ in conn.send_keyupdate_request(KeyUpdateMessageType.update_requested):
            pass
        second = os.urandom(40000)
        conn.write(second)
        ok2 = read_exactly(conn, len(second)) == second
        # a second round: keys move again in both directions
        for _ in conn.send_keyupdate_request(KeyUpdateMessageType.update_requested):
            pass
        third = b"after the second key update"
        conn.write(third)
        ok3 = read_exactly(conn, len(third)) == third
        out.update(echo_ok=[ok1, ok2, ok3], keyupdates_received=seen)
        conn.close()
    elif scenario == "resume":
        conn.write(b"x")
        read_exactly(conn, 1)  # the tickets come before the echo
        session = conn.session
        out["tickets"] = len(conn.tickets) if version == "TLSv1.3" else len(conn.tls_1_0_tickets)
        conn.close()
        again = client_connect(port, settings_for(version), session=session)
        again.write(b"y")
        out["second_echo_ok"] = read_exactly(again, 1) == b"y"
        out["resumed"] = bool(again.resumed)
        again.close()
    elif scenario == "halfclose":
        conn.write(b"request")
        send_alert(conn, AlertLevel.warning, AlertDescription.close_notify)
        out["answer"] = read_to_close(conn).decode()
        conn.sock.close()
    elif scenario == "reneg-scsv":
        # a renegotiation ClientHello carrying the renegotiation SCSV, which RFC 5746 forbids
        # (OpenSSL: fatal handshake_failure alert, "scsv received when renegotiating")
        conn.write(b"ping")
        first = read_exactly(conn, 4)
        hello = ClientHello().create(
            (3, 3), bytearray(os.urandom(32)), bytearray(b""),
            [CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
             CipherSuite.TLS_EMPTY_RENEGOTIATION_INFO_SCSV],
            extensions=[SupportedGroupsExtension().create([GroupName.secp256r1]),
                        SignatureAlgorithmsExtension().create(
                            [SignatureScheme.rsa_pss_rsae_sha256,
                             SignatureScheme.rsa_pkcs1_sha256])])
        for _ in conn._sendMsg(hello):
            pass
        out["echo"] = first.decode()
        try:
            conn.read()
            out["outcome"] = "no alert"
        except TLSRemoteAlert as alert:
            out["outcome"] = f"alert {AlertLevel.toStr(alert.level)} " \
                f"{AlertDescription.toStr(alert.description)}"
        except TLSAbruptCloseError:
            out["outcome"] = "closed without alert"
        conn.sock.close()
    elif scenario == "alerts":
        conn.write(b"one")
        first = read_exactly(conn, 3)
        # an unknown warning alert, then data: a TLS 1.2 server goes on (OpenSSL ignores it)
        send_alert(conn, AlertLevel.warning, 250)
        conn.write(b"two")
        out["echo"] = (first + read_exactly(conn, 3)).decode()
        conn.close()
    else:
        raise SystemExit(f"unknown client scenario {scenario!r}")
    return out


def run_server(scenario: str, version: str, cert: str, key: str) -> dict[str, object]:
    with open(cert) as f:
        chain = X509CertChain()
        chain.parsePemList(f.read())
    with open(key) as f:
        private_key = parsePEMKey(f.read(), private=True)
    settings = settings_for(version)
    if scenario == "resume":
        settings.ticketKeys = [bytearray(os.urandom(32))]
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(TIMEOUT)
    print("LISTENING", listener.getsockname()[1], flush=True)
    out: dict[str, object] = {"resumed": []}
    for _ in range(2 if scenario == "resume" else 1):
        sock, _addr = listener.accept()
        sock.settimeout(TIMEOUT)
        conn = TLSConnection(sock)
        conn.handshakeServer(certChain=chain, privateKey=private_key, settings=settings)
        seen = count_keyupdates(conn)
        out["version"] = NAMES.get(tuple(conn.version), str(conn.version))
        out["resumed"].append(bool(conn.resumed))  # type: ignore[attr-defined]
        got = bytearray()
        asked = False
        while True:
            chunk = conn.read()
            if not chunk:
                break
            got += chunk
            if scenario == "keyupdate" and not asked:
                # ask the client to update its keys, then echo under the new ones
                for _r in conn.send_keyupdate_request(KeyUpdateMessageType.update_requested):
                    pass
                asked = True
            conn.write(chunk)
        out["received"] = len(got)
        out["keyupdates_received"] = seen
        conn.close()
    listener.close()
    return out


def main() -> None:
    role = sys.argv[1]
    if role == "client":
        result = run_client(int(sys.argv[2]), sys.argv[3], sys.argv[4])
    else:
        result = run_server(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
