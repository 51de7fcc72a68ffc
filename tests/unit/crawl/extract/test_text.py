"""The text format: main content, one block per line, whitespace normalised."""

from __future__ import annotations

from scrapeyard.crawl.extract import document, text


def extract(html: str) -> str:
    return text.extract(document.Document(html, "https://example.com/"))


def test_product_page_main_text() -> None:
    html = """<html><head><title>T</title><style>p{}</style></head><body>
    <header><nav><a href="/">Home</a> <a href="/c">Category</a></nav></header>
    <main>
      <h1>Oak <b>Chair</b></h1>
      <p>A sturdy
         chair, made of <a href="/oak">oak</a>&nbsp;wood.</p>
      <ul><li>Seat</li><li>Legs <i>x4</i></li></ul>
      <table><tr><td>Width</td><td>50&nbsp;cm</td></tr></table>
      <p>Line one<br>Line two</p>
      <script>track()</script>
    </main>
    <footer>© Shop</footer>
    </body></html>"""
    assert extract(html) == "\n".join(
        [
            "Oak Chair",
            "A sturdy chair, made of oak wood.",
            "Seat",
            "Legs x4",
            "Width",
            "50 cm",
            "Line one",
            "Line two",
        ]
    )


def test_page_without_main_uses_body_minus_chrome() -> None:
    html = "<header>Logo</header><div><p>Hello</p><aside>Related</aside></div><footer>F</footer>"
    assert extract(html) == "Hello"


def test_empty_and_textless_pages() -> None:
    assert extract("") == ""
    assert extract("<script>only()</script><style>a{}</style>") == ""


def test_malformed_html_still_yields_its_text() -> None:
    assert extract("<p>One<p>Two <b>bold<i>both</b> italic</i><div>Three") == (
        "One\nTwo boldboth italic\nThree"
    )


def test_join_blocks() -> None:
    assert text.join_blocks([" a\u00a0 b\n c ", "", "\t", "d"]) == "a b c\nd"
