"""robots.txt rules, fetched from real loopback servers, as RFC 9309 says."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from scrapeyard import errors
from scrapeyard.crawl import addresses, fetcher, robots
from tests.unit.crawl import sites
from tests.unit.crawl.conftest import TEST_TIMEOUTS, Serve

RULES = b"""\
User-agent: *
Disallow: /private/
Crawl-delay: 2

User-agent: strictbot
Disallow: /

Sitemap: https://example.com/sitemap.xml
Sitemap: https://example.com/news.xml
"""


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def robots_app(*answers: tuple[int, bytes]) -> web.Application:
    """Answers /robots.txt with ``answers`` in turn, the last one repeating."""
    app = sites.counting_app()
    pending = list(answers)

    async def serve_robots(request: web.Request) -> web.StreamResponse:
        status, body = pending.pop(0) if len(pending) > 1 else pending[0]
        return web.Response(status=status, body=body, content_type="text/plain")

    app.router.add_get("/robots.txt", serve_robots)
    return app


async def test_rules_are_parsed(client: fetcher.Fetcher, serve: Serve) -> None:
    base = await serve(robots_app((200, RULES)))
    cache = robots.RobotsCache(client, user_agent="scrapeyard")

    rules = await cache.get(f"{base}/anything")

    assert rules.status is robots.RobotsStatus.PARSED
    assert rules.can_fetch(f"{base}/public", "scrapeyard")
    assert not rules.can_fetch(f"{base}/private/x", "scrapeyard")
    assert not rules.can_fetch(f"{base}/public", "strictbot/2.0")
    assert rules.crawl_delay("scrapeyard") == 2.0
    assert rules.sitemaps == ("https://example.com/sitemap.xml", "https://example.com/news.xml")
    assert await cache.can_fetch(f"{base}/private/y") is False
    with pytest.raises(errors.RobotsDisallowed, match="disallows"):
        rules.require(f"{base}/private/x", "scrapeyard")


async def test_a_missing_file_allows_everything(client: fetcher.Fetcher, serve: Serve) -> None:
    base = await serve(robots_app((404, b"not found")))
    rules = await robots.RobotsCache(client, user_agent="bot").get(base)

    assert rules.status is robots.RobotsStatus.ALLOW_ALL
    assert rules.can_fetch(f"{base}/private/x", "bot")
    assert rules.crawl_delay("bot") is None


@pytest.mark.parametrize("status", [500, 503, 429])
async def test_a_server_error_disallows_everything(
    client: fetcher.Fetcher, serve: Serve, status: int
) -> None:
    base = await serve(robots_app((status, b"oops")))
    rules = await robots.RobotsCache(client, user_agent="bot").get(base)

    assert rules.status is robots.RobotsStatus.DISALLOW_ALL
    assert not rules.can_fetch(f"{base}/", "bot")
    with pytest.raises(errors.RobotsDisallowed, match=f"HTTP {status}"):
        rules.require(f"{base}/", "bot")


async def test_a_500_then_200_disallows_until_the_retry_succeeds(
    client: fetcher.Fetcher, serve: Serve
) -> None:
    app = robots_app((500, b""), (200, RULES))
    base = await serve(app)
    clock = Clock()
    cache = robots.RobotsCache(client, user_agent="bot", failure_ttl=60, clock=clock)

    assert not await cache.can_fetch(f"{base}/public")
    clock.now += 59
    assert not await cache.can_fetch(f"{base}/public")  # the failure is cached briefly
    assert app[sites.HITS]["/robots.txt"] == 1

    clock.now += 2
    assert await cache.can_fetch(f"{base}/public")
    assert not await cache.can_fetch(f"{base}/private/x")
    assert app[sites.HITS]["/robots.txt"] == 2


async def test_results_are_cached_until_the_ttl(client: fetcher.Fetcher, serve: Serve) -> None:
    app = robots_app((200, RULES), (404, b""))
    base = await serve(app)
    clock = Clock()
    cache = robots.RobotsCache(client, user_agent="bot", ttl=3600, clock=clock)

    assert (await cache.get(base)).status is robots.RobotsStatus.PARSED
    clock.now += 3599
    assert (await cache.get(f"{base}/other")).status is robots.RobotsStatus.PARSED
    clock.now += 2
    assert (await cache.get(base)).status is robots.RobotsStatus.ALLOW_ALL
    assert app[sites.HITS]["/robots.txt"] == 2


async def test_a_cached_copy_is_used_while_the_server_fails(
    client: fetcher.Fetcher, serve: Serve
) -> None:
    base = await serve(robots_app((200, RULES), (503, b"")))
    clock = Clock()
    cache = robots.RobotsCache(client, user_agent="bot", ttl=10, clock=clock)
    await cache.get(base)
    clock.now += 11

    rules = await cache.get(base)

    assert rules.status is robots.RobotsStatus.PARSED
    assert rules.can_fetch(f"{base}/public", "bot")


async def test_an_unreachable_server_disallows_everything(client: fetcher.Fetcher) -> None:
    rules = await robots.RobotsCache(client, user_agent="bot").get("http://127.0.0.1:1/")

    assert rules.status is robots.RobotsStatus.DISALLOW_ALL
    assert "cannot connect" in rules.reason


async def test_robots_txt_is_fetched_under_the_ssrf_guard(
    strict_client: fetcher.Fetcher, serve: Serve
) -> None:
    app = robots_app((200, b""))
    base = await serve(app)

    rules = await robots.RobotsCache(strict_client, user_agent="bot").get(base)

    assert rules.status is robots.RobotsStatus.DISALLOW_ALL
    assert "loopback" in rules.reason
    assert app[sites.HITS]["/robots.txt"] == 0


async def test_only_the_first_500_kib_are_read(client: fetcher.Fetcher, serve: Serve) -> None:
    padding = b"# " + b"x" * 1000 + b"\n"
    body = b"User-agent: *\nDisallow: /early\n" + padding * 600 + b"Disallow: /late\n"
    base = await serve(robots_app((200, body)))

    rules = await robots.RobotsCache(client, user_agent="bot").get(base)

    assert not rules.can_fetch(f"{base}/early", "bot")
    assert rules.can_fetch(f"{base}/late", "bot")


async def test_a_gzip_bomb_robots_txt_is_cut_at_the_limit(
    client: fetcher.Fetcher, serve: Serve
) -> None:
    app = sites.counting_app()
    app.router.add_get("/robots.txt", sites.bomb)
    base = await serve(app)

    rules = await robots.RobotsCache(client, user_agent="bot").get(base)

    assert rules.status is robots.RobotsStatus.PARSED
    assert rules.can_fetch(f"{base}/", "bot")


@pytest.mark.parametrize(
    "body",
    [
        bytes(range(256)) * 40,
        b"<html><body><h1>Welcome</h1><p>Disallow: /</p></body></html>",
        b"\xef\xbb\xbfUser-agent: *\r\nDisallow: /private/\r\n",
        b"User-agent *\nAllow:\nCrawl-delay: soon\nSitemap:\nNonsense: /\n",
        "User-agent: *\nDisallow: /caf\u00e9/\n".encode("latin-1"),
    ],
)
async def test_malformed_files_never_break_the_cache(
    client: fetcher.Fetcher, serve: Serve, body: bytes
) -> None:
    base = await serve(robots_app((200, body)))

    rules = await robots.RobotsCache(client, user_agent="bot").get(base)

    assert rules.status is robots.RobotsStatus.PARSED
    assert rules.can_fetch(f"{base}/public", "bot")
    assert rules.crawl_delay("bot") is None


async def test_redirects_are_followed_up_to_five(client: fetcher.Fetcher, serve: Serve) -> None:
    five = await _robots_via(client, serve, 4)  # robots.txt -> /r/4 -> ... -> /r/0
    six = await _robots_via(client, serve, 5)

    assert five.status is robots.RobotsStatus.PARSED
    assert not five.can_fetch(f"{five.origin}/x", "bot")
    assert six.status is robots.RobotsStatus.ALLOW_ALL
    assert six.reason == "too many redirects"


async def _robots_via(client: fetcher.Fetcher, serve: Serve, hops: int) -> robots.Robots:
    app = sites.counting_app()

    async def hop(request: web.Request) -> web.StreamResponse:
        left = int(request.match_info["left"])
        if left == 0:
            return web.Response(text="User-agent: *\nDisallow: /\n")
        return web.Response(status=301, headers={"Location": f"/r/{left - 1}"})

    async def start(request: web.Request) -> web.StreamResponse:
        return web.Response(status=301, headers={"Location": f"/r/{hops}"})

    app.router.add_get("/r/{left}", hop)
    app.router.add_get("/robots.txt", start)
    base = await serve(app)
    return await robots.RobotsCache(client, user_agent="bot").get(base)


async def test_concurrent_requests_share_one_fetch(client: fetcher.Fetcher, serve: Serve) -> None:
    app = sites.counting_app()
    entered, release = asyncio.Event(), asyncio.Event()

    async def slow_robots(request: web.Request) -> web.StreamResponse:
        entered.set()
        await release.wait()
        return web.Response(body=RULES)

    app.router.add_get("/robots.txt", slow_robots)
    base = await serve(app)
    cache = robots.RobotsCache(client, user_agent="bot")

    waiters = [asyncio.ensure_future(cache.get(f"{base}/page/{i}")) for i in range(20)]
    await asyncio.wait_for(entered.wait(), timeout=5)
    release.set()
    results = await asyncio.gather(*waiters)

    assert all(result is results[0] for result in results)
    assert app[sites.HITS]["/robots.txt"] == 1


async def test_a_waiter_giving_up_does_not_cancel_the_shared_fetch(
    client: fetcher.Fetcher, serve: Serve
) -> None:
    app = sites.counting_app()
    entered, release = asyncio.Event(), asyncio.Event()

    async def slow_robots(request: web.Request) -> web.StreamResponse:
        entered.set()
        await release.wait()
        return web.Response(body=RULES)

    app.router.add_get("/robots.txt", slow_robots)
    base = await serve(app)
    cache = robots.RobotsCache(client, user_agent="bot")
    impatient = asyncio.ensure_future(cache.get(base))
    patient = asyncio.ensure_future(cache.get(base))
    await asyncio.wait_for(entered.wait(), timeout=5)

    impatient.cancel()
    release.set()

    assert (await patient).status is robots.RobotsStatus.PARSED
    assert impatient.cancelled()
    assert (await cache.get(base)).status is robots.RobotsStatus.PARSED
    assert app[sites.HITS]["/robots.txt"] == 1


def test_origin_of() -> None:
    assert robots.origin_of("HTTPS://Example.com:443/a?b") == "https://example.com"
    assert robots.origin_of("http://example.com:8080/") == "http://example.com:8080"
    with pytest.raises(errors.InvalidInput):
        robots.origin_of("ftp://example.com/")
    with pytest.raises(errors.InvalidInput):
        robots.origin_of("http://[::1")


async def test_many_origins_are_kept_within_a_bound(client: fetcher.Fetcher) -> None:
    policy = addresses.AddressPolicy(["127.0.0.0/8"])
    async with fetcher.Fetcher(policy, timeouts=TEST_TIMEOUTS) as wide:
        cache = robots.RobotsCache(wide, user_agent="bot", max_origins=3)
        for port in range(1, 6):
            await cache.get(f"http://127.0.0.1:{port}/")

        assert len(cache) == 3


async def test_each_fetch_is_reported_and_a_failing_listener_is_ignored(
    client: fetcher.Fetcher, serve: Serve
) -> None:
    good = await serve(robots_app((200, RULES)))
    missing = await serve(robots_app((404, b"")))
    heard: list[robots.Robots] = []

    async def listener(found: robots.Robots) -> None:
        heard.append(found)
        if found.status is robots.RobotsStatus.ALLOW_ALL:
            raise RuntimeError("the database is away")

    cache = robots.RobotsCache(client, user_agent="bot", on_refreshed=listener)
    assert not await cache.can_fetch(f"{good}/private/x")
    assert await cache.can_fetch(f"{missing}/private/x")  # the listener's error is not ours
    await cache.get(f"{good}/again")  # cached: not fetched, not reported again

    assert [(r.origin, r.status) for r in heard] == [
        (good, robots.RobotsStatus.PARSED),
        (missing, robots.RobotsStatus.ALLOW_ALL),
    ]
    assert heard[0].text == RULES.decode()
    assert heard[1].text is None
