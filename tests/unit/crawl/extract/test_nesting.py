"""Flattening hostile nesting depth before parsing."""

from __future__ import annotations

import time

from scrapeyard.crawl.extract import nesting


def test_small_pages_are_returned_untouched() -> None:
    html = "<div>" * 5000
    assert len(html) < nesting.SCAN_FROM
    assert nesting.limit_depth(html) is html


def test_ordinary_large_pages_are_returned_untouched() -> None:
    html = "<div><p>para<ul><li>one<li>two</ul></div>" * 5000  # unclosed <p> and <li>
    assert nesting.limit_depth(html) is html


def test_tags_beyond_the_limit_are_dropped_with_their_end_tags() -> None:
    html = "<div>" * 20 + "<section class=x>deep</section>" + "</div>" * 20
    html += "<!--" + "-" * nesting.SCAN_FROM + "-->"
    flattened = nesting.limit_depth(html, limit=20)
    assert "<section" not in flattened and "</section>" not in flattened
    assert "deep" in flattened
    assert flattened.count("<div>") == 20 and flattened.count("</div>") == 20


def test_two_million_nested_divs_are_flattened_quickly() -> None:
    html = "<div>" * 2_000_000 + "x"
    started = time.perf_counter()
    flattened = nesting.limit_depth(html)
    assert time.perf_counter() - started < 10
    assert flattened.count("<div>") == nesting.MAX_DEPTH


def test_unterminated_tags_scan_in_linear_time() -> None:
    started = time.perf_counter()
    for html in ("<a" * 1_000_000, "<div" + " x" * 2_000_000):
        assert nesting.limit_depth(html) == html
    assert time.perf_counter() - started < 5
