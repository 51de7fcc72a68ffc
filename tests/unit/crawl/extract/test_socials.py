"""Recognising social-network profile links."""

from __future__ import annotations

import pytest

from scrapeyard.crawl.extract import socials


@pytest.mark.parametrize(
    ("url", "network"),
    [
        ("https://www.linkedin.com/in/jane-doe", "linkedin"),
        ("https://uk.linkedin.com/company/acme", "linkedin"),
        ("https://twitter.com/acme", "twitter"),
        ("https://mobile.twitter.com/acme/", "twitter"),
        ("https://x.com/acme", "twitter"),
        ("https://www.facebook.com/acme.shop", "facebook"),
        ("https://m.facebook.com/acme", "facebook"),
        ("https://www.instagram.com/acme.shop/", "instagram"),
        ("https://www.youtube.com/channel/UC123", "youtube"),
        ("https://youtube.com/c/acme", "youtube"),
        ("https://www.youtube.com/@acme", "youtube"),
        ("https://www.tiktok.com/@acme", "tiktok"),
        ("https://github.com/acme", "github"),
        ("https://www.pinterest.com/acme/", "pinterest"),
        ("https://www.threads.net/@acme", "threads"),
        ("https://t.me/acme_news", "telegram"),
        ("https://user@twitter.com:443/acme", "twitter"),
    ],
)
def test_profiles(url: str, network: str) -> None:
    assert socials.network_of(url) == network


@pytest.mark.parametrize(
    "url",
    [
        "https://www.linkedin.com/shareArticle?url=x",
        "https://www.linkedin.com/",
        "https://twitter.com/intent/tweet?text=x",
        "https://twitter.com/share",
        "https://twitter.com/",
        "https://www.facebook.com/sharer/sharer.php?u=x",
        "https://www.facebook.com/dialog/share",
        "https://www.facebook.com/",
        "https://www.instagram.com/p/Cx1/",
        "https://www.youtube.com/watch?v=x",
        "https://www.youtube.com/embed/x",
        "https://www.tiktok.com/tag/x",
        "https://github.com/features/actions",
        "https://t.me/share/url?url=x",
        "https://nottwitter.com/acme",
        "https://example.com/twitter.com/acme",
        "https://twitter.com.evil.example/acme",
        "mailto:x@twitter.com",
        "https://[::1/x",
    ],
)
def test_not_profiles(url: str) -> None:
    assert socials.network_of(url) is None
