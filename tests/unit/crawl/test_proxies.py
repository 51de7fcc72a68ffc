"""Proxy parsing and rotation; credentials never shown."""

from __future__ import annotations

import pytest

from scrapeyard import errors
from scrapeyard.crawl import proxies


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_credentials_are_split_off_and_never_shown() -> None:
    proxy = proxies.Proxy.parse("http://alice:p%40ss@proxy.test:3128")

    assert proxy.url == "http://proxy.test:3128"
    assert proxy.authorization == "Basic YWxpY2U6cEBzcw=="
    for text in (repr(proxy), str(proxy), repr(proxies.ProxyRotation([proxy]))):
        assert "p%40ss" not in text and "p@ss" not in text and "YWxp" not in text


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("socks5://user:secret@proxy.test:1080", "SOCKS"),
        ("http://user:secret@proxy.test:99999", "not a valid proxy URL"),
        ("http://user:secret@:8080", "no host"),
        ("user:secret@proxy.test", "http:// or https://"),
    ],
)
def test_bad_proxies_are_refused_without_echoing_secrets(value: str, problem: str) -> None:
    with pytest.raises(errors.InvalidInput, match=problem) as caught:
        proxies.ProxyRotation(["http://ok.test:1", value])

    assert caught.value.field == "proxies[1]"
    assert "secret" not in str(caught.value)


def test_round_robin() -> None:
    rotation = proxies.ProxyRotation(["http://a:1", "http://b:1", "http://c:1"], clock=Clock())

    assert [rotation.next().url for _ in range(4)] == [
        "http://a:1",
        "http://b:1",
        "http://c:1",
        "http://a:1",
    ]


def test_a_failing_proxy_is_benched_for_a_while() -> None:
    clock = Clock()
    rotation = proxies.ProxyRotation(["http://a:1", "http://b:1"], bench_for=60, clock=clock)
    a = rotation.next()
    rotation.failed(a)

    assert [rotation.next().url for _ in range(3)] == ["http://b:1"] * 3
    assert rotation.benched() == ["http://a:1"]

    clock.now += 60
    assert {rotation.next().url for _ in range(2)} == {"http://a:1", "http://b:1"}
    assert rotation.benched() == []


def test_when_all_are_benched_the_one_back_soonest_is_used() -> None:
    clock = Clock()
    rotation = proxies.ProxyRotation(["http://a:1", "http://b:1"], bench_for=60, clock=clock)
    rotation.failed(proxies.Proxy("http://b:1"))
    clock.now += 10
    rotation.failed(proxies.Proxy("http://a:1"))

    assert rotation.next().url == "http://b:1"


def test_success_brings_a_proxy_back() -> None:
    rotation = proxies.ProxyRotation(["http://a:1"], clock=Clock())
    rotation.failed(rotation.next())
    rotation.succeeded(proxies.Proxy("http://a:1"))

    assert rotation.benched() == []


def test_a_rotation_needs_proxies() -> None:
    with pytest.raises(errors.InvalidInput, match="at least one"):
        proxies.ProxyRotation([])
    with pytest.raises(errors.InvalidInput, match="list"):
        proxies.ProxyRotation("http://a:1")
