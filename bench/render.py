"""Rendering benchmark: scrapeyard's browser crawl against Crawlee's PlaywrightCrawler.

    python -m bench.render                    # 500 pages, 4 pages at once
    python -m bench.render --pages 1000 --pages-at-once 4 --contenders scrapeyard-1p

Generates a site of client-rendered pages in ``bench/.cache`` (each page an empty shell
whose script fetches the page's JSON and draws its title, price and links; a tree with
four links per page, plus a logo image), serves it with nginx on 127.0.0.1, and crawls
it with each contender in turn, as a subprocess, with the same Chromium
(``/usr/bin/chromium``) and the same number of pages rendering at once:

- ``scrapeyard-1p``: ``scrapeyard crawl --render always --wait-for h1.title`` in one
  process (SQLite);
- ``scrapeyard-2p``: the same with ``--parallelism 2`` (two worker processes, each with
  its own browser, sharing the pages at once between them);
- ``crawlee``: Crawlee for Python's PlaywrightCrawler (``bench/peers/crawlee_render.py``,
  in ``bench/.venv-crawlee``), waiting for the same selector.

Per contender it prints pages/s, CPU seconds, peak memory of the whole process tree as
PSS (proportional set size: the pages Chromium's processes share are split between
them, which is what the machine actually spends) and as summed RSS (which counts shared
pages once per process, and so overstates any multi-process browser), and coverage
(pages stored with the right title). The targets: at least 1.5x Crawlee's pages/s at no
more than its peak PSS. Both crawlers keep their defaults otherwise; note that
scrapeyard blocks images, fonts and media by default and Crawlee does not.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import contenders, measure, servers
from bench.peers import environment

BENCH_DIR = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
FANOUT = 4
MIN_SPEEDUP = 1.5
MB = 1024 * 1024

_SHELL = """<!doctype html><html><head><meta charset="utf-8"><title>Loading</title>
<link rel="icon" href="data:,"></head><body><header><img src="/logo.png" alt=""></header>
<main id="root"></main><script src="/app.js"></script></body></html>"""
_APP = """
const index = Number(location.pathname.split('/').pop().split('.')[0]);
fetch('/data/' + index + '.json').then(r => r.json()).then(item => {
  let html = '<h1 class="title">' + item.title + '</h1><p class="price">' + item.price +
    '</p><p>' + item.text + '</p><ul>';
  for (const child of item.children) {
    html += '<li><a href="/p/' + child + '.html">Product ' + child + '</a></li>';
  }
  html += '</ul><a href="/p/0.html">Home</a>';
  document.title = item.title;
  document.getElementById('root').innerHTML = html;
});
"""
# A 1x1 transparent PNG.
_LOGO = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def build_site(cache_dir: Path, pages: int) -> Path:
    """The site's directory, written once per size."""
    root = cache_dir / f"render-site-{pages}"
    done = root / ".complete"
    if done.exists():
        return root
    (root / "p").mkdir(parents=True, exist_ok=True)
    (root / "data").mkdir(exist_ok=True)
    (root / "app.js").write_text(_APP)
    (root / "logo.png").write_bytes(_LOGO)
    (root / "robots.txt").write_text("User-agent: *\nDisallow: /private/\n")
    for index in range(pages):
        (root / "p" / f"{index}.html").write_text(_SHELL)
        children = [c for c in range(FANOUT * index + 1, FANOUT * index + FANOUT + 1) if c < pages]
        item = {
            "title": f"Product {index}",
            "price": f"{index}.99",
            "text": "A fine product, described at some length for a reader. " * 8,
            "children": children,
        }
        (root / "data" / f"{index}.json").write_text(json.dumps(item))
    done.write_text("")
    return root


@dataclass
class Result:
    name: str
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_pss: int = 0
    peak_rss: int = 0
    pages: int = 0
    correct: int = 0
    note: str = ""
    samples: list[int] = field(default_factory=list)

    @property
    def pages_per_s(self) -> float:
        return self.correct / self.wall_s if self.wall_s else 0.0


def tree_pss(pid: int) -> int:
    """PSS bytes of ``pid`` and its descendants."""
    total = 0
    for member in measure.process_tree(pid):
        try:
            with open(f"/proc/{member}/smaps_rollup") as file:
                for line in file:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
        except OSError:
            pass
    return total


def run(name: str, command: list[str], env: dict[str, str], log: Path, timeout: float) -> Result:
    """Run ``command``, sampling its process tree's memory every 250 ms."""
    result = Result(name)
    started = time.perf_counter()
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            result.peak_pss = max(result.peak_pss, tree_pss(process.pid))
            result.peak_rss = max(result.peak_rss, measure.tree_rss(process.pid))
            stop.wait(0.25)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    deadline = time.monotonic() + timeout
    status = 0
    rusage = None
    while True:
        pid, status, rusage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            process.kill()
            _, status, rusage = os.wait4(process.pid, 0)
            result.note = f"killed after {timeout:.0f} s"
            break
        time.sleep(0.05)
    result.wall_s = time.perf_counter() - started
    stop.set()
    sampler.join()
    if rusage is not None:
        result.cpu_s = rusage.ru_utime + rusage.ru_stime
    code = os.waitstatus_to_exitcode(status)
    if code != 0 and not result.note:
        result.note = f"exit {code}, see {log}"
    return result


def verify(result: Result, output: Path, pages: int) -> None:
    """Count the pages stored, and those with the title their script draws."""
    seen: set[str] = set()
    correct = 0
    if output.exists():
        for line in output.read_text().splitlines():
            record = json.loads(line)
            url = record.get("url", "")
            if url in seen:
                continue
            seen.add(url)
            title = record.get("title") or (record.get("selectors") or {}).get("title")
            index = url.rsplit("/", 1)[-1].split(".")[0]
            if title == f"Product {index}":
                correct += 1
    result.pages = len(seen)
    result.correct = correct
    if correct < pages and not result.note:
        result.note = f"coverage {correct}/{pages}"


def scrapeyard_command(
    start: str, args: argparse.Namespace, output: Path, processes: int
) -> list[str]:
    command = [
        str(contenders.PROJECT_PYTHON),
        "-m",
        "scrapeyard",
        "crawl",
        start,
        "--render",
        "always",
        "--wait-for",
        "h1.title",
        "--max-pages",
        str(args.pages),
        "--concurrency",
        str(max(args.pages_at_once * 4 // processes, 4)),
        "--max-connections-per-host",
        "64",
        "--rps",
        "0",
        "--no-sitemap",
        "--allow-network",
        contenders.ALLOWED_NETWORK,
        "-s",
        "title=h1.title::text",
        "-s",
        "price=.price::text",
        "-o",
        str(output),
    ]
    if processes > 1:
        command += ["--parallelism", str(processes)]
    return command


def run_contender(name: str, start: str, args: argparse.Namespace, run_dir: Path) -> Result:
    output = run_dir / f"{name}.jsonl"
    output.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}}
    env["PYTHONUNBUFFERED"] = "1"
    if name.startswith("scrapeyard"):
        processes = 2 if name.endswith("2p") else 1
        env |= {
            "SCRAPEYARD_DATABASE_URL": f"sqlite:///{run_dir / name}.db",
            "SCRAPEYARD_DATA_DIR": str(run_dir / f"{name}-data"),
            "SCRAPEYARD_ALLOWED_NETWORKS": contenders.ALLOWED_NETWORK,
            "SCRAPEYARD_BROWSER__EXECUTABLE_PATH": CHROMIUM,
            "SCRAPEYARD_BROWSER__MAX_PAGES": str(max(args.pages_at_once // processes, 1)),
        }
        command = scrapeyard_command(start, args, output, processes)
    else:
        python = environment.ensure_python(
            environment.CRAWLEE_VENV, environment.CRAWLEE_REQUIREMENTS
        )
        env["CRAWLEE_STORAGE_DIR"] = str(run_dir / "crawlee-storage")
        command = [str(python), str(environment.PEERS_DIR / "crawlee_render.py"), start]
        command += ["--out", str(output), "--concurrency", str(args.pages_at_once)]
        command += ["--max-pages", str(args.pages), "--executable", CHROMIUM]
    load = os.getloadavg()[0]
    print(f"  {name} (load {load:.2f}) ...", flush=True)
    result = run(name, command, env, run_dir / f"{name}.log", args.timeout)
    verify(result, output, args.pages)
    print(
        f"    {result.correct} pages in {result.wall_s:.1f} s = {result.pages_per_s:.1f} pages/s, "
        f"CPU {result.cpu_s:.1f} s, peak PSS {result.peak_pss / MB:.0f} MB, "
        f"peak RSS {result.peak_rss / MB:.0f} MB" + (f" [{result.note}]" if result.note else ""),
        flush=True,
    )
    return result


def report(results: list[Result]) -> bool | None:
    print(
        f"\n{'crawler':<15} {'pages':>6} {'pages/s':>8} {'wall s':>7} {'CPU s':>7} "
        f"{'PSS MB':>7} {'RSS MB':>7}  note"
    )
    for r in results:
        print(
            f"{r.name:<15} {r.correct:>6} {r.pages_per_s:>8.1f} {r.wall_s:>7.1f} {r.cpu_s:>7.1f} "
            f"{r.peak_pss / MB:>7.0f} {r.peak_rss / MB:>7.0f}  {r.note}"
        )
    peer = next((r for r in results if r.name == "crawlee" and r.pages_per_s), None)
    if peer is None:
        return None
    met: bool | None = None
    print("\nagainst crawlee:")
    for r in results:
        if r is peer or not r.pages_per_s:
            continue
        speed = r.pages_per_s / peer.pages_per_s
        memory = r.peak_pss / peer.peak_pss if peer.peak_pss else 0.0
        ok = speed >= MIN_SPEEDUP and memory <= 1.0
        met = ok if met is None else (met or ok)
        print(
            f"  {r.name:<15} {speed:.2f}x pages/s (target >= {MIN_SPEEDUP}x), "
            f"{memory:.2f}x peak PSS (target <= 1.00x), "
            f"{r.peak_rss / peer.peak_rss if peer.peak_rss else 0:.2f}x peak RSS: "
            + ("met" if ok else "NOT met")
        )
    return met


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.render", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--pages-at-once", type=int, default=4, help="per contender, total")
    parser.add_argument("--contenders", default="scrapeyard-1p,scrapeyard-2p,crawlee")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--cache-dir", type=Path, default=BENCH_DIR / ".cache")
    args = parser.parse_args()
    names = [n.strip() for n in args.contenders.split(",") if n.strip()]
    run_dir = args.cache_dir / "runs" / ("render-" + time.strftime("%Y%m%d-%H%M%S"))
    run_dir.mkdir(parents=True)
    root = build_site(args.cache_dir, args.pages)
    print(f"site: {args.pages} client-rendered pages in {root}; run directory {run_dir}")
    results: list[Result] = []
    with servers.serve(root) as server:
        print(f"server: {server.kind} at {server.origin}/", flush=True)
        start = f"{server.origin}/p/0.html"
        for name in names:
            results.append(run_contender(name, start, args, run_dir))
    met = report(results)
    verdict = {None: "no comparison", True: "met", False: "NOT met"}[met]
    print(f"\nscrapeyard targets: {verdict}")
    (run_dir / "results.json").write_text(
        json.dumps([r.__dict__ for r in results], indent=2, default=str)
    )


if __name__ == "__main__":
    main()
