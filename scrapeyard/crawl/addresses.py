"""The SSRF guard: which IP addresses a crawl may connect to, and a resolver that enforces it.

A crawl fetches URLs that strangers wrote, so by default it refuses every address that
is not on the public internet: loopback, private networks (RFC 1918, fc00::/7), link
local (169.254.0.0/16 with the cloud metadata service, fe80::/10), shared CGNAT space,
multicast, broadcast, unspecified, documentation, benchmarking and reserved ranges. IPv6
addresses that carry an IPv4 address (IPv4-mapped ``::ffff:127.0.0.1``, IPv4-compatible,
NAT64 ``64:ff9b::/96`` and 6to4 ``2002::/16``) are judged by the IPv4 address inside. An
operator opens holes with ``allowed_networks`` (``SCRAPEYARD_ALLOWED_NETWORKS``,
``--allow-network``): an address inside one of them is always allowed.

``GuardedResolver`` is what makes the guard hold against DNS rebinding: aiohttp asks it
for a host's addresses, it drops every address the policy refuses (raising
``BlockedAddress`` when none is left), and aiohttp connects to exactly the addresses it
returned, which are marked numeric so nothing resolves them again. A second DNS answer
therefore never reaches a socket unchecked. aiohttp does not call the resolver for IP
literals, so the fetcher checks those with ``AddressPolicy.check_host`` first.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

import aiohttp.abc
import aiohttp.resolver

from scrapeyard import errors

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _table(*rows: tuple[str, str]) -> tuple[tuple[IPNetwork, str], ...]:
    return tuple((ipaddress.ip_network(cidr), reason) for cidr, reason in rows)


# The IANA special-purpose registries, each range with the word used in error messages.
# Anything else that Python does not consider globally routable is "reserved".
_V4_BLOCKED = _table(
    ("255.255.255.255/32", "broadcast"),
    ("0.0.0.0/8", "unspecified"),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "shared (CGNAT)"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "reserved"),
    ("192.0.2.0/24", "documentation"),
    ("192.88.99.0/24", "reserved"),
    ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
)
_V6_BLOCKED = _table(
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("64:ff9b:1::/48", "private"),
    ("100::/64", "reserved"),
    ("2001::/23", "reserved"),
    ("2001:db8::/32", "documentation"),
    ("3fff::/20", "documentation"),
    ("fc00::/7", "private"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "private"),
    ("ff00::/8", "multicast"),
)
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_CACHE_SIZE = 4096


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for, when it is one of the forms that
    routes to (or is translated to) that IPv4 address."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _reason(address: IPAddress) -> str | None:
    table = _V4_BLOCKED if address.version == 4 else _V6_BLOCKED
    for network, reason in table:
        if address in network:
            return reason
    return None if address.is_global else "reserved"


def parse_address(text: str) -> IPAddress | None:
    """``text`` as an IP address, or ``None`` if it is not one. Accepts a bracketed
    IPv6 literal and legacy IPv4 notations (``127.1``, ``2130706433``, ``0x7f.1``)
    that ``getaddrinfo`` would also turn into an address."""
    text = text.strip("[]").rstrip(".")
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    if text and text[0].isdigit() and all(c.isalnum() or c == "." for c in text):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    return None


class AddressPolicy:
    """Which addresses may be connected to: public ones, plus ``allowed_networks``.

    >>> policy = AddressPolicy(allowed_networks=["10.1.0.0/16"])
    >>> policy.blocked_reason("169.254.169.254")
    'link-local'
    >>> policy.blocked_reason("10.1.2.3") is None
    True
    """

    def __init__(self, allowed_networks: Iterable[str | IPNetwork] = ()) -> None:
        networks: list[IPNetwork] = []
        for index, network in enumerate(allowed_networks):
            try:
                networks.append(ipaddress.ip_network(network, strict=False))
            except (ValueError, TypeError):
                raise errors.InvalidInput(
                    f"allowed_networks[{index}]",
                    f"{network!r} is not a network in CIDR notation, such as 10.0.0.0/8",
                ) from None
        self.allowed_networks: tuple[IPNetwork, ...] = tuple(networks)
        self._reasons: dict[str, str | None] = {}
        self._host_reasons: dict[str, str | None] = {}

    def __repr__(self) -> str:
        allowed = [str(network) for network in self.allowed_networks]
        return f"AddressPolicy(allowed_networks={allowed!r})"

    def _allowed(self, address: IPAddress) -> bool:
        return any(address in network for network in self.allowed_networks)

    def blocked_reason(self, address: str | IPAddress) -> str | None:
        """``None`` if connecting to ``address`` is allowed, else the kind of address
        it is (``"loopback"``, ``"private"``, ``"link-local"``, ...)."""
        key = str(address)
        try:
            return self._reasons[key]
        except KeyError:
            pass
        if isinstance(address, str):
            parsed = parse_address(address)
            if parsed is None:
                raise errors.InvalidInput("address", f"{address!r} is not an IP address")
            address = parsed
        reason = self._judge(address)
        if len(self._reasons) >= _CACHE_SIZE:
            self._reasons.clear()
        self._reasons[key] = reason
        return reason

    def _judge(self, address: IPAddress) -> str | None:
        if isinstance(address, ipaddress.IPv6Address) and address.scope_id:
            address = ipaddress.IPv6Address(str(address).partition("%")[0])
        if self._allowed(address):
            return None
        if isinstance(address, ipaddress.IPv6Address):
            inner = _embedded_ipv4(address)
            if inner is not None:
                return None if self._allowed(inner) else _reason(inner)
        return _reason(address)

    def check_host(self, host: str) -> None:
        """Raise ``BlockedAddress`` if ``host`` is an IP literal the policy refuses.

        Host names pass: their addresses are checked by ``GuardedResolver`` when they
        are resolved, right before connecting.
        """
        try:
            reason = self._host_reasons[host]
        except KeyError:
            address = parse_address(host) if host[:1].isdigit() or ":" in host else None
            reason = None if address is None else self.blocked_reason(address)
            if len(self._host_reasons) >= _CACHE_SIZE:
                self._host_reasons.clear()
            self._host_reasons[host] = reason
        if reason is not None:
            raise errors.BlockedAddress(
                f"{host} is a {reason} address, which is not allowed "
                "(an operator can allow it with allowed_networks / --allow-network)"
            )


class GuardedResolver(aiohttp.abc.AbstractResolver):
    """An aiohttp resolver that returns only the addresses ``policy`` allows.

    Give it to ``aiohttp.TCPConnector(resolver=...)``. ``inner`` does the actual lookup
    (aiohttp's ``ThreadedResolver``, built on first use, when not given). Lookup
    failures stay ``OSError``, which aiohttp expects and reports as a connection error.
    """

    def __init__(
        self, policy: AddressPolicy, inner: aiohttp.abc.AbstractResolver | None = None
    ) -> None:
        self.policy = policy
        self._inner = inner
        self._owns_inner = inner is None

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[aiohttp.abc.ResolveResult]:
        if self._inner is None:
            self._inner = aiohttp.resolver.ThreadedResolver()
        results = await self._inner.resolve(host, port, family)
        allowed: list[aiohttp.abc.ResolveResult] = []
        refused: tuple[str, str] | None = None
        for result in results:
            reason = self.policy.blocked_reason(result["host"])
            if reason is None:
                # Numeric flags: the connector must not hand the address to getaddrinfo.
                result["flags"] = socket.AI_NUMERICHOST | socket.AI_NUMERICSERV
                allowed.append(result)
            elif refused is None:
                refused = (result["host"], reason)
        if not allowed:
            if refused is None:
                raise OSError(f"{host} has no addresses")
            address, reason = refused
            raise errors.BlockedAddress(
                f"{host} resolves to {address}, a {reason} address, which is not allowed "
                "(an operator can allow it with allowed_networks / --allow-network)"
            )
        return allowed

    async def close(self) -> None:
        if self._inner is not None and self._owns_inner:
            await self._inner.close()
