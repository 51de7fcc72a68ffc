"""The SSRF guard: the address policy and the resolver that enforces it."""

from __future__ import annotations

import socket

import aiohttp.abc
import pytest

from scrapeyard import errors
from scrapeyard.crawl import addresses


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.254", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("100.64.0.1", "shared (CGNAT)"),
        ("100.127.255.254", "shared (CGNAT)"),
        ("0.0.0.0", "unspecified"),
        ("0.1.2.3", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("255.255.255.255", "broadcast"),
        ("240.0.0.1", "reserved"),
        ("192.0.0.8", "reserved"),
        ("192.0.2.1", "documentation"),
        ("198.51.100.7", "documentation"),
        ("203.0.113.9", "documentation"),
        ("198.18.0.1", "benchmarking"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("fe80::1", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("ff02::1", "multicast"),
        ("2001:db8::1", "documentation"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "link-local"),
        ("::ffff:10.0.0.1", "private"),
        ("::127.0.0.1", "loopback"),
        ("64:ff9b::7f00:1", "loopback"),
        ("64:ff9b::a9fe:a9fe", "link-local"),
        ("2002:a9fe:a9fe::1", "link-local"),
        ("2002:c0a8:0101::", "private"),
        ("2001::1", "reserved"),
        ("100::1", "reserved"),
    ],
)
def test_non_public_addresses_are_refused(address: str, reason: str) -> None:
    assert addresses.AddressPolicy().blocked_reason(address) == reason


@pytest.mark.parametrize(
    "address",
    [
        "93.184.215.14",
        "8.8.8.8",
        "1.1.1.1",
        "2606:4700::1111",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
    ],
)
def test_public_addresses_are_allowed(address: str) -> None:
    assert addresses.AddressPolicy().blocked_reason(address) is None


def test_allowed_networks_open_holes() -> None:
    policy = addresses.AddressPolicy(["127.0.0.0/8", "10.1.0.0/16", "fd00::/8"])

    assert policy.blocked_reason("127.0.0.2") is None
    assert policy.blocked_reason("::ffff:127.0.0.1") is None  # judged as its IPv4 address
    assert policy.blocked_reason("10.1.200.3") is None
    assert policy.blocked_reason("10.2.0.1") == "private"
    assert policy.blocked_reason("fd00::5") is None
    assert policy.blocked_reason("::1") == "loopback"


def test_allowing_a_single_address() -> None:
    policy = addresses.AddressPolicy(["127.0.0.1/32"])

    assert policy.blocked_reason("127.0.0.1") is None
    assert policy.blocked_reason("127.0.0.2") == "loopback"


def test_a_bad_network_is_refused_naming_its_position() -> None:
    with pytest.raises(errors.InvalidInput) as caught:
        addresses.AddressPolicy(["10.0.0.0/8", "not-a-network"])

    assert caught.value.field == "allowed_networks[1]"


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "::1", "[::1]", "2130706433", "127.1", "0x7f.1", "017700000001"]
)
def test_check_host_refuses_private_literals_in_any_notation(host: str) -> None:
    with pytest.raises(errors.BlockedAddress, match="loopback"):
        addresses.AddressPolicy().check_host(host)


@pytest.mark.parametrize("host", ["example.com", "123.example.com", "1e100.net", "93.184.215.14"])
def test_check_host_lets_names_and_public_literals_pass(host: str) -> None:
    addresses.AddressPolicy().check_host(host)


class _FixedResolver(aiohttp.abc.AbstractResolver):
    def __init__(self, *answers: str) -> None:
        self.answers = answers

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[aiohttp.abc.ResolveResult]:
        return [
            {"hostname": host, "host": a, "port": port, "family": 2, "proto": 6, "flags": 0}
            for a in self.answers
        ]

    async def close(self) -> None:
        pass


async def test_the_resolver_returns_only_allowed_addresses_marked_numeric() -> None:
    resolver = addresses.GuardedResolver(
        addresses.AddressPolicy(), _FixedResolver("10.0.0.1", "93.184.215.14", "169.254.1.1")
    )

    results = await resolver.resolve("shop.test", 443)

    assert [r["host"] for r in results] == ["93.184.215.14"]
    assert results[0]["flags"] & socket.AI_NUMERICHOST


async def test_the_resolver_refuses_a_host_with_only_blocked_addresses() -> None:
    resolver = addresses.GuardedResolver(
        addresses.AddressPolicy(), _FixedResolver("169.254.169.254", "10.0.0.1")
    )

    with pytest.raises(errors.BlockedAddress, match=r"evil\.test resolves to 169\.254\.169\.254"):
        await resolver.resolve("evil.test", 80)


async def test_the_resolver_checks_every_lookup_against_rebinding() -> None:
    inner = _FixedResolver("93.184.215.14")
    resolver = addresses.GuardedResolver(addresses.AddressPolicy(), inner)
    assert [r["host"] for r in await resolver.resolve("rebind.test")] == ["93.184.215.14"]

    inner.answers = ("127.0.0.1",)  # the second answer switches to loopback
    with pytest.raises(errors.BlockedAddress):
        await resolver.resolve("rebind.test")


async def test_localhost_really_resolves_to_a_blocked_address() -> None:
    resolver = addresses.GuardedResolver(addresses.AddressPolicy())
    try:
        with pytest.raises(errors.BlockedAddress, match="localhost resolves to"):
            await resolver.resolve("localhost", 80, socket.AF_UNSPEC)
    finally:
        await resolver.close()


async def test_an_allowed_localhost_resolves() -> None:
    resolver = addresses.GuardedResolver(addresses.AddressPolicy(["127.0.0.0/8", "::1/128"]))
    try:
        results = await resolver.resolve("localhost", 80, socket.AF_UNSPEC)
    finally:
        await resolver.close()

    assert {r["host"] for r in results} <= {"127.0.0.1", "::1"}
