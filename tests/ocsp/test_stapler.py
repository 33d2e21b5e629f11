"""nodetls.ocsp.Stapler against a real responder (``openssl ocsp -index ... -port``) and loopback
HTTP servers answering badly. Each case asserts what the server stapled (seen by a real client
asking for the status) and what ``stapler.status()`` says."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging

import pytest

import nodetls as tls
from helpers.peers import free_port
from nodetls.ocsp import OCSPError, Stapler

from .responder import (
    CannedResponder,
    OcspPKI,
    build_response,
    now,
    openssl_responder,
    stapled,
    status_of,
)

pytestmark = pytest.mark.interop

TIMEOUT = 15.0


@pytest.fixture
def opki(tmp_path):
    return OcspPKI(tmp_path)


@pytest.fixture
async def stapler_factory():
    made: list[Stapler] = []

    def make(**kw):
        st = Stapler(**kw)
        made.append(st)
        return st

    yield make
    for st in made:
        await st.close()


async def serve(bundle, stapler, *, contexts=()):
    """A TLS server for ``bundle`` using ``stapler`` (prefetch awaited), listening on loopback."""
    server = tls.create_server(bundle.options, lambda s: s.end(b"hi"))
    for name, ctx in contexts:
        server.add_context(name, ctx)
    await asyncio.wait_for(server.use_ocsp_stapler(stapler), TIMEOUT)
    server.listen(0, "127.0.0.1")
    await asyncio.wait_for(server, TIMEOUT)
    return server, server.address()["port"]


def next_event(emitter, name):
    fut = asyncio.get_running_loop().create_future()

    def on(*args):
        if not fut.done():
            fut.set_result(args)

    emitter.once(name, on)
    return fut


async def test_good_response_stapled_from_the_first_connection(opki, stapler_factory):
    leaf = opki.leaf("good")
    fetched = []
    async with openssl_responder(opki, opki.index("i", good=[leaf])):
        st = stapler_factory()
        st.on("fetched", lambda cert, status: fetched.append((cert, status)))
        server, port = await serve(leaf, st)
        try:
            der = await stapled(port, leaf.ca_pem)
            assert status_of(der) == "good"
            s = st.status(leaf.x509)
            assert s["status"] == "good" and s["error"] is None
            assert s["this_update"] <= now() + dt.timedelta(seconds=5) < s["next_update"]
            assert s["fetched_at"] is not None
            assert [c for c, _ in fetched] == [leaf.x509] and fetched[0][1]["status"] == "good"
            # The client's own check accepts it.
            sock = tls.connect(port, {"host": "127.0.0.1", "servername": "localhost",
                                      "ca": leaf.ca_pem, "ocsp": "require"})
            await asyncio.wait_for(sock, TIMEOUT)
            sock.destroy()
        finally:
            server.close()


async def test_revoked_response_is_stapled_and_reported(opki, stapler_factory, caplog):
    leaf = opki.leaf("revoked")
    async with openssl_responder(opki, opki.index("i", revoked=[leaf])):
        st = stapler_factory()
        revoked = next_event(st, "revoked")
        with caplog.at_level(logging.INFO, logger="nodetls"):
            server, port = await serve(leaf, st)
        try:
            cert, status = await asyncio.wait_for(revoked, TIMEOUT)
            assert cert == leaf.x509 and status["status"] == "revoked"
            assert status_of(await stapled(port, leaf.ca_pem)) == "revoked"
            assert st.status(leaf.x509)["status"] == "revoked"
            assert any("REVOKED" in r.getMessage() and r.levelno == logging.ERROR
                       for r in caplog.records)
            sock = tls.connect(port, {"host": "127.0.0.1", "servername": "localhost",
                                      "ca": leaf.ca_pem, "ocsp": "require"})
            with pytest.raises(OCSPError) as info:
                await asyncio.wait_for(sock, TIMEOUT)
            assert info.value.code == "ERR_TLS_OCSP_REVOKED"
        finally:
            server.close()


async def test_every_certificate_of_the_server_and_its_contexts(opki, stapler_factory):
    main, other = opki.leaf("main"), opki.leaf("other")
    ctx = tls.create_secure_context(other.options)
    async with openssl_responder(opki, opki.index("i", good=[main], revoked=[other])):
        st = stapler_factory()
        server, port = await serve(main, st, contexts=[("other.test", ctx)])
        try:
            assert st.status(main.x509)["status"] == "good"
            assert st.status(other.x509)["status"] == "revoked"
            assert status_of(await stapled(port, main.ca_pem)) == "good"
            assert status_of(await stapled(port, main.ca_pem, servername="other.test",
                                           check_server_identity=lambda *_: None)) == "revoked"
        finally:
            server.close()


async def test_context_added_later_is_prefetched(opki, stapler_factory):
    main, late = opki.leaf("main"), opki.leaf("late")
    async with openssl_responder(opki, opki.index("i", good=[main, late])):
        st = stapler_factory()
        server, port = await serve(main, st)
        try:
            fetched = next_event(st, "fetched")
            server.add_context("late.test", late.options)
            cert, status = await asyncio.wait_for(fetched, TIMEOUT)
            assert cert == late.x509 and status["status"] == "good"
            assert status_of(await stapled(port, main.ca_pem, servername="late.test",
                                           check_server_identity=lambda *_: None)) == "good"
        finally:
            server.close()


async def test_responder_down_at_start_then_up(opki, stapler_factory):
    leaf = opki.leaf("down")
    st = stapler_factory()
    errors = []
    st.on("error", errors.append)
    server, port = await serve(leaf, st)  # nothing listens on the responder's port yet
    try:
        s = st.status(leaf.x509)
        assert s["status"] is None and s["fetched_at"] is None
        assert s["error"].reason == "unreachable" and s["error"].code == "ERR_OCSP_FETCH_FAILED"
        assert errors and errors[0].cert == leaf.x509
        assert await stapled(port, leaf.ca_pem) is None
        sock = tls.connect(port, {"host": "127.0.0.1", "servername": "localhost",
                                  "ca": leaf.ca_pem, "ocsp": "require"})
        with pytest.raises(OCSPError) as info:
            await asyncio.wait_for(sock, TIMEOUT)
        assert info.value.code == "ERR_TLS_OCSP_MISSING"
        # The responder comes up: the retries (1 s, 2 s, ...) find it.
        fetched = next_event(st, "fetched")
        async with openssl_responder(opki, opki.index("i", good=[leaf])):
            await asyncio.wait_for(fetched, TIMEOUT)
            assert st.status(leaf.x509)["status"] == "good"
            assert st.status(leaf.x509)["error"] is None
            assert status_of(await stapled(port, leaf.ca_pem)) == "good"
    finally:
        server.close()


async def test_down_mid_life_keeps_the_good_response_then_restart_answers_revoked(
        opki, stapler_factory):
    leaf = opki.leaf("midlife")
    # -nmin 1: a one-minute window; refresh=0.05 refreshes about every 3 s.
    st = stapler_factory(refresh=0.05)
    async with openssl_responder(opki, opki.index("good", good=[leaf])):
        server, port = await serve(leaf, st)
    try:
        good = await stapled(port, leaf.ca_pem)
        assert status_of(good) == "good"
        first_fetch = st.status(leaf.x509)["fetched_at"]
        # The responder is gone: the next refresh fails, the good response is still stapled.
        err = await asyncio.wait_for(next_event(st, "error"), TIMEOUT)
        assert err[0].reason == "unreachable"
        s = st.status(leaf.x509)
        assert s["status"] == "good" and s["error"] is err[0]
        assert s["fetched_at"] == first_fetch
        assert await stapled(port, leaf.ca_pem) == good
        # Restarted on the same port, now saying revoked: the stapler picks it up.
        revoked = next_event(st, "revoked")
        async with openssl_responder(opki, opki.index("rev", revoked=[leaf])):
            await asyncio.wait_for(revoked, TIMEOUT)
        s = st.status(leaf.x509)
        assert s["status"] == "revoked" and s["error"] is None and s["fetched_at"] > first_fetch
        assert status_of(await stapled(port, leaf.ca_pem)) == "revoked"
    finally:
        server.close()


async def test_refresh_fetches_a_newer_response(opki, stapler_factory):
    leaf = opki.leaf("refresh")
    st = stapler_factory(refresh=0.05)
    async with openssl_responder(opki, opki.index("i", good=[leaf])):
        server, _port = await serve(leaf, st)
        try:
            first = st.status(leaf.x509)
            await asyncio.wait_for(next_event(st, "fetched"), TIMEOUT)
            second = st.status(leaf.x509)
            assert second["this_update"] > first["this_update"]
            assert second["fetched_at"] > first["fetched_at"]
        finally:
            server.close()


async def bad_case(opki, stapler_factory, answer, **kw):
    """Serve ``leaf`` with a stapler whose responder answers with ``answer``; return (leaf,
    status, staple, requests seen by the responder)."""
    leaf = opki.leaf("bad")
    async with CannedResponder(opki.port, lambda body: answer(leaf, body)) as responder:
        st = stapler_factory(**kw)
        server, port = await serve(leaf, st)
        try:
            return leaf, st.status(leaf.x509), await stapled(port, leaf.ca_pem), \
                responder.requests
        finally:
            server.close()


async def test_slow_responder_times_out(opki, stapler_factory):
    leaf, s, staple, requests = await bad_case(
        opki, stapler_factory, lambda leaf, body: (3.0, build_response(leaf, opki.ca)),
        timeout=0.5)
    assert s["status"] is None and s["error"].reason == "timeout"
    assert "did not answer within 0.5 s" in str(s["error"])
    assert staple is None
    assert requests  # the request did reach it


async def test_garbage_answer(opki, stapler_factory):
    _leaf, s, staple, requests = await bad_case(
        opki, stapler_factory, lambda leaf, body: (0, b"<html>not OCSP</html>"))
    assert s["status"] is None and s["error"].reason == "malformed"
    assert s["error"].code == "ERR_TLS_OCSP_MALFORMED"
    assert staple is None
    # What reached the responder is a real OCSP request for the certificate.
    from cryptography.x509 import ocsp
    req = ocsp.load_der_ocsp_request(requests[0])
    assert req.serial_number == _leaf.x509.serial_number


async def test_response_for_another_certificate(opki, stapler_factory):
    other = opki.leaf("another")
    _leaf, s, staple, _ = await bad_case(
        opki, stapler_factory, lambda leaf, body: (0, build_response(other, opki.ca)))
    assert s["status"] is None and s["error"].reason == "wrong-certificate"
    assert s["error"].code == "ERR_TLS_OCSP_WRONG_CERTIFICATE"
    assert staple is None


async def test_next_update_passed(opki, stapler_factory):
    past = now() - dt.timedelta(days=2)
    _leaf, s, staple, _ = await bad_case(
        opki, stapler_factory, lambda leaf, body: (
            0, build_response(leaf, opki.ca, this_update=past,
                              next_update=past + dt.timedelta(days=1))))
    assert s["status"] is None and s["error"].reason == "stale"
    assert s["error"].code == "ERR_TLS_OCSP_STALE"
    assert staple is None


async def test_response_outliving_the_certificate(opki, stapler_factory):
    def answer(leaf, body):
        return 0, build_response(leaf, opki.ca,
                                 next_update=leaf.x509.not_valid_after_utc + dt.timedelta(days=1))

    _leaf, s, staple, _ = await bad_case(opki, stapler_factory, answer)
    assert s["error"].reason == "outlives-certificate" and staple is None


async def test_signed_by_an_unauthorised_key(opki, stapler_factory):
    leaf = opki.leaf("unauth")
    # A certificate from the same CA, without the OCSP-signing EKU, signing real responses.
    rogue = opki.responder_cert("rogue", ocsp_signing=False)
    async with openssl_responder(opki, opki.index("i", good=[leaf]), signer=rogue):
        st = stapler_factory()
        server, port = await serve(leaf, st)
        try:
            s = st.status(leaf.x509)
            assert s["status"] is None and s["error"].reason == "bad-signature"
            assert "lacks the OCSP-signing" in str(s["error"])
            assert await stapled(port, leaf.ca_pem) is None
        finally:
            server.close()


async def test_signed_by_another_ca(opki, stapler_factory, tmp_path):
    leaf = opki.leaf("foreign")
    foreign = OcspPKI(tmp_path / "foreign", port=opki.port)
    rogue = foreign.responder_cert("foreign-responder")  # has the EKU, wrong issuer
    async with openssl_responder(opki, opki.index("i", good=[leaf]), signer=rogue):
        st = stapler_factory()
        server, port = await serve(leaf, st)
        try:
            s = st.status(leaf.x509)
            assert s["error"].reason == "bad-signature" and "not issued by" in str(s["error"])
            assert await stapled(port, leaf.ca_pem) is None
        finally:
            server.close()


async def test_delegated_responder_is_accepted(opki, stapler_factory):
    leaf = opki.leaf("delegated")
    responder = opki.responder_cert("delegate")
    async with openssl_responder(opki, opki.index("i", good=[leaf]), signer=responder):
        st = stapler_factory()
        server, port = await serve(leaf, st)
        try:
            assert st.status(leaf.x509)["status"] == "good"
            assert status_of(await stapled(port, leaf.ca_pem)) == "good"
        finally:
            server.close()


async def test_certificate_without_ocsp_url(opki, stapler_factory):
    leaf = opki.leaf("nourl", ocsp_url=None)
    st = stapler_factory()
    server, port = await serve(leaf, st)
    try:
        s = st.status(leaf.x509)
        assert s["status"] is None and s["error"].reason == "no-url"
        assert await stapled(port, leaf.ca_pem) is None
    finally:
        server.close()


# ---------------------------------------------------------------- several responders (AIA order)

# How the first of two responders fails: (delay, body) it answers, its HTTP status; None: nothing
# listens on its port (connection refused).
_FIRST_FAILS = {
    "refused": None,
    "timeout": (lambda leaf, other, ca: (5.0, build_response(leaf, ca)), 200),
    "http-error": (lambda leaf, other, ca: (0, b"try later"), 503),
    "malformed": (lambda leaf, other, ca: (0, b"<html>not OCSP</html>"), 200),
    "invalid": (lambda leaf, other, ca: (0, build_response(other, ca)), 200),  # another cert's
}


@pytest.mark.parametrize("failure", list(_FIRST_FAILS))
async def test_the_next_responder_answers_when_the_first_fails(opki, stapler_factory, failure):
    """The certificate names two responders: the first fails, the second (a real ``openssl
    ocsp``) answers, and its response is stapled. Before: only the first was ever asked."""
    first_port = free_port()
    first_url = f"http://127.0.0.1:{first_port}/ocsp"
    leaf = opki.leaf("two", ocsp_url=[first_url, opki.url])
    other = opki.leaf("other")
    async with contextlib.AsyncExitStack() as stack:
        first = None
        if _FIRST_FAILS[failure] is not None:
            answer, status = _FIRST_FAILS[failure]
            first = await stack.enter_async_context(CannedResponder(
                first_port, lambda body: answer(leaf, other, opki.ca), status=status))
        await stack.enter_async_context(openssl_responder(opki, opki.index("i", good=[leaf])))
        st = stapler_factory(timeout=2.0)
        server, port = await serve(leaf, st)
        try:
            s = st.status(leaf.x509)
            assert s["status"] == "good" and s["error"] is None, s
            assert status_of(await stapled(port, leaf.ca_pem)) == "good"
            if first is not None:
                assert len(first.requests) == 1  # it was asked first, once
        finally:
            server.close()


async def test_responders_are_asked_in_order_and_the_first_valid_answer_wins(
        opki, stapler_factory):
    p1, p2 = free_port(), free_port()
    leaf = opki.leaf("order", ocsp_url=[f"http://127.0.0.1:{p1}/ocsp",
                                        f"http://127.0.0.1:{p2}/ocsp"])
    good = build_response(leaf, opki.ca)
    revoked = build_response(leaf, opki.ca, status="revoked")
    async with CannedResponder(p1, lambda body: (0, good)) as first, \
            CannedResponder(p2, lambda body: (0, revoked)) as second:
        st = stapler_factory()
        server, port = await serve(leaf, st)
        try:
            assert st.status(leaf.x509)["status"] == "good"
            assert await stapled(port, leaf.ca_pem) == good
            assert len(first.requests) == 1 and second.requests == []
        finally:
            server.close()


async def test_every_responder_failing_names_each(opki, stapler_factory):
    first_url = f"http://127.0.0.1:{free_port()}/ocsp"
    leaf = opki.leaf("allfail", ocsp_url=[first_url, opki.url])  # nothing listens on either
    st = stapler_factory()
    server, port = await serve(leaf, st)
    try:
        s = st.status(leaf.x509)
        assert s["status"] is None
        err = s["error"]
        assert err.reason == "unreachable" and err.code == "ERR_OCSP_FETCH_FAILED"
        assert str(err).startswith("all 2 OCSP responders failed: ")
        assert first_url in str(err) and opki.url in str(err)
        assert str(err).index(first_url) < str(err).index(opki.url)
        assert await stapled(port, leaf.ca_pem) is None
    finally:
        server.close()


async def test_held_response_is_served_until_it_expires_then_dropped(opki, stapler_factory):
    """Short-lived responses (valid 7 s): the first is good, then the responder answers garbage.
    The good one stays stapled until its next_update, then nothing is stapled."""
    leaf = opki.leaf("expiring")
    answers = []

    def answer(body):
        if not answers:
            t = now()
            der = build_response(leaf, opki.ca, this_update=t - dt.timedelta(seconds=1),
                                 next_update=t + dt.timedelta(seconds=6))
            answers.append(der)
            return 0, der
        return 0, b"garbage"

    async with CannedResponder(opki.port, answer):
        st = stapler_factory(refresh=0.25)
        server, port = await serve(leaf, st)
        try:
            good = answers[0]
            assert await stapled(port, leaf.ca_pem) == good
            err = (await asyncio.wait_for(next_event(st, "error"), TIMEOUT))[0]
            assert err.reason == "malformed"
            s = st.status(leaf.x509)
            if s["status"] is not None:  # still within the response's life
                assert s["status"] == "good" and s["error"] is err
                assert await stapled(port, leaf.ca_pem) == good
            expiry = s["next_update"] or now()

            async def until_expired():
                while st.status(leaf.x509)["status"] is not None:
                    await next_event(st, "error")

            await asyncio.wait_for(until_expired(), TIMEOUT)
            assert now() >= expiry - dt.timedelta(seconds=1)
            s = st.status(leaf.x509)
            assert s["status"] is None and s["error"].reason == "malformed"
            assert await stapled(port, leaf.ca_pem) is None
        finally:
            server.close()


async def test_fleet_through_a_real_redis(opki, stapler_factory, tmp_path):
    pytest.importorskip("redis")
    from helpers.redis_server import RedisServer
    from nodetls.sessions import RedisSessionStore

    leaf = opki.leaf("redis-fleet")
    async with RedisServer(tmp_path / "redis") as redis_server:
        clients = [redis_server.client(), redis_server.client()]
        try:
            stores = [RedisSessionStore(c) for c in clients]
            async with openssl_responder(opki, opki.index("i", good=[leaf])):
                first = stapler_factory(store=stores[0])
                server1, _ = await serve(leaf, first)
            second = stapler_factory(store=stores[1])  # responder gone: only Redis has it
            server2, port2 = await serve(leaf, second)
            try:
                s1, s2 = first.status(leaf.x509), second.status(leaf.x509)
                assert s2["status"] == "good" and s2["error"] is None
                assert s2["fetched_at"] == s1["fetched_at"]
                assert status_of(await stapled(port2, leaf.ca_pem)) == "good"
                keys = await clients[0].keys("nodetls:session:nodetls-ocsp:*")
                assert len(keys) == 1
                ttl = await clients[0].pttl(keys[0])
                assert 0 < ttl <= 60_000  # expires with the response (openssl -nmin 1)
            finally:
                server1.close()
                server2.close()
        finally:
            for c in clients:
                await c.aclose()


class DictStore:
    """A SessionStore-shaped object (async get/set/delete) kept in a dict."""

    def __init__(self):
        self.data: dict[bytes, bytes] = {}
        self.sets = 0

    async def get(self, key):
        return self.data.get(key)

    async def set(self, key, data, ttl):
        assert ttl > 0
        self.sets += 1
        self.data[key] = data

    async def delete(self, key):
        self.data.pop(key, None)


class BrokenStore(DictStore):
    async def get(self, key):
        raise ConnectionError("store down")

    async def set(self, key, data, ttl):
        await asyncio.sleep(60)


async def test_fleet_fetches_once_through_the_store(opki, stapler_factory):
    leaf = opki.leaf("fleet")
    store = DictStore()
    async with openssl_responder(opki, opki.index("i", good=[leaf])):
        first = stapler_factory(store=store)
        server1, _ = await serve(leaf, first)
    assert store.sets == 1
    # The responder is gone: a second server of the fleet staples from the store.
    second = stapler_factory(store=store)
    server2, port2 = await serve(leaf, second)
    try:
        assert second.status(leaf.x509)["status"] == "good"
        assert second.status(leaf.x509)["fetched_at"] == first.status(leaf.x509)["fetched_at"]
        assert second.status(leaf.x509)["error"] is None
        assert status_of(await stapled(port2, leaf.ca_pem)) == "good"
        assert store.sets == 1
    finally:
        server1.close()
        server2.close()


async def test_a_failing_store_never_stops_stapling(opki, stapler_factory, caplog):
    leaf = opki.leaf("brokenstore")
    async with openssl_responder(opki, opki.index("i", good=[leaf])):
        st = stapler_factory(store=BrokenStore(), timeout=0.5)
        with caplog.at_level(logging.WARNING, logger="nodetls"):
            server, port = await serve(leaf, st)
        try:
            assert st.status(leaf.x509)["status"] == "good"
            assert status_of(await stapled(port, leaf.ca_pem)) == "good"
            assert any("store get failed" in r.getMessage() for r in caplog.records)
        finally:
            server.close()


async def test_handshakes_never_wait_for_the_responder(opki, stapler_factory):
    leaf = opki.leaf("nowait")
    st = stapler_factory(timeout=10.0)
    async with CannedResponder(opki.port, lambda body: (8.0, b"")):
        server = tls.create_server(leaf.options, lambda s: s.end(b"hi"))
        prefetch = server.use_ocsp_stapler(st)  # not awaited: the fetch is still hanging
        server.listen(0, "127.0.0.1")
        await asyncio.wait_for(server, TIMEOUT)
        try:
            loop = asyncio.get_running_loop()
            t0 = loop.time()
            assert await stapled(server.address()["port"], leaf.ca_pem) is None
            assert loop.time() - t0 < 3.0
            assert not prefetch.done()
        finally:
            server.close()


async def test_stapler_arguments_are_checked():
    with pytest.raises(ValueError, match="refresh"):
        Stapler(refresh=1.5)
    with pytest.raises(ValueError, match="timeout"):
        Stapler(timeout=0)
    with pytest.raises(TypeError, match="store"):
        Stapler(store=object())
    server = tls.create_server({})
    with pytest.raises(TypeError, match="stapler"):
        server.use_ocsp_stapler(object())


async def test_status_of_an_unknown_certificate(opki):
    st = Stapler()
    assert st.status(opki.leaf("x").cert_pem) == {
        "status": None, "this_update": None, "next_update": None, "fetched_at": None,
        "error": None}
    await st.close()



# ---------------------------------------------------------------- a user's 'OCSPRequest' listener


async def _staple_with_user_listener(opki, stapler_factory, caplog, *, before: bool):
    """A stapler (its responder says good) and a user listener answering its own (revoked)
    response, added before or after ``use_ocsp_stapler``: the user's answer is stapled, with no
    error anywhere; once it is removed, the stapler's."""
    leaf = opki.leaf("user")
    mine = build_response(leaf, opki.ca, status="revoked")
    calls = []

    async def user_listener(cert, issuer, callback):  # answers later, from a task
        calls.append(cert)
        await asyncio.sleep(0)
        callback(None, mine)

    async with openssl_responder(opki, opki.index("i", good=[leaf])):
        st = stapler_factory()
        server = tls.create_server(leaf.options, lambda s: s.end(b"hi"))
        errors = []
        server.on("tlsClientError", lambda err, sock: errors.append(err))
        server.on("error", errors.append)
        with caplog.at_level(logging.WARNING, logger="nodetls.ocsp"):
            if before:
                server.on("OCSPRequest", user_listener)
            await asyncio.wait_for(server.use_ocsp_stapler(st), TIMEOUT)
            if not before:
                server.on("OCSPRequest", user_listener)
            server.listen(0, "127.0.0.1")
            await asyncio.wait_for(server, TIMEOUT)
            port = server.address()["port"]
            try:
                assert st.status(leaf.x509)["status"] == "good"  # the stapler still fetched
                assert await stapled(port, leaf.ca_pem) == mine
                assert await stapled(port, leaf.ca_pem) == mine
                assert len(calls) == 2 and errors == []
                warnings = [r for r in caplog.records if "besides its stapler's" in r.getMessage()]
                assert len(warnings) == 1  # once per server
                server.remove_listener("OCSPRequest", user_listener)
                assert status_of(await stapled(port, leaf.ca_pem)) == "good"
                # Every listener gone: nothing stapled, until the stapler is used again.
                server.remove_all_listeners("OCSPRequest")
                assert await stapled(port, leaf.ca_pem) is None
                await asyncio.wait_for(server.use_ocsp_stapler(st), TIMEOUT)
                assert server.listener_count("OCSPRequest") == 1
                assert status_of(await stapled(port, leaf.ca_pem)) == "good"
                assert errors == []
            finally:
                server.close()


async def test_a_user_listener_added_after_the_stapler_answers(opki, stapler_factory, caplog):
    """Before: both answered; the second answer raised ERR_MULTIPLE_CALLBACK into the user's
    listener (and so to the server's 'error'), and the stapler's response was stapled."""
    await _staple_with_user_listener(opki, stapler_factory, caplog, before=False)


async def test_a_user_listener_added_before_the_stapler_answers(opki, stapler_factory, caplog):
    await _staple_with_user_listener(opki, stapler_factory, caplog, before=True)
