"""Following a crawl from the terminal: a live progress bar and records streamed to a file.

Both read the database (the crawl's counters and its stored records), so they show the
same thing whether the crawl runs in this process, in worker processes, or elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import IO, Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from scrapeyard import errors, exports
from scrapeyard.queue.crawls import CrawlStore

BATCH = 1000


class RecordFile:
    """Writes a crawl's records to ``path`` (JSON lines, or CSV for ``.csv``)."""

    def __init__(self, path: Path, formats: list[str], selector_names: list[str]) -> None:
        self.path = path
        self.csv = path.suffix.lower() == ".csv"
        if path.suffix.lower() not in (".csv", ".jsonl", ".json", ".ndjson"):
            raise errors.InvalidInput("output", "must end in .jsonl or .csv")
        self._writer = exports.CsvWriter(exports.csv_columns(formats, selector_names))
        self._file: IO[bytes] | None = None
        self.last_id = 0
        self.written = 0

    def __enter__(self) -> RecordFile:
        try:
            self._file = self.path.open("wb")
        except OSError as exc:
            raise errors.InvalidInput(
                "output", f"cannot write {self.path}: {exc.strerror}"
            ) from exc
        if self.csv:
            self._file.write(self._writer.header())
        return self

    def __exit__(self, *_: object) -> None:
        if self._file is not None:
            self._file.close()

    async def catch_up(self, crawls: CrawlStore, job_id: int) -> None:
        """Append every record stored since the last call."""
        assert self._file is not None
        while True:
            rows = await crawls.pages_after(job_id, self.last_id, BATCH)
            if not rows:
                return
            if self.csv:
                self._file.write(self._writer.rows(rows))
            else:
                self._file.writelines(exports.jsonl(rows))
            self._file.flush()
            self.last_id = rows[-1]["id"]
            self.written += len(rows)
            if len(rows) < BATCH:
                return


class CrawlProgress:
    """A progress bar at a terminal; a status line every few seconds otherwise."""

    def __init__(self, console: Console, job_id: int) -> None:
        self.console = console
        self.job_id = job_id
        self.live = console.is_terminal
        self._progress = Progress(
            TextColumn("[bold]crawl {task.fields[job]}"),
            BarColumn(),
            TextColumn("{task.completed:,.0f}/{task.total:,.0f}"),
            TextColumn("{task.fields[rate]:>6.1f} pages/s"),
            TextColumn("fetched {task.fields[fetched]:,} failed {task.fields[failed]:,}"),
            TextColumn("queued {task.fields[queued]:,}"),
            TimeElapsedColumn(),
            console=console,
            disable=not self.live,
        )
        self._task = self._progress.add_task(
            "crawl", total=1, job=job_id, rate=0.0, fetched=0, failed=0, queued=0
        )
        self._started = time.monotonic()
        self._last_line = 0.0

    def __enter__(self) -> CrawlProgress:
        self._progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._progress.__exit__(*exc)

    def update(self, counters: dict[str, Any]) -> None:
        fetched, failed = counters["fetched"], counters["failed"]
        done = fetched + failed + counters["skipped_robots"]
        elapsed = max(time.monotonic() - self._started, 1e-6)
        rate = (fetched + failed) / elapsed
        self._progress.update(
            self._task,
            completed=done,
            total=max(counters["admitted"] + counters["skipped_robots"], done, 1),
            rate=rate,
            fetched=fetched,
            failed=failed,
            queued=counters["open"],
        )
        now = time.monotonic()
        if not self.live and now - self._last_line >= 5:
            self._last_line = now
            self.console.print(
                f"crawl {self.job_id}: {fetched:,} fetched, {failed:,} failed, "
                f"{counters['open']:,} queued, {rate:.1f} pages/s",
                highlight=False,
            )


async def follow(
    crawls: CrawlStore,
    job_id: int,
    until: asyncio.Future[Any],
    *,
    console: Console,
    output: RecordFile | None,
    show_progress: bool = True,
) -> None:
    """Show progress and stream records until ``until`` is done, then catch up."""
    bar = CrawlProgress(console, job_id) if show_progress else None
    with bar if bar is not None else contextlib.nullcontext():
        while True:
            finished = until.done()
            counters = await crawls.counters(job_id)
            if counters is not None and bar is not None:
                bar.update(counters)
            if output is not None:
                await output.catch_up(crawls, job_id)
            if finished:
                return
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.5):
                    await asyncio.shield(until)
