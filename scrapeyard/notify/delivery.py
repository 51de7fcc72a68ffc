"""One attempt at a webhook delivery: a signed POST, behind the crawl's SSRF guard.

A webhook's URL is written by whoever may create subscriptions (or pass a job's
``webhook`` option), so it is held to the rules pages are: its host must resolve to an
address ``AddressPolicy`` allows (``allowed_networks`` opens holes), checked before any
connection and pinned by ``GuardedResolver`` so a second DNS answer cannot switch it.
Redirects are not followed (a 3xx is a failed attempt, like any answer outside 2xx);
the whole attempt is bounded by ``webhooks.timeout``; at most ``READ_LIMIT`` bytes of
the answer are read, and an excerpt of them is kept.

An attempt never raises for anything the receiver does: ``send`` returns an
``Attempt`` saying what happened, and the ``webhook.deliver`` job decides from it
whether to retry.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scrapeyard import errors

if TYPE_CHECKING:
    import aiohttp
    import aiohttp.abc

    from scrapeyard.crawl import addresses

READ_LIMIT = 4096
"""Bytes of a receiver's answer read at most."""
EXCERPT_CHARS = 1000
"""Characters of the answer kept with the attempt."""
USER_AGENT = "scrapeyard-webhooks"


@dataclass(frozen=True)
class Attempt:
    """What one attempt came to."""

    status_code: int | None
    latency: float | None
    """Seconds from the request to the end of the (capped) answer."""
    excerpt: str | None
    error: str | None
    permanent: bool = False
    """Trying again cannot help (the address is not allowed, the URL is unusable)."""

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _excerpt(data: bytes) -> str | None:
    if not data:
        return None
    text = data.decode("utf-8", errors="replace")
    return text[:EXCERPT_CHARS]


async def _read_capped(content: aiohttp.StreamReader) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < READ_LIMIT:
        chunk = await content.read(READ_LIMIT - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


async def send(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    policy: addresses.AddressPolicy,
    timeout: float,
    resolver: aiohttp.abc.AbstractResolver | None = None,
) -> Attempt:
    """POST ``body`` to ``url`` once; what happened, as an ``Attempt``.

    ``resolver`` replaces the system's DNS lookups (the guard still judges every
    address it returns).
    """
    import aiohttp
    import yarl

    from scrapeyard.crawl import addresses

    try:
        target = yarl.URL(url)
        host = target.raw_host
    except (ValueError, TypeError) as exc:
        return Attempt(None, None, None, f"not a usable URL: {exc}", permanent=True)
    if target.scheme not in ("http", "https") or not host:
        return Attempt(None, None, None, "only http and https URLs are delivered to", True)
    try:
        policy.check_host(host)
    except errors.BlockedAddress as exc:
        return Attempt(None, None, None, f"BlockedAddress: {exc}", permanent=True)
    request_headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Accept-Encoding": "identity",
        **headers,
    }
    connector = aiohttp.TCPConnector(
        resolver=addresses.GuardedResolver(policy, resolver),
        limit=1,
        force_close=True,
        use_dns_cache=False,
    )
    started = time.perf_counter()
    try:
        async with (
            aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,
                trust_env=False,
            ) as session,
            asyncio.timeout(timeout),
            session.post(
                target,
                data=body,
                headers=request_headers,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=min(timeout, 10.0)),
            ) as response,
        ):
            data = await _read_capped(response.content)
            return Attempt(response.status, time.perf_counter() - started, _excerpt(data), None)
    except errors.BlockedAddress as exc:
        return Attempt(None, None, None, f"BlockedAddress: {exc}", permanent=True)
    except TimeoutError:
        return Attempt(
            None,
            time.perf_counter() - started,
            None,
            f"Timeout: no complete answer within {timeout:g}s",
        )
    except (aiohttp.ClientError, OSError) as exc:
        reason = str(exc) or type(exc).__name__
        return Attempt(None, time.perf_counter() - started, None, f"{type(exc).__name__}: {reason}")
