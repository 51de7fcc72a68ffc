"""The ``scrapeyard`` command line. ``asyncio.run`` happens here and nowhere else."""

from __future__ import annotations

from scrapeyard.cli.app import app, main

__all__ = ["app", "main"]
