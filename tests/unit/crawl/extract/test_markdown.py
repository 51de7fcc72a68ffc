"""The markdown format: html-to-markdown over the main content."""

from __future__ import annotations

from scrapeyard.crawl.extract import document, markdown


def extract(html: str, url: str = "https://shop.example/p/chair.html") -> str:
    return markdown.extract(document.Document(html, url))


def test_main_content_as_markdown_with_absolute_links() -> None:
    html = """<body><nav><a href="/">Home</a></nav><main>
        <h1>Oak Chair</h1>
        <p>Made of <strong>oak</strong>. See <a href="care.html">care</a>.</p>
        <ul><li>Seat</li><li>Legs</li></ul>
        <img src="/img/chair.jpg" alt="The chair">
        <img src="data:image/png;base64,iVBORw0KGgo=" alt="inline">
    </main><footer>© Shop</footer></body>"""
    result = extract(html)
    assert result.startswith("# Oak Chair\n")
    assert "Made of **oak**. See [care](https://shop.example/p/care.html)." in result
    assert "- Seat\n- Legs" in result
    assert "![The chair](https://shop.example/img/chair.jpg)" in result
    assert "base64" not in result and "inline" in result
    assert "Home" not in result and "© Shop" not in result


def test_empty_page() -> None:
    assert extract("") == ""


def test_tables_become_gfm_tables() -> None:
    result = extract("<main><table><tr><th>Size</th></tr><tr><td>L</td></tr></table></main>")
    assert result.splitlines() == ["| Size |", "| ---- |", "| L    |"]
