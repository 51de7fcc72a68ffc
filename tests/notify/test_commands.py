"""``scrapeyard webhooks add``, ``list`` and ``remove`` as users run them."""

from __future__ import annotations

import json
import re

import pytest

from tests.support import processes


@pytest.mark.parametrize("backend", ["sqlite"])
def test_webhooks_add_prints_only_the_secret_and_list_never_shows_it(database_url: str) -> None:
    environ = processes.env(database_url)
    made = processes.run(
        ["webhooks", "add", "https://hooks.example/in", "-e", "job.failed", "-e", "job.page"],
        environ,
    )
    assert made.returncode == 0, made.stderr
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/]{32}\n", made.stdout), made.stdout
    assert "shown only this once" in made.stderr
    secret = made.stdout.strip()

    listed = processes.run(["webhooks", "list", "--json"], environ)
    assert secret not in listed.stdout + listed.stderr
    [hook] = json.loads(listed.stdout)
    assert hook["url"] == "https://hooks.example/in"
    assert hook["events"] == ["job.failed", "job.page"] and hook["scope"] == "global"

    bad = processes.run(["webhooks", "add", "https://x.example", "-e", "job.exploded"], environ)
    assert bad.returncode == 2 and "events[0]" in bad.stderr
    no_job = processes.run(
        ["webhooks", "add", "https://x.example", "-e", "job.failed", "--job", "7"], environ
    )
    assert no_job.returncode == 1 and "job 7 not found" in no_job.stderr

    removed = processes.run(["webhooks", "remove", str(hook["id"])], environ)
    assert removed.returncode == 0 and f"removed webhook {hook['id']}" in removed.stdout
    assert json.loads(processes.run(["webhooks", "list", "--json"], environ).stdout) == []
    again = processes.run(["webhooks", "remove", str(hook["id"])], environ)
    assert again.returncode == 2
