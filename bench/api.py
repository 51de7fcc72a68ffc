"""API latency under load: ``GET /v1/jobs/{id}`` at a fixed rate while a crawl runs.

    python -m bench.api [--backends sqlite,postgresql] [--rate 200] [--seconds 20]

Starts ``scrapeyard serve`` (API and two worker processes) on a fresh database, serves
the demo shop (large enough to keep the crawl busy) on loopback, starts a crawl through
the API, and sends requests at a fixed rate (open loop: a slow answer does not slow
the sending, as real clients do not wait for each other). The first two seconds at
that rate warm up the client's connections and the server's database pool; their p99 is
printed apart. Then prints p50, p99 and max of the measured requests.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

from bench import queue as queue_bench
from scrapeyard.demo import site as demo_site


async def _serve_shop(products: int) -> tuple[web.AppRunner, str]:
    return await demo_site.start(products)


async def measure(
    url: str, rate: float, seconds: float, products: int, crawl_rps: float, warmup: float = 2.0
) -> dict[str, float]:
    shop_runner, shop = await _serve_shop(products)
    env = {
        **os.environ,
        "SCRAPEYARD_DATABASE_URL": url,
        "SCRAPEYARD_ALLOWED_NETWORKS": "127.0.0.0/8",
        "SCRAPEYARD_LOG_LEVEL": "warning",
        # The key's request budget is not what is measured here.
        "SCRAPEYARD_API__RATE_LIMIT": "100000",
        "SCRAPEYARD_API__RATE_BURST": "100000",
    }
    serve = subprocess.Popen(
        [sys.executable, "-m", "scrapeyard", "serve", "--port", "0", "--processes", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert serve.stdout is not None
        lines = []
        while True:
            line = serve.stdout.readline()
            lines.append(line)
            found = re.search(r"scrapeyard API on (http://\S+) ", line)
            if found:
                base = found.group(1)
            key = re.search(r"admin key: (sy_\S+)", line)
            if key:
                admin = key.group(1)
            if "Ctrl-C" in line or not line:
                break
        headers = {"Authorization": f"Bearer {admin}"}
        # aiohttp, not httpx, for the load: the client must cost far less than the server.
        connector = aiohttp.TCPConnector(limit=200)
        async with aiohttp.ClientSession(base, headers=headers, connector=connector) as client:
            async with client.post(
                "/v1/crawl",
                json={
                    "url": f"{shop}/",
                    "max_pages": products * 3,
                    "rate_limit": {"requests_per_second": crawl_rps},
                    "formats": ["metadata", "markdown"],
                },
            ) as response:
                job_id = (await response.json())["job"]["id"]
            # Measured once the crawl is under way and both worker processes are up
            # (a worker's start-up is a second of CPU the API would otherwise share).
            while True:
                async with client.get(f"/v1/jobs/{job_id}") as response:
                    job = await response.json()
                async with client.get("/v1/workers") as response:
                    alive = [w for w in await response.json() if not w["stale"]]
                fetched = (job.get("stats") or {}).get("fetched", 0)
                if job["status"] == "running" and fetched > 0 and len(alive) >= 2:
                    break
                await asyncio.sleep(0.1)
            errors = 0

            async def one(latencies: list[float]) -> None:
                nonlocal errors
                sent = time.perf_counter()
                async with client.get(f"/v1/jobs/{job_id}") as response:
                    await response.read()
                    if response.status != 200:
                        errors += 1
                latencies.append(time.perf_counter() - sent)

            async def fire(seconds: float) -> list[float]:
                latencies: list[float] = []
                tasks = []
                begin = time.perf_counter()
                for n in range(int(rate * seconds)):
                    await asyncio.sleep(max(begin + n / rate - time.perf_counter(), 0))
                    tasks.append(asyncio.create_task(one(latencies)))
                await asyncio.gather(*tasks)
                return latencies

            # The first seconds at full rate open the client's connections and the
            # server's database pool; measured apart, as the warm-up it is.
            warm = sorted(await fire(warmup))
            latencies = await fire(seconds)
            async with client.get(f"/v1/jobs/{job_id}") as response:
                final = await response.json()
        ordered = sorted(latencies)
        return {
            "requests": len(latencies),
            "errors": errors,
            "p50_ms": ordered[len(ordered) // 2] * 1000,
            "p99_ms": ordered[int(len(ordered) * 0.99) - 1] * 1000,
            "max_ms": ordered[-1] * 1000,
            "warmup_p99_ms": warm[int(len(warm) * 0.99) - 1] * 1000 if warm else 0.0,
            "crawl_status": final["status"],
            "crawl_fetched": (final.get("stats") or {}).get("fetched", 0),
        }
    finally:
        serve.terminate()
        serve.wait(timeout=60)
        await shop_runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="API latency while a crawl runs")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--products", type=int, default=3000)
    parser.add_argument(
        "--crawl-rps",
        type=float,
        default=20.0,
        help="The crawl's per-host rate limit (0: flat out, which starves a 2-core box).",
    )
    parser.add_argument("--postgres-url", default=None)
    args = parser.parse_args(argv)
    print(
        f"GET /v1/jobs/{{id}} at {args.rate:g} req/s for {args.seconds:g}s while a crawl runs "
        f"at {args.crawl_rps:g} pages/s ({os.cpu_count()} cores)"
    )
    with tempfile.TemporaryDirectory(prefix="scrapeyard-bench-api-") as tmp:
        for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
            if backend == "postgresql":
                with queue_bench.postgres_server(args.postgres_url) as server:
                    url = queue_bench.fresh_database(backend, server, Path(tmp))
                    figures = asyncio.run(
                        measure(url, args.rate, args.seconds, args.products, args.crawl_rps)
                    )
            else:
                url = queue_bench.fresh_database(backend, None, Path(tmp))
                figures = asyncio.run(
                    measure(url, args.rate, args.seconds, args.products, args.crawl_rps)
                )
            print(
                f"{backend:<11} p50 {figures['p50_ms']:6.1f} ms  p99 {figures['p99_ms']:6.1f} ms"
                f"  max {figures['max_ms']:6.1f} ms  ({figures['requests']:.0f} requests, "
                f"{figures['errors']:.0f} errors; warm-up p99 {figures['warmup_p99_ms']:.0f} ms; "
                f"crawl {figures['crawl_status']}, "
                f"{figures['crawl_fetched']:.0f} pages meanwhile)",
                flush=True,
            )


if __name__ == "__main__":
    main()
