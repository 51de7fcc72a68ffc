"""Dependencies point one way: errors <- config <- {queue, crawl} <- worker <- api/web <- cli.

``queue`` and ``crawl`` never import each other; the crawler writes through protocols
that ``worker`` fills in with the SQL store. ``notify`` (webhooks, e-mail, reports) sits
between them and ``worker``: it uses the store and the SSRF guard, and the worker's job
kinds and hooks use it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import scrapeyard

PACKAGE = Path(scrapeyard.__file__).parent

FORBIDDEN = {
    "errors": ("scrapeyard.",),
    "config": (
        "scrapeyard.queue",
        "scrapeyard.crawl",
        "scrapeyard.notify",
        "scrapeyard.worker",
        "scrapeyard.api",
        "scrapeyard.web",
        "scrapeyard.cli",
    ),
    "queue": (
        "scrapeyard.crawl",
        "scrapeyard.notify",
        "scrapeyard.worker",
        "scrapeyard.api",
        "scrapeyard.web",
        "scrapeyard.cli",
    ),
    "crawl": (
        "scrapeyard.queue",
        "scrapeyard.notify",
        "scrapeyard.worker",
        "scrapeyard.api",
        "scrapeyard.web",
        "scrapeyard.cli",
    ),
    "worker": ("scrapeyard.api", "scrapeyard.web", "scrapeyard.cli"),
    "exports": ("scrapeyard.worker", "scrapeyard.api", "scrapeyard.web", "scrapeyard.cli"),
    "demo": ("scrapeyard.queue", "scrapeyard.worker", "scrapeyard.api", "scrapeyard.cli"),
    "api": ("scrapeyard.cli",),
    "app": ("scrapeyard.cli",),
    "client": (
        "scrapeyard.queue",
        "scrapeyard.crawl",
        "scrapeyard.worker",
        "scrapeyard.api",
        "scrapeyard.web",
        "scrapeyard.app",
        "scrapeyard.cli",
        "scrapeyard.connect",
    ),
    "web": ("scrapeyard.cli",),
    "datasets": (
        "scrapeyard.queue",
        "scrapeyard.crawl",
        "scrapeyard.notify",
        "scrapeyard.worker",
        "scrapeyard.api",
        "scrapeyard.web",
        "scrapeyard.app",
        "scrapeyard.cli",
    ),
    "imports": (
        "scrapeyard.datasets",
        "scrapeyard.queue",
        "scrapeyard.crawl",
        "scrapeyard.notify",
        "scrapeyard.worker",
        "scrapeyard.api",
        "scrapeyard.web",
        "scrapeyard.app",
        "scrapeyard.cli",
    ),
    "notify": (
        "scrapeyard.worker",
        "scrapeyard.api",
        "scrapeyard.web",
        "scrapeyard.app",
        "scrapeyard.cli",
    ),
}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _files(layer: str) -> list[Path]:
    single = PACKAGE / f"{layer}.py"
    return [single] if single.exists() else sorted((PACKAGE / layer).rglob("*.py"))


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_only_what_lies_below_it(layer: str) -> None:
    offenders = {
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in _files(layer)
        for name in _imports(path)
        if name.startswith(FORBIDDEN[layer])
        or name in {prefix.rstrip(".") for prefix in FORBIDDEN[layer]}
    }
    assert offenders == set()
