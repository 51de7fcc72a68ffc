"""The HTML of each page, assembled from strings (fast enough for 50k pages in seconds).

Each ``Page`` remembers the canonical target of every link it writes, so ``build`` can
compute the reachable set without parsing anything back.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Iterator

from bench.site import catalogue

_HEAD_BOILERPLATE = (
    "<style>body{font-family:system-ui,sans-serif;margin:0;color:#222}"
    ".site-header,.site-footer{background:#f4f4f4;padding:1rem}"
    ".product{max-width:960px;margin:auto}.product-price{font-weight:700}"
    ".specs td{padding:.25rem .5rem;border-bottom:1px solid #ddd}"
    ".reviews blockquote{margin:0 0 1rem;border-left:3px solid #ccc;padding-left:1rem}"
    "</style>\n<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push"
    "(arguments)}gtag('js',new Date());gtag('config','G-BENCH0000');</script>\n"
)


def _paragraph_pool(rng: random.Random, count: int) -> list[str]:
    pool = []
    for _ in range(count):
        sentences = []
        for _ in range(rng.randint(4, 8)):
            words = [rng.choice(catalogue.WORDS) for _ in range(rng.randint(8, 18))]
            sentences.append(" ".join(words).capitalize() + ".")
        pool.append(" ".join(sentences))
    return pool


class Page:
    """One HTML page being assembled, remembering the canonical target of each link."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.parts: list[str] = []
        self.targets: list[str] = []
        self.content_links = 0

    def link(self, href: str, text: str, target: str | None, *, content: bool = True) -> str:
        if target is not None:
            self.targets.append(target)
        self.content_links += content
        return f'<a href="{href}">{text}</a>'

    def html(self) -> bytes:
        return "".join(self.parts).encode()


def _relative_to(base: str, target: str) -> str:
    """``target`` written relative to the directory of ``base`` (``../p/x.html`` forms)."""
    depth = base.count("/") - 1
    return "../" * depth + target.lstrip("/") if depth else "." + target


class Writer:
    """Writes the pages of one layout; all randomness comes from the shared, seeded RNG."""

    def __init__(self, layout: catalogue.Layout, rng: random.Random) -> None:
        self.layout = layout
        self.rng = rng
        self.pool = _paragraph_pool(rng, 600)
        self.nav = layout.categories[:8]

    def head(self, page: Page, title: str, description: str, og_type: str) -> None:
        page.parts.append(
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{title} | Shopyard</title>\n"
            f'<meta name="description" content="{description}">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<link rel="canonical" href="{page.path}">\n'
            f'<meta property="og:title" content="{title}">\n'
            f'<meta property="og:type" content="{og_type}">\n'
            f'<meta property="og:url" content="{page.path}">\n'
            '<meta property="og:site_name" content="Shopyard">\n'
            '<link rel="stylesheet" href="/static/site.css">\n' + _HEAD_BOILERPLATE
        )

    def header(self, page: Page) -> None:
        items = "".join(
            f"<li>{page.link(path, name, path, content=False)}</li>" for name, path in self.nav
        )
        page.parts.append(
            '</head>\n<body>\n<header class="site-header">\n'
            f"{page.link('/', 'Shopyard', '/', content=False)}\n"
            '<form action="/search" method="get"><input name="q" placeholder="Search">'
            "<button>Search</button></form>\n"
            f"{page.link('/cart', 'Cart', '/cart', content=False)}\n"
            f'<nav class="main-nav"><ul>{items}</ul></nav>\n</header>\n'
        )

    def footer(self, page: Page) -> None:
        rng = self.rng
        links = [
            page.link(p, p.strip("/").split(".")[0].title(), p, content=False)
            for p in catalogue.STATIC_PAGES
        ]
        links.append(page.link("/private/press/", "Press", "/private/press/", content=False))
        links.append('<a href="mailto:hello@shopyard.invalid">E-mail us</a>')
        links.append('<a href="tel:+441632960000">Call us</a>')
        for n in range(rng.randint(1, 3)):
            host = ("external.invalid", "cdn.external.invalid", "partner.invalid")[n]
            links.append(f'<a href="https://{host}/ref/{rng.randint(1, 99_999)}">Partner {n}</a>')
        page.parts.append(
            '<footer class="site-footer">\n<ul>'
            + "".join(f"<li>{link}</li>" for link in links)
            + "</ul>\n<p>© 2024 Shopyard Ltd. All prices include VAT where applicable.</p>\n"
            "</footer>\n</body>\n</html>\n"
        )

    def paragraphs(self, count: int) -> str:
        return "".join(f"<p>{self.rng.choice(self.pool)}</p>\n" for _ in range(count))

    def product(self, index: int, private_link: str | None) -> Page:
        rng, layout = self.rng, self.layout
        item = layout.products[index]
        page = Page(item.path)
        self.head(page, item.name, f"Buy the {item.name} at Shopyard.", "product")
        ld = {
            "@context": "https://schema.org",
            "@type": "Product",
            "name": item.name,
            "sku": item.sku,
            "brand": {"@type": "Brand", "name": "Shopyard"},
            "offers": {
                "@type": "Offer",
                "price": item.price_value,
                "priceCurrency": item.currency,
                "availability": "https://schema.org/InStock",
            },
        }
        page.parts.append(
            '<meta property="og:image" content="/img' + item.path.removesuffix(".html") + '.jpg">\n'
            f'<script type="application/ld+json">{json.dumps(ld, ensure_ascii=False)}</script>\n'
        )
        self.header(page)
        name, listing = layout.categories[item.category]
        crumbs = page.link("/", "Home", "/") + " › " + page.link(listing, name, listing)
        cart = f"/cart?add={item.sku}"
        page.parts.append(
            f'<nav class="breadcrumbs">{crumbs}</nav>\n<main>\n'
            '<article class="product" itemscope itemtype="https://schema.org/Product">\n'
            f'<h1 class="product-title" itemprop="name">{item.name}</h1>\n'
            '<div class="product-meta">'
            f'<span class="product-price" itemprop="price" content="{item.price_value}">'
            f"{item.price}</span> "
            f'<span class="sku-label">SKU</span> <span class="product-sku" itemprop="sku">'
            f"{item.sku}</span></div>\n"
            f'<p class="actions">{page.link(cart, "Add to cart", cart)}</p>\n'
        )
        if private_link is not None:
            page.parts.append(
                f'<p class="staff">{page.link(private_link, "Order history", private_link)}</p>\n'
            )
        rows = []
        for key in catalogue.SPEC_KEYS:
            first, second = rng.choice(catalogue.WORDS), rng.choice(catalogue.WORDS)
            rows.append(f"<tr><td>{key}</td><td>{first} {second}</td></tr>")
        specs = "".join(rows)
        page.parts.append(
            '<section class="description" itemprop="description">\n'
            + self.paragraphs(3)
            + f'</section>\n<table class="specs">{specs}</table>\n'
        )
        self.related(page)
        target = rng.randint(15_600, 39_000) - 1_000  # the footer follows
        reviews = ['<section class="reviews">\n<h2>Reviews</h2>\n']
        size = sum(len(part) for part in page.parts)
        while size < target:
            text = rng.choice(self.pool)
            reviews.append(
                f'<blockquote><p class="stars">{"★" * rng.randint(1, 5)}</p><p>{text}</p>'
                f"<cite>{rng.choice(catalogue.WORDS).title()} from "
                f"{rng.choice(catalogue.MATERIALS)}ville</cite>"
                "</blockquote>\n"
            )
            size += len(reviews[-1])
        page.parts.append("".join(reviews) + "</section>\n</article>\n</main>\n")
        self.footer(page)
        return page

    def related(self, page: Page) -> None:
        """10-30 content links: related products, some in duplicate or relative forms."""
        rng, products = self.rng, self.layout.products
        budget = rng.randint(10, 30) - page.content_links
        forms = rng.randint(2, 4)
        picks = [rng.randrange(len(products)) for _ in range(budget - forms)]
        items = []
        for n, pick in enumerate(picks):
            target = products[pick].path
            href = target
            if n < forms:  # the same page again, written differently
                href = (
                    f"{target}?utm_source=related&utm_medium=web",
                    f"{target}#reviews",
                    _relative_to(page.path, target),
                    f"{target}?utm_campaign=spring",
                )[n]
                items.append(f"<li>{page.link(target, products[pick].name, target)}</li>")
            items.append(f"<li>{page.link(href, products[pick].name, target)}</li>")
        page.parts.append(
            '<section class="related"><h2>You may also like</h2><ul>'
            + "".join(items)
            + "</ul></section>\n"
        )

    def listing(self, category: int, number: int, members: list[int]) -> Page:
        layout = self.layout
        paths = layout.listings[category]
        name = layout.categories[category][0]
        page = Page(paths[number - 1])
        title = f"{name} – page {number}"
        self.head(page, title, f"{name} products at Shopyard.", "website")
        self.header(page)
        cards = []
        for n, index in enumerate(members):
            item = layout.products[index]
            href = _relative_to(page.path, item.path) if n % 7 == 3 else item.path
            cards.append(
                f'<li class="card">{page.link(href, item.name, item.path)}'
                f'<span class="card-price">{item.price}</span>'
                f"<p>{self.rng.choice(self.pool)[:160]}</p></li>\n"
            )
        pager = []
        if number > 1:
            pager.append(page.link(paths[number - 2], "Previous", paths[number - 2]))
        if number < len(paths):
            pager.append(page.link(paths[number], "Next", paths[number]))
        pager.append(page.link(paths[-1], "Last", paths[-1]))
        sorts = [
            page.link(f"{page.path}?sort={key}", f"Sort by {key}", f"{page.path}?sort={key}")
            for key in ("price", "name")
        ]
        page.parts.append(
            f'<main>\n<h1 class="category-title">{title}</h1>\n'
            f'<p class="sort">{" ".join(sorts)}</p>\n'
            f'<ul class="cards">\n{"".join(cards)}</ul>\n'
            f'<nav class="pager">{" ".join(pager)}</nav>\n</main>\n'
        )
        self.footer(page)
        return page

    def plain(
        self, path: str, title: str, links: Iterable[tuple[str, str]], paragraphs: int
    ) -> Page:
        page = Page(path)
        self.head(page, title, f"{title} – Shopyard.", "website")
        self.header(page)
        items = "".join(f"<li>{page.link(href, text, href)}</li>\n" for href, text in links)
        page.parts.append(
            f'<main>\n<h1 class="page-title">{title}</h1>\n{self.paragraphs(paragraphs)}'
            f"<ul>\n{items}</ul>\n</main>\n"
        )
        self.footer(page)
        return page


def render(layout: catalogue.Layout, rng: random.Random) -> Iterator[Page]:
    """Every page of ``layout``, in a fixed order (the RNG makes the order matter)."""
    writer = Writer(layout, rng)
    products = layout.products
    yield writer.plain(
        "/",
        "Shopyard – everything for home and away",
        [(path, name) for name, path in layout.categories]
        + [
            (products[i].path, products[i].name)
            for i in range(0, len(products), max(1, len(products) // 12))
        ],
        4,
    )
    for path in catalogue.STATIC_PAGES:
        yield writer.plain(path, path.strip("/").split(".")[0].title(), [], 6)
    if layout.filler:
        yield writer.plain(catalogue.FILLER_PAGE, "Stores", [], 6)
    for category, paths in enumerate(layout.listings):
        members = list(range(category, len(products), len(layout.categories)))
        for number in range(1, len(paths) + 1):
            chunk = members[
                (number - 1) * catalogue.PER_LISTING_PAGE : number * catalogue.PER_LISTING_PAGE
            ]
            yield writer.listing(category, number, chunk)
    step = max(1, len(products) // len(layout.private))
    private_links = {n * step: path for n, path in enumerate(layout.private)}
    for index in range(len(products)):
        yield writer.product(index, private_links.get(index))
    for n, path in enumerate(layout.private):
        nearby = products[(n * 37) % len(products)]
        yield writer.plain(path, f"Order {n:05d}", [(nearby.path, nearby.name)], 2)
    yield writer.plain(
        layout.press[0],
        "Press",
        [(path, f"Press release {path[-9:-5]}") for path in layout.press[1:]],
        3,
    )
    for path in layout.press[1:]:
        yield writer.plain(
            path, f"Press release {path[-9:-5]}", [("/private/press/", "All releases")], 8
        )
