"""``render: auto``: whether a page fetched over HTTP needs the browser after all.

A page needs the browser when it has scripts and, without running them:

- its body has next to no text (``MIN_TEXT`` characters), as a client-rendered app's
  shell (``<div id="root"></div>`` and a bundle) does;
- or the ``wait_for`` selector, or a selector field the job extracts, matches nothing
  (CSS only: XPath fields are not checked).

A page without scripts never does: the browser would show the same thing.

``HostModes`` remembers per host what pages needed: once a host has needed the browser
for ``LEARN_AFTER`` pages and never done without it, its pages go to the browser
directly, without the check.
"""

from __future__ import annotations

from dataclasses import dataclass

from scrapeyard.crawl.extract import Document
from scrapeyard.crawl.extract import formats as extract_formats
from scrapeyard.crawl.render.options import RenderOptions

MIN_TEXT = 200
LEARN_AFTER = 3


def reason_to_render(
    page: Document, render: RenderOptions, plan: extract_formats.Plan
) -> str | None:
    """Why ``page`` needs the browser, or ``None`` if its HTML will do."""
    tree = page.tree
    scripts = len(tree.css("script"))
    if not scripts:
        return None
    body = tree.body
    text = body.text(deep=True, separator=" ", strip=True) if body is not None else ""
    # The text of scripts and styles is not what a reader sees; lexbor counts it.
    hidden = body.css("script, style, noscript, template") if body is not None else []
    seen = len(text) - sum(len(node.text(deep=True, strip=True)) for node in hidden)
    if seen < MIN_TEXT:
        return f"auto: {max(seen, 0)} characters of text and {scripts} scripts"
    wait_for = render.wait_for
    if wait_for is not None and wait_for.selector is not None:
        if _missing(tree, wait_for.selector):
            return f"auto: wait_for {wait_for.selector!r} is not in the HTML"
    for field in plan.fields:
        if field.engine == "css" and _missing(tree, field.query):
            return f"auto: selector {field.name!r} finds nothing in the HTML"
    return None


def _missing(tree: object, css: str) -> bool:
    """Whether ``css`` matches nothing; a selector lexbor cannot read counts as found."""
    try:
        return tree.css_first(css.split("::", 1)[0]) is None  # type: ignore[attr-defined]
    except Exception:
        return False


@dataclass
class _Host:
    needed: int = 0
    sufficed: int = 0


class HostModes:
    """What pages of each host needed, within one crawl participant."""

    def __init__(self) -> None:
        self._hosts: dict[str, _Host] = {}

    def browser_known(self, host: str) -> bool:
        """Whether ``host``'s pages go straight to the browser."""
        seen = self._hosts.get(host)
        return seen is not None and seen.needed >= LEARN_AFTER and seen.sufficed == 0

    def note(self, host: str, *, needed: bool) -> None:
        seen = self._hosts.setdefault(host, _Host())
        if needed:
            seen.needed += 1
        else:
            seen.sufficed += 1
