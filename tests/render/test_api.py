"""Rendering through the API: the options go in, the screenshot comes out."""

from __future__ import annotations

import httpx

from scrapeyard import config
from scrapeyard.queue import keys
from scrapeyard.queue.store import JobStore
from scrapeyard.worker.resources import Resources
from tests.api import live
from tests.crawl import harness
from tests.render.conftest import Sites


async def test_a_screenshot_is_downloadable_from_the_record_url(
    store: JobStore, settings: config.Settings, shared: Resources, sites: Sites
) -> None:
    served = settings.model_copy(update={"data_dir": shared.data_dir})
    secret = (await keys.KeyStore(store.db).create("admin", keys.Scope.ADMIN)).secret
    with live.live_server(served) as server:
        headers = {"Authorization": f"Bearer {secret}"}
        async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as api:
            refused = await api.post(
                "/v1/batch/scrape",
                json={"urls": [sites.site.url("/csr")], "wait_for": ".title"},
            )
            assert refused.status_code == 422
            assert "wait_for" in refused.text and "render" in refused.text
            started = await api.post(
                "/v1/batch/scrape",
                json={
                    "urls": [sites.site.url("/csr")],
                    "render": "always",
                    "wait_for": {"selector": ".title"},
                    "actions": [{"type": "scroll", "pixels": 100}],
                    "formats": ["metadata", "screenshot"],
                    "rate_limit": harness.UNLIMITED,
                },
            )
            assert started.status_code == 202, started.text
            job_id = started.json()["job"]["id"]
            await harness.work(store, shared=shared)
            [record] = (await api.get(f"/v1/jobs/{job_id}/results")).json()["records"]
            assert record["render"] == "browser"
            png = await api.get(record["screenshot"]["url"])
            assert png.status_code == 200
            assert png.headers["content-type"] == "image/png"
            assert png.content.startswith(b"\x89PNG")
            assert len(png.content) == record["screenshot"]["bytes"]
            for name in ("0" * 32 + ".exe", "..%2F..%2Fetc%2Fpasswd", "f" * 32 + ".png"):
                missing = await api.get(f"/v1/jobs/{job_id}/captures/{name}")
                assert missing.status_code == 404, name
