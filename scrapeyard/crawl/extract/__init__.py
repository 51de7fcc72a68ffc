"""Extraction: turn one fetched HTML page into the formats a job asks for.

Pure, synchronous and fast: a page is decoded and parsed once (``Document``) and every
format reads the shared tree. One module per format (``text``, ``markdown``, ``links``,
``metadata``, ``jsonld``, ``selectors``, ``contacts``); ``formats`` validates a job's
options into a ``Plan`` and runs it.

    page = extract.Document.from_bytes(body, final_url, content_type)
    plan = extract.Plan.build(["links", "selectors"], selectors={"price": ".price::text"})
    record = extract.extract_formats(page, plan, status=200, content_type=content_type)
"""

from scrapeyard.crawl.extract.decoding import Decoded, decode_html
from scrapeyard.crawl.extract.document import Document
from scrapeyard.crawl.extract.formats import (
    FORMATS,
    Extracted,
    Format,
    Plan,
    extract_formats,
    validate_formats,
)

__all__ = [
    "Decoded",
    "Document",
    "Extracted",
    "FORMATS",
    "Format",
    "Plan",
    "decode_html",
    "extract_formats",
    "validate_formats",
]
