"""Which pages the site has: categories, their listing pages, products and private pages.

``plan`` picks the number of products so that the site has exactly the requested number
of HTML files, and draws every product's name, price and SKU from the seeded RNG.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

PER_LISTING_PAGE = 48
STATIC_PAGES = ("/about.html", "/contact.html", "/shipping.html", "/returns.html")
FILLER_PAGE = "/stores.html"

_ADJECTIVES = (
    "Classic Compact Deluxe Ergonomic Featherlight Handcrafted Heavy-Duty Insulated "
    "Modular Nordic Portable Premium Recycled Rugged Slim Smart Vintage Waterproof "
    "Weatherproof Wireless Alpine Coastal Urban Studio"
).split()
MATERIALS = (
    "Oak Walnut Bamboo Steel Aluminium Copper Linen Wool Cotton Leather Ceramic Glass "
    "Cork Marble Titanium Canvas Felt Slate"
).split()
_NOUNS = (
    "Lamp Chair Backpack Kettle Desk Speaker Jacket Mug Tent Clock Blender Headphones "
    "Bookshelf Rug Cutting-Board Water-Bottle Notebook Wallet Sofa Stool Planter Grinder"
).split()
WORDS = (
    "the a of and to in for with on by our this is made from built designed every "
    "quality durable finish surface gentle daily use easy clean comfort light strong "
    "warranty delivery sustainable sourced material crafted workshop family tested "
    "season outdoor indoor kitchen office travel weekend morning evening balance "
    "texture colour natural grain stitching handle base lid seam layer coating "
    "resistant scratch water heat cold years care instructions simple elegant modern "
    "timeless café crème naïve façade Zürich København São-Paulo déjà-vu über"
).split()
_CATEGORY_NAMES = (
    "Home Kitchen Garden Outdoor Office Travel Audio Lighting Furniture Textiles "
    "Storage Decor Sports Tools Pets Kids Bath Bedroom Coffee Camping"
).split()
SPEC_KEYS = (
    "Material",
    "Weight",
    "Dimensions",
    "Colour",
    "Origin",
    "Care",
    "Warranty",
    "Packaging",
    "Certification",
    "Assembly",
)


@dataclass(frozen=True)
class Product:
    """One product page; ``price`` is as displayed ("€1,234.50"), ``price_value`` as in JSON-LD."""

    path: str
    name: str
    price: str
    price_value: str
    currency: str
    sku: str
    category: int


@dataclass(frozen=True)
class Layout:
    """Every page path of the site, grouped by kind."""

    categories: list[tuple[str, str]]  # (name, first listing path)
    listings: list[list[str]]  # per category: its listing page paths
    products: list[Product]
    private: list[str]
    press: list[str]  # index first
    filler: bool


def _listing_path(slug: str, page: int) -> str:
    return f"/c/{slug}/" if page == 1 else f"/c/{slug}/page-{page}.html"


def _count_listing_pages(products: int, categories: int) -> int:
    base, extra = divmod(products, categories)
    sizes = [base + (1 if c < extra else 0) for c in range(categories)]
    return sum(max(1, -(-size // PER_LISTING_PAGE)) for size in sizes)


def plan(pages: int, rng: random.Random) -> Layout:
    """A layout with exactly ``pages`` HTML pages (at least 1000)."""
    categories = max(4, pages // 500)
    private = max(2, pages // 100)
    press = max(2, pages // 500)
    fixed = 1 + len(STATIC_PAGES) + private + 1 + press
    low, high = 0, pages
    while low < high:  # the most products whose listing pages still fit
        mid = (low + high + 1) // 2
        if fixed + mid + _count_listing_pages(mid, categories) <= pages:
            low = mid
        else:
            high = mid - 1
    product_count = low
    filler = fixed + product_count + _count_listing_pages(product_count, categories) < pages
    if product_count < categories or (
        fixed + filler + product_count + _count_listing_pages(product_count, categories) != pages
    ):
        raise ValueError(f"cannot lay out a site of {pages} pages; use at least 1000")

    names = [
        f"{_CATEGORY_NAMES[c % len(_CATEGORY_NAMES)]} {c // len(_CATEGORY_NAMES) + 1}"
        for c in range(categories)
    ]
    slugs = [name.lower().replace(" ", "-") for name in names]
    products = []
    for i in range(product_count):
        name = f"{rng.choice(_ADJECTIVES)} {rng.choice(MATERIALS)} {rng.choice(_NOUNS)}"
        name = f"{name} {rng.choice('ABCDEFGHKMXZ')}{rng.randint(10, 999)}"
        cents = int(rng.lognormvariate(8.0, 1.3)) + 199
        value = f"{cents // 100}.{cents % 100:02d}"
        currency = "EUR" if rng.random() < 0.6 else "USD"
        price = ("€" if currency == "EUR" else "$") + f"{cents / 100:,.2f}"
        slug = name.lower().replace(" ", "-")
        category = i % categories
        products.append(
            Product(
                path=f"/p/{i:06d}-{slug}.html",
                name=name,
                price=price,
                price_value=value,
                currency=currency,
                sku=f"SY-{category:03d}-{i:06d}",
                category=category,
            )
        )
    listings = []
    for c in range(categories):
        size = len(range(c, product_count, categories))
        count = max(1, -(-size // PER_LISTING_PAGE))
        listings.append([_listing_path(slugs[c], k) for k in range(1, count + 1)])
    return Layout(
        categories=[(names[c], listings[c][0]) for c in range(categories)],
        listings=listings,
        products=products,
        private=[f"/private/orders/{n:05d}.html" for n in range(private)],
        press=["/private/press/"] + [f"/private/press/{n:04d}.html" for n in range(press)],
        filler=filler,
    )
