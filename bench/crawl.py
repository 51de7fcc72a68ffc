"""Crawl benchmark: scrapeyard (SQLite, PostgreSQL) against Scrapy and a lean baseline.

    python -m bench.crawl                      # 10k pages, then the 50k memory check
    python -m bench.crawl --pages 10000 --backends sqlite --peers scrapy --skip-50k

Generates (or reuses) a seeded product site in ``bench/.cache``, serves it with nginx on
127.0.0.1, runs each crawler as a subprocess and prints, per crawler: pages/s, CPU
seconds (user + system of the crawler's processes), peak RSS (of its whole process
tree), coverage (allowed, reachable pages stored), robots violations (disallowed URLs the
*server* was asked for), pages stored twice, and wrong extractions; then the ratios to
Scrapy and the issue's targets for scrapeyard. The 50k run checks that peak RSS grows at
most 1.5x from 10k to 50k pages. Outputs, logs and ``results.json`` stay in
``bench/.cache/runs/STAMP/``.

Peers run from ``bench/.venv-peers`` (created on first use). scrapeyard runs from the
project's ``.venv`` through ``contenders.scrapeyard_command``; until its crawl CLI
exists the benchmark says so and measures the peers alone.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench import contenders, measure, report, servers, site, verify

BENCH_DIR = Path(__file__).resolve().parent


# ---------------------------------------------------------------------------- databases


class Databases:
    """A SQLite file per run, and one throwaway PostgreSQL cluster started on first use."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        # Outside run_dir: the server runs as the postgres user, which must be able to
        # reach its data directory through every parent.
        self.pg_dir = Path(tempfile.mkdtemp(prefix="bench-pgcluster-"))
        self.pg_dir.chmod(0o755)
        self.pg_url: str | None = None

    def url(self, backend: str, name: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{self.run_dir / name}.db"
        if self.pg_url is None:
            started = subprocess.run(
                [sys.executable, str(contenders.REPO / "scripts" / "pgcluster.py")]
                + ["start", str(self.pg_dir), "--durable"],
                check=True,
                capture_output=True,
                text=True,
            )
            self.pg_url = started.stdout.strip().splitlines()[-1]
        asyncio.run(_create_database(self.pg_url, name))
        return self.pg_url.rsplit("/", 1)[0] + "/" + name

    def server_cpu_seconds(self, backend: str) -> float | None:
        """CPU the PostgreSQL server has used so far (None for SQLite: it is in-process)."""
        pid_file = self.pg_dir / "data" / "postmaster.pid"
        if backend != "postgresql" or not pid_file.exists():
            return None
        return measure.tree_cpu_seconds(int(pid_file.read_text().split()[0]))

    def close(self) -> None:
        if self.pg_url is not None:
            subprocess.run(
                [sys.executable, str(contenders.REPO / "scripts" / "pgcluster.py")]
                + ["stop", str(self.pg_dir)],
                check=False,
            )
        shutil.rmtree(self.pg_dir, ignore_errors=True)


async def _create_database(url: str, name: str) -> None:
    import asyncpg  # the project's dependency; only the PostgreSQL variant needs it

    connection = await asyncpg.connect(url)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


# ---------------------------------------------------------------------------- running


def run_one(
    contender: contenders.Contender,
    server: servers.Server,
    manifest: site.Manifest,
    timeout: float,
    database_cpu: Callable[[], float | None] = lambda: None,
) -> report.Row:
    """Run ``contender`` against ``server`` and check what it stored."""
    # Other work on the machine skews every figure: show the load each crawl starts under.
    load = os.getloadavg()[0]
    print(f"  {contender.name} (load {load:.2f}): {contenders.describe(contender)}", flush=True)
    log = contender.output.with_suffix(".log")
    for command in contender.setup:
        prepared = subprocess.run(
            command,
            cwd=contender.output.parent,
            env=contenders.child_env(contender),
            capture_output=True,
            text=True,
        )
        if prepared.returncode != 0:
            note = f"setup `{' '.join(command[1:])}` failed: {prepared.stderr.strip()[-300:]}"
            print(f"    {note}", flush=True)
            return report.Row(manifest["pages"], contender.name, note=note)
    mark = server.log_mark()
    server_before, database_before = server.cpu_seconds(), database_cpu()
    result = measure.run_measured(
        contender.command,
        log=log,
        timeout=timeout,
        cwd=contender.output.parent,
        env=contenders.child_env(contender),
    )
    server_cpu = server.cpu_seconds() - server_before
    database_after = database_cpu()
    database_cpu_s = (
        database_after - database_before
        if database_after is not None and database_before is not None
        else None
    )
    verdict = verify.check(contender.output, manifest, server.requests_since(mark))
    note = ""
    if result.timed_out:
        note = f"killed after {timeout:.0f} s"
    elif result.returncode != 0:
        note = f"exit {result.returncode}, see {log}"
    row = report.Row(
        manifest["pages"], contender.name, note, result, verdict, server_cpu, database_cpu_s
    )
    print(f"    {report.summary(row)}", flush=True)
    return row


def crawl_site(
    pages: int,
    args: argparse.Namespace,
    run_dir: Path,
    databases: Databases,
    peers: list[str],
    scrapeyard_missing: str | None,
) -> tuple[list[report.Row], str]:
    """Every requested crawler on a site of ``pages`` pages, and the server's name."""
    started = time.perf_counter()
    root = site.ensure_site(args.cache_dir, pages, args.seed)
    manifest = site.load_manifest(root)
    print(
        f"\nsite: {pages} pages ({time.perf_counter() - started:.1f} s to generate or load), "
        f"{len(manifest['allowed'])} allowed and reachable, "
        f"{len(manifest['disallowed'])} disallowed URLs linked, "
        f"mean page {manifest['bytes'] / pages / 1024:.1f} KiB, "
        f"{manifest['content_links']} content links per page; {root}",
        flush=True,
    )
    rows: list[report.Row] = []
    with servers.serve(
        root, workers=args.nginx_workers, use_nginx=not args.python_server
    ) as server:
        site.write_discovery_files(root, server.origin)
        print(f"server: {server.kind} at {server.origin}/", flush=True)
        target = contenders.Target(server.origin, max_pages=pages, run_dir=run_dir / str(pages))
        target.run_dir.mkdir(parents=True, exist_ok=True)
        for backend in args.backends:
            name = f"scrapeyard-{backend}"
            if scrapeyard_missing is not None:
                print(f"  {name}: skipped: {scrapeyard_missing}", flush=True)
                rows.append(report.Row(pages, name, note=scrapeyard_missing))
                continue
            url = databases.url(backend, f"bench_{backend}_{pages}")
            contender = contenders.scrapeyard(target, backend, url)
            rows.append(
                run_one(
                    contender,
                    server,
                    manifest,
                    args.timeout,
                    lambda backend=backend: databases.server_cpu_seconds(backend),
                )
            )
        for peer in peers:
            rows.append(run_one(contenders.PEERS[peer](target), server, manifest, args.timeout))
    return rows, server.kind


# ---------------------------------------------------------------------------- main


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.crawl", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--pages", type=int, default=10_000, help="site size (default 10000)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--backends", default="sqlite,postgresql", help="scrapeyard's, or ''")
    parser.add_argument("--peers", default="scrapy,lean", help="of: scrapy, lean; or ''")
    parser.add_argument("--skip-50k", action="store_true", help="skip the memory-scaling run")
    parser.add_argument("--large-pages", type=int, default=50_000, help="the scaling run's size")
    parser.add_argument(
        "--large-peers", default="lean", help="peers on the scaling run (Scrapy takes ~12 min)"
    )
    parser.add_argument("--nginx-workers", default="1", help="nginx worker_processes: N or auto")
    parser.add_argument("--python-server", action="store_true", help="serve with aiohttp")
    parser.add_argument("--timeout", type=float, default=3600, help="per crawl, seconds")
    parser.add_argument("--cache-dir", type=Path, default=BENCH_DIR / ".cache")
    args = parser.parse_args()
    args.backends = _names(args.backends, {"sqlite", "postgresql"}, parser)
    args.peers = _names(args.peers, set(contenders.PEERS), parser)
    args.large_peers = _names(args.large_peers, set(contenders.PEERS), parser)
    return args


def _names(value: str, known: set[str], parser: argparse.ArgumentParser) -> list[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = sorted(set(names) - known)
    if unknown:
        parser.error(f"unknown: {', '.join(unknown)}; choose from {', '.join(sorted(known))}")
    return names


def _machine() -> str:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return f"{os.cpu_count()} cores ({model}), {memory:.0f} GiB, Python {platform.python_version()}"


def main() -> None:
    args = _parse_args()
    run_dir = args.cache_dir / "runs" / time.strftime("%Y%m%d-%H%M%S")
    run_dir.mkdir(parents=True)
    print(f"machine: {_machine()}\nrun directory: {run_dir}", flush=True)
    scrapeyard_missing = contenders.scrapeyard_unavailable() if args.backends else None
    if scrapeyard_missing:
        print(f"scrapeyard: {scrapeyard_missing}; measuring the peers only", flush=True)
    large = None if args.skip_50k else args.large_pages
    rows: list[report.Row] = []
    server_kind = ""
    with contextlib.closing(Databases(run_dir)) as databases:
        plan = [(args.pages, args.peers)] + ([(large, args.large_peers)] if large else [])
        for pages, peers in plan:
            more, server_kind = crawl_site(
                pages, args, run_dir, databases, peers, scrapeyard_missing
            )
            rows += more
    report.print_table(rows, server_kind)
    report.print_ratios(rows)
    met = report.print_targets(rows, args.pages, large)
    report.save(rows, run_dir / "results.json", {"machine": _machine(), "server": server_kind})
    verdict = {None: "no scrapeyard crawl ran", True: "all met", False: "NOT all met"}[met]
    print(f"\nscrapeyard targets: {verdict}\nresults: {run_dir / 'results.json'}")


if __name__ == "__main__":
    main()
