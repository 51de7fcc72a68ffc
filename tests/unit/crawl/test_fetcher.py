"""The fetcher against real loopback servers, hostile ones included."""

from __future__ import annotations

import json
import socket
import time
import tracemalloc
from collections.abc import AsyncIterator

import aiohttp.abc
import pytest
from aiohttp import web

from scrapeyard import errors
from scrapeyard.crawl import addresses, fetcher, proxies
from tests.unit.crawl import sites
from tests.unit.crawl.conftest import TEST_TIMEOUTS, Serve, ServeRaw

MiB = 1024 * 1024


async def test_fetches_a_page(client: fetcher.Fetcher, site: str) -> None:
    result = await client.fetch(f"{site}/page")

    assert result.status == 200
    assert result.body == sites.PAGE
    assert result.url == result.final_url == f"{site}/page"
    assert (result.content_type, result.charset, result.is_html) == ("text/html", "utf-8", True)
    assert result.bytes_read == len(sites.PAGE)
    assert result.redirects == ()
    assert 0 < result.elapsed < 5


async def test_an_error_status_is_a_result_not_an_exception(
    client: fetcher.Fetcher, site: str
) -> None:
    result = await client.fetch(f"{site}/status/503?retry_after=7")

    assert result.status == 503
    assert result.headers["Retry-After"] == "7"


async def test_sends_only_the_headers_it_needs(client: fetcher.Fetcher, site: str) -> None:
    sent = json.loads((await client.fetch(f"{site}/headers")).body)

    assert sent["User-Agent"] == fetcher.DEFAULT_USER_AGENT
    assert sent["Accept-Encoding"] == "gzip, deflate"
    assert "Cookie" not in sent and "Authorization" not in sent


async def test_caller_headers_cookies_and_user_agent_are_sent(
    client: fetcher.Fetcher, site: str
) -> None:
    result = await client.fetch(
        f"{site}/headers",
        headers={"X-Test": "1", "accept-encoding": "br"},
        cookies={"session": "abc"},
        user_agent="testbot/1.0",
    )
    sent = json.loads(result.body)

    assert sent["X-Test"] == "1"
    assert sent["Cookie"] == "session=abc"
    assert sent["User-Agent"] == "testbot/1.0"
    assert sent["Accept-Encoding"] == "gzip, deflate"  # only what we can decode safely


async def test_no_cookie_jar_is_shared_between_fetches(client: fetcher.Fetcher, site: str) -> None:
    await client.fetch(f"{site}/headers", cookies={"session": "abc"})
    sent = json.loads((await client.fetch(f"{site}/headers")).body)

    assert "Cookie" not in sent


async def test_credentials_do_not_follow_a_redirect_to_another_host(
    client: fetcher.Fetcher, serve: Serve, site: str
) -> None:
    other = sites.hostile_app()
    other_site = (await serve(other)).replace("127.0.0.1", "localhost")
    policy = addresses.AddressPolicy(["127.0.0.0/8"])
    async with fetcher.Fetcher(policy, timeouts=TEST_TIMEOUTS) as wide:
        result = await wide.fetch(
            f"{site}/redirect?to={other_site}/headers",
            headers={"Authorization": "Bearer secret", "X-Test": "1"},
            cookies={"session": "abc"},
        )
    sent = json.loads(result.body)

    assert result.final_url == f"{other_site}/headers"
    assert sent["X-Test"] == "1"
    assert "Authorization" not in sent and "Cookie" not in sent


# -- compression and body limits ----------------------------------------------------


@pytest.mark.parametrize("path", ["/gzip", "/deflate"])
async def test_compressed_bodies_are_decoded(client: fetcher.Fetcher, site: str, path: str) -> None:
    result = await client.fetch(site + path)

    assert result.body == sites.PAGE * 1000
    assert result.bytes_read < len(result.body) // 10


async def test_a_gzip_bomb_stops_at_the_limit_with_bounded_memory(
    client: fetcher.Fetcher, site: str
) -> None:
    sites.gzip_bomb(10_000_000)  # built before measuring memory
    tracemalloc.start()
    try:
        with pytest.raises(errors.BodyTooLarge, match="decompressed"):
            await client.fetch(f"{site}/bomb", max_body_bytes=1 * MiB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 6 * MiB


async def test_a_streamed_one_gigabyte_bomb_stops_quickly_at_the_default_limit(
    client: fetcher.Fetcher, site: str
) -> None:
    started = time.monotonic()
    with pytest.raises(errors.BodyTooLarge):
        await client.fetch(f"{site}/bomb-stream")

    assert time.monotonic() - started < 3


async def test_an_endless_body_stops_at_the_limit(client: fetcher.Fetcher, site: str) -> None:
    with pytest.raises(errors.BodyTooLarge):
        await client.fetch(f"{site}/endless", max_body_bytes=1 * MiB)


async def test_a_declared_length_over_the_limit_fails_before_reading(
    client: fetcher.Fetcher, site: str
) -> None:
    started = time.monotonic()
    with pytest.raises(errors.BodyTooLarge, match="Content-Length"):
        await client.fetch(f"{site}/declared-huge")

    assert time.monotonic() - started < 1


async def test_truncate_keeps_the_first_bytes_instead(client: fetcher.Fetcher, site: str) -> None:
    plain = await client.fetch(f"{site}/endless", max_body_bytes=100_000, truncate=True)
    bomb = await client.fetch(f"{site}/bomb", max_body_bytes=100_000, truncate=True)

    assert (len(plain.body), plain.truncated) == (100_000, True)
    assert (bomb.body, bomb.truncated) == (bytes(100_000), True)


# -- timeouts -------------------------------------------------------------------------


async def test_a_server_dripping_bytes_is_cut_off_by_the_total_timeout(
    client: fetcher.Fetcher, site: str
) -> None:
    timeouts = fetcher.Timeouts(connect=1.0, read=0.5, total=1.0)
    started = time.monotonic()
    with pytest.raises(errors.FetchTimeout, match="within 1s"):
        await client.fetch(f"{site}/drip?every=0.1", timeouts=timeouts)

    assert time.monotonic() - started < 2.5


async def test_a_silent_server_is_cut_off_by_the_read_timeout(
    client: fetcher.Fetcher, site: str
) -> None:
    timeouts = fetcher.Timeouts(connect=1.0, read=0.3, total=10.0)
    started = time.monotonic()
    with pytest.raises(errors.FetchTimeout, match="sent nothing for 0.3s"):
        await client.fetch(f"{site}/stall", timeouts=timeouts)

    assert time.monotonic() - started < 2


async def test_a_server_that_never_accepts_is_cut_off_by_the_connect_timeout(
    client: fetcher.Fetcher,
) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        # Fill the accept queue, so that further connection attempts go unanswered.
        fillers = [socket.socket() for _ in range(3)]
        for filler in fillers:
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
        timeouts = fetcher.Timeouts(connect=0.3, read=5.0, total=5.0)
        try:
            with pytest.raises(errors.FetchTimeout, match="connecting to 127.0.0.1"):
                await client.fetch(f"http://127.0.0.1:{port}/", timeouts=timeouts)
        finally:
            for filler in fillers:
                filler.close()


# -- redirects ------------------------------------------------------------------------


async def test_redirects_are_followed_and_recorded(client: fetcher.Fetcher, site: str) -> None:
    result = await client.fetch(f"{site}/chain/3")

    assert result.final_url == f"{site}/chain/0"
    assert result.body == b"end"
    assert [(r.url, r.status) for r in result.redirects] == [
        (f"{site}/chain/3", 307),
        (f"{site}/chain/2", 307),
        (f"{site}/chain/1", 307),
    ]


async def test_a_redirect_loop_is_refused_at_once(
    client: fetcher.Fetcher, site: str, hostile: web.Application
) -> None:
    with pytest.raises(errors.TooManyRedirects, match="loop"):
        await client.fetch(f"{site}/loop/a")

    assert hostile[sites.HITS]["/loop/a"] == 1


async def test_more_than_the_maximum_redirects_is_refused(
    client: fetcher.Fetcher, site: str
) -> None:
    assert (await client.fetch(f"{site}/chain/10")).final_url == f"{site}/chain/0"
    with pytest.raises(errors.TooManyRedirects, match="more than 10"):
        await client.fetch(f"{site}/chain/11")
    with pytest.raises(errors.TooManyRedirects, match="more than 2"):
        await client.fetch(f"{site}/chain/3", max_redirects=2)


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://example.com/", "gopher://x/"])
async def test_a_redirect_to_another_scheme_is_refused(
    client: fetcher.Fetcher, site: str, target: str
) -> None:
    with pytest.raises(errors.UnsupportedScheme):
        await client.fetch(f"{site}/redirect?to={target}")


async def test_a_redirect_to_cloud_metadata_is_refused(client: fetcher.Fetcher, site: str) -> None:
    with pytest.raises(errors.BlockedAddress, match="169.254.169.254 is a link-local"):
        await client.fetch(f"{site}/redirect?to=http://169.254.169.254/latest/meta-data/")


async def test_a_redirect_to_another_loopback_address_is_refused_before_connecting(
    client: fetcher.Fetcher, serve: Serve, site: str
) -> None:
    target = sites.hostile_app()
    target_site = await serve(target, "127.0.0.2")  # reachable, but not allowed

    with pytest.raises(errors.BlockedAddress, match="127.0.0.2 is a loopback"):
        await client.fetch(f"{site}/redirect?to={target_site}/page")

    assert sum(target[sites.HITS].values()) == 0


class _FixedResolver(aiohttp.abc.AbstractResolver):
    """Answers every lookup with the same addresses (a DNS server we control)."""

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


async def test_a_redirect_to_a_name_resolving_to_a_blocked_address_is_refused(
    loopback: addresses.AddressPolicy, site: str
) -> None:
    async with fetcher.Fetcher(
        loopback, timeouts=TEST_TIMEOUTS, resolver=_FixedResolver("169.254.169.254")
    ) as client:
        with pytest.raises(errors.BlockedAddress, match="metadata.test resolves to 169.254"):
            await client.fetch(f"{site}/redirect?to=http://metadata.test/")


async def test_a_name_is_connected_to_only_at_the_addresses_that_were_checked(
    loopback: addresses.AddressPolicy, site: str
) -> None:
    port = site.rsplit(":", 1)[1]
    resolver = _FixedResolver("10.0.0.1", "127.0.0.1")  # one blocked, one allowed
    async with fetcher.Fetcher(loopback, timeouts=TEST_TIMEOUTS, resolver=resolver) as client:
        result = await client.fetch(f"http://shop.test:{port}/page")

    assert result.status == 200


# -- the SSRF guard without allowed networks ------------------------------------------


async def test_loopback_is_refused_by_default(
    strict_client: fetcher.Fetcher, site: str, hostile: web.Application
) -> None:
    with pytest.raises(errors.BlockedAddress, match="127.0.0.1 is a loopback"):
        await strict_client.fetch(f"{site}/page")

    assert sum(hostile[sites.HITS].values()) == 0


async def test_a_name_resolving_to_loopback_is_refused_by_default(
    strict_client: fetcher.Fetcher, site: str, hostile: web.Application
) -> None:
    with pytest.raises(errors.BlockedAddress, match=r"localhost resolves to 127\.0\.0\.1"):
        await strict_client.fetch(site.replace("127.0.0.1", "localhost") + "/page")

    assert sum(hostile[sites.HITS].values()) == 0


@pytest.mark.parametrize(
    "host",
    [
        "[::1]",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "[::127.0.0.1]",
        "[64:ff9b::a9fe:a9fe]",
        "[fe80::1]",
        "0.0.0.0",
        "2130706433",
        "127.1",
        "0x7f.0.0.1",
        "[2002:7f00:1::]",
    ],
)
async def test_private_address_literals_are_refused_in_every_spelling(
    strict_client: fetcher.Fetcher, host: str
) -> None:
    with pytest.raises(errors.BlockedAddress):
        await strict_client.fetch(f"http://{host}:1/")


def _ipv6_loopback_available() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _ipv6_loopback_available(), reason="no IPv6 loopback here")
async def test_an_allowed_ipv6_literal_is_fetched(serve: Serve) -> None:
    base = await serve(sites.hostile_app(), "::1")
    async with fetcher.Fetcher(addresses.AddressPolicy(["::1/128"])) as client:
        assert (await client.fetch(f"{base}/page")).status == 200
    async with fetcher.Fetcher(addresses.AddressPolicy(["127.0.0.1/32"])) as client:
        with pytest.raises(errors.BlockedAddress):
            await client.fetch(f"{base}/page")


# -- broken connections and URLs ------------------------------------------------------


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_connection_refused(client: fetcher.Fetcher) -> None:
    with pytest.raises(errors.ConnectionFailed, match="cannot connect to 127.0.0.1"):
        await client.fetch(f"http://127.0.0.1:{_unused_port()}/")


async def test_unknown_host(client: fetcher.Fetcher) -> None:
    with pytest.raises(errors.ConnectionFailed, match="cannot resolve nonexistent.invalid"):
        await client.fetch("http://nonexistent.invalid/")


@pytest.mark.parametrize(
    ("handler", "error"),
    [
        (sites.close_at_once, errors.ConnectionFailed),
        (sites.cut_short, errors.ConnectionFailed),
        (sites.garbage, errors.FetchError),
    ],
)
async def test_broken_servers(
    client: fetcher.Fetcher,
    serve_raw: ServeRaw,
    handler: sites.RawHandler,
    error: type[errors.FetchError],
) -> None:
    base = await serve_raw(handler)
    with pytest.raises(error):
        await client.fetch(f"{base}/")


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("ftp://example.com/", errors.UnsupportedScheme),
        ("file:///etc/passwd", errors.UnsupportedScheme),
        ("/relative", errors.UnsupportedScheme),
        ("http://[::1", errors.InvalidInput),
        ("http://example.com:99999/", errors.InvalidInput),
        ("http:///nohost", errors.InvalidInput),
        ("http://example.com/" + "a" * 10_000, errors.InvalidInput),
    ],
)
async def test_malformed_urls(
    client: fetcher.Fetcher, url: str, error: type[errors.ScrapeyardError]
) -> None:
    with pytest.raises(error):
        await client.fetch(url)


# -- proxies --------------------------------------------------------------------------


@pytest.fixture
async def proxy_server(serve: Serve) -> AsyncIterator[tuple[str, list[dict[str, str]]]]:
    """A forward proxy that answers every request itself and records what it got."""
    seen: list[dict[str, str]] = []

    async def answer(request: web.Request) -> web.StreamResponse:
        seen.append({"target": str(request.url), **request.headers})
        return web.Response(text="via proxy", content_type="text/html")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    yield await serve(app), seen


async def test_fetches_through_a_proxy_with_credentials(
    client: fetcher.Fetcher, proxy_server: tuple[str, list[dict[str, str]]]
) -> None:
    base, seen = proxy_server
    proxy = proxies.Proxy.parse(base.replace("http://", "http://user:s3cret@"))

    result = await client.fetch("http://93.184.215.14/page", proxy=proxy)

    assert result.body == b"via proxy"
    assert seen[0]["target"] == "http://93.184.215.14/page"
    assert seen[0]["Proxy-Authorization"] == "Basic dXNlcjpzM2NyZXQ="


async def test_a_failing_proxy_never_shows_its_password(client: fetcher.Fetcher) -> None:
    proxy = proxies.Proxy.parse(f"http://user:s3cret@127.0.0.1:{_unused_port()}")

    with pytest.raises(errors.ConnectionFailed) as caught:
        await client.fetch("http://93.184.215.14/", proxy=proxy)

    assert "s3cret" not in str(caught.value) and "s3cret" not in repr(proxy)
    assert "proxy http://127.0.0.1" in str(caught.value)


async def test_the_target_is_still_checked_when_going_through_a_proxy(
    loopback: addresses.AddressPolicy, proxy_server: tuple[str, list[dict[str, str]]]
) -> None:
    base, seen = proxy_server
    proxy = proxies.Proxy.parse(base)
    resolver = _FixedResolver("10.0.0.5")
    async with fetcher.Fetcher(loopback, timeouts=TEST_TIMEOUTS, resolver=resolver) as client:
        with pytest.raises(errors.BlockedAddress, match="169.254.169.254"):
            await client.fetch("http://169.254.169.254/", proxy=proxy)
        with pytest.raises(errors.BlockedAddress, match="internal.test resolves to 10.0.0.5"):
            await client.fetch("http://internal.test/", proxy=proxy)

    assert seen == []


async def test_a_proxy_is_held_to_the_address_policy_too(strict_client: fetcher.Fetcher) -> None:
    proxy = proxies.Proxy.parse("http://169.254.169.254:3128")

    with pytest.raises(errors.BlockedAddress, match="169.254.169.254 is a link-local"):
        await strict_client.fetch("http://93.184.215.14/", proxy=proxy)


async def test_a_closed_fetcher_refuses_to_fetch(site: str) -> None:
    client = fetcher.Fetcher(addresses.AddressPolicy(["127.0.0.1/32"]))
    assert (await client.fetch(f"{site}/page")).status == 200
    await client.close()

    with pytest.raises(RuntimeError, match="closed"):
        await client.fetch(f"{site}/page")


def test_timeouts_must_be_positive() -> None:
    with pytest.raises(errors.InvalidInput, match="timeout.read"):
        fetcher.Timeouts(read=0)
