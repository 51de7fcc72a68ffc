"""``scrapeyard demo``: the README's first command, run as a newcomer runs it."""

from __future__ import annotations

import re
import signal
from pathlib import Path

import httpx
import pytest

from tests.support import processes
from tests.support.waiting import until


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_demo_crawls_the_shop_through_the_api_and_keeps_serving(
    database_url: str, tmp_path: Path
) -> None:
    environ = processes.env(database_url)
    del environ["SCRAPEYARD_IMPORTS"]
    command = processes.Command(
        ["demo", "--port", "0", "--processes", "1", "--pages", "60"], environ, tmp_path / "demo.log"
    )
    try:

        async def ready() -> str | None:
            if command.process.poll() is not None:
                raise AssertionError(f"demo exited early:\n{command.output}")
            return command.output if "Still serving" in command.output else None

        output = await until(ready, timeout=120)
        assert "Crawl succeeded" in output, output
        key = re.search(r"Admin key:\s+(sy_\S+)", output)
        url = re.search(r"Dashboard:\s+(http://127\.0\.0\.1:\d+)/", output)
        job = re.search(r"job (\d+)", output)
        assert key and url and job, output
        async with httpx.AsyncClient(
            base_url=url.group(1), headers={"Authorization": f"Bearer {key.group(1)}"}
        ) as client:
            crawled = (await client.get(f"/v1/jobs/{job.group(1)}")).json()
            assert crawled["status"] == "succeeded"
            assert crawled["stats"]["fetched"] >= 60
            assert crawled["stats"]["skipped_robots"] >= 60  # every "add to cart" link
            page = (await client.get(f"/v1/jobs/{job.group(1)}/results?limit=500")).json()
            products = [r for r in page["records"] if "/products/" in r["url"]]
            assert len(products) == 60
            assert all(r["selectors"]["sku"].startswith("SY-") for r in products)
    finally:
        command.signal(signal.SIGINT)
        assert command.wait(timeout=60) == 0, command.output
