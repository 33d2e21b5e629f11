"""``check_server_identity`` == Node's ``tls.checkServerIdentity`` on seeded cases
(``identity_gen``: wildcards in every position, dots, case, IDNA and unicode labels, lone
surrogates, IP literals in every textual form, multi-entry and quoted SAN strings, CN forms),
all run in one ``node`` process and compared field by field."""

from __future__ import annotations

from collections import Counter

from helpers.peers import require_peer

from .identity_diff import divergences, ours
from .identity_gen import cases

FIRST, COUNT = 0, 3000


async def test_seeded_identity_matches_node() -> None:
    require_peer("node")
    found = await divergences(FIRST, COUNT)
    assert not found, "\n".join(map(repr, found[:20]))


def test_generator_reaches_every_outcome() -> None:
    kinds: Counter[str] = Counter()
    for _seed, host, cert in cases(FIRST, COUNT):
        got = ours(host, cert)
        if got.get("ok"):
            kinds["match"] += 1
        elif "threw" in got:
            kinds["throws " + got["threw"]] += 1
        else:
            kinds[got["reason"].split(" ", 1)[0].rstrip(":")] += 1
    assert set(kinds) == {"match", "throws ERR_TLS_CERT_ALTNAME_FORMAT", "Host", "IP", "Cert"}
    assert min(kinds.values()) > 50, kinds
