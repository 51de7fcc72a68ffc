"""The new-job form: what it sends to the job kind's validator, and where errors go."""

from __future__ import annotations

import pytest

from scrapeyard import errors
from scrapeyard.crawl import options
from scrapeyard.web import submission
from scrapeyard.web.forms import Form


def submitted(**fields: str | list[str]) -> submission.Submission:
    values = {name: value if isinstance(value, list) else [value] for name, value in fields.items()}
    return submission.Submission.of(Form(values))


def test_a_crawl_form_becomes_its_payload() -> None:
    sub = submitted(
        kind="crawl",
        urls="https://example.com/\n",
        max_pages="50",
        max_depth="2",
        include_paths="/blog/*\n\nre:/p/\\d+",
        formats=["metadata", "links"],
        selectors="title = h1::text\nprice = .price::attr(content)",
        rps="0.5",
        burst="2",
        queue="crawls",
        priority="5",
        respect_robots="1",
    )
    spec = submission.job_spec(sub)
    assert sub.errors == {}
    assert spec is not None
    assert spec.kind == "crawl" and spec.queue == "crawls" and spec.priority == 5
    assert spec.payload == {
        "url": "https://example.com/",
        "max_pages": 50,
        "max_depth": 2,
        "include_paths": ["/blog/*", "re:/p/\\d+"],
        "formats": ["metadata", "links", "selectors"],
        "selectors": {"title": "h1::text", "price": ".price::attr(content)"},
        "rate_limit": {"requests_per_second": 0.5, "burst": 2},
    }


def test_a_scrape_ignores_the_crawl_scope_and_sends_its_urls() -> None:
    sub = submitted(kind="scrape", urls="https://a.test/\nhttps://b.test/", max_pages="9")
    payload = submission.payload(sub)
    assert payload["urls"] == ["https://a.test/", "https://b.test/"]
    assert "max_pages" not in payload
    assert payload["respect_robots"] is False  # the box was left unticked


@pytest.mark.parametrize(
    ("fields", "control", "message"),
    [
        ({"selectors": "h1::text"}, "selectors", "selectors: line 1 must read NAME = SELECTOR"),
        ({"priority": "1.5"}, "priority", "priority: must be an integer"),
        ({"queue": "a\x01b"}, "queue", "queue: must not contain control characters"),
    ],
)
def test_what_the_form_itself_refuses_is_shown_beside_its_field(
    fields: dict[str, str], control: str, message: str
) -> None:
    sub = submitted(kind="crawl", urls="https://example.com/", **fields)
    assert submission.job_spec(sub) is None
    assert sub.errors == {control: message}


@pytest.mark.parametrize(
    ("fields", "control", "message"),
    [
        ({"max_pages": "lots"}, "max_pages", "max_pages: must be a whole number"),
        ({"max_depth": "2.5"}, "max_depth", "max_depth: must be a whole number"),
        (
            {"rps": "fast"},
            "rps",
            "rate_limit.requests_per_second: must be a number from 0 (unlimited) to 10,000",
        ),
        ({"burst": "0"}, "burst", "rate_limit.burst: must be a whole number from 1 to 10,000"),
        ({"urls": ""}, "urls", "url: a URL to start from is required"),
    ],
)
def test_the_validator_words_what_the_job_kind_refuses(
    fields: dict[str, str], control: str, message: str
) -> None:
    sub = submitted(**{"kind": "crawl", "urls": "https://example.com/", **fields})
    spec = submission.job_spec(sub)
    assert spec is not None
    with pytest.raises(errors.InvalidInput) as refused:
        options.validate(spec.kind, spec.payload)
    submission.record(sub, refused.value)
    assert sub.errors == {control: message}


@pytest.mark.parametrize(
    ("path", "control"),
    [
        ("url", "urls"),
        ("urls[3]", "urls"),
        ("include_paths[1]", "include_paths"),
        ("rate_limit.burst", "burst"),
        ("rate_limit.requests_per_second", "rps"),
        ("selectors.price", "selectors"),
        ("formats", "formats"),
        ("user_agent", None),
    ],
)
def test_validator_fields_map_to_form_controls(path: str, control: str | None) -> None:
    assert submission.field_of(path) == control


def test_an_error_about_no_control_goes_above_the_form() -> None:
    sub = submission.Submission.blank()
    submission.record(sub, errors.InvalidInput("user_agent", "must be one line"))
    assert sub.errors == {"form": "user_agent: must be one line"}
