"""A million-row CSV imported by ``scrapeyard import`` in a process of its own, in bounded
memory: the file is streamed and staged in batches, never held whole."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scrapeyard import config, connect
from scrapeyard.queue.datasets import DatasetStore
from tests.support import processes

ROWS = 1_000_000
PEAK_RSS_LIMIT_MB = 300
# Runs the command as its child and reports the child's peak RSS (kilobytes on Linux):
# the test process's own children (earlier tests) do not count.
MEASURE = (
    "import resource, subprocess, sys\n"
    "code = subprocess.call(sys.argv[1:])\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    "sys.exit(code)\n"
)


def _write_csv(path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("sku;name;price;email\n")
        for start in range(0, ROWS, 10_000):
            out.write(
                "".join(
                    f"SKU-{i:07d};Product {i} deluxe;{i % 1000},{i % 100:02d} €;"
                    f"User{i}@Example.com\n"
                    for i in range(start, start + 10_000)
                )
            )


async def _count(database_url: str) -> dict[str, int]:
    async with connect.open_store(config.load_settings(database_url=database_url)) as store:
        datasets = DatasetStore(store.db)
        return await datasets.counts((await datasets.get("big"))["id"])


@pytest.mark.slow
def test_a_million_row_csv_imports_in_bounded_memory(database_url: str, tmp_path: Path) -> None:
    source = tmp_path / "big.csv"
    _write_csv(source)
    environ = processes.env(database_url, SCRAPEYARD_DATA_DIR=str(tmp_path / "data"))
    command = [sys.executable, "-m", "scrapeyard", "import", str(source), "-d", "big", "-k", "sku"]

    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, *command],
        env=environ,
        cwd=processes.ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    elapsed = time.monotonic() - started

    assert done.returncode == 0, done.stderr
    assert f"imported {ROWS:,} rows into dataset 'big': {ROWS:,} new" in done.stderr
    peak_mb = int(done.stdout.strip().splitlines()[-1]) / 1024
    print(f"\n{ROWS:,} rows imported in {elapsed:.1f}s, peak RSS {peak_mb:.0f} MB")
    assert peak_mb < PEAK_RSS_LIMIT_MB, f"peak RSS {peak_mb:.0f} MB"
    assert asyncio.run(_count(database_url)) == {
        "new": ROWS,
        "changed": 0,
        "unchanged": 0,
        "gone": 0,
    }
