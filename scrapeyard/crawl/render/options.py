"""What a job asks of the browser, validated from its payload like every other option.

Payload keys (besides ``formats``, which may name ``screenshot``,
``screenshot@full_page`` and ``pdf``)::

    render           never (default) | always | auto
    wait_for         "CSS selector", or {"selector": ..., "network_idle": true, "delay": 1.5}
    actions          up to 50 steps, run in order once the page has loaded:
                     {"type": "click", "selector": "button.more"}
                     {"type": "type", "selector": "#q", "text": "shoes"}
                     {"type": "press", "key": "Enter", "selector": "#q"}   (selector optional)
                     {"type": "scroll", "pixels": 800}                      (one viewport)
                     {"type": "scroll_to_end", "max_scrolls": 20, "item_selector": "li"}
                     {"type": "wait", "seconds": 1} | {"type": "wait", "selector": ...}
                     | {"type": "wait", "network_idle": true}
                     {"type": "evaluate", "script": "..."}   (only if the operator allows it)
    block_resources  resource types never loaded (default: the operator's, image/font/media)
    viewport         {"width": 1280, "height": 800}

Waits, actions and captures need a browser, so they are refused with ``render: never``.
Whether ``evaluate`` is allowed is the operator's call (``browser.allow_evaluate``); where
that is not known (an API process validating a submission) the step's shape is checked and
the worker refuses it when it runs the job.
"""

from __future__ import annotations

import math
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from scrapeyard import errors

RenderMode = Literal["never", "always", "auto"]
RENDER_MODES: tuple[RenderMode, ...] = typing.get_args(RenderMode)
Capture = Literal["screenshot", "screenshot@full_page", "pdf"]
CAPTURES: tuple[Capture, ...] = typing.get_args(Capture)
ActionType = Literal["click", "type", "press", "scroll", "scroll_to_end", "wait", "evaluate"]
ACTION_TYPES: tuple[ActionType, ...] = typing.get_args(ActionType)
RESOURCE_TYPES = (
    "document",
    "stylesheet",
    "image",
    "media",
    "font",
    "script",
    "texttrack",
    "xhr",
    "fetch",
    "eventsource",
    "websocket",
    "manifest",
    "other",
)
"""The request types Chromium reports (Playwright's ``Request.resource_type``)."""
MAX_ACTIONS = 50
MAX_DELAY = 30.0
"""Seconds at most for a fixed delay (``wait_for.delay``, a ``wait`` action)."""
MAX_SCROLLS = 200
MAX_SELECTOR = 1000
MAX_SCRIPT = 100_000

_ACTION_KEYS: dict[str, frozenset[str]] = {
    "click": frozenset({"selector"}),
    "type": frozenset({"selector", "text"}),
    "press": frozenset({"key", "selector"}),
    "scroll": frozenset({"pixels"}),
    "scroll_to_end": frozenset({"max_scrolls", "item_selector"}),
    "wait": frozenset({"seconds", "selector", "network_idle"}),
    "evaluate": frozenset({"script"}),
}


@dataclass(frozen=True)
class WaitFor:
    """What to wait for once the page has loaded, before actions and extraction."""

    selector: str | None = None
    network_idle: bool = False
    delay: float = 0.0


@dataclass(frozen=True)
class Action:
    """One step on the page; which fields matter depends on ``type``."""

    type: ActionType
    selector: str | None = None
    text: str | None = None
    key: str | None = None
    pixels: int | None = None
    seconds: float = 0.0
    network_idle: bool = False
    max_scrolls: int = 20
    script: str | None = None


@dataclass(frozen=True)
class Viewport:
    width: int = 1280
    height: int = 800


@dataclass(frozen=True)
class RenderOptions:
    """A job's browser options, validated."""

    mode: RenderMode = "never"
    wait_for: WaitFor | None = None
    actions: tuple[Action, ...] = ()
    captures: tuple[Capture, ...] = ()
    block_resources: tuple[str, ...] | None = None
    """``None``: the operator's default list."""
    viewport: Viewport = Viewport()

    @property
    def enabled(self) -> bool:
        return self.mode != "never"

    @property
    def browser_required(self) -> bool:
        """Whether every page needs the browser, whatever ``auto`` would decide."""
        return self.mode == "always" or bool(self.actions or self.captures)

    @classmethod
    def from_payload(
        cls,
        payload: Mapping[str, Any],
        captures: Sequence[Capture] = (),
        *,
        allow_evaluate: bool | None = None,
    ) -> RenderOptions:
        """Validate the browser keys of ``payload``; ``InvalidInput`` names the field.

        ``captures`` are the capture formats the job's ``formats`` named.
        ``allow_evaluate`` is the operator's setting (``None``: not known here).
        """
        mode = payload.get("render", "never")
        if mode not in RENDER_MODES:
            raise errors.InvalidInput("render", "must be never, always or auto")
        if mode == "never":
            for name in ("wait_for", "actions", "block_resources", "viewport"):
                if payload.get(name) is not None:
                    raise errors.InvalidInput(name, "needs render: always or auto")
            if captures:
                raise errors.InvalidInput("formats", f"{captures[0]} needs render: always or auto")
            return cls()
        return cls(
            mode=mode,
            wait_for=_wait_for(payload.get("wait_for")),
            actions=_actions(payload.get("actions"), allow_evaluate),
            captures=tuple(captures),
            block_resources=_resource_types(payload.get("block_resources")),
            viewport=_viewport(payload.get("viewport")),
        )


def split_formats(value: object) -> tuple[object, tuple[Capture, ...]]:
    """``formats`` without the capture formats, and those (in order, once each)."""
    if not isinstance(value, list | tuple):
        return value, ()
    captures = tuple(dict.fromkeys(name for name in value if name in CAPTURES))
    return [name for name in value if name not in CAPTURES], captures


def _selector(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise errors.InvalidInput(where, "must be a non-empty selector")
    if len(value) > MAX_SELECTOR or "\0" in value:
        raise errors.InvalidInput(where, f"must be at most {MAX_SELECTOR} characters")
    return value


def _seconds(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise errors.InvalidInput(where, "must be a number of seconds")
    if not 0 <= value <= MAX_DELAY:
        raise errors.InvalidInput(where, f"must be between 0 and {MAX_DELAY:g} seconds")
    return float(value)


def _flag(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise errors.InvalidInput(where, "must be true or false")
    return value


def _whole(value: object, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise errors.InvalidInput(where, "must be a whole number")
    if not low <= value <= high:
        raise errors.InvalidInput(where, f"must be between {low:,} and {high:,}")
    return value


def _object(value: object, where: str, known: frozenset[str]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise errors.InvalidInput(where, "must be an object")
    unknown = sorted(set(value) - known)
    if unknown:
        raise errors.InvalidInput(f"{where}.{unknown[0]}", "unknown option")
    return value


def _wait_for(value: object) -> WaitFor | None:
    if value is None:
        return None
    if isinstance(value, str):
        return WaitFor(selector=_selector(value, "wait_for"))
    spec = _object(value, "wait_for", frozenset({"selector", "network_idle", "delay"}))
    wait = WaitFor(
        selector=_selector(spec["selector"], "wait_for.selector") if "selector" in spec else None,
        network_idle=_flag(spec.get("network_idle", False), "wait_for.network_idle"),
        delay=_seconds(spec.get("delay", 0.0), "wait_for.delay"),
    )
    if wait == WaitFor():
        raise errors.InvalidInput("wait_for", "give a selector, network_idle or a delay")
    return wait


def _actions(value: object, allow_evaluate: bool | None) -> tuple[Action, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise errors.InvalidInput("actions", "must be a list of actions")
    if len(value) > MAX_ACTIONS:
        raise errors.InvalidInput("actions", f"at most {MAX_ACTIONS} actions per page")
    return tuple(_action(item, f"actions[{n}]", allow_evaluate) for n, item in enumerate(value))


def _action(value: object, where: str, allow_evaluate: bool | None) -> Action:
    if not isinstance(value, Mapping):
        raise errors.InvalidInput(where, "must be an object with a type")
    kind = value.get("type")
    if kind not in ACTION_TYPES:
        raise errors.InvalidInput(f"{where}.type", f"must be one of {', '.join(ACTION_TYPES)}")
    spec = _object(value, where, _ACTION_KEYS[kind] | {"type"})

    def need(name: str) -> Any:
        if name not in spec:
            raise errors.InvalidInput(f"{where}.{name}", f"is required for {kind}")
        return spec[name]

    if kind == "click":
        return Action(kind, selector=_selector(need("selector"), f"{where}.selector"))
    if kind == "type":
        text = need("text")
        if not isinstance(text, str) or len(text) > 10_000:
            raise errors.InvalidInput(f"{where}.text", "must be a string of at most 10,000")
        return Action(kind, selector=_selector(need("selector"), f"{where}.selector"), text=text)
    if kind == "press":
        key = need("key")
        if not isinstance(key, str) or not key.strip() or len(key) > 50:
            raise errors.InvalidInput(f"{where}.key", "must be a key name such as Enter")
        selector = spec.get("selector")
        return Action(
            kind,
            key=key,
            selector=None if selector is None else _selector(selector, f"{where}.selector"),
        )
    if kind == "scroll":
        pixels = spec.get("pixels")
        if pixels is not None:
            pixels = _whole(pixels, f"{where}.pixels", -1_000_000, 1_000_000)
        return Action(kind, pixels=pixels)
    if kind == "scroll_to_end":
        item = spec.get("item_selector")
        return Action(
            kind,
            max_scrolls=_whole(spec.get("max_scrolls", 20), f"{where}.max_scrolls", 1, MAX_SCROLLS),
            selector=None if item is None else _selector(item, f"{where}.item_selector"),
        )
    if kind == "wait":
        given = [name for name in ("seconds", "selector", "network_idle") if name in spec]
        if len(given) != 1:
            raise errors.InvalidInput(where, "give one of seconds, selector or network_idle")
        if given[0] == "seconds":
            return Action(kind, seconds=_seconds(spec["seconds"], f"{where}.seconds"))
        if given[0] == "selector":
            return Action(kind, selector=_selector(spec["selector"], f"{where}.selector"))
        if not _flag(spec["network_idle"], f"{where}.network_idle"):
            raise errors.InvalidInput(f"{where}.network_idle", "must be true")
        return Action(kind, network_idle=True)
    script = need("script")
    if not isinstance(script, str) or not script.strip() or len(script) > MAX_SCRIPT:
        raise errors.InvalidInput(f"{where}.script", "must be JavaScript source text")
    if allow_evaluate is False:
        raise errors.InvalidInput(
            f"{where}.type",
            "evaluate is disabled on this server (an operator enables it with "
            "browser.allow_evaluate / SCRAPEYARD_BROWSER__ALLOW_EVALUATE)",
        )
    return Action(kind, script=script)


def _resource_types(value: object) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise errors.InvalidInput("block_resources", "must be a list of resource types")
    for item in value:
        if item not in RESOURCE_TYPES:
            raise errors.InvalidInput(
                "block_resources", f"unknown type {item!r} (known: {', '.join(RESOURCE_TYPES)})"
            )
    if "document" in value:
        raise errors.InvalidInput("block_resources", "documents cannot be blocked")
    return tuple(dict.fromkeys(value))


def _viewport(value: object) -> Viewport:
    if value is None:
        return Viewport()
    spec = _object(value, "viewport", frozenset({"width", "height"}))
    return Viewport(
        width=_whole(spec.get("width", 1280), "viewport.width", 200, 3840),
        height=_whole(spec.get("height", 800), "viewport.height", 200, 2160),
    )
