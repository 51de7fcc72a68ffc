"""Writing the site: its files, its manifest, and the per-origin robots.txt and sitemaps.

``generate`` writes the pages and computes, by following the links each page recorded,
the set of allowed pages reachable from ``/``; it refuses to finish if any allowed page is
unreachable, so coverage is always measured against the whole site.
"""

from __future__ import annotations

import gzip
import json
import random
import shutil
from collections import deque
from pathlib import Path
from typing import TypedDict

from bench.site import catalogue, rules
from bench.site import pages as site_pages

#: Part of the cache key: bump it whenever the generated files change.
GENERATOR_VERSION = 1
PER_SITEMAP = 5_000


class Manifest(TypedDict):
    """What a correct crawl of the generated site yields; paths are origin-relative."""

    version: int
    seed: int
    pages: int
    bytes: int
    content_links: float
    selectors: dict[str, str]
    allowed: list[str]
    disallowed: list[str]
    products: dict[str, list[str]]


def _file_for(root: Path, path: str) -> Path:
    return root / (path.lstrip("/") + "index.html" if path.endswith("/") else path.lstrip("/"))


def _reachable(graph: dict[str, list[str]]) -> set[str]:
    seen, queue = {"/"}, deque(["/"])
    while queue:
        for target in graph.get(queue.popleft(), ()):
            if target not in seen and rules.robots_allows(target):
                seen.add(target)
                queue.append(target)
    return seen


def generate(root: Path, pages: int, seed: int) -> Manifest:
    """Write a site of exactly ``pages`` HTML files into the empty directory ``root``."""
    rng = random.Random(seed)
    layout = catalogue.plan(pages, rng)
    graph: dict[str, list[str]] = {}
    total_bytes = content_links = 0
    directories: set[Path] = set()
    for page in site_pages.render(layout, rng):
        file = _file_for(root, page.path)
        if file.parent not in directories:
            file.parent.mkdir(parents=True, exist_ok=True)
            directories.add(file.parent)
        body = page.html()
        file.write_bytes(body)
        total_bytes += len(body)
        content_links += page.content_links
        graph[page.path] = page.targets
    if len(graph) != pages:
        raise AssertionError(f"generated {len(graph)} pages instead of {pages}")
    static = root / "static"
    static.mkdir(exist_ok=True)
    (static / "site.css").write_text("body{font-family:system-ui,sans-serif}\n")

    reachable = _reachable(graph)
    missing = [path for path in graph if rules.robots_allows(path) and path not in reachable]
    if missing or not reachable <= graph.keys():
        raise AssertionError(f"unreachable or dangling pages: {missing[:5]}")
    linked = {target for targets in graph.values() for target in targets}
    manifest: Manifest = {
        "version": GENERATOR_VERSION,
        "seed": seed,
        "pages": pages,
        "bytes": total_bytes,
        "content_links": round(content_links / pages, 1),
        "selectors": rules.SELECTORS,
        "allowed": sorted(reachable),
        "disallowed": sorted(uri for uri in linked if not rules.robots_allows(uri)),
        "products": {p.path: [p.name, p.price, p.sku] for p in layout.products},
    }
    (root / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False))
    return manifest


def load_manifest(root: Path) -> Manifest:
    """The manifest of the site generated in ``root``."""
    manifest: Manifest = json.loads((root / "manifest.json").read_text())
    return manifest


def ensure_site(cache_dir: Path, pages: int, seed: int) -> Path:
    """The directory of the site for ``pages`` and ``seed``, generating it when missing."""
    root = cache_dir / f"site-{pages}-s{seed}-v{GENERATOR_VERSION}"
    if (root / "manifest.json").exists():
        return root
    partial = root.with_name(root.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    generate(partial, pages, seed)
    partial.rename(root)
    return root


def write_discovery_files(root: Path, origin: str) -> None:
    """robots.txt, and a sitemap index with plain and gzip children, for ``origin``."""
    manifest = load_manifest(root)
    (root / "robots.txt").write_text(rules.robots_txt(origin))
    products = [path for path in manifest["allowed"] if path.startswith("/p/")]
    others = [path for path in manifest["allowed"] if not path.startswith("/p/")]
    sitemaps = root / "sitemaps"
    shutil.rmtree(sitemaps, ignore_errors=True)
    sitemaps.mkdir()
    children = ["/sitemaps/pages.xml"]
    (sitemaps / "pages.xml").write_bytes(_urlset(origin, others))
    for n, start in enumerate(range(0, len(products), PER_SITEMAP), start=1):
        name = f"/sitemaps/products-{n}.xml.gz"
        chunk = products[start : start + PER_SITEMAP]
        (root / name.lstrip("/")).write_bytes(gzip.compress(_urlset(origin, chunk), mtime=0))
        children.append(name)
    entries = "".join(f"<sitemap><loc>{origin}{child}</loc></sitemap>\n" for child in children)
    (root / "sitemap.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{entries}</sitemapindex>\n"
    )


def _urlset(origin: str, paths: list[str]) -> bytes:
    entries = "".join(
        f"<url><loc>{origin}{path}</loc><lastmod>2024-05-{n % 28 + 1:02d}</lastmod></url>\n"
        for n, path in enumerate(paths)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{entries}</urlset>\n"
    ).encode()
