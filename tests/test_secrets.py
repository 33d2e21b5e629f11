"""Key material never reaches an error message, a traceback, a ``repr()`` or the locals a
traceback can show, and the copies nodetls makes of it are wiped once OpenSSL has read them.

Secrets here: private keys (``key``, ``pfx``), passphrases, session-ticket keys (``ticket_keys``)
and sessions (``session``: the bytes hold the resumption secret).  Node quotes a bad value in its
``ERR_INVALID_ARG_TYPE`` message (``Received type string ('SECRETTICKETKEYS48BYTESXX...')``,
``Received type number (12345)`` for a numeric passphrase); nodetls names only the type for these
options, on purpose (docs/errors.md).  The options a user gave stay readable where the API keeps
them (``ctx.options['passphrase']``); only their ``repr()`` hides them.
"""

from __future__ import annotations

import asyncio
import logging
import pprint
import traceback
from pathlib import Path
from typing import Any

import pytest

import nodetls as tls
from nodetls._context import pem as pem_module
from nodetls.errors import ContextOptionError, InvalidArgTypeError, NodeError

SECRET = "SECRET-0123456789-abcdefghijklmnopqrstuvwxyz-SECRET"  # 51 characters
SECRET_48 = SECRET[:48]


def _all_text(exc: BaseException) -> str:
    """What a user may see of ``exc``: ``str()``, ``repr()`` and the formatted traceback."""
    return "\n".join([str(exc), repr(exc), "".join(traceback.format_exception(exc))])


def _bad_values(certs: Any) -> list[tuple[str, dict[str, Any], str]]:
    key = certs.server.key_pem
    return [
        ("options.key", {"key": {"not_pem": SECRET}}, "dict"),
        ("options.key", {"key": {SECRET}}, "set"),
        ("options.key", {"key": [key, 12345678]}, "int"),
        ("options.passphrase", {"key": key, "passphrase": {"pw": SECRET}}, "dict"),
        ("options.passphrase", {"key": key, "passphrase": [SECRET]}, "list"),
        ("options.passphrase", {"key": key, "passphrase": 12345678}, "int"),
        ("options.key.passphrase", {"key": [{"pem": key, "passphrase": [SECRET]}]}, "list"),
        ("options.pfx.passphrase",
         {"pfx": [{"buf": certs.pfx.data, "passphrase": (SECRET,)}]}, "tuple"),
        ("options.pfx", {"pfx": 12345678}, "int"),
        ("options.ticketKeys", {"ticketKeys": SECRET_48}, "str"),
        ("options.ticket_keys", {"ticket_keys": [SECRET.encode()]}, "list"),
    ]


@pytest.mark.parametrize("case", range(11))
def test_a_bad_secret_option_value_is_named_by_its_type_only(certs, case):
    label, options, type_name = _bad_values(certs)[case]
    with pytest.raises(InvalidArgTypeError) as info:
        tls.create_secure_context(options)
    text = _all_text(info.value)
    assert f'"{label}"' in str(info.value)
    assert f"Received {type_name} (" in str(info.value)
    for secret in (SECRET[:12], "12345678"):
        assert secret not in text, text


def test_a_bad_session_value_is_named_by_its_type_only():
    # (Node: "Session must be a buffer", the value not quoted.)
    with pytest.raises(InvalidArgTypeError) as info:
        tls.connect(1, "127.0.0.1", session=SECRET)
    assert '"options.session"' in str(info.value) and "Received str (" in str(info.value)
    assert SECRET[:12] not in _all_text(info.value)


def test_a_bad_value_of_another_option_is_still_quoted():
    # Only secrets are hidden: other options keep Node's quoting (Node: "Received type number
    # (12345678)").
    with pytest.raises(InvalidArgTypeError, match=r"Received int \(12345678\)"):
        tls.create_secure_context(ciphers=12345678)


def test_a_key_path_that_cannot_be_read_is_still_named(tmp_path):
    # A path is not a secret: the error still says which file.
    missing = tmp_path / "no-such-key.pem"
    with pytest.raises(ValueError, match="no-such-key.pem"):
        tls.create_secure_context(key=missing)


def _attribute_reprs(obj: Any) -> str:
    """``repr()`` of every attribute of ``obj`` (``__dict__`` and ``__slots__``), as a debugger
    or an exception's locals would show them."""
    parts = [repr(obj), pprint.pformat(getattr(obj, "__dict__", {}))]
    for cls in type(obj).__mro__:
        slots = cls.__dict__.get("__slots__", ())
        for name in [slots] if isinstance(slots, str) else slots:
            try:
                parts.append(f"{name}={getattr(obj, name)!r}")
            except AttributeError:
                pass
    return "\n".join(parts)


def _secrets_of(certs: Any, ticket_keys: bytes) -> list[str]:
    key_body = certs.encrypted.key_pem.decode().splitlines()[1][:24]
    return [key_body, certs.passphrase, repr(ticket_keys)[2:26], ticket_keys.hex()[:24]]


def test_a_context_s_options_show_no_secret(certs):
    ticket_keys = bytes(range(48))
    ctx = tls.create_secure_context(key=certs.encrypted.key_pem, passphrase=certs.passphrase,
                                    cert=certs.encrypted.chain_pem, ticket_keys=ticket_keys)
    try:
        shown = "\n".join([repr(ctx.options), str(ctx.options), pprint.pformat(ctx.options),
                           _attribute_reprs(ctx)])
        for secret in _secrets_of(certs, ticket_keys):
            assert secret not in shown, shown
        assert "'passphrase': <secret>" in repr(ctx.options)
        # The values themselves are still the caller's, readable as before.
        assert ctx.options["passphrase"] == certs.passphrase
        assert ctx.options["key"] == certs.encrypted.key_pem
    finally:
        ctx.close()


async def test_servers_and_sockets_show_no_secret(certs):
    ticket_keys = bytes(range(48))
    secrets = _secrets_of(certs, ticket_keys)
    server = tls.create_server(key=certs.encrypted.key_pem, passphrase=certs.passphrase,
                               cert=certs.encrypted.chain_pem, ticket_keys=ticket_keys)
    accepted: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    server.on("secureConnection", lambda s: accepted.done() or accepted.set_result(s))
    await server.listen(0, "127.0.0.1")
    client = tls.connect(server.address()["port"], "127.0.0.1", servername="localhost",
                         ca=certs.root.cert_pem, key=certs.encrypted.key_pem,
                         passphrase=certs.passphrase, cert=certs.encrypted.chain_pem)
    try:
        await asyncio.wait_for(client, 10)
        theirs = await asyncio.wait_for(accepted, 10)
        server.set_secure_context({"key": certs.encrypted.key_pem,
                                   "passphrase": certs.passphrase,
                                   "cert": certs.encrypted.chain_pem})
        for obj in (server, client, theirs):
            shown = _attribute_reprs(obj)
            for secret in secrets:
                assert secret not in shown, (obj, shown)
    finally:
        client.destroy()
        await asyncio.wait_for(server.close(), 10)


def _nodetls_frame_locals(exc: BaseException) -> str:
    """The locals of nodetls's own frames in ``exc``'s traceback, as ``capture_locals``
    (pytest's ``--showlocals``, rich's ``show_locals``) prints them."""
    te = traceback.TracebackException.from_exception(exc, capture_locals=True)
    return "\n".join(f"{frame.name}: {frame.locals}" for frame in te.stack
                     if Path(frame.filename).resolve().is_relative_to(_PACKAGE))


#: The package's own folder (a test's path may hold "/nodetls/" too: a clone named so).
_PACKAGE = Path(tls.__file__).resolve().parent


@pytest.mark.parametrize("given", ["str", "bytes"])
def test_a_wrong_passphrase_s_traceback_locals_show_no_secret(certs, given):
    wrong = "WRONG-" + SECRET
    key = certs.encrypted.key_pem.decode() if given == "str" else certs.encrypted.key_pem
    with pytest.raises(ContextOptionError) as info:
        tls.create_secure_context(key=key, passphrase=wrong, cert=certs.encrypted.chain_pem)
    shown = _nodetls_frame_locals(info.value)
    assert "create_secure_context" in shown  # (the frames are there)
    assert SECRET[:12] not in shown, shown
    assert certs.encrypted.key_pem.decode().splitlines()[1][:24] not in shown, shown
    assert SECRET[:12] not in _all_text(info.value)


def test_a_wrong_pfx_passphrase_s_traceback_locals_show_no_secret(certs):
    with pytest.raises(ContextOptionError) as info:
        tls.create_server(pfx=certs.pfx.data, passphrase="WRONG-" + SECRET)
    shown = _nodetls_frame_locals(info.value)
    assert "create_server" in shown
    assert SECRET[:12] not in shown, shown


def _recording(monkeypatch: pytest.MonkeyPatch, name: str) -> list[tuple[Any, Any]]:
    """Wrap ``pem.<name>`` to record the (data, passphrase) objects OpenSSL is given."""
    seen: list[tuple[Any, Any]] = []
    real = getattr(pem_module, name)

    def spy(data: Any, passphrase: Any, option: str) -> Any:
        # (a memoryview: the buffer it shows, which OpenSSL reads in place)
        seen.append((data.obj if isinstance(data, memoryview) else data, passphrase))
        return real(data, passphrase, option)

    monkeypatch.setattr(pem_module, name, spy)
    return seen


def _zeroed(buf: Any) -> bool:
    return isinstance(buf, bytearray) and not any(buf)


def test_the_copies_of_a_key_and_its_passphrase_are_wiped_after_use(certs, monkeypatch):
    seen = _recording(monkeypatch, "read_private_key")
    key_text = certs.encrypted.key_pem.decode()
    ctx = tls.create_secure_context(key=key_text, passphrase=certs.passphrase,
                                    cert=certs.encrypted.chain_pem)
    ctx.close()
    [(data, passphrase)] = seen
    # A str key and a str passphrase were encoded into copies of ours: zero once read.
    assert _zeroed(data), "our encoded copy of the key still holds it"
    assert _zeroed(passphrase), "our copy of the passphrase still holds it"
    assert key_text.startswith("-----BEGIN")  # (the caller's own objects are untouched)


def test_a_passphrase_given_as_bytearray_is_copied_and_the_copy_wiped(certs, monkeypatch):
    seen = _recording(monkeypatch, "read_private_key")
    given = bytearray(certs.passphrase.encode())
    key = certs.encrypted.key_pem
    ctx = tls.create_secure_context(key=key, passphrase=given, cert=certs.encrypted.chain_pem)
    ctx.close()
    [(data, passphrase)] = seen
    assert data is key  # the caller's bytes, read in place (no copy to leave behind)
    assert _zeroed(passphrase) and passphrase is not given
    assert given == certs.passphrase.encode()  # the caller's bytearray is not wiped


def test_a_pfx_passphrase_copy_is_wiped_after_use(certs, monkeypatch):
    seen = _recording(monkeypatch, "read_pkcs12")
    ctx = tls.create_secure_context(pfx=certs.pfx.data, passphrase=certs.passphrase)
    ctx.close()
    [(data, passphrase)] = seen
    assert data is certs.pfx.data
    assert _zeroed(passphrase), "our copy of the PKCS#12 passphrase still holds it"


def test_a_passphrase_copy_is_wiped_when_loading_fails(certs, monkeypatch):
    seen = _recording(monkeypatch, "read_private_key")
    with pytest.raises(ContextOptionError):
        tls.create_secure_context(key=certs.encrypted.key_pem.decode(), passphrase="wrong")
    [(data, passphrase)] = seen
    assert _zeroed(data) and _zeroed(passphrase)


def test_secret_copies_do_not_pickle_or_print():
    from nodetls._option_table import SecretBytes

    copy = SecretBytes(SECRET.encode())
    assert SECRET[:12] not in repr(copy) and SECRET[:12] not in str(copy)
    assert repr(copy) == f"<secret: {len(SECRET)} bytes>"
    import pickle

    with pytest.raises(TypeError):
        pickle.dumps(copy)
    copy.wipe()
    assert not any(copy) and len(copy) == len(SECRET)


def test_errors_keep_their_node_shape():
    # (The redaction is in the "Received ..." part only: code and class are Node's.)
    with pytest.raises(NodeError) as info:
        tls.create_secure_context(passphrase=[SECRET])
    assert info.value.code == "ERR_INVALID_ARG_TYPE"
    assert str(info.value).startswith('The "options.passphrase" property must be of type')


def test_rotating_ticket_keys_show_no_key_and_do_not_pickle():
    import pickle

    from nodetls.sessions import TicketKeys
    from nodetls.sessions._keys import material, pack_entries, unpack_entries

    keys = TicketKeys()
    raw = keys.ticket_keys()  # (the caller's own bytes, as get_ticket_keys())
    assert len(raw) == 96
    shown = "\n".join([repr(vars(keys)), pprint.pformat(vars(keys)), repr(keys.entries()),
                       repr(material(keys.entries(), 0.0)),
                       repr(unpack_entries(pack_entries(keys.entries())))])
    for key in (raw[:48], raw[48:]):
        assert repr(key)[2:20] not in shown and key.hex()[:16] not in shown, shown
    assert "<secret: 48 bytes>" in shown
    with pytest.raises(TypeError):
        pickle.dumps(keys)  # (a pickle would carry the keys: refused)


class _Seen(logging.Handler):
    """Resolves ``future`` at the ticket keys' "refresh failed" warning."""

    def __init__(self, future: asyncio.Future[None]) -> None:
        super().__init__()
        self.future = future

    def emit(self, record: logging.LogRecord) -> None:
        if "refresh failed" in record.getMessage() and not self.future.done():
            self.future.set_result(None)


async def test_a_redis_password_reaches_no_log_line_or_error(tmp_path, caplog):
    """A Redis URL's password (``redis://:pw@host``): a live Redis that refuses it (it wants
    another one), and an unreachable one, for the session store and the ticket keys."""
    from helpers.peers import free_port
    from helpers.redis_server import RedisServer
    from nodetls.sessions import RedisSessionStore, RedisTicketKeys

    password = "pw-" + SECRET
    caplog.set_level(logging.DEBUG, logger="nodetls")
    async with RedisServer(tmp_path / "redis") as redis:
        admin = redis.client()
        await asyncio.wait_for(admin.config_set("requirepass", "another-password"), 10)
        await admin.aclose()
        urls = [f"redis://:{password}@127.0.0.1:{redis.port}/0",
                f"redis://user:{password}@127.0.0.1:{free_port()}/0"]
        shown: list[str] = []
        for url in urls:
            store = RedisSessionStore(url)
            keys = RedisTicketKeys(url, interval=1.0)
            shown += [repr(store), repr(keys), repr(vars(store)), repr(vars(keys))]
            for call in (store.get(b"x" * 32), keys.refresh()):
                with pytest.raises(Exception) as info:  # noqa: B017,PT011 - any refusal
                    await asyncio.wait_for(call, 10)
                shown.append(_all_text(info.value))
            # The refresh task's own warning ("ticket keys: refresh failed (...)").
            logged: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            handler = _Seen(logged)
            logging.getLogger("nodetls").addHandler(handler)
            keys.subscribe(lambda _material: None)
            try:
                await asyncio.wait_for(logged, 10)
            finally:
                keys.close()
                logging.getLogger("nodetls").removeHandler(handler)
            await asyncio.wait_for(store.aclose(), 10)
        shown.append(caplog.text)
    text = "\n".join(shown)
    assert "refresh failed" in text
    assert SECRET[:12] not in text, text


# ------------------------------------------------------------------ PSK keys
PSK_KEY = bytes.fromhex("5ec2e75ec2e75ec2e75ec2e75ec2e701")
_PSK_OPTIONS = {"min_version": "TLSv1.2", "max_version": "TLSv1.2",
                "ciphers": "PSK-AES128-GCM-SHA256"}


def _psk_spy(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    """Record the keys the TLS socket's PSK hooks hand to the engine (which copies each into
    OpenSSL's buffer as soon as the hook returns)."""
    from nodetls._tls.socket import TLSSocket

    seen: dict[str, list[Any]] = {"server": [], "client": []}
    for side in seen:
        real = getattr(TLSSocket, f"_tls_psk_{side}")

        def spy(self: Any, arg: Any, real: Any = real, side: str = side) -> Any:
            answer = real(self, arg)
            seen[side].append(answer[1] if isinstance(answer, tuple) else answer)
            return answer

        monkeypatch.setattr(TLSSocket, f"_tls_psk_{side}", spy)
    return seen


async def _psk_exchange(server_key: Any, client_key: Any) -> bytes:
    """One TLS 1.2 PSK connection, nodetls on both sides, each ``psk_callback`` answering with
    the key given; what the client reads before the server's end."""
    loop = asyncio.get_running_loop()
    server = tls.create_server({"psk_callback": lambda sock, identity: server_key,
                                **_PSK_OPTIONS}, lambda sock: sock.end(b"psk-ok"))
    await server.listen(0, "127.0.0.1")
    client = tls.connect(server.address()["port"],
                         {"host": "127.0.0.1", **_PSK_OPTIONS,
                          "psk_callback": lambda hint: {"psk": client_key, "identity": "alice"},
                          "check_server_identity": lambda host, cert: None})
    got = bytearray()
    ended: asyncio.Future[None] = loop.create_future()
    client.on("data", got.extend)
    client.on("end", lambda: ended.done() or ended.set_result(None))
    client.on("error", lambda err: ended.done() or ended.set_exception(err))
    try:
        await asyncio.wait_for(ended, 10)
    finally:
        client.destroy()
        await asyncio.wait_for(server.close(), 10)
    return bytes(got)


async def test_a_psk_given_as_a_buffer_reaches_openssl_without_a_copy(monkeypatch):
    seen = _psk_spy(monkeypatch)
    server_key, client_key = bytearray(PSK_KEY), bytearray(PSK_KEY)
    for _ in range(2):  # (the same buffers answer again: nodetls does not wipe the caller's)
        assert await _psk_exchange(server_key, memoryview(client_key)) == b"psk-ok"
    assert len(seen["server"]) == len(seen["client"]) == 2
    for key in seen["server"]:
        assert key is server_key, type(key)  # read in place: no copy of ours to leave behind
    for key in seen["client"]:
        assert isinstance(key, memoryview) and key.obj is client_key, type(key)
    assert server_key == PSK_KEY and client_key == PSK_KEY


async def test_a_psk_copy_of_ours_is_wiped_once_openssl_has_it(monkeypatch):
    seen = _psk_spy(monkeypatch)
    spread = bytearray(b for byte in PSK_KEY for b in (byte, 0xEE))
    strided = memoryview(spread)[::2]  # (not contiguous: the one key nodetls must copy)
    assert await _psk_exchange(strided, PSK_KEY) == b"psk-ok"
    [copy] = seen["server"]
    assert repr(copy) == "<secret: 16 bytes>"
    assert _zeroed(copy), "our copy of the PSK still holds it"
    assert bytes(strided) == PSK_KEY  # (the caller's buffer is untouched)


# ------------------------------------------------------------------ MemorySessionStore
def _filled_store() -> tuple[Any, dict[bytes, bytes]]:
    from nodetls.sessions import MemorySessionStore

    store = MemorySessionStore(max_sessions=8)
    sessions = {bytes([i]) * 32: f"{SECRET}-{i}".encode() for i in range(3)}
    for session_id, data in sessions.items():
        store.store_now(session_id, data, 300)
    return store, sessions


def test_a_memory_session_store_shows_counts_not_sessions():
    store, sessions = _filled_store()
    shown = "\n".join([repr(store), str(store), repr(vars(store)), pprint.pformat(vars(store)),
                       _attribute_reprs(store)])
    assert SECRET[:12] not in shown, shown
    assert repr(store) == "<MemorySessionStore: 3 sessions (at most 8)>"
    for session_id, data in sessions.items():  # (kept, and served as before)
        assert store.lookup_now(session_id) == data


async def test_a_refused_memory_store_call_shows_no_session():
    # Neither the error nor the locals of the store's frames show a stored session; a value
    # refused is named by its type (the frame refusing it holds it, as the caller's own).
    store, sessions = _filled_store()
    session_id = next(iter(sessions))
    for call in (store.get_and_expire(session_id, "soon"), store.set(b"n" * 32, b"new", "300")):
        with pytest.raises(TypeError, match="must be a number. Received str") as info:
            await call
        shown = _all_text(info.value) + _nodetls_frame_locals(info.value)
        assert "set" in shown or "get_and_expire" in shown  # (the frames are there)
        assert SECRET[:12] not in shown, shown
    with pytest.raises(TypeError, match="Received str$") as info:
        await store.get(SECRET)
    assert SECRET[:12] not in _all_text(info.value)
    with pytest.raises(TypeError, match='"data" argument must be bytes. Received int$'):
        await store.set(b"n" * 32, 48, 300)  # (not 48 zero bytes stored as a session)
    assert len(store) == 3


def test_a_memory_session_store_refuses_to_pickle():
    # (A pickle would carry every session's secret, with deadlines on this process's
    # monotonic clock: sessions are shared between processes through RedisSessionStore.)
    import pickle

    store, _ = _filled_store()
    with pytest.raises(TypeError, match="RedisSessionStore"):
        pickle.dumps(store)
