"""The ``text`` format: a page's main text, one block per line.

The main content (``boilerplate.main_content``) loses its inline tags, so that
``Hello <b>world</b>`` is one text node, and then yields one line per text node:
paragraphs, headings, list items and table cells each get their own line, and so do the
two sides of a ``<br>``. Inside a line, runs of whitespace (newlines and non-breaking
spaces included) become one space; empty lines are dropped.

On the benchmark pages this costs about half of what html-to-markdown's plain-text
output does, for text that differs only in blank lines between blocks.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from scrapeyard.crawl.extract import boilerplate

if TYPE_CHECKING:
    from scrapeyard.crawl.extract import document

# The HTML parser drops NUL characters from text, so this cannot occur inside a node.
_NODE_SEPARATOR = "\x00"

# Phrasing content that flows inside a line (HTML's "phrasing content", minus the
# elements boilerplate already removed and <br>, which does break the line).
_INLINE = [
    "a",
    "abbr",
    "b",
    "bdi",
    "bdo",
    "cite",
    "code",
    "data",
    "del",
    "dfn",
    "em",
    "font",
    "i",
    "ins",
    "kbd",
    "label",
    "mark",
    "q",
    "s",
    "samp",
    "small",
    "span",
    "strike",
    "strong",
    "sub",
    "sup",
    "time",
    "tt",
    "u",
    "var",
]


def extract(page: document.Document) -> str:
    """The main text of ``page``, whitespace-normalised, one block per line."""
    root = boilerplate.main_content(page.tree)
    if root is None:
        return ""
    root.unwrap_tags(_INLINE)
    root.merge_text_nodes()
    return join_blocks(root.text(separator=_NODE_SEPARATOR).split(_NODE_SEPARATOR))


def join_blocks(blocks: Iterable[str]) -> str:
    """One line per block, whitespace runs inside it collapsed; empty blocks dropped.

    Newlines inside a block are only the source's line wrapping, so they go too.

    >>> join_blocks([" a\\u00a0 b\\n c ", "  ", "d"])
    'a b c\\nd'
    """
    lines = (" ".join(block.split()) for block in blocks)
    return "\n".join(line for line in lines if line)
