"""Screenshots and PDFs of rendered pages, kept as files beside exports.

A capture is written to ``data_dir/captures/job-ID/URL_HASH.EXT`` (``.png``,
``.full.png`` for a full-page screenshot, ``.pdf``) before its record is stored, and the
record names it: ``{"file": "captures/job-7/....png", "media_type": "image/png",
"bytes": 48213, "url": "/v1/jobs/7/captures/....png"}``; the API serves it at that URL.
A page fetched again overwrites its file, so a retried or resumed crawl leaves one file
per page. Files are not stored in the database: a full-page screenshot can be megabytes.
Every host running workers and the API must see the same ``data_dir``. The folders of
jobs that no longer exist (purged or deleted) are removed by the workers' housekeeping.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapeyard.crawl.render.options import Capture

if TYPE_CHECKING:
    from playwright.async_api import Page

CAPTURES = "captures"
SUFFIXES: dict[Capture, str] = {
    "screenshot": ".png",
    "screenshot@full_page": ".full.png",
    "pdf": ".pdf",
}
MEDIA_TYPES = {".png": "image/png", ".full.png": "image/png", ".pdf": "application/pdf"}
FOLDER_NAME = re.compile(r"^job-([0-9]{1,19})$")
FILE_NAME = re.compile(r"^[0-9a-f]{8,64}(\.png|\.full\.png|\.pdf)$")
"""What a capture's file name looks like (the API serves nothing else)."""


def folder(job_id: int) -> str:
    """The captures of job ``job_id``, relative to ``data_dir``."""
    return f"{CAPTURES}/job-{job_id}"


def media_type(name: str) -> str | None:
    """The media type of a capture file name, or ``None`` if it is not one."""
    match = FILE_NAME.match(name)
    return MEDIA_TYPES[match.group(1)] if match else None


class CaptureStore:
    """Writes one job's captures under ``data_dir``."""

    def __init__(self, data_dir: Path, job_id: int) -> None:
        self.data_dir = data_dir
        self.job_id = job_id

    async def take(self, page: Page, capture: Capture, url_hash: str) -> dict[str, Any]:
        """Capture ``page`` and write the file; what the record says about it."""
        if capture == "pdf":
            body = await page.pdf(print_background=True)
        else:
            body = await page.screenshot(
                type="png", full_page=capture == "screenshot@full_page", animations="disabled"
            )
        name = url_hash + SUFFIXES[capture]
        relative = f"{folder(self.job_id)}/{name}"
        await asyncio.to_thread(_write, self.data_dir / relative, body)
        return {
            "file": relative,
            "media_type": MEDIA_TYPES[SUFFIXES[capture]],
            "bytes": len(body),
            "url": f"/v1/jobs/{self.job_id}/captures/{name}",
        }


def _write(path: Path, body: bytes) -> None:
    """Write ``body`` to ``path`` whole or not at all (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(body)
    os.replace(partial, path)


def job_folders(data_dir: Path) -> dict[int, Path]:
    """The capture folders under ``data_dir``, by job id."""
    root = data_dir / CAPTURES
    if not root.is_dir():
        return {}
    found: dict[int, Path] = {}
    for entry in root.iterdir():
        match = FOLDER_NAME.match(entry.name)
        if match and entry.is_dir():
            found[int(match.group(1))] = entry
    return found


def remove(folder_path: Path) -> None:
    """Remove one job's capture folder and what is in it (gone already is fine)."""
    shutil.rmtree(folder_path, ignore_errors=True)
