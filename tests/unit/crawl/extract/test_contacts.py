"""The contacts format: e-mail addresses, phone numbers and social profiles."""

from __future__ import annotations

import time

import pytest

from scrapeyard import errors
from scrapeyard.crawl.extract import contacts, document


def extract(html: str, region: str | None = None) -> contacts.Contacts:
    page = document.Document(html, "https://acme.example/contact")
    return contacts.extract(page, default_region=region)


def cloudflare(address: str, key: int = 0x42) -> str:
    return bytes([key, *(byte ^ key for byte in address.encode())]).hex()


def test_emails_from_links_text_disguises_and_cloudflare() -> None:
    html = f"""<body>
      <a href="mailto:Sales@Acme.Example?subject=Hi">write</a>
      <a href="mailto:a%40acme.example,%20b@acme.example">both</a>
      <p>Support: support@acme.example. Jobs: jobs [at] acme [dot] example,
         press(at)acme(dot)example or info {{at}} acme {{dot}} example</p>
      <a href="/cdn-cgi/l/email-protection#{cloudflare("cf@acme.example")}">[email protected]</a>
      <span class="__cf_email__" data-cfemail="{cloudflare("cf2@acme.example", 0x13)}"></span>
      <img src="logo@2x.png" alt="logo@2x.png"> <p>icon@3x.webp user@localhost x@y.z</p>
      <script>var hidden = "script@acme.example";</script>
      <p>SALES@ACME.EXAMPLE again</p>
    </body>"""
    assert extract(html)["emails"] == [
        "sales@acme.example",
        "a@acme.example",
        "b@acme.example",
        "cf@acme.example",
        "cf2@acme.example",
        "support@acme.example",
        "jobs@acme.example",
        "press@acme.example",
        "info@acme.example",
    ]


def test_phones_from_tel_links_and_text_in_e164() -> None:
    html = """<body>
      <a href="tel:+1-415-555-0132">call</a>
      <a href="tel:(415)%20555-0100">local</a>
      <a href="tel:12">too short</a>
      <p>London office: +44 20 7946 0958. Berlin: +49 30 901820.
         US: (415) 555-0132, 415.555.0199. Order no. 20240101. Price $1,299.00.</p>
    </body>"""
    assert extract(html, "US")["phones"] == [
        "+14155550132",
        "+14155550100",
        "+442079460958",
        "+4930901820",
        "+14155550199",
    ]


def test_without_a_region_only_international_numbers_are_found() -> None:
    html = '<a href="tel:4155550100">x</a><p>Call +44 20 7946 0958 or (415) 555-0132.</p>'
    assert extract(html)["phones"] == ["+442079460958"]


def test_region_changes_how_national_numbers_are_read() -> None:
    assert extract("<p>Tel. 020 7946 0958</p>", "GB")["phones"] == ["+442079460958"]


def test_social_profiles_grouped_by_network() -> None:
    html = """
      <a href="https://www.linkedin.com/company/acme/">in</a>
      <a href="https://twitter.com/acme">tw</a>
      <a href="https://x.com/acme#top">x</a>
      <a href="https://twitter.com/intent/tweet?text=hi">share</a>
      <a href="https://www.facebook.com/sharer/sharer.php?u=x">share</a>
      <a href="https://www.facebook.com/acme">fb</a>
      <a href="https://www.youtube.com/@acme">yt</a>
      <a href="https://www.youtube.com/watch?v=1">video</a>
      <a href="https://github.com/acme">gh</a>
      <a href="https://twitter.com/acme">again</a>
      <a href="/about">about</a>
    """
    assert extract(html)["socials"] == {
        "linkedin": ["https://www.linkedin.com/company/acme/"],
        "twitter": ["https://twitter.com/acme", "https://x.com/acme"],
        "facebook": ["https://www.facebook.com/acme"],
        "youtube": ["https://www.youtube.com/@acme"],
        "github": ["https://github.com/acme"],
    }


def test_empty_page() -> None:
    assert extract("") == {"emails": [], "phones": [], "socials": {}}


@pytest.mark.parametrize(("region", "expected"), [(None, None), ("us", "US"), ("GB", "GB")])
def test_validate_region_accepts_known_codes(region: str | None, expected: str | None) -> None:
    assert contacts.validate_region(region) == expected


@pytest.mark.parametrize("region", ["USA", "XX", "", 1, ["US"]])
def test_validate_region_refuses_anything_else(region: object) -> None:
    with pytest.raises(errors.InvalidInput) as caught:
        contacts.validate_region(region)
    assert caught.value.field == "default_region"


def test_pages_full_of_at_signs_stay_fast() -> None:
    started = time.perf_counter()
    result = extract("<p>" + "a@" * 300_000 + "</p><p>(at) " + " " * 500_000 + "</p>")
    assert result["emails"] == []
    assert time.perf_counter() - started < 5
