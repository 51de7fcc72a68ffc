"""The API on a real HTTP server: uvicorn in a background thread, on a free loopback port."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI

from scrapeyard import app as composition
from scrapeyard import config
from scrapeyard.api.options import ApiOptions
from tests.support.waiting import until_sync

FAST = ApiOptions(stream_poll_interval=0.05, stream_heartbeat=15.0)
"""Streams that notice changes quickly; tests pass their own options for other limits."""


@dataclass(frozen=True)
class LiveServer:
    url: str
    app: FastAPI


@contextlib.contextmanager
def live_server(settings: config.Settings, options: ApiOptions = FAST) -> Iterator[LiveServer]:
    """Serve ``create_app(settings, options)`` until the block ends."""
    app = composition.create_app(settings, options)
    sock = socket.create_server(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_config=None, access_log=False, timeout_graceful_shutdown=5)
    )
    # Off the main thread, uvicorn leaves signals alone.
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        until_sync(lambda: server.started or not thread.is_alive(), timeout=30)
        assert server.started, "the API did not start"
        yield LiveServer(f"http://127.0.0.1:{port}", app)
    finally:
        composition.close_streams(app)
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
        assert not thread.is_alive(), "the API did not stop"
