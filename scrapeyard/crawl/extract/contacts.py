"""The ``contacts`` format: e-mail addresses, phone numbers and social profiles, for
lead generation.

- E-mail addresses come from ``mailto:`` links, from Cloudflare's e-mail protection
  (``data-cfemail`` and ``/cdn-cgi/l/email-protection#...``) and from the visible text,
  where the common disguises ``name [at] example [dot] com`` and ``name(at)example(dot)com``
  are undone. They are lower-cased; addresses that are really file names
  (``logo@2x.png``) are dropped.
- Phone numbers come from ``tel:`` links and from the visible text (libphonenumber's
  matcher), and are kept only when valid, in E.164 form (``+14155550100``). Numbers
  written without a country code need ``default_region`` (an ISO 3166 code such as
  ``"US"``); without it only international numbers (``+44 20 ...``) are found.
- Social profiles (``socials.network_of``) are listed per network, from the page's links.

Each list is de-duplicated and keeps the order in which things were first found: links
first, then text.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, TypedDict

import phonenumbers

from scrapeyard import errors
from scrapeyard.crawl.extract import boilerplate, links, socials

if TYPE_CHECKING:
    from scrapeyard.crawl.extract import document


class Contacts(TypedDict):
    """The ``contacts`` format of one page."""

    emails: list[str]
    phones: list[str]
    socials: dict[str, list[str]]


_LOCAL = r"[a-z0-9](?:[a-z0-9._%+-]*[a-z0-9_%+-])?"
_LOCAL_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-")
_DOMAIN = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}(?![\w-])", re.I)
_EMAIL = re.compile(rf"{_LOCAL}@{_DOMAIN.pattern}", re.IGNORECASE)
_AT_HINT = re.compile(r"[\[({<]\s{0,3}(?:at|@)\s{0,3}[\])}>]", re.IGNORECASE)
# Bounded spaces: an unbounded \s* in front would make a long run of whitespace
# quadratic to scan.
_AT = re.compile(r"\s{0,3}[\[({<]\s{0,3}(?:at|@)\s{0,3}[\])}>]\s{0,3}", re.IGNORECASE)
_DOT = re.compile(r"\s{0,3}[\[({<]\s{0,3}(?:dot|\.)\s{0,3}[\])}>]\s{0,3}", re.IGNORECASE)
_FILE_SUFFIXES = frozenset(
    "png jpg jpeg gif webp svg avif bmp ico tif tiff css js json mp4 webm pdf".split()
)
_CLOUDFLARE_PATH = "/cdn-cgi/l/email-protection#"


def validate_region(region: object, *, path: str = "default_region") -> str | None:
    """``region`` as an upper-case region code libphonenumber knows, or None.

    Raises ``InvalidInput`` naming ``path`` for anything else.
    """
    if region is None:
        return None
    if isinstance(region, str) and region.upper() in phonenumbers.SUPPORTED_REGIONS:
        return region.upper()
    raise errors.InvalidInput(
        path, f"{region!r} is not a region code such as 'US', 'GB' or 'DE' (ISO 3166-1)"
    )


def extract(page: document.Document, *, default_region: str | None = None) -> Contacts:
    """The contact details on ``page``; ``default_region`` as ``validate_region`` returns
    it. Never raises."""
    resolve = links.Resolver(page.base_url)
    emails: dict[str, None] = {}
    phones: dict[str, None] = {}
    profiles: dict[str, dict[str, None]] = {}
    for node in page.tree.css("a[href], area[href]"):
        href = (node.attrs.get("href") or "").strip()
        scheme = href.partition(":")[0].lower()
        if scheme == "mailto":
            emails.update(dict.fromkeys(_mailto_addresses(href)))
        elif scheme in ("tel", "callto"):
            phones.update(dict.fromkeys(_numbers([_tel_number(href)], default_region)))
        elif _CLOUDFLARE_PATH in href:
            emails.update(dict.fromkeys(_cloudflare(href.partition("#")[2])))
        elif (url := resolve(href)) is not None and (network := socials.network_of(url)):
            profiles.setdefault(network, {})[url] = None
    for node in page.tree.css("[data-cfemail]"):
        emails.update(dict.fromkeys(_cloudflare(node.attrs.get("data-cfemail") or "")))
    text = boilerplate.visible_text(page.tree)
    emails.update(dict.fromkeys(_text_emails(text)))
    phones.update(dict.fromkeys(_text_numbers(text, default_region)))
    return {
        "emails": list(emails),
        "phones": list(phones),
        "socials": {network: list(urls) for network, urls in profiles.items()},
    }


# -- e-mail ---------------------------------------------------------------------------


def _mailto_addresses(href: str) -> Iterator[str]:
    recipients = urllib.parse.unquote(href.partition(":")[2].partition("?")[0])
    for candidate in re.split(r"[,;]", recipients):
        yield from _valid_emails([candidate.strip()])


def _text_emails(text: str) -> Iterator[str]:
    if _AT_HINT.search(text) is not None:
        text = _DOT.sub(".", _AT.sub("@", text))
    return _valid_emails(_email_matches(text))


def _email_matches(text: str) -> Iterator[str]:
    # Anchored at each "@": the local part is the run of allowed characters before it,
    # the domain is matched after it. A regex search over the whole text costs ~40 µs
    # per KB; this costs almost nothing, and each character is looked at a bounded
    # number of times, so no text (a page of "a@a@a@...") can make it slow.
    position = 0
    while (at := text.find("@", position)) != -1:
        position = at + 1
        start = at
        while start > 0 and at - start <= 64 and text[start - 1] in _LOCAL_CHARACTERS:
            start -= 1
        if start == at or at - start > 64 or (start > 0 and text[start - 1].isalnum()):
            continue
        domain = _DOMAIN.match(text, at + 1, at + 256)
        if domain is not None and domain.end() < at + 256:
            yield text[start : domain.end()]
            position = domain.end()


def _cloudflare(encoded: str) -> Iterator[str]:
    """Undo Cloudflare's e-mail protection: hex bytes XOR-ed with the first byte."""
    try:
        data = bytes.fromhex(encoded.strip())
    except ValueError:
        return iter(())
    if len(data) < 2:
        return iter(())
    decoded = bytes(byte ^ data[0] for byte in data[1:]).decode("utf-8", "replace")
    return _valid_emails([decoded])


def _valid_emails(candidates: Iterable[str]) -> Iterator[str]:
    for candidate in candidates:
        if _EMAIL.fullmatch(candidate) is None or ".." in candidate:
            continue
        if candidate.rpartition(".")[2].lower() in _FILE_SUFFIXES:
            continue
        yield candidate.lower()


# -- phone ----------------------------------------------------------------------------


def _tel_number(href: str) -> str:
    return urllib.parse.unquote(href.partition(":")[2].partition(";")[0].partition("?")[0])


def _numbers(candidates: Iterable[str], region: str | None) -> Iterator[str]:
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            yield phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _text_numbers(text: str, region: str | None) -> Iterator[str]:
    for match in phonenumbers.PhoneNumberMatcher(text, region):
        yield phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
