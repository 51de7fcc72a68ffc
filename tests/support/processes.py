"""Starting real ``scrapeyard`` commands as subprocesses, the way users run them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

FAST_ENV = {
    "SCRAPEYARD_QUEUE__LEASE_DURATION": "2",
    "SCRAPEYARD_QUEUE__HEARTBEAT_INTERVAL": "0.5",
    "SCRAPEYARD_QUEUE__POLL_INTERVAL": "0.05",
    "SCRAPEYARD_IMPORTS": "tests.support.kinds",
}


def env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment for a scrapeyard command on ``database_url`` with test kinds
    (and, unless ``extra`` says otherwise, a fresh data directory, never the checkout's)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("SCRAPEYARD_")}
    if "SCRAPEYARD_DATA_DIR" not in extra:
        extra = {**extra, "SCRAPEYARD_DATA_DIR": tempfile.mkdtemp(prefix="scrapeyard-data-")}
    return {
        **base,
        "PYTHONPATH": str(ROOT),
        "SCRAPEYARD_DATABASE_URL": database_url,
        **FAST_ENV,
        **extra,
    }


class Command:
    """A running ``python -m scrapeyard ...`` whose output goes to a file."""

    def __init__(self, args: list[str], environ: dict[str, str], log: Path) -> None:
        self.log = log
        self._out = log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "scrapeyard", *args],
            env=environ,
            cwd=ROOT,
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def signal(self, signum: int = signal.SIGTERM) -> None:
        self.process.send_signal(signum)

    def wait(self, timeout: float = 60) -> int:
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self._out.close()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)
        self._out.close()


def run(
    args: list[str], environ: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run a scrapeyard command to completion and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "scrapeyard", *args],
        env=environ,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
