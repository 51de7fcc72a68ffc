"""``scrapeyard import`` and ``scrapeyard datasets``, run as users run them."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from tests.support import processes

LEADS = "email;name;price\nAnn@A.example;Ann;1.234,50 €\nbob@b.example;=cmd|' /C calc'!A0;3 €\n"
AGAIN = "email,name,price\nann@a.example,Ann,1300 EUR\ncid@c.example,Cid,5 EUR\n"


def test_import_then_list_show_and_export(database_url: str, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    environ = processes.env(database_url, SCRAPEYARD_DATA_DIR=str(data_dir))
    leads = tmp_path / "leads.csv"
    leads.write_bytes(LEADS.encode("cp1252"))

    done = processes.run(["import", str(leads), "--dataset", "leads", "--key", "email"], environ)
    assert done.returncode == 0, done.stderr
    assert "imported 2 rows into dataset 'leads': 2 new" in done.stderr
    assert leads.exists()  # the original stays; the copy under data_dir is gone
    assert not list((data_dir / "uploads").iterdir())

    listed = processes.run(["datasets", "list", "--json"], environ)
    assert [(d["name"], d["key"], d["records"]) for d in json.loads(listed.stdout)] == [
        ("leads", ["email"], 2)
    ]

    exported = processes.run(["datasets", "export", "leads", "-f", "csv"], environ)
    assert exported.returncode == 0, exported.stderr
    rows = {row["email"]: row for row in csv.DictReader(io.StringIO(exported.stdout))}
    assert rows["ann@a.example"]["price"] == '{"amount":"1234.50","currency":"EUR"}'
    assert rows["bob@b.example"]["name"] == "'=cmd|' /C calc'!A0"

    again = tmp_path / "again.csv"
    again.write_text(AGAIN)
    done = processes.run(["import", str(again), "-d", "leads"], environ)
    assert "1 new, 1 changed, 0 unchanged, 1 removed" in done.stderr, done.stderr

    shown = json.loads(processes.run(["datasets", "show", "leads", "--json"], environ).stdout)
    assert shown["states"] == {"new": 1, "changed": 1, "unchanged": 0, "gone": 0}
    assert [run["received"] for run in shown["runs"]] == [2, 2]

    changes = tmp_path / "changes.jsonl"
    done = processes.run(
        ["datasets", "export", "leads", "--changed-only", "-o", str(changes)], environ
    )
    assert "wrote 2 records" in done.stderr
    lines = [json.loads(line) for line in changes.read_text().splitlines()]
    assert sorted((r["key"]["email"], r["state"]) for r in lines) == [
        ("ann@a.example", "changed"),
        ("cid@c.example", "new"),
    ]


def test_a_bad_file_or_bad_flags_fail_with_one_line(database_url: str, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    environ = processes.env(database_url, SCRAPEYARD_DATA_DIR=str(data_dir))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1}\n{"id": 2\n')

    done = processes.run(["import", str(bad), "--dataset", "d", "--key", "id"], environ)
    assert done.returncode == 1
    assert "bad.jsonl: line 2: not valid JSON" in done.stderr, done.stderr
    assert not list((data_dir / "uploads").iterdir())
    shown = processes.run(["datasets", "show", "d", "--json"], environ)
    assert json.loads(shown.stdout)["records"] == 0

    done = processes.run(["import", str(bad), "--dataset", "d", "--delimiter", ";;"], environ)
    assert done.returncode == 2
    assert "error: delimiter: must be one character" in done.stderr

    missing = processes.run(["datasets", "export", "nope"], environ)
    assert missing.returncode == 1 and "dataset 'nope' not found" in missing.stderr


def test_crawl_and_scrape_flags_carry_a_dataset_and_a_webhook(database_url: str) -> None:
    environ = processes.env(database_url)
    detached = processes.run(
        [
            "crawl",
            "https://shop.example/",
            "--detach",
            "--dataset",
            '{"name": "catalogue", "key": ["url"]}',
            "--webhook",
            "https://hooks.example/in",
        ],
        environ,
    )
    assert detached.returncode == 0, detached.stderr
    job_id = detached.stdout.strip()
    shown = processes.run(["jobs", "show", job_id, "--json"], environ)
    payload = json.loads(shown.stdout)["payload"]
    assert payload["dataset"] == {"name": "catalogue", "key": ["url"]}
    assert payload["webhook"] == "https://hooks.example/in"

    refused = processes.run(
        ["crawl", "https://shop.example/", "--detach", "--dataset", "{oops"], environ
    )
    assert refused.returncode == 2
    assert "dataset" in refused.stderr and "not a JSON object" in refused.stderr

    refused = processes.run(
        ["crawl", "https://shop.example/", "--detach", "--webhook", "ftp://x.example/"], environ
    )
    assert refused.returncode == 2
    assert "webhook" in refused.stderr
