"""The ``markdown`` format: a page's main content as Markdown, links made absolute.

Converted by html-to-markdown (Rust), 10 to 15 times faster than markdownify on the
benchmark pages (``bench/extract.py``). It converts the same cleaned main content as the
``text`` format (``boilerplate.main_content``), so both formats agree on what the page
says. Images inlined as ``data:`` URLs keep only their alt text, so a page cannot fill a
record with base64.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapeyard.crawl.extract import boilerplate, text

if TYPE_CHECKING:
    from scrapeyard.crawl.extract import document


def extract(page: document.Document) -> str:
    """``page``'s main content as GitHub-flavoured Markdown.

    Never raises: should the converter refuse the HTML, the page's plain text is
    returned instead (plain text is valid Markdown).
    """
    # Imported on first use: the converter costs ~7 MB that jobs without Markdown skip.
    import html_to_markdown

    root = boilerplate.main_content(page.tree)
    if root is None:
        return ""
    options = html_to_markdown.ConversionOptions(
        extract_metadata=False,
        base_url=page.base_url,
        inline_data_media="alt_text_only",
    )
    try:
        result = html_to_markdown.convert(root.html or "", options)
    except html_to_markdown.ConversionError:
        return text.extract(page)
    return (result.content or "").strip()
