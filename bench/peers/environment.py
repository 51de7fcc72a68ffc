"""The peers' virtualenv, ``bench/.venv-peers``, created and kept in step with
``requirements.txt`` so Scrapy and its dependencies never enter the project's environment.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

PEERS_DIR = Path(__file__).resolve().parent
VENV = PEERS_DIR.parent / ".venv-peers"
REQUIREMENTS = PEERS_DIR / "requirements.txt"


CRAWLEE_VENV = PEERS_DIR.parent / ".venv-crawlee"
CRAWLEE_REQUIREMENTS = PEERS_DIR / "crawlee-requirements.txt"
"""Crawlee (bench/render.py) has a virtualenv of its own: its Playwright must not meet
Scrapy's Twisted, nor the project's own Playwright."""


def ensure_python(venv: Path = VENV, requirements: Path = REQUIREMENTS) -> Path:
    """The peers' interpreter, creating the virtualenv or updating it when needed."""
    python = venv / "bin" / "python"
    stamp = venv / ".requirements-sha256"
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text() == digest:
        return python
    if not python.exists():
        print(f"bench: creating {venv} for the peer crawlers ...", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        + ["-r", str(requirements)],
        capture_output=True,
        text=True,
    )
    if installed.returncode != 0:
        raise RuntimeError(f"pip could not install the peers' requirements:\n{installed.stderr}")
    stamp.write_text(digest)
    return python
