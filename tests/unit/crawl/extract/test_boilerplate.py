"""Choosing the main content and the visible text, without touching the shared tree."""

from __future__ import annotations

from selectolax import lexbor

from scrapeyard.crawl.extract import boilerplate


def tree(html: str) -> lexbor.LexborHTMLParser:
    return lexbor.LexborHTMLParser(html, scripting=True)


def root_tag(html: str) -> str | None:
    root = boilerplate.main_content(tree(html))
    assert root is not None
    return root.tag


def test_main_is_preferred_then_role_main_then_a_single_article_then_body() -> None:
    assert root_tag("<div>x</div><main>content</main>") == "main"
    assert root_tag('<div role="main">content</div><p>other</p>') == "div"
    assert root_tag("<article>story</article><p>other</p>") == "article"
    assert root_tag("<article>one</article><article>two</article>") == "body"
    assert root_tag("<main>  </main><p>the real content</p>") == "body"


def test_the_shared_tree_is_left_alone() -> None:
    shared = tree("<nav>menu</nav><main><script>x()</script><p>content</p></main>")
    before = shared.html
    boilerplate.main_content(shared)
    boilerplate.visible_text(shared)
    assert shared.html == before


def test_chrome_is_removed_but_an_articles_own_header_stays() -> None:
    html = """<body>
        <header>Site header</header>
        <div class="wrap"><footer>Site footer</footer>
        <article><header><h1>Headline</h1></header><p>Story</p><footer>By Ann</footer></article>
        <article><p>Second</p></article>
        <aside>Ads</aside><div hidden>Hidden</div><div aria-hidden="true">Icon</div>
        <div role="navigation">Crumbs</div><form action="/s"><p>Search</p></form>
        <button>Buy</button><select><option>Size</option></select></div>
    </body>"""
    root = boilerplate.main_content(tree(html))
    assert root is not None
    text = root.text(separator=" ")
    for kept in ("Headline", "Story", "By Ann", "Second"):
        assert kept in text
    for dropped in ("Site header", "Site footer", "Ads", "Hidden", "Icon", "Crumbs", "Search"):
        assert dropped not in text
    for dropped in ("Buy", "Size"):
        assert dropped not in text


def test_a_form_that_wraps_the_whole_page_is_kept() -> None:
    html = '<body><form id="aspnetForm"><h1>Title</h1><p>Body text</p></form></body>'
    root = boilerplate.main_content(tree(html))
    assert root is not None and "Body text" in root.text()


def test_visible_text_keeps_header_and_footer_but_not_scripts() -> None:
    html = (
        "<head><style>.x{}</style></head><body><header>Call 555</header><p>Hi</p>"
        "<script>var secret = 1</script><noscript>Enable JS</noscript>"
        "<footer>mail@example.com</footer></body>"
    )
    text = boilerplate.visible_text(tree(html))
    assert "Call 555" in text and "Hi" in text and "mail@example.com" in text
    assert "secret" not in text and ".x" not in text and "Enable JS" not in text
