"""Flatten absurdly deep element nesting before parsing, so a hostile page cannot stall
a worker.

HTML tree builders check "is there a ``<p>`` in scope?" for most block start tags by
walking the stack of open elements, so parsing N nested ``<div>`` costs O(N²): lexbor
needs 0.5 s for 20,000 and would need hours for the two million a 10 MiB body can hold.
Browsers cap the depth (Blink at 512) and attach deeper elements to the node at the cap;
``limit_depth`` does the same on the source, dropping the start tags that would nest
deeper than ``MAX_DEPTH`` (and their end tags) while keeping their content.

Only pages of at least ``SCAN_FROM`` characters are scanned: a smaller page cannot nest
deep enough to matter (at most ~13,000 levels, ~0.2 s), and typical pages skip the scan.
The depth count is approximate (tags that close themselves implicitly, such as ``<p>``
and ``<li>``, are not counted; tags inside scripts are), which is enough to bound it.
"""

from __future__ import annotations

import re

MAX_DEPTH = 512
SCAN_FROM = 64 * 1024

# Neither part may cross a "<": a run of unterminated tags must not make the scan
# quadratic.
_TAG = re.compile(r"<(/?)([A-Za-z][^\s/<>]*)[^<>]*>")
# Void elements never nest; these close implicitly when a sibling starts, so they do
# not nest on their own, and an unclosed one must not count as a level.
_NOT_COUNTED = frozenset(
    "area base br col embed hr img input link meta source track wbr "
    "html head body p li dt dd td th tr thead tbody tfoot caption colgroup option "
    "optgroup rb rp rt rtc".split()
)


def limit_depth(html: str, limit: int = MAX_DEPTH) -> str:
    """``html`` with start tags nested deeper than ``limit`` removed (see the module
    docstring); ``html`` itself when nothing is that deep or the page is small."""
    if len(html) < SCAN_FROM:
        return html
    depth = excess = 0
    cuts: list[tuple[int, int]] = []
    for match in _TAG.finditer(html):
        if match.group(2).lower() in _NOT_COUNTED:
            continue
        if match.group(1):  # an end tag
            if excess:
                excess -= 1
                cuts.append(match.span())
            elif depth:
                depth -= 1
        elif depth < limit:
            depth += 1
        else:
            excess += 1
            cuts.append(match.span())
    if not cuts:
        return html
    kept, position = [], 0
    for start, end in cuts:
        kept.append(html[position:start])
        position = end
    kept.append(html[position:])
    return "".join(kept)
