"""``scrapeyard scrape`` and ``scrapeyard crawl``: fetch pages from the terminal.

Both enqueue a real job (so its records are stored and ``--resume`` works) on a queue
private to this command, and run it right here: in this process, or with
``--parallelism N`` in N worker processes. ``crawl --detach`` only enqueues it, for the
workers to run.
"""

from __future__ import annotations

import asyncio
import ipaddress
import signal
import sys
import uuid
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from scrapeyard import config, connect, errors, exports
from scrapeyard.cli import common, follow
from scrapeyard.notify import runtime as notify_runtime
from scrapeyard.queue.jobs import Job, JobSpec, JobStatus
from scrapeyard.queue.store import JobStore
from scrapeyard.worker import process, supervisor
from scrapeyard.worker.queues import QueueSelector
from scrapeyard.worker.resources import Resources

AllowNetwork = Annotated[
    list[str] | None,
    typer.Option(
        "--allow-network",
        help="Let this command fetch from a private network (CIDR), e.g. 127.0.0.0/8.",
    ),
]
Formats = Annotated[
    str | None,
    typer.Option(
        "--format",
        "-f",
        help="Comma-separated: html,text,markdown,links,metadata,jsonld,selectors,contacts; "
        "with --render also screenshot, screenshot@full_page, pdf.",
    ),
]
Render = Annotated[
    str | None,
    typer.Option(
        "--render",
        help="Render pages in headless Chromium: never (default), always, or auto (only "
        "pages whose content needs scripts).",
    ),
]
WaitFor = Annotated[
    str | None, typer.Option("--wait-for", help="CSS selector a rendered page waits for.")
]
WaitNetworkIdle = Annotated[
    bool,
    typer.Option("--wait-network-idle", help="A rendered page waits until no request is left."),
]
WaitDelay = Annotated[
    float | None, typer.Option("--wait-delay", help="Seconds a rendered page waits (30 at most).")
]
Action = Annotated[
    list[str] | None,
    typer.Option(
        "--action",
        help='A step on each rendered page, as JSON, e.g. \'{"type": "click", "selector": '
        '"#more"}\' (click, type, press, scroll, scroll_to_end, wait, evaluate).',
    ),
]
ScrollToEnd = Annotated[
    bool, typer.Option("--scroll-to-end", help="Scroll each rendered page to the end of its list.")
]
Select = Annotated[
    list[str] | None,
    typer.Option("--select", "-s", help="NAME=SELECTOR (CSS with ::text/::attr(x), or XPath)."),
]
Header = Annotated[list[str] | None, typer.Option("--header", "-H", help="'Name: value'.")]
Dataset = Annotated[
    str | None,
    typer.Option(
        "--dataset",
        help="Put the pages into this dataset when the job is done (keyed by URL), or a "
        'JSON object such as \'{"name": "leads", "key": ["email"]}\'.',
    ),
]
Webhook = Annotated[
    str | None,
    typer.Option("--webhook", help="http(s) URL told of the job's events (signed)."),
]


def _selectors(values: list[str] | None) -> dict[str, str] | None:
    if not values:
        return None
    fields: dict[str, str] = {}
    for item in values:
        name, sep, selector = item.partition("=")
        if not sep or not name.strip() or not selector.strip():
            raise errors.InvalidInput("select", f"{item!r} is not NAME=SELECTOR")
        fields[name.strip()] = selector.strip()
    return fields


def _headers(values: list[str] | None) -> dict[str, str] | None:
    if not values:
        return None
    headers: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise errors.InvalidInput("header", f"{item!r} is not 'Name: value'")
        headers[name.strip()] = value.strip()
    return headers


def _formats(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [name.strip() for name in value.split(",") if name.strip()]


def _payload(**options: Any) -> dict[str, Any]:
    """A job payload from flags: options left unset are left out (the job's defaults)."""
    return {key: value for key, value in options.items() if value is not None}


def render_payload(
    *,
    render: str | None = None,
    wait_for: str | None = None,
    wait_network_idle: bool = False,
    wait_delay: float | None = None,
    action: list[str] | None = None,
    scroll_to_end: bool = False,
) -> dict[str, Any]:
    """The browser keys of a payload from the rendering flags (checked with the job)."""
    wait = _payload(selector=wait_for, network_idle=wait_network_idle or None, delay=wait_delay)
    actions: list[Any] = []
    for index, item in enumerate(action or []):
        try:
            actions.append(orjson.loads(item))
        except orjson.JSONDecodeError:
            raise errors.InvalidInput(f"action[{index}]", f"{item!r} is not JSON") from None
    if scroll_to_end:
        actions.append({"type": "scroll_to_end"})
    return _payload(render=render, wait_for=wait or None, actions=actions or None)


def crawl_payload(
    *,
    url: str | None,
    max_pages: int | None = None,
    max_depth: int | None = None,
    include: list[str] | None = None,
    exclude: list[str] | None = None,
    rps: float | None = None,
    burst: int | None = None,
    max_connections_per_host: int | None = None,
    concurrency: int | None = None,
    formats: str | None = None,
    select: list[str] | None = None,
    allow_subdomains: bool = False,
    allow_external: bool = False,
    no_sitemap: bool = False,
    ignore_robots: bool = False,
    user_agent: str | None = None,
    header: list[str] | None = None,
    proxy: list[str] | None = None,
    timeout: float | None = None,
    parallelism: int = 1,
    dataset: str | None = None,
    webhook: str | None = None,
    rendering: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A crawl job's payload from ``crawl``'s flags (by their parameter names)."""
    return (rendering or {}) | _payload(
        url=url,
        max_pages=max_pages,
        max_depth=max_depth,
        include_paths=include,
        exclude_paths=exclude,
        rate_limit=_rate_limit(rps, burst),
        max_connections_per_host=max_connections_per_host,
        concurrency=concurrency,
        formats=_formats(formats),
        selectors=_selectors(select),
        allow_subdomains=allow_subdomains or None,
        allow_external=allow_external or None,
        use_sitemap=False if no_sitemap else None,
        respect_robots=False if ignore_robots else None,
        user_agent=user_agent,
        headers=_headers(header),
        proxies=proxy,
        timeout=timeout,
        parallelism=parallelism if parallelism > 1 else None,
        dataset=_dataset(dataset),
        webhook=webhook,
    )


def scrape_payload(
    *,
    urls: list[str],
    formats: str | None = None,
    select: list[str] | None = None,
    ignore_robots: bool = False,
    user_agent: str | None = None,
    header: list[str] | None = None,
    timeout: float | None = None,
    region: str | None = None,
    dataset: str | None = None,
    webhook: str | None = None,
    rendering: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A scrape job's payload from ``scrape``'s flags (by their parameter names)."""
    return (rendering or {}) | _payload(
        urls=urls,
        formats=_formats(formats),
        selectors=_selectors(select),
        respect_robots=False if ignore_robots else None,
        user_agent=user_agent,
        headers=_headers(header),
        timeout=timeout,
        region=region,
        dataset=_dataset(dataset),
        webhook=webhook,
    )


def _dataset(value: str | None) -> str | dict[str, Any] | None:
    """``--dataset``: a name, or a JSON object with the name and its key (checked later)."""
    if value is None or not value.lstrip().startswith("{"):
        return value
    try:
        parsed = orjson.loads(value)
    except orjson.JSONDecodeError:
        raise errors.InvalidInput("dataset", f"{value!r} is not a JSON object") from None
    if not isinstance(parsed, dict):
        raise errors.InvalidInput("dataset", "must be a name or a JSON object")
    return parsed


def _settings(allow_network: list[str] | None) -> config.Settings:
    """Settings for a crawl run here: quieter logs, and the extra allowed networks."""
    loaded = common.settings(log_level=common.GLOBAL_OPTIONS.get("log_level") or "warning")
    networks = []
    for cidr in allow_network or []:
        try:
            networks.append(str(ipaddress.ip_network(cidr.strip(), strict=False)))
        except ValueError:
            raise errors.InvalidInput("allow-network", f"{cidr!r} is not a CIDR") from None
    if networks:
        loaded = loaded.model_copy(
            update={"allowed_networks": [*loaded.allowed_networks, *networks]}
        )
    return loaded


async def _run_here(
    loaded: config.Settings,
    store: JobStore,
    job: Job,
    *,
    parallelism: int,
    output: follow.RecordFile | None,
    show_progress: bool,
) -> Job:
    """Run ``job`` (on its private queue) to an end, following it; the job afterwards."""
    notify_runtime.configure(loaded)
    queue = QueueSelector((job.queue,))
    if parallelism > 1:
        boss = supervisor.Supervisor(
            loaded, processes=parallelism, queues=queue, concurrency=1, burst=True
        )
        running: asyncio.Future[Any] = asyncio.ensure_future(boss.run())
    else:
        worker_id = process.new_worker_id()
        worker = process.WorkerProcess(
            store,
            process.WorkerOptions.from_settings(loaded, queues=queue, concurrency=1, burst=True),
            worker_id=worker_id,
            resources=Resources.from_settings(store, loaded, worker_id=worker_id),
        )
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, worker.request_stop)
        running = asyncio.ensure_future(worker.run())
    crawls = Resources(store, worker_id="cli").crawls
    try:
        await follow.follow(
            crawls,
            job.id,
            running,
            console=common.err_console,
            output=output,
            show_progress=show_progress,
        )
        await running
    finally:
        if parallelism <= 1:
            for signum in (signal.SIGINT, signal.SIGTERM):
                asyncio.get_running_loop().remove_signal_handler(signum)
    return await store.get(job.id)


def _private_queue() -> str:
    return f"cli-{uuid.uuid4().hex[:12]}"


def _report(job: Job, output: follow.RecordFile | None) -> None:
    """Summarise the finished job on stderr; exit non-zero unless it succeeded."""
    err = common.err_console
    if output is not None:
        err.print(f"wrote {output.written:,} records to {output.path}", highlight=False)
    if job.status is JobStatus.SUCCEEDED:
        result = job.result or {}
        skipped = result.get("skipped", {})
        err.print(
            f"crawl {job.id} done: {result.get('pages', 0):,} pages, "
            f"{result.get('failed', 0):,} failed, {skipped.get('robots', 0):,} disallowed "
            f"by robots.txt, {skipped.get('scope', 0):,} links out of scope",
            highlight=False,
        )
        return
    if job.status in (JobStatus.QUEUED, JobStatus.SCHEDULED):
        err.print(f"stopped; resume with: scrapeyard crawl --resume {job.id}", highlight=False)
        raise typer.Exit(130)
    message = (job.error or {}).get("message", "")
    err.print(f"job {job.id} ended {job.status}: {message}", highlight=False)
    raise typer.Exit(1)


def crawl(
    url: Annotated[str | None, typer.Argument(help="Start URL.")] = None,
    max_pages: Annotated[int | None, typer.Option("--max-pages", help="Pages at most.")] = None,
    max_depth: Annotated[
        int | None, typer.Option("--max-depth", help="Links followed from the start.")
    ] = None,
    include: Annotated[
        list[str] | None, typer.Option("--include", help="Path glob (or re:REGEX) to follow.")
    ] = None,
    exclude: Annotated[
        list[str] | None, typer.Option("--exclude", help="Path glob (or re:REGEX) to skip.")
    ] = None,
    rps: Annotated[
        float | None, typer.Option("--rps", help="Requests per second per host; 0: unlimited.")
    ] = None,
    burst: Annotated[int | None, typer.Option("--burst", help="Token bucket burst.")] = None,
    max_connections_per_host: Annotated[
        int | None, typer.Option("--max-connections-per-host", help="Connections per host.")
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option("--concurrency", help="Pages in flight per process.")
    ] = None,
    formats: Formats = None,
    select: Select = None,
    allow_network: AllowNetwork = None,
    allow_subdomains: Annotated[bool, typer.Option("--allow-subdomains")] = False,
    allow_external: Annotated[bool, typer.Option("--allow-external")] = False,
    no_sitemap: Annotated[bool, typer.Option("--no-sitemap", help="Do not read sitemaps.")] = False,
    ignore_robots: Annotated[
        bool, typer.Option("--ignore-robots", help="Do not obey robots.txt (be sure).")
    ] = False,
    user_agent: Annotated[str | None, typer.Option("--user-agent")] = None,
    header: Header = None,
    proxy: Annotated[list[str] | None, typer.Option("--proxy", help="Proxy URL.")] = None,
    timeout: Annotated[float | None, typer.Option("--timeout", help="Seconds per page.")] = None,
    parallelism: Annotated[
        int, typer.Option("--parallelism", "-p", help="Worker processes working the crawl.")
    ] = 1,
    render: Render = None,
    wait_for: WaitFor = None,
    wait_network_idle: WaitNetworkIdle = False,
    wait_delay: WaitDelay = None,
    action: Action = None,
    scroll_to_end: ScrollToEnd = False,
    dataset: Dataset = None,
    webhook: Webhook = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write records to .jsonl or .csv.")
    ] = None,
    detach: Annotated[
        bool, typer.Option("--detach", help="Only enqueue; print the job id for workers.")
    ] = False,
    resume: Annotated[
        int | None, typer.Option("--resume", help="Continue an interrupted crawl by job id.")
    ] = None,
    queue: Annotated[str | None, typer.Option("--queue", help="Queue for --detach.")] = None,
    priority: Annotated[int | None, typer.Option("--priority")] = None,
) -> None:
    """Crawl a site from URL within scope, with a live progress bar; Ctrl-C stops cleanly."""
    if (url is None) == (resume is None):
        raise errors.InvalidInput("url", "give a start URL, or --resume JOB_ID")
    if detach and allow_network:
        raise errors.InvalidInput(
            "allow-network",
            "applies to crawls run by this command; for --detach, set "
            "SCRAPEYARD_ALLOWED_NETWORKS on the workers",
        )
    if not 1 <= parallelism <= 64:
        raise errors.InvalidInput("parallelism", "must be between 1 and 64")
    loaded = _settings(allow_network)
    payload = crawl_payload(
        url=url,
        max_pages=max_pages,
        max_depth=max_depth,
        include=include,
        exclude=exclude,
        rps=rps,
        burst=burst,
        max_connections_per_host=max_connections_per_host,
        concurrency=concurrency,
        formats=formats,
        select=select,
        allow_subdomains=allow_subdomains,
        allow_external=allow_external,
        no_sitemap=no_sitemap,
        ignore_robots=ignore_robots,
        user_agent=user_agent,
        header=header,
        proxy=proxy,
        timeout=timeout,
        parallelism=parallelism,
        dataset=dataset,
        webhook=webhook,
        rendering=render_payload(
            render=render,
            wait_for=wait_for,
            wait_network_idle=wait_network_idle,
            wait_delay=wait_delay,
            action=action,
            scroll_to_end=scroll_to_end,
        ),
    )

    async def go() -> tuple[Job, follow.RecordFile | None]:
        async with connect.open_store(loaded, pool_size=_pool_size(loaded)) as store:
            if resume is not None:
                job = await _resumable(store, resume)
            else:
                job = await store.enqueue(
                    JobSpec(
                        "crawl",
                        payload,
                        queue=queue if detach else _private_queue(),
                        priority=priority,
                    )
                )
            if detach:
                return job, None
            sink = None
            if output is not None:
                sink = follow.RecordFile(
                    output, _job_formats(job), list(job.payload.get("selectors") or {})
                )
            if sink is None:
                return await _run_here(
                    loaded, store, job, parallelism=parallelism, output=None, show_progress=True
                ), None
            with sink:
                done = await _run_here(
                    loaded, store, job, parallelism=parallelism, output=sink, show_progress=True
                )
            return done, sink

    job, sink = common.run(go())
    if detach:
        print(job.id)
        common.err_console.print(
            f"enqueued crawl {job.id} on queue {job.queue!r}; workers serving it will run it",
            highlight=False,
        )
        return
    _report(job, sink)


def _pool_size(loaded: config.Settings) -> int:
    """Connections for a crawl run here. SQLite writes one at a time, and each connection
    is a thread with a page cache of its own: two are enough (and save memory)."""
    return 2 if loaded.database_url.startswith("sqlite") else 4


def _rate_limit(rps: float | None, burst: int | None) -> dict[str, Any] | None:
    if rps is None and burst is None:
        return None
    return _payload(requests_per_second=rps, burst=burst)


def _job_formats(job: Job) -> list[str]:
    from scrapeyard.crawl.options import CrawlOptions

    return list(CrawlOptions.from_payload(job.kind, job.payload).columns)


async def _resumable(store: JobStore, job_id: int) -> Job:
    """Move job ``job_id`` to a private queue so this command runs it."""
    job = await store.get(job_id)
    if job.kind not in ("crawl", "map", "scrape"):
        raise errors.InvalidInput("resume", f"job {job_id} is a {job.kind} job, not a crawl")
    if job.status is JobStatus.RUNNING:
        raise errors.InvalidTransition(job_id, f"running on {job.lease_owner}", "resume")
    if job.status is JobStatus.SUCCEEDED:
        raise errors.InvalidTransition(job_id, "finished", "resume")
    if job.status in (JobStatus.FAILED, JobStatus.CANCELLED):
        job = await store.retry(job_id)
    return await store.move(job_id, _private_queue())


def scrape(
    urls: Annotated[list[str], typer.Argument(help="One or more URLs.")],
    formats: Formats = None,
    select: Select = None,
    allow_network: AllowNetwork = None,
    ignore_robots: Annotated[bool, typer.Option("--ignore-robots")] = False,
    user_agent: Annotated[str | None, typer.Option("--user-agent")] = None,
    header: Header = None,
    timeout: Annotated[float | None, typer.Option("--timeout", help="Seconds per page.")] = None,
    region: Annotated[
        str | None, typer.Option("--region", help="Default phone region for contacts, e.g. DE.")
    ] = None,
    render: Render = None,
    wait_for: WaitFor = None,
    wait_network_idle: WaitNetworkIdle = False,
    wait_delay: WaitDelay = None,
    action: Action = None,
    scroll_to_end: ScrollToEnd = False,
    dataset: Dataset = None,
    webhook: Webhook = None,
) -> None:
    """Fetch URL(s) and print the record as JSON (Markdown text with -f markdown)."""
    chosen = _formats(formats)
    loaded = _settings(allow_network)
    payload = scrape_payload(
        urls=urls,
        formats=formats,
        select=select,
        ignore_robots=ignore_robots,
        user_agent=user_agent,
        header=header,
        timeout=timeout,
        region=region,
        dataset=dataset,
        webhook=webhook,
        rendering=render_payload(
            render=render,
            wait_for=wait_for,
            wait_network_idle=wait_network_idle,
            wait_delay=wait_delay,
            action=action,
            scroll_to_end=scroll_to_end,
        ),
    )

    async def go() -> tuple[Job, list[dict[str, Any]]]:
        async with connect.open_store(loaded, pool_size=4) as store:
            job = await store.enqueue(JobSpec("scrape", payload, queue=_private_queue()))
            done = await _run_here(
                loaded, store, job, parallelism=1, output=None, show_progress=False
            )
            crawls = Resources(store, worker_id="cli").crawls
            page = await crawls.pages(job.id, limit=len(urls) + 1)
            return done, page.records

    job, rows = common.run(go())
    if job.status is not JobStatus.SUCCEEDED:
        _report(job, None)
    records = [exports.record(row) for row in rows]
    if chosen == ["markdown"]:
        for item in records:
            if len(records) > 1:
                sys.stdout.write(f"<!-- {item['url']} -->\n")
            sys.stdout.write((item.get("markdown") or "") + "\n")
    elif len(records) == 1:
        common.print_json(records[0])
    else:
        for item in records:
            sys.stdout.write(orjson.dumps(item).decode() + "\n")
    if any(not item["ok"] for item in records):
        raise typer.Exit(1)
