"""The interactive docs work offline: every asset comes from this server."""

from __future__ import annotations

import re

import httpx


async def test_docs_load_their_assets_from_this_server(api_url: str) -> None:
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as client:
        page = await client.get("/docs")
        assert page.status_code == 200
        sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert sources, page.text
        assert not [s for s in sources if s.startswith(("http:", "https:", "//"))]
        for source in sources:
            asset = await client.get(source)
            assert asset.status_code == 200, source
            assert len(asset.content) > 100
