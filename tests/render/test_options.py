"""Every bad browser option is refused at the door, naming its field."""

from __future__ import annotations

from typing import Any

import pytest

from scrapeyard import errors
from scrapeyard.cli import crawl as cli_crawl
from scrapeyard.crawl.options import CrawlDefaults, CrawlOptions

URL = "https://example.com/"


def _options(mode: str = "crawl", **payload: Any) -> CrawlOptions:
    return CrawlOptions.from_payload(mode, {"url": URL, **payload})


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"render": "sometimes"}, "render"),
        ({"wait_for": "#x"}, "wait_for"),
        ({"actions": [{"type": "click", "selector": "a"}]}, "actions"),
        ({"formats": ["screenshot"]}, "formats"),
        ({"render": "always", "wait_for": {"delay": 31}}, "wait_for.delay"),
        ({"render": "always", "wait_for": {"selektor": "a"}}, "wait_for.selektor"),
        ({"render": "always", "wait_for": {}}, "wait_for"),
        ({"render": "always", "actions": "click"}, "actions"),
        ({"render": "always", "actions": [{"type": "click"}] * 51}, "actions"),
        ({"render": "always", "actions": [{"type": "hover"}]}, "actions[0].type"),
        ({"render": "always", "actions": [{"type": "click"}]}, "actions[0].selector"),
        (
            {"render": "always", "actions": [{"type": "click", "selector": ""}]},
            "actions[0].selector",
        ),
        ({"render": "always", "actions": [{"type": "type", "selector": "a"}]}, "actions[0].text"),
        ({"render": "always", "actions": [{"type": "press", "key": ""}]}, "actions[0].key"),
        (
            {"render": "always", "actions": [{"type": "scroll", "pixels": "far"}]},
            "actions[0].pixels",
        ),
        (
            {"render": "always", "actions": [{"type": "scroll_to_end", "max_scrolls": 0}]},
            "actions[0].max_scrolls",
        ),
        ({"render": "always", "actions": [{"type": "wait"}]}, "actions[0]"),
        ({"render": "always", "actions": [{"type": "wait", "seconds": 60}]}, "actions[0].seconds"),
        (
            {"render": "always", "actions": [{"type": "click", "selector": "a", "x": 1}]},
            "actions[0].x",
        ),
        ({"render": "always", "block_resources": ["images"]}, "block_resources"),
        ({"render": "always", "block_resources": ["document"]}, "block_resources"),
        ({"render": "always", "viewport": {"width": 10}}, "viewport.width"),
    ],
)
def test_bad_browser_options_name_their_field(payload: dict[str, Any], field: str) -> None:
    with pytest.raises(errors.InvalidInput) as caught:
        _options(**payload)
    assert caught.value.field == field, caught.value


def test_a_map_stores_no_captures() -> None:
    with pytest.raises(errors.InvalidInput, match="formats"):
        _options("map", render="always", formats=["links", "pdf"])


def test_evaluate_needs_the_operators_consent() -> None:
    step = {"type": "evaluate", "script": "document.title"}
    # Where the setting is unknown (an API process), only the step's shape is checked.
    assert _options(render="always", actions=[step]).render.actions[0].script == "document.title"
    with pytest.raises(errors.InvalidInput, match="allow_evaluate") as caught:
        CrawlOptions.from_payload(
            "crawl",
            {"url": URL, "render": "always", "actions": [step]},
            CrawlDefaults(allow_evaluate=False),
        )
    assert caught.value.field == "actions[0].type"


def test_good_options_become_a_render_plan() -> None:
    options = _options(
        render="auto",
        formats=["markdown", "screenshot@full_page", "pdf"],
        wait_for={"selector": ".price", "network_idle": True},
        actions=[{"type": "scroll_to_end", "item_selector": "li"}, {"type": "press", "key": "End"}],
        viewport={"width": 800, "height": 600},
    )
    render = options.render
    assert render.mode == "auto" and render.browser_required
    assert options.plan.formats == ("markdown",)
    assert render.captures == ("screenshot@full_page", "pdf")
    assert options.columns == ("markdown", "render", "screenshot@full_page", "pdf")
    assert render.actions[0].selector == "li" and render.actions[0].max_scrolls == 20
    assert (render.viewport.width, render.viewport.height) == (800, 600)
    assert _options().render.enabled is False


def test_the_command_line_flags_make_the_same_payload() -> None:
    payload = cli_crawl.crawl_payload(
        url=URL,
        formats="markdown,screenshot",
        rendering=cli_crawl.render_payload(
            render="always",
            wait_for=".price",
            wait_delay=0.5,
            action=['{"type": "click", "selector": "#more"}'],
            scroll_to_end=True,
        ),
    )
    assert payload["render"] == "always"
    assert payload["wait_for"] == {"selector": ".price", "delay": 0.5}
    assert payload["actions"] == [
        {"type": "click", "selector": "#more"},
        {"type": "scroll_to_end"},
    ]
    assert CrawlOptions.from_payload("crawl", payload).render.captures == ("screenshot",)
    with pytest.raises(errors.InvalidInput, match=r"action\[0\]"):
        cli_crawl.render_payload(action=["{not json"])
