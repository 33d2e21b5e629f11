"""What ``nodetls connect`` reports about a connection: a plain dict (the ``--json`` form) and
its rendering for people."""

from __future__ import annotations

from typing import Any

from ._output import Output


def _name(part: Any) -> str:
    """A certificate dict's subject/issuer (``{'CN': 'x', 'O': ['a', 'b']}``) as ``CN=x, O=a``."""
    if not isinstance(part, dict):
        return str(part or "")
    items = []
    for key, value in part.items():
        for v in value if isinstance(value, list) else [value]:
            items.append(f"{key}={v}")
    return ", ".join(items)


def chain_of(sock: Any) -> list[dict[str, Any]]:
    """The peer's chain, leaf first, from ``get_peer_certificate(True)`` (each dict's
    ``issuerCertificate``; a self-signed root is its own issuer)."""
    chain: list[dict[str, Any]] = []
    cert = sock.get_peer_certificate(True)
    seen: set[int] = set()
    while cert and id(cert) not in seen:
        seen.add(id(cert))
        chain.append({
            "subject": _name(cert.get("subject")),
            "issuer": _name(cert.get("issuer")),
            "subjectaltname": cert.get("subjectaltname"),
            "valid_from": cert.get("valid_from"),
            "valid_to": cert.get("valid_to"),
            "fingerprint256": cert.get("fingerprint256"),
        })
        issuer = cert.get("issuerCertificate")
        cert = issuer if isinstance(issuer, dict) and issuer is not cert else None
    return chain


def _ocsp(sock: Any) -> dict[str, Any]:
    try:
        from ..ocsp import inspect_staple
    except ImportError:  # pragma: no cover - nodetls.ocsp needs its optional dependencies
        staple = getattr(sock, "_ocsp_staple", None)
        return {"stapled": bool(staple), "status": None, "error": None}
    info = inspect_staple(sock)
    err = info.get("error")
    return {"stapled": info["stapled"], "status": info["status"],
            "this_update": info.get("this_update"), "next_update": info.get("next_update"),
            "error": None if err is None else {"code": getattr(err, "code", None),
                                               "message": str(err)}}


def connection_report(sock: Any, *, host: str, port: int, servername: str | None,
                      resumed: bool | None, offered_session: bool,
                      chain: list[dict[str, Any]]) -> dict[str, Any]:
    """Everything ``nodetls connect`` shows, as JSON-able data."""
    cipher = sock.get_cipher() or {}
    kx = sock.get_ephemeral_key_info() or {}
    err = sock.authorization_error
    return {
        "host": host, "port": port,
        "protocol": sock.get_protocol(),
        "cipher": cipher.get("standardName") or cipher.get("name"),
        "key_exchange": kx.get("name") or kx.get("type"),
        "key_exchange_bits": kx.get("size"),
        "alpn": sock.alpn_protocol or None,
        "servername": servername,
        "session_reused": bool(sock.is_session_reused()) if offered_session else None,
        "resumes": resumed,
        "verification": {"authorized": bool(sock.authorized),
                         "error": None if err is None else {"code": getattr(err, "code", str(err)),
                                                            "message": str(err)}},
        "ocsp": _ocsp(sock),
        "chain": chain,
    }


def render_report(out: Output, r: dict[str, Any], *, insecure: bool, require_ocsp: bool) -> None:
    """The report as tables on standard error."""
    v = r["verification"]
    verify = ("ok", "good") if v["authorized"] else (
        f"FAILED: {v['error']['message'] if v['error'] else 'not authorized'}"
        + (" (--insecure: going on)" if insecure else ""), "warn" if insecure else "bad")
    o = r["ocsp"]
    if not o["stapled"]:
        ocsp = ("none stapled", "bad" if require_ocsp else "")
    elif o.get("error"):
        ocsp = (f"{o['status'] or 'invalid'}: {o['error']['message']}", "bad")
    else:
        ocsp = (f"{o['status']} (this update {o.get('this_update')}, next update "
                f"{o.get('next_update')})", "good" if o["status"] == "good" else "bad")
    resumes = {None: ("not checked (no session)", ""), True: ("yes", "good"),
               False: ("no", "warn")}[r["resumes"]]
    rows: list[tuple[str, Any, str]] = [
        ("protocol", r["protocol"], ""),
        ("cipher", r["cipher"], ""),
        ("key exchange", f"{r['key_exchange']} ({r['key_exchange_bits']} bits)"
         if r["key_exchange"] else "-", ""),
        ("ALPN", r["alpn"] or "none", ""),
        ("SNI", r["servername"] or "none sent", ""),
        ("verification", *verify),
        ("OCSP staple", *ocsp),
        ("resumption", *resumes),
    ]
    if r["session_reused"] is not None:
        rows.append(("--sess-in", "resumed" if r["session_reused"] else "not resumed",
                     "good" if r["session_reused"] else "warn"))
    out.table(f"{r['host']}:{r['port']}", rows)
    for depth, cert in enumerate(r["chain"]):
        out.table(f"certificate {depth}", [
            ("subject", cert["subject"], ""),
            ("issuer", cert["issuer"], ""),
            ("names", cert["subjectaltname"] or "-", ""),
            ("valid", f"{cert['valid_from']} .. {cert['valid_to']}", ""),
            ("SHA-256", cert["fingerprint256"], ""),
        ])
