"""Node's ``net.SocketAddress`` and ``net.BlockList`` (``lib/internal/socketaddress.js``,
``lib/internal/blocklist.js`` and the matching in ``src/node_sockaddr.cc``), on :mod:`ipaddress`.

Matching follows Node's: a rule and an address of different families meet through the
IPv4-mapped IPv6 form (``::ffff:a.b.c.d``): an IPv4 rule matches the mapped address and an
IPv6 rule on mapped addresses matches the plain IPv4 one; any other IPv6 address never meets an
IPv4 rule. Rules are listed newest first, formatted as Node formats them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from .._option_table import number, type_error
from .._options import to_snake
from ..errors import InvalidArgTypeError, InvalidArgValueError, NodeError, node_error
from .args import validate_port

__all__ = ["SocketAddress", "BlockList"]

_MAPPED = 0xFFFF  # the 16 bits above an IPv4-mapped IPv6 address's IPv4 part
_FLOW_LABEL_MAX = 0xFFFFF  # 20 bits
_OPTION_NAMES = frozenset({"address", "port", "family", "flowlabel"})
_check_flowlabel = number(0, integer=True, maximum=0xFFFFFFFF)
_check_v4_prefix = number(0, integer=True, maximum=32)
_check_v6_prefix = number(0, integer=True, maximum=128)


def _invalid_address() -> NodeError:
    """Node's ``ERR_INVALID_ADDRESS`` (an address that does not parse for its family; a
    ``ValueError`` here)."""
    return node_error("ERR_INVALID_ADDRESS")


def _parse(address: str, v6: bool) -> int:
    """The address as an integer, parsed as libuv's ``uv_ip4_addr``/``uv_ip6_addr`` do (an
    IPv6 scope, ``%eth0``, is dropped); ``ERR_INVALID_ADDRESS`` if it is not one."""
    try:
        if v6:
            return int(ipaddress.IPv6Address(address.partition("%")[0]))
        return int(ipaddress.IPv4Address(address))
    except ValueError:
        raise _invalid_address() from None


def _format(value: int, v6: bool) -> str:
    """The text Node gives (libuv's ``inet_ntop``): Python's form, except that IPv6 addresses
    whose first 96 bits are zero (and the next 16 not) or ``::ffff:0:0/96`` end in dotted IPv4."""
    if not v6:
        return str(ipaddress.IPv4Address(value))
    high = value >> 32
    if high == _MAPPED or (high == 0 and value >> 16):
        return ("::ffff:" if high else "::") + str(ipaddress.IPv4Address(value & 0xFFFFFFFF))
    return ipaddress.IPv6Address(value).compressed


class SocketAddress:
    """Node ``net.SocketAddress``: an IP address, port, family and IPv6 flow label.

    ``SocketAddress(options=None, **options)`` with ``address`` (default ``'127.0.0.1'``, or
    ``'::'`` when ``family`` is not ``'ipv4'``), ``port`` (default 0; Node's ``validatePort``),
    ``family`` (``'ipv4'`` (default) or ``'ipv6'``, any case) and ``flowlabel`` (default 0; an
    IPv6 flow label, 20 bits; always 0 for IPv4). An address that is not one of its family
    raises ``ERR_INVALID_ADDRESS``. The attributes are read-only; two addresses are equal when
    all four are.
    """

    __slots__ = ("_value", "_v6", "_port", "_flowlabel")

    def __init__(self, options: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        opts = _merge_options(options, kwargs)
        family = opts.get("family")
        if family is None:
            family = "ipv4"
        address = opts.get("address")
        if address is None:  # (Node: decided on the family as given, before lower-casing)
            address = "127.0.0.1" if family == "ipv4" else "::"
        if isinstance(family, str):
            family = family.lower()
        if family not in ("ipv4", "ipv6"):
            raise InvalidArgValueError(
                f"The property 'options.family' is invalid. Received {opts.get('family')!r}")
        if not isinstance(address, str):
            raise type_error("options.address", "str", address)
        port = opts.get("port")
        port = 0 if port is None else validate_port(port, "options.port")
        flowlabel = opts.get("flowlabel")
        flowlabel = 0 if flowlabel is None else _check_flowlabel(flowlabel, "options.flowlabel")
        v6 = family == "ipv6"
        self._value = _parse(address, v6)
        self._v6 = v6
        self._port: int = port
        if v6 and flowlabel > _FLOW_LABEL_MAX:  # (Node v20 aborts the process here)
            raise InvalidArgValueError(
                'The value of "options.flowlabel" is out of range. It must be >= 0 && <= '
                f"{_FLOW_LABEL_MAX}. Received {flowlabel!r}", "ERR_OUT_OF_RANGE")
        self._flowlabel: int = flowlabel if v6 else 0

    @staticmethod
    def is_socket_address(value: Any) -> bool:
        """Node ``SocketAddress.isSocketAddress(value)``."""
        return isinstance(value, SocketAddress)

    @property
    def address(self) -> str:
        """The address as Node prints it (``'::ffff:1.2.3.4'``, ``'2001:db8::1'``)."""
        return _format(self._value, self._v6)

    @property
    def port(self) -> int:
        return self._port

    @property
    def family(self) -> str:
        """``'ipv4'`` or ``'ipv6'``."""
        return "ipv6" if self._v6 else "ipv4"

    @property
    def flowlabel(self) -> int:
        return self._flowlabel

    def to_json(self) -> dict[str, Any]:
        """Node ``socketAddress.toJSON()``: ``{'address', 'port', 'family', 'flowlabel'}``."""
        return {"address": self.address, "port": self._port, "family": self.family,
                "flowlabel": self._flowlabel}

    def _key(self) -> tuple[bool, int, int, int]:
        return (self._v6, self._value, self._port, self._flowlabel)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SocketAddress):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (f"SocketAddress(address={self.address!r}, port={self._port}, "
                f"family={self.family!r}, flowlabel={self._flowlabel})")


def _merge_options(options: Mapping[str, Any] | None, kwargs: Mapping[str, Any]
                   ) -> dict[str, Any]:
    """``options`` and keywords (keywords win), names as Node's or snake_case; Node's
    ``validateObject`` for ``options``; an unknown name is an ``ERR_INVALID_ARG_TYPE``."""
    if options is not None and not isinstance(options, Mapping):
        raise type_error("options", "dict", options)
    out: dict[str, Any] = {}
    for source in (options or {}, kwargs):
        for key, value in source.items():
            name = to_snake(key) if isinstance(key, str) else key
            if name not in _OPTION_NAMES:
                raise InvalidArgTypeError(f"options: unknown option {key!r}")
            out[name] = value
    return out


# -- matching (node_sockaddr.cc: compare, is_match, is_in_network) -------------------------------

def _as_v4(value: int, v6: bool) -> int | None:
    """The IPv4 address ``value`` is, directly or IPv4-mapped; ``None`` if it is neither."""
    if not v6:
        return value
    return value & 0xFFFFFFFF if value >> 32 == _MAPPED else None


def _compare(a: SocketAddress, b: SocketAddress) -> int | None:
    """-1, 0, 1 as ``a`` is before, the same as, after ``b``; ``None`` when an IPv4 address
    meets an IPv6 one that is not IPv4-mapped (Node's ``NOT_COMPARABLE``)."""
    if a._v6 == b._v6:
        x: int | None = a._value
        y: int | None = b._value
    else:
        x, y = _as_v4(a._value, a._v6), _as_v4(b._value, b._v6)
        if x is None or y is None:
            return None
    assert x is not None and y is not None
    return (x > y) - (x < y)


def _in_network(a: SocketAddress, net: SocketAddress, prefix: int) -> bool:
    """``a`` is in ``net/prefix``: an IPv4 address in an IPv6 network as its mapped form, an
    IPv6 address in an IPv4 network only when it is IPv4-mapped."""
    if net._v6:
        value = a._value if a._v6 else (_MAPPED << 32) | a._value
        bits = 128
    else:
        v4 = _as_v4(a._value, a._v6)
        if v4 is None:
            return False
        value, bits = v4, 32
    shift = bits - prefix
    return value >> shift == net._value >> shift


class BlockList:
    """Node ``net.BlockList``: rules (addresses, ranges, subnets) that IP addresses are checked
    against with :meth:`check`.

    Addresses are ``str`` (of the family ``type`` names: ``'ipv4'``, the default, or
    ``'ipv6'``) or :class:`SocketAddress` (its own family; ``type`` is then not looked at).
    As Node's, the error messages call ``type`` ``"family"``.
    """

    __slots__ = ("_rules",)

    def __init__(self) -> None:
        # newest first: ('a', addr) | ('r', start, end) | ('s', network, prefix)
        self._rules: list[tuple[Any, ...]] = []

    def add_address(self, address: str | SocketAddress, type: str = "ipv4") -> None:  # noqa: A002
        """Node ``blockList.addAddress(address[, type])``: block one address."""
        self._rules.insert(0, ("a", _to_address(address, type, "address")))

    def add_range(self, start: str | SocketAddress, end: str | SocketAddress,
                  type: str = "ipv4") -> None:  # noqa: A002
        """Node ``blockList.addRange(start, end[, type])``: block ``start``..``end`` (both
        included); ``ERR_INVALID_ARG_VALUE`` if ``start`` comes after ``end``."""
        first = _to_address(start, type, "start")
        last = _to_address(end, type, "end")
        if _compare(first, last) == 1:
            raise InvalidArgValueError(
                f"The argument 'start' must come before end. Received {first!r}")
        self._rules.insert(0, ("r", first, last))

    def add_subnet(self, net: str | SocketAddress, prefix: int,
                   type: str = "ipv4") -> None:  # noqa: A002
        """Node ``blockList.addSubnet(net, prefix[, type])``: block ``net/prefix``; ``prefix``
        is an integer 0..32 (IPv4) or 0..128 (IPv6), else ``ERR_OUT_OF_RANGE``."""
        network = _to_address(net, type, "network")
        check = _check_v6_prefix if network._v6 else _check_v4_prefix
        self._rules.insert(0, ("s", network, check(prefix, "prefix")))

    def check(self, address: str | SocketAddress, type: str = "ipv4") -> bool:  # noqa: A002
        """Node ``blockList.check(address[, type])``: whether a rule matches ``address``
        (``False`` for a string that is not an address of the family, or a family that is
        not one)."""
        if not isinstance(address, SocketAddress):
            _check_str(address, "address")
            _check_str(type, "family")
            try:
                address = SocketAddress(address=address, family=type)
            except InvalidArgValueError:
                return False
        for rule in self._rules:
            kind = rule[0]
            if kind == "a":
                if _compare(address, rule[1]) == 0:
                    return True
            elif kind == "r":
                if _compare(address, rule[1]) in (0, 1) and _compare(address, rule[2]) in (-1, 0):
                    return True
            elif _in_network(address, rule[1], rule[2]):
                return True
        return False

    @property
    def rules(self) -> list[str]:
        """Node ``blockList.rules``: the rules, newest first, as ``'Address: IPv4 1.2.3.4'``,
        ``'Range: IPv4 10.0.0.1-10.0.0.10'``, ``'Subnet: IPv6 2001:db8::/32'`` (a new list)."""
        out = []
        for rule in self._rules:
            label = "IPv6" if rule[1]._v6 else "IPv4"
            if rule[0] == "a":
                out.append(f"Address: {label} {rule[1].address}")
            elif rule[0] == "r":
                out.append(f"Range: {label} {rule[1].address}-{rule[2].address}")
            else:
                out.append(f"Subnet: {label} {rule[1].address}/{rule[2]}")
        return out

    def __repr__(self) -> str:
        return f"BlockList(rules={self.rules!r})"


def _check_str(value: Any, name: str) -> None:
    if not isinstance(value, str):
        raise type_error(name, "str", value)


def _to_address(value: Any, family: Any, name: str) -> SocketAddress:
    """A :class:`SocketAddress` as is, or a string of ``family`` made one (Node's checks, in
    Node's order: the string, the family's type, then the family and the address)."""
    if isinstance(value, SocketAddress):
        return value
    _check_str(value, name)
    _check_str(family, "family")
    return SocketAddress(address=value, family=family)
