"""A deterministic product-catalogue site for the crawl benchmark, written as static files.

    from bench import site
    root = site.ensure_site(cache_dir, pages=10_000, seed=7)   # cached by pages and seed
    site.write_discovery_files(root, "http://127.0.0.1:8080")  # robots.txt and sitemaps

The site has exactly ``pages`` HTML files: a home page, a few static pages, paginated
category listings, product pages of 15-40 KB (title, price, SKU, JSON-LD, description,
specifications, reviews, 10-30 links in the content plus header and footer boilerplate)
and a ``/private/`` area that robots.txt forbids, except ``/private/press/``, which an
``Allow`` line re-opens. Links come in duplicate forms (``?utm_source=...``,
``#fragment``, relative ``../``), and point at disallowed URLs (``/cart?add=``,
``/search?q=``, ``?sort=`` through a wildcard rule) and at hosts that never resolve
(``external.invalid``).

``manifest.json`` records what a correct crawl yields: every allowed page reachable by
links from ``/`` (all of them, by construction), every linked URL robots.txt forbids, and
the expected title, price and SKU of each product. Links are relative to the origin, so a
cached site serves on any port; only robots.txt and the sitemaps, which need absolute
URLs, are rewritten for each origin.

Modules: ``rules`` (robots rules, canonical URLs, selectors: what crawlers and checks
share), ``layout`` (which pages exist and what they sell), ``pages`` (their HTML) and
``build`` (files, manifest, sitemaps, cache). The names below are the whole public API.
"""

from bench.site.build import (
    GENERATOR_VERSION,
    Manifest,
    ensure_site,
    generate,
    load_manifest,
    write_discovery_files,
)
from bench.site.rules import ROBOTS_RULES, SELECTORS, canonical_uri, robots_allows

__all__ = [
    "GENERATOR_VERSION",
    "ROBOTS_RULES",
    "SELECTORS",
    "Manifest",
    "canonical_uri",
    "ensure_site",
    "generate",
    "load_manifest",
    "robots_allows",
    "write_discovery_files",
]
