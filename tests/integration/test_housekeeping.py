"""The workers' housekeeping on files: capture folders follow their jobs."""

from __future__ import annotations

from pathlib import Path

from scrapeyard.crawl.render import outputs
from scrapeyard.queue.jobs import JobSpec
from scrapeyard.queue.store import JobStore
from scrapeyard.worker import maintenance


async def test_captures_of_deleted_jobs_are_removed_and_the_rest_kept(
    store: JobStore, tmp_path: Path
) -> None:
    kept = await store.enqueue(JobSpec("crawl", {"url": "https://a.example/"}))
    deleted = await store.enqueue(JobSpec("crawl", {"url": "https://b.example/"}))
    for job_id in (kept.id, deleted.id, 987654321):
        folder = tmp_path / outputs.folder(job_id)
        folder.mkdir(parents=True)
        (folder / "0123456789abcdef.png").write_bytes(b"\x89PNG")
    stray = tmp_path / outputs.CAPTURES / "notes.txt"
    stray.write_text("not a job's folder")
    await store.delete(deleted.id)

    assert await maintenance.sweep_captures(store, tmp_path) == 2

    assert set(outputs.job_folders(tmp_path)) == {kept.id}
    assert (tmp_path / outputs.folder(kept.id) / "0123456789abcdef.png").exists()
    assert stray.exists()
    assert await maintenance.sweep_captures(store, tmp_path) == 0


async def test_no_captures_folder_is_nothing_to_do(store: JobStore, tmp_path: Path) -> None:
    assert await maintenance.sweep_captures(store, tmp_path) == 0
