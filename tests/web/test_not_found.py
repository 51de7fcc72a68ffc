"""Unknown paths: a browser gets the dashboard's 404 page, an API client the JSON envelope."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from scrapeyard import config
from scrapeyard.queue import database, keys
from tests.api import live
from tests.web.conftest import run, session_cookie

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture
def server(settings: config.Settings) -> Iterator[str]:
    with live.live_server(settings) as served:
        yield served.url


async def _create_key(database_url: str) -> str:
    db = database.open_database(database_url, pool_size=1)
    try:
        return (await keys.KeyStore(db).create("someone", keys.Scope.READ)).secret
    finally:
        await db.dispose()


@pytest.mark.parametrize("path", ["/foo", "/jobs/1/nothing", "/static-ish/x.html"])
def test_a_browser_gets_the_dashboards_404_page(server: str, path: str) -> None:
    response = httpx.get(server + path, headers=BROWSER)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert f"Nothing here: {path}" in response.text
    assert 'aria-label="Main"' not in response.text  # no session, no navigation


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/foo", {}),
        ("/foo", {"Accept": "application/json"}),
        ("/foo", {"Accept": "*/*"}),
        ("/v1/nothing", BROWSER),
        ("/v1", BROWSER),
        ("/docs/nothing", BROWSER),
        ("/metrics/nothing", BROWSER),
        ("/healthz/nothing", BROWSER),
        ("/readyz/nothing", BROWSER),
        ("/openapi.json/nothing", BROWSER),
    ],
)
def test_api_clients_and_api_paths_keep_the_json_envelope(
    server: str, path: str, headers: dict[str, str]
) -> None:
    response = httpx.get(server + path, headers=headers)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert response.json()["error"]["message"] == f"nothing here: GET {path}"


def test_other_http_errors_keep_the_json_envelope(server: str) -> None:
    response = httpx.put(server + "/healthz", headers=BROWSER)
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_a_logged_in_browser_gets_the_404_page_with_the_navigation(
    server: str, settings: config.Settings
) -> None:
    secret = run(_create_key(settings.database_url))
    with httpx.Client(base_url=server) as client:
        cookie = session_cookie(client, secret)
        response = client.get("/foo", headers={**BROWSER, "Cookie": cookie})
    assert response.status_code == 404
    assert "Nothing here: /foo" in response.text
    assert 'aria-label="Main"' in response.text
    assert "someone" in response.text
