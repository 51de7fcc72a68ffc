"""The crawlers the benchmark runs, each as one command line for a subprocess.

Every contender crawls ``ORIGIN/`` (``http://127.0.0.1:PORT/``: an IP literal, so no
resolver is involved and scrapeyard's SSRF guard only needs 127.0.0.0/8 allowed) with
concurrency 64, obeys robots.txt, extracts ``title``, ``price`` and ``sku`` with the
site's CSS selectors and writes one JSON line per fetched page with at least ``url``.

The scrapeyard side is ``scrapeyard_command`` below: the one function to change when the
crawl CLI's flags settle.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from bench import site
from bench.peers import environment

REPO = Path(__file__).resolve().parent.parent
PROJECT_PYTHON = REPO / ".venv" / "bin" / "python"
CONCURRENCY = 64
ALLOWED_NETWORK = "127.0.0.0/8"


@dataclass(frozen=True)
class Target:
    """What every contender is told: where to crawl and how much."""

    origin: str  # http://127.0.0.1:PORT
    max_pages: int
    run_dir: Path


@dataclass(frozen=True)
class Contender:
    """One crawler, ready to run; ``output`` is the JSONL file it writes.

    ``setup`` commands run first, unmeasured (a schema migration, say).
    """

    name: str
    command: list[str]
    output: Path
    env: dict[str, str] = field(default_factory=dict)
    setup: list[list[str]] = field(default_factory=list)


def _selector_flags() -> list[str]:
    flags = []
    for name, css in site.SELECTORS.items():
        flags += ["--select", f"{name}={css}::text"]
    return flags


def _peer(name: str, script: str, target: Target) -> Contender:
    output = target.run_dir / f"{name}.jsonl"
    command = [str(environment.ensure_python()), str(environment.PEERS_DIR / script)]
    command += [f"{target.origin}/", "--out", str(output), "--concurrency", str(CONCURRENCY)]
    return Contender(name, command + _selector_flags(), output)


def scrapy(target: Target) -> Contender:
    """Scrapy's CrawlSpider, in the peers' virtualenv."""
    return _peer("scrapy", "scrapy_crawl.py", target)


def lean(target: Target) -> Contender:
    """The in-memory aiohttp + selectolax loop: the ceiling on this machine."""
    return _peer("lean-aiohttp", "lean_aiohttp.py", target)


PEERS = {"scrapy": scrapy, "lean": lean}


# ---------------------------------------------------------------------------- scrapeyard


def scrapeyard_command(target: Target, output: Path) -> list[str]:
    """The scrapeyard crawl, run in-process by its CLI (``scrapeyard crawl``).

    The database comes from ``SCRAPEYARD_DATABASE_URL``, set by ``scrapeyard()`` below
    (a fresh SQLite file or PostgreSQL database per run). The CLI must write one JSON line
    per stored page to ``-o`` with ``url`` (and ``status``, if it records non-200 pages)
    and the three selected fields (top level, or nested under ``selectors``), and exit 0
    when the crawl is done. Change only this function if the flags end up different.
    """
    return [
        str(PROJECT_PYTHON),
        "-m",
        "scrapeyard",
        "crawl",
        f"{target.origin}/",
        "--max-pages",
        str(target.max_pages),
        "--concurrency",
        str(CONCURRENCY),
        "--max-connections-per-host",
        str(CONCURRENCY),
        "--rps",
        "0",
        "--allow-network",
        ALLOWED_NETWORK,
        *_selector_flags(),
        "-o",
        str(output),
    ]


def scrapeyard_unavailable() -> str | None:
    """Why scrapeyard's crawl CLI cannot run yet, or None when it can."""
    if not PROJECT_PYTHON.exists():
        return f"{PROJECT_PYTHON} is missing (run scripts/bootstrap)"
    probe = subprocess.run(
        [str(PROJECT_PYTHON), "-m", "scrapeyard", "crawl", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if probe.returncode != 0:
        return "scrapeyard crawl engine not available yet (`python -m scrapeyard crawl` failed)"
    return None


def scrapeyard(target: Target, backend: str, database_url: str) -> Contender:
    """scrapeyard on ``backend`` (``sqlite`` or ``postgresql``) at ``database_url``."""
    output = target.run_dir / f"scrapeyard-{backend}.jsonl"
    env = {
        "SCRAPEYARD_DATABASE_URL": database_url,
        "SCRAPEYARD_ALLOWED_NETWORKS": ALLOWED_NETWORK,
    }
    # PostgreSQL needs its schema migrated once; SQLite migrates itself, so this is a no-op.
    migrate = [str(PROJECT_PYTHON), "-m", "scrapeyard", "db", "upgrade"]
    command = scrapeyard_command(target, output)
    return Contender(f"scrapeyard-{backend}", command, output, env, setup=[migrate])


def child_env(contender: Contender) -> dict[str, str]:
    """The environment a contender runs in: ours, minus any virtualenv, plus its own."""
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}}
    env["PYTHONUNBUFFERED"] = "1"
    return env | contender.env


def describe(contender: Contender) -> str:
    """The command line, shortened for the report."""
    return " ".join(part.replace(str(REPO) + "/", "") for part in contender.command)
