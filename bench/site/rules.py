"""What crawlers of the benchmark site must respect and extract, and how URLs compare.

The site's robots.txt is written from ``ROBOTS_RULES``, and the same rules decide, in
``robots_allows``, which requests the benchmark counts as violations.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit

#: CSS selectors every crawler in the benchmark uses for the three extracted fields.
SELECTORS = {
    "title": "h1.product-title",
    "price": "span.product-price",
    "sku": "span.product-sku",
}

#: (allow, pattern) in robots.txt order; RFC 9309 semantics: longest match, Allow wins ties.
ROBOTS_RULES: tuple[tuple[bool, str], ...] = (
    (False, "/private/"),
    (True, "/private/press/"),
    (False, "/cart"),
    (False, "/search"),
    (False, "/*?sort="),
)


def _robots_regex(pattern: str) -> re.Pattern[str]:
    anchored = pattern.endswith("$")
    body = re.escape(pattern.rstrip("$")).replace(r"\*", ".*")
    return re.compile(body + ("$" if anchored else ""))


_COMPILED_RULES = [(allow, len(pattern), _robots_regex(pattern)) for allow, pattern in ROBOTS_RULES]


def robots_allows(uri: str) -> bool:
    """Whether robots.txt lets ``User-agent: *`` fetch ``uri`` (path and query)."""
    best_length, allowed = -1, True
    for allow, length, regex in _COMPILED_RULES:
        if regex.match(uri) and (length > best_length or (length == best_length and allow)):
            best_length, allowed = length, allow
    return allowed


def canonical_uri(url: str) -> str:
    """Path and query of ``url`` without its fragment and ``utm_*`` parameters."""
    parts = urlsplit(url)
    path = parts.path or "/"
    if not parts.query:
        return path
    kept = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.startswith("utm_")
    ]
    return f"{path}?{urlencode(kept)}" if kept else path


def robots_txt(origin: str) -> str:
    """The site's robots.txt, naming the sitemap index at ``origin``."""
    rules = "\n".join(
        f"{'Allow' if allow else 'Disallow'}: {pattern}" for allow, pattern in ROBOTS_RULES
    )
    return (
        "# Crawl benchmark site\nUser-agent: *\n"
        f"{rules}\n\nUser-agent: BadBot\nDisallow: /\n\nSitemap: {origin}/sitemap.xml\n"
    )
