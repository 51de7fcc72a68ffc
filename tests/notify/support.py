"""What the notification tests share: a webhook receiver, an SMTP inbox, a worker.

The receiver is an aiohttp app (served on loopback by ``tests.sites.server``) that
verifies every request's signature with the ``standardwebhooks`` package, as a real
receiver would, and answers as its script says: ``fail`` (500), ``hang`` (answers only
after ``HANG`` seconds, past the delivery timeout), anything else 200. The inbox is an
``aiosmtpd`` server on a free loopback port that keeps every message it accepts.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import socket
import threading
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import orjson
from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from standardwebhooks import Webhook, WebhookVerificationError

from scrapeyard.queue.store import JobStore
from scrapeyard.worker import events
from scrapeyard.worker.process import WorkerOptions, WorkerProcess
from scrapeyard.worker.queues import QueueSelector
from scrapeyard.worker.resources import Resources
from tests.sites import server

LOOPBACK = ("127.0.0.1/32",)
HANG = 2.0


@dataclass(frozen=True)
class Received:
    """One request the receiver got."""

    headers: dict[str, str]
    body: bytes
    verified: bool
    answered: int | None

    @property
    def message(self) -> dict[str, Any]:
        loaded: dict[str, Any] = orjson.loads(self.body)
        return loaded


@dataclass
class Receiver:
    """A webhook endpoint that checks signatures and follows a script of answers."""

    secret: str
    script: list[str] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def app(self) -> web.Application:
        app = server.logged_app()
        app.router.add_post("/hook", self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        try:
            Webhook(self.secret).verify(body, dict(request.headers))
            verified = True
        except WebhookVerificationError:
            verified = False
        with self._lock:
            step = self.script.pop(0) if self.script else "ok"
            status = 500 if step == "fail" else None if step == "hang" else 200
            self.received.append(Received(dict(request.headers), body, verified, status))
        if step == "hang":
            # Silent until the client gives up and hangs up (or HANG seconds pass).
            for _ in range(int(HANG / 0.02)):
                if request.transport is None or request.transport.is_closing():
                    break
                await asyncio.sleep(0.02)
            return web.Response(text="too late")
        if status == 500:
            return web.Response(status=500, text="boom: the receiver is down " + "x" * 5000)
        return web.Response(text="thanks")

    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def of_type(self, event: str) -> list[Received]:
        return [r for r in self.snapshot() if r.message["type"] == event]


@dataclass(frozen=True)
class Mail:
    sender: str
    recipients: list[str]
    message: EmailMessage

    def part(self, subtype: str) -> str:
        found = self.message.get_body(preferencelist=(subtype,))
        assert found is not None and found.get_content_subtype() == subtype, subtype
        return str(found.get_content())


class Inbox:
    """Every message the test SMTP server accepted."""

    def __init__(self) -> None:
        self.mails: list[Mail] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        with self._lock:
            self.mails.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 OK"

    def snapshot(self) -> list[Mail]:
        with self._lock:
            return list(self.mails)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def smtp_server(credentials: tuple[str, str] | None = None) -> Any:
    """An SMTP server on loopback (requiring ``credentials`` as AUTH, when given):
    its inbox and port."""
    inbox = Inbox()
    options: dict[str, Any] = {}
    if credentials is not None:

        def authenticate(
            server: Any, session: Any, envelope: Any, mechanism: str, data: Any
        ) -> AuthResult:
            if not isinstance(data, LoginPassword):
                return AuthResult(success=False, handled=False)
            given = tuple(v.decode() if isinstance(v, bytes) else v for v in data)
            return AuthResult(success=given == credentials, handled=False)

        options = {"auth_require_tls": False, "authenticator": authenticate}
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), **options)
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()


@contextlib.asynccontextmanager
async def running_worker(
    store: JobStore, *, allowed_networks: Sequence[str] = LOOPBACK, concurrency: int = 8
) -> AsyncIterator[WorkerProcess]:
    """A worker in this process whose SSRF guard allows ``allowed_networks``."""
    resources = Resources(
        store,
        worker_id=f"notify-test-{uuid.uuid4().hex[:6]}",
        allowed_networks=allowed_networks,
        lease=5.0,
    )
    worker = WorkerProcess(
        store,
        WorkerOptions(
            queues=QueueSelector(("default",)),
            concurrency=concurrency,
            poll_interval=0.05,
            heartbeat_interval=0.2,
            shutdown_grace=5.0,
            cancel_grace=0.3,
        ),
        hooks=events.Hooks(),
        worker_id=resources.worker_id,
        resources=resources,
    )
    task = asyncio.create_task(worker.run())
    try:
        yield worker
    finally:
        worker.request_stop()
        await asyncio.wait_for(task, timeout=30)
