"""``net.BlockList`` and ``net.SocketAddress``, as Node v20's (``lib/internal/blocklist.js``,
``lib/internal/socketaddress.js``, ``src/node_sockaddr.cc``).

Ported in our own words from Node's test/parallel/test-blocklist.js and
test-socketaddress.js; every expectation was checked against node v20.20 (including the
IPv4-mapped IPv6 cases, the rule texts and order, and the error codes and messages)."""

from __future__ import annotations

import pytest

from nodetls import net
from nodetls.net import BlockList, SocketAddress

V6 = "8592:757c:efae:4e45:fb5d:d62a:0d00:8e17"


def _code(exc: pytest.ExceptionInfo[BaseException]) -> str | None:
    return getattr(exc.value, "code", None)


# ------------------------------------------------------------------ SocketAddress
def test_socket_address_defaults_per_family() -> None:
    v4 = SocketAddress()
    assert (v4.address, v4.port, v4.family, v4.flowlabel) == ("127.0.0.1", 0, "ipv4", 0)
    v6 = SocketAddress(family="ipv6")
    assert (v6.address, v6.port, v6.family, v6.flowlabel) == ("::", 0, "ipv6", 0)
    # a dict and keywords, Node's family in any case
    sa = SocketAddress({"address": "1.2.3.4"}, port=80)
    assert sa.to_json() == {"address": "1.2.3.4", "port": 80, "family": "ipv4", "flowlabel": 0}
    assert SocketAddress(family="IPv6").family == "ipv6"


def test_socket_address_default_address_is_chosen_before_lower_casing() -> None:
    # Node: family 'IPV4' is accepted as ipv4, but the default address was picked as for
    # "not 'ipv4'" ('::'), which is no IPv4 address.
    with pytest.raises(ValueError) as exc:
        SocketAddress(family="IPV4")
    assert _code(exc) == "ERR_INVALID_ADDRESS" and str(exc.value) == "Invalid socket address"
    assert SocketAddress(family="IPV4", address="1.2.3.4").family == "ipv4"


@pytest.mark.parametrize("given,printed", [
    ("::ffff:1.2.3.4", "::ffff:1.2.3.4"),
    ("::ffff:0:0", "::ffff:0.0.0.0"),
    ("::102:304", "::1.2.3.4"),
    ("0:0:0:0:0:0:1:1", "::0.1.0.1"),
    ("::2", "::2"),
    ("0:0:0:0:0:1:1:1", "::1:1:1"),
    ("1:0:0:1:0:0:1:1", "1::1:0:0:1:1"),
    ("1:0:1:1:1:1:1:1", "1:0:1:1:1:1:1:1"),
    ("FE80::ABCD", "fe80::abcd"),
    ("::1%lo", "::1"),
])
def test_socket_address_ipv6_text_is_nodes(given: str, printed: str) -> None:
    """libuv's inet_ntop: dotted IPv4 tails for mapped and IPv4-compatible addresses."""
    assert SocketAddress(address=given, family="ipv6").address == printed


@pytest.mark.parametrize("address,family", [
    ("x", "ipv4"), ("::1", "ipv4"), ("1.2.3.4", "ipv6"), ("01.2.3.4", "ipv4"),
    (" 1.2.3.4", "ipv4"), ("1.2.3", "ipv4"), ("::ffff:1.2.3", "ipv6"), ("1::2::3", "ipv6"),
])
def test_socket_address_rejects_an_address_not_of_its_family(address: str, family: str) -> None:
    with pytest.raises(ValueError) as exc:
        SocketAddress(address=address, family=family)
    assert _code(exc) == "ERR_INVALID_ADDRESS"


def test_socket_address_argument_errors() -> None:
    with pytest.raises(TypeError) as exc:
        SocketAddress(1)  # type: ignore[arg-type]
    assert _code(exc) == "ERR_INVALID_ARG_TYPE"
    assert str(exc.value).startswith('The "options" argument must be of type')
    with pytest.raises(ValueError) as exc:
        SocketAddress(family="ipv7")
    assert _code(exc) == "ERR_INVALID_ARG_VALUE"
    assert str(exc.value) == "The property 'options.family' is invalid. Received 'ipv7'"
    with pytest.raises(ValueError) as exc:
        SocketAddress(family=6)
    assert _code(exc) == "ERR_INVALID_ARG_VALUE"
    with pytest.raises(TypeError) as exc:
        SocketAddress(address=1)
    assert _code(exc) == "ERR_INVALID_ARG_TYPE"
    assert str(exc.value).startswith('The "options.address" property must be of type')
    for port in (65536, -1, 1.5, True):
        with pytest.raises(ValueError) as exc:
            SocketAddress(port=port)
        assert _code(exc) == "ERR_SOCKET_BAD_PORT"
        assert str(exc.value).startswith("options.port should be >= 0 and < 65536.")
    with pytest.raises(TypeError) as exc:
        SocketAddress(nonsense=1)
    assert _code(exc) == "ERR_INVALID_ARG_TYPE"


def test_socket_address_flowlabel() -> None:
    assert SocketAddress(family="ipv6", flowlabel=0xFFFFF).flowlabel == 0xFFFFF
    assert SocketAddress(flowlabel=5).flowlabel == 0  # IPv4 has none
    for bad, message in ((2**32, "It must be >= 0 && <= 4294967295. Received 4294967296"),
                         (-1, "It must be >= 0 && <= 4294967295. Received -1"),
                         (1.5, "It must be an integer. Received 1.5")):
        with pytest.raises(ValueError) as exc:
            SocketAddress(family="ipv6", flowlabel=bad)
        assert _code(exc) == "ERR_OUT_OF_RANGE"
        assert str(exc.value) == f'The value of "options.flowlabel" is out of range. {message}'
    with pytest.raises(TypeError) as exc:
        SocketAddress(family="ipv6", flowlabel="1")
    assert _code(exc) == "ERR_INVALID_ARG_TYPE"
    # Node v20 aborts the process on a label above 20 bits; here it is ERR_OUT_OF_RANGE.
    with pytest.raises(ValueError) as exc:
        SocketAddress(family="ipv6", flowlabel=0x100000)
    assert _code(exc) == "ERR_OUT_OF_RANGE"


def test_socket_address_is_read_only_and_comparable() -> None:
    sa = SocketAddress(address="1.2.3.4", port=80)
    with pytest.raises(AttributeError):
        sa.port = 5  # type: ignore[misc]
    assert sa.port == 80
    assert sa == SocketAddress({"address": "1.2.3.4", "port": 80})
    assert sa != SocketAddress(address="1.2.3.4", port=81)
    assert len({sa, SocketAddress(address="1.2.3.4", port=80)}) == 1
    assert repr(sa) == "SocketAddress(address='1.2.3.4', port=80, family='ipv4', flowlabel=0)"
    assert SocketAddress.is_socket_address(sa) and not SocketAddress.is_socket_address({})


# ------------------------------------------------------------------ BlockList: rules
def test_rules_are_listed_newest_first_as_node_formats_them() -> None:
    bl = BlockList()
    assert bl.rules == []
    bl.add_address("1.2.3.4")
    bl.add_address("::1", "ipv6")
    bl.add_range("10.0.0.1", "10.0.0.10")
    bl.add_range("8592:757c:efae:4e45::", "8592:757c:efae:4e45::f", "ipv6")
    bl.add_subnet("192.168.0.0", 16)
    bl.add_subnet("8592:757c:efae:4e45::", 64, "IpV6")
    bl.add_address(SocketAddress(address="5.6.7.8", port=99))
    bl.add_address("::FFFF:1.2.3.4", "ipv6")
    bl.add_address("1.2.3.4")  # a duplicate is a second rule, as in v20
    assert bl.rules == [
        "Address: IPv4 1.2.3.4",
        "Address: IPv6 ::ffff:1.2.3.4",
        "Address: IPv4 5.6.7.8",
        "Subnet: IPv6 8592:757c:efae:4e45::/64",
        "Subnet: IPv4 192.168.0.0/16",
        "Range: IPv6 8592:757c:efae:4e45::-8592:757c:efae:4e45::f",
        "Range: IPv4 10.0.0.1-10.0.0.10",
        "Address: IPv6 ::1",
        "Address: IPv4 1.2.3.4",
    ]
    bl.rules.clear()
    assert len(bl.rules) == 9  # a copy each time
    assert repr(BlockList()) == "BlockList(rules=[])"


# ------------------------------------------------------------------ BlockList: matching
def test_addresses_and_their_ipv4_mapped_forms() -> None:
    bl = BlockList()
    bl.add_address("1.1.1.1")
    bl.add_address(V6, "ipv6")
    bl.add_address("::ffff:1.1.1.2", "ipv6")
    assert bl.check("1.1.1.1")
    assert bl.check("::ffff:1.1.1.1", "ipv6") and bl.check("::ffff:1.1.1.1", "IPV6")
    assert bl.check("1.1.1.2")  # an IPv6 rule on a mapped address matches the IPv4 one
    assert bl.check(V6, "ipv6") and bl.check(SocketAddress(address=V6, family="ipv6"))
    assert bl.check(SocketAddress(address="1.1.1.1", port=443))  # ports are not looked at
    assert not bl.check("1.1.1.1", "ipv6")  # not an IPv6 address: False, no error
    assert not bl.check(V6)  # not an IPv4 address
    assert not bl.check("1.2.3.4") and not bl.check("::1", "ipv6")
    assert not bl.check("::1.1.1.1", "ipv6")  # IPv4-compatible is not IPv4-mapped
    assert not bl.check("1.1.1.1", "ipv7")  # a family that is none: False too


def test_ranges_include_both_ends() -> None:
    bl = BlockList()
    bl.add_range("1.1.1.1", "1.1.1.10")
    bl.add_range(SocketAddress(address="::1", family="ipv6"),
                 SocketAddress(address="::f", family="ipv6"))
    assert not bl.check("1.1.1.0") and not bl.check("1.1.1.11")
    assert all(bl.check(f"1.1.1.{n}") for n in range(1, 11))
    assert not bl.check("::0", "ipv6") and not bl.check("::10", "ipv6")
    assert all(bl.check(f"::{n:x}", "ipv6") for n in range(1, 16))


def test_ipv4_range_compares_numerically_and_matches_mapped_addresses() -> None:
    # Node issue 39074: the range compared the bytes in the wrong order
    bl = BlockList()
    bl.add_range("10.0.0.2", "10.0.0.10")
    assert bl.check("10.0.0.2") and bl.check("10.0.0.10")
    for outside in ("192.168.0.3", "2.2.2.2", "255.255.255.255", "11.0.0.5", "10.0.1.5"):
        assert not bl.check(outside), outside
    assert bl.check("::ffff:0a00:0002", "ipv6") and bl.check("::ffff:0a00:000a", "ipv6")
    assert not bl.check("::ffff:c0a8:0003", "ipv6") and not bl.check("::ffff:ffff:ffff", "ipv6")
    ok = BlockList()
    ok.add_range("1.0.0.2", "2.0.0.1")  # later first octet, smaller last one: still in order
    assert ok.rules == ["Range: IPv4 1.0.0.2-2.0.0.1"]


def test_ranges_mixing_families() -> None:
    v4 = SocketAddress(address="1.1.1.1")
    mapped_end = SocketAddress(address="::ffff:1.1.1.9", family="ipv6")
    bl = BlockList()
    bl.add_range(v4, mapped_end)
    assert bl.rules == ["Range: IPv4 1.1.1.1-::ffff:1.1.1.9"]
    assert bl.check("1.1.1.5") and bl.check("::ffff:1.1.1.5", "ipv6")
    assert not bl.check("1.1.1.10") and not bl.check("::5", "ipv6")
    # an IPv4 and a non-mapped IPv6 end do not compare: accepted, and nothing matches
    odd = BlockList()
    odd.add_range(v4, SocketAddress(address="::1", family="ipv6"))
    assert not odd.check("1.1.1.5") and not odd.check("::1", "ipv6")
    with pytest.raises(ValueError) as exc:
        BlockList().add_range(mapped_end, v4)
    assert _code(exc) == "ERR_INVALID_ARG_VALUE"
    # an IPv6 range: an IPv4 address meets its ends only where they are mapped
    six = BlockList()
    six.add_range("::1", "::ffff:1.1.1.1", "ipv6")
    assert not six.check("0.0.0.1") and not six.check("1.1.1.1")
    assert six.check("::5", "ipv6") and six.check("::ffff:0.0.0.1", "ipv6")


def test_subnets() -> None:
    bl = BlockList()
    bl.add_subnet(SocketAddress(address="1.1.1.0"), 16)
    bl.add_subnet("8592:757c:efae:4e45::", 64, "ipv6")
    assert bl.check("1.1.0.1") and bl.check(SocketAddress(address="1.1.1.1"))
    assert not bl.check("1.2.0.1")
    assert bl.check("::ffff:1.1.0.1", "ipv6")
    assert bl.check("8592:757c:efae:4e45:f::", "ipv6") and bl.check("8592:757c:efae:4e45::f", "ipv6")
    assert not bl.check("8592:757c:efae:4f45::f", "ipv6")
    assert bl.rules == ["Subnet: IPv6 8592:757c:efae:4e45::/64", "Subnet: IPv4 1.1.1.0/16"]


def test_subnet_prefixes_not_on_a_byte_boundary() -> None:
    bl = BlockList()
    bl.add_subnet("10.0.0.0", 27)
    bl.add_subnet("8592:757c:efaf::", 51, "ipv6")
    assert all(bl.check(f"10.0.0.{n}") for n in range(32)) and not bl.check("10.0.0.32")
    assert bl.check("8592:757c:efaf:0:0:0:0:0", "ipv6")
    assert bl.check("8592:757c:efaf:1fff:ffff:ffff:ffff:ffff", "ipv6")
    assert not bl.check("8592:757c:efaf:2fff:ffff:ffff:ffff:ffff", "ipv6")


@pytest.mark.parametrize("rule,hits,misses", [
    (("2.2.2.2", 32), [("2.2.2.2",), ("::ffff:2.2.2.2", "ipv6")],
     [("2.2.2.3",), ("::ffff:2.2.2.3", "ipv6")]),
    (("3.0.0.0", 0), [("9.9.9.9",), ("::ffff:9.9.9.9", "ipv6")], [("::1", "ipv6")]),
    (("3.0.0.0", 1), [("9.9.9.9",), ("::ffff:9.9.9.9", "ipv6")],
     [("200.1.1.1",), ("::ffff:200.9.9.9", "ipv6")]),
    (("::ffff:1.2.3.0", 99, "ipv6"), [("1.2.3.77",), ("31.2.4.77",), ("::ffff:1.2.3.9", "ipv6")],
     [("32.2.4.77",)]),
    (("::", 0, "ipv6"), [("2.2.2.2",), ("::1", "ipv6")], []),
    (("::ffff:0:0", 96, "ipv6"), [("2.2.2.2",)], [("::1", "ipv6")]),
    (("::", 96, "ipv6"), [("::1.2.3.4", "ipv6")], [("1.2.3.77",)]),
    (("::ffff:1.2.3.4", 128, "ipv6"), [("1.2.3.4",)], [("1.2.3.5",)]),
])
def test_subnets_across_families(rule: tuple, hits: list, misses: list) -> None:
    """An IPv4 address is in an IPv6 subnet as its mapped form; an IPv6 address is in an IPv4
    subnet only when it is IPv4-mapped."""
    bl = BlockList()
    bl.add_subnet(*rule)
    for args in hits:
        assert bl.check(*args), args
    for args in misses:
        assert not bl.check(*args), args


# ------------------------------------------------------------------ BlockList: errors
@pytest.mark.parametrize("bad", [1, [], {}, None, b"1.1.1.1"])
def test_non_string_addresses_and_families_are_type_errors(bad: object) -> None:
    bl = BlockList()
    calls = [
        lambda: bl.add_address(bad),
        lambda: bl.add_address("1.1.1.1", bad),
        lambda: bl.add_range(bad, "1.1.1.2"),
        lambda: bl.add_range("1.1.1.1", bad),
        lambda: bl.add_range("1.1.1.1", "1.1.1.2", bad),
        lambda: bl.add_subnet(bad, 8),
        lambda: bl.add_subnet("1.1.1.0", 8, bad),
        lambda: bl.check(bad),
        lambda: bl.check("1.1.1.1", bad),
    ]
    for call in calls:
        with pytest.raises(TypeError) as exc:
            call()
        assert _code(exc) == "ERR_INVALID_ARG_TYPE"
    assert bl.rules == []


def test_error_messages_name_nodes_arguments() -> None:
    bl = BlockList()
    cases = [
        (lambda: bl.add_address(1), 'The "address" argument must be of type str'),
        (lambda: bl.add_address("1.1.1.1", 1), 'The "family" argument must be of type str'),
        (lambda: bl.add_range(1, "1.1.1.1"), 'The "start" argument must be of type str'),
        (lambda: bl.add_range("1.1.1.1", 1), 'The "end" argument must be of type str'),
        (lambda: bl.add_subnet(1, 8), 'The "network" argument must be of type str'),
        (lambda: bl.add_subnet("1.1.1.1", "8"), 'The "prefix" argument must be of type int'),
    ]
    for call, start in cases:
        with pytest.raises(TypeError) as exc:
            call()
        assert str(exc.value).startswith(start), str(exc.value)


def test_bad_family_bad_address_and_reversed_range() -> None:
    bl = BlockList()
    for call in (lambda: bl.add_address("1.1.1.1", "foo"),
                 lambda: bl.add_range("1.1.1.1", "1.1.1.2", "foo"),
                 lambda: bl.add_subnet("", 1, "")):
        with pytest.raises(ValueError) as exc:
            call()
        assert _code(exc) == "ERR_INVALID_ARG_VALUE"
        assert "The property 'options.family' is invalid" in str(exc.value)
    for call in (lambda: bl.add_address("bad"), lambda: bl.add_address("::1"),
                 lambda: bl.add_address("1.2.3.4", "ipv6"), lambda: bl.add_range("1.1.1.1", "x")):
        with pytest.raises(ValueError) as exc:
            call()
        assert _code(exc) == "ERR_INVALID_ADDRESS"
    with pytest.raises(ValueError) as exc:
        bl.add_range("10.0.0.10", "10.0.0.1")
    assert _code(exc) == "ERR_INVALID_ARG_VALUE"
    assert str(exc.value) == (
        "The argument 'start' must come before end. Received SocketAddress(address='10.0.0.10', "
        "port=0, family='ipv4', flowlabel=0)")
    bl.add_range("10.0.0.1", "10.0.0.1")  # a one-address range is fine
    assert bl.rules == ["Range: IPv4 10.0.0.1-10.0.0.1"]


@pytest.mark.parametrize("args,message", [
    (("1.1.1.1", 33), "It must be >= 0 && <= 32. Received 33"),
    (("1.1.1.1", -1), "It must be >= 0 && <= 32. Received -1"),
    (("1.1.1.1", 2**31), "It must be >= 0 && <= 32. Received 2147483648"),
    (("1.1.1.1", 8.5), "It must be an integer. Received 8.5"),
    (("1.1.1.1", float("inf")), "It must be an integer. Received inf"),
    (("::", 129, "ipv6"), "It must be >= 0 && <= 128. Received 129"),
    (("::", -1, "ipv6"), "It must be >= 0 && <= 128. Received -1"),
])
def test_subnet_prefix_out_of_range(args: tuple, message: str) -> None:
    with pytest.raises(ValueError) as exc:
        BlockList().add_subnet(*args)
    assert _code(exc) == "ERR_OUT_OF_RANGE"
    assert str(exc.value) == f'The value of "prefix" is out of range. {message}'


def test_prefix_type_and_boundaries() -> None:
    bl = BlockList()
    for bad in ("8", True, None):
        with pytest.raises(TypeError) as exc:
            bl.add_subnet("1.1.1.0", bad)  # type: ignore[arg-type]
        assert _code(exc) == "ERR_INVALID_ARG_TYPE"
    bl.add_subnet("1.2.3.4", 3.0)  # an integral float is that integer
    bl.add_subnet("::", 128, "ipv6")
    assert bl.rules == ["Subnet: IPv6 ::/128", "Subnet: IPv4 1.2.3.4/3"]


def test_exported_from_net() -> None:
    assert "BlockList" in net.__all__ and "SocketAddress" in net.__all__
    assert net.BlockList is BlockList and net.SocketAddress is SocketAddress
