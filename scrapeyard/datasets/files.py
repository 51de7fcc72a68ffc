"""Where files live under the ``data_dir`` setting, and keeping paths inside it.

    data_dir/
      uploads/    files waiting to be imported (removed once imported)
      exports/    what export jobs write
      archives/   dataset records removed for retention, as gzipped JSON lines

Paths in job payloads are relative to ``data_dir``; ``inside`` refuses any that would
lead out of it (``..``, absolute paths, symbolic links pointing elsewhere), so a job
payload cannot make a worker read or write an arbitrary file.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path, PurePosixPath

from scrapeyard import errors

UPLOADS = "uploads"
EXPORTS = "exports"
ARCHIVES = "archives"
_SUFFIX = re.compile(r"^\.[A-Za-z0-9]{1,10}$")


def check_relative(value: object, where: str, *, under: str | None = None) -> str:
    """``value`` as a relative POSIX path with no ``..`` (optionally below ``under``)."""
    if not isinstance(value, str) or not value.strip() or len(value) > 500:
        raise errors.InvalidInput(where, "must be a relative path of at most 500 characters")
    path = PurePosixPath(value)
    if path.is_absolute() or ".." in path.parts or "\\" in value or "\x00" in value:
        raise errors.InvalidInput(where, "must be a relative path inside the data directory")
    if under is not None and (len(path.parts) < 2 or path.parts[0] != under):
        raise errors.InvalidInput(where, f"must be a path under {under}/")
    return str(path)


def inside(data_dir: Path, relative: str, where: str = "path") -> Path:
    """The absolute path of ``relative`` under ``data_dir``; ``InvalidInput`` if it
    would lead outside."""
    check_relative(relative, where)
    root = data_dir.resolve()
    resolved = (root / relative).resolve()
    if not resolved.is_relative_to(root):
        raise errors.InvalidInput(where, "must stay inside the data directory")
    return resolved


def new_upload(filename: str) -> str:
    """A fresh relative path for an uploaded file, keeping its extension."""
    suffix = PurePosixPath(filename.replace("\\", "/")).suffix.lower()
    return f"{UPLOADS}/{uuid.uuid4().hex}{suffix if _SUFFIX.match(suffix) else ''}"
