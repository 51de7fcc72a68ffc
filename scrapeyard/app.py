"""The composition root: ``create_app(settings)`` builds the whole HTTP application.

Resources (the job store, the key store, the worker registry, the rate limiter) are
opened in the lifespan, kept on ``app.state`` as one ``deps.Resources``, and handed to
routes through ``Depends``; nothing is opened at import time. The CLI's ``serve`` and
``api`` commands run the result with uvicorn; tests run it on a loopback port.

    app = create_app(config.load_settings())
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from scrapeyard import __version__, config, connect, web
from scrapeyard.api import bodylimit, deps, docs, errors, ratelimit, routers, streams
from scrapeyard.api.options import ApiOptions
from scrapeyard.notify import runtime as notify_runtime
from scrapeyard.queue import keys
from scrapeyard.queue.workers import WorkerRegistry

DESCRIPTION = """\
Web scraping and crawling jobs on a durable SQL job queue.

Every endpoint but `/healthz` and `/readyz` needs an API key, sent as
`Authorization: Bearer KEY`; create one with
`scrapeyard keys create --name NAME --scope read|write|admin`. A `read` key sees
everything and changes nothing; `write` also enqueues, cancels, retries and deletes
jobs; `admin` also pauses and resumes queues.

Errors share one shape: `{"error": {"code", "message", "details"}}`, with the path of
every offending field in `details.fields` for invalid input.
"""


def create_app(settings: config.Settings, options: ApiOptions | None = None) -> FastAPI:
    """The API for the database ``settings`` names, ready for any ASGI server."""
    options = options or ApiOptions.from_settings(settings)
    gate = streams.StreamGate()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        notify_runtime.configure(settings)  # webhook deliveries made through the API
        async with connect.open_store(settings, pool_size=options.pool_size) as store:
            await store.db.warm(options.pool_size)
            app.state.resources = deps.Resources(
                settings=settings,
                options=options,
                store=store,
                keys=keys.KeyStore(store.db),
                workers=WorkerRegistry(store.db),
                limiter=ratelimit.RateLimiter(options.rate_limit, options.rate_burst),
                gate=gate,
            )
            yield
            gate.close()
            await app.state.resources.keys.settle()

    app = FastAPI(
        title="scrapeyard",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=routers.TAGS,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    docs.install(app)
    app.state.gate = gate
    app.add_middleware(
        bodylimit.BodyLimit,
        max_bytes=options.max_body_bytes,
        larger={"/v1/imports": settings.api.max_upload_bytes},
    )
    errors.install(app)
    for router in routers.ALL:
        app.include_router(router)
    # The dashboard (scrapeyard.web) mounts here, last, at "/": the API's paths above
    # take precedence, and everything else is a page.
    web.install(app)
    return app


def close_streams(app: FastAPI) -> None:
    """End every live event stream of ``app`` promptly; call before stopping the server."""
    gate: streams.StreamGate = app.state.gate
    gate.close()
