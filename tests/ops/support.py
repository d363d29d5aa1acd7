"""What the ops tests share: a movable clock, a scripted publisher, a feed site, a fake Bot API, a webhook sink,
a running worker with its HTTP listener on 127.0.0.1, and a Prometheus text parser."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any, ClassVar
from xml.sax.saxutils import escape

import requests
from prometheus_client.parser import text_string_to_metric_families

from syndicator import config as config_mod
from syndicator.app import App
from syndicator.article import Identity, Post, Receipt
from syndicator.config import Config, TargetSettings
from syndicator.logs import observe
from syndicator.platforms.base import Publisher
from syndicator.store import Store
from syndicator.worker import Worker
from tests.fakes.server import FakeServer, Request, Response

ALERT_TOKEN = "987654:ALERT-bot-token-not-real-xyz"


class Clock:
    """The app's clock: starts at the real time (the scheduler's first poll is due 'now'), moves when told."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


Outcome = Exception | None  # None: posted


class ScriptedPublisher(Publisher):
    """Answers `publish` from a script (default: posted) and `check` with `identity` (or raises it)."""

    platform: ClassVar[str] = "scripted"

    def __init__(self, target: TargetSettings) -> None:
        super().__init__(target)
        self.outcomes: deque[Outcome] = deque()
        self.identity: Identity | Exception = Identity(name=target.name)
        self.published: list[Post] = []
        self.checks = 0

    async def publish(self, post: Post) -> Receipt:
        outcome = self.outcomes.popleft() if self.outcomes else None
        if outcome is not None:
            raise outcome
        self.published.append(post)
        n = len(self.published)
        return Receipt(remote_id=f"{self.target.name}-{n}", url=f"https://example.invalid/{self.target.name}/{n}")

    async def delete(self, receipt: Receipt) -> None:
        return None

    async def check(self) -> Identity:
        self.checks += 1
        if isinstance(self.identity, Exception):
            raise self.identity
        return self.identity


def rss(items: Iterable[tuple[int, datetime]]) -> bytes:
    entries = "".join(
        f"<item><title>Story {n}</title><link>https://news.example.org/story-{n}/</link>"
        f'<guid isPermaLink="false">https://news.example.org/?p={n}</guid>'
        f"<pubDate>{format_datetime(published, usegmt=True)}</pubDate>"
        f"<description>{escape(f'Summary of story {n}.')}</description></item>"
        for n, published in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>News</title>'
        f"<link>https://news.example.org/</link><language>en</language>{entries}</channel></rss>"
    ).encode()


class FeedSite(FakeServer):
    """Serves `/en/feed/` from `items` (newest first); `fail_next(Response(500))` makes polls fail."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[tuple[int, datetime]] = []

    def publish(self, n: int, at: datetime) -> None:
        self.items.insert(0, (n, at))

    def handle(self, request: Request) -> Response:
        if request.path != "/en/feed/":
            return Response(404, "not found")
        return Response(200, rss(self.items), {"Content-Type": "application/rss+xml; charset=UTF-8"})


class FakeBotApi(FakeServer):
    """The part of the Telegram Bot API that alerts use: `sendMessage`, with the token checked like Telegram."""

    def __init__(self, token: str = ALERT_TOKEN) -> None:
        super().__init__()
        self.token = token
        self.messages: list[dict[str, Any]] = []

    def handle(self, request: Request) -> Response:
        prefix = f"/bot{self.token}/"
        if not request.path.startswith("/bot"):
            return Response(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        if not request.path.startswith(prefix):
            return Response(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        method = request.path[len(prefix) :]
        if method != "sendMessage" or request.method != "POST":
            return Response(404, {"ok": False, "error_code": 404, "description": "Not Found: method not found"})
        params = request.params()
        if not params.get("chat_id") or not params.get("text"):
            return Response(400, {"ok": False, "error_code": 400, "description": "Bad Request: message text is empty"})
        self.messages.append(params)
        message = {"message_id": len(self.messages), "date": int(time.time()), "text": params["text"]}
        return Response(200, {"ok": True, "result": message})

    def texts(self) -> list[str]:
        return [m["text"] for m in self.messages]


class WebhookSink(FakeServer):
    """Records JSON POSTs to `path`."""

    path = "/hooks/T000/B000/secret-webhook-path"

    def __init__(self) -> None:
        super().__init__()
        self.documents: list[dict[str, Any]] = []

    def handle(self, request: Request) -> Response:
        if request.method != "POST" or request.path != self.path:
            return Response(404, "not found")
        self.documents.append(request.json())
        return Response(204)


@dataclass
class Events:
    """Every structured event while the test runs (`observe`), for assertions on what was logged."""

    seen: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def __call__(self, event: str, fields: dict[str, Any]) -> None:
        self.seen.append((event, dict(fields)))

    def named(self, event: str) -> list[dict[str, Any]]:
        return [f for e, f in self.seen if e == event]


async def wait_until(predicate: Callable[[], object], timeout: float = 5.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def make_config(text: str, environ: dict[str, str] | None = None) -> Config:
    return config_mod.parse(text, environ=environ or {})


def make_app(cfg: Config, clock: Clock) -> tuple[App, dict[str, ScriptedPublisher]]:
    """An app whose real (non-dry-run) targets publish through ScriptedPublishers."""
    publishers = {name: ScriptedPublisher(t) for name, t in cfg.targets.items() if not t.dry_run}
    app = App(cfg, Store(cfg.store.url), clock=clock, _publishers=dict(publishers))
    return app, publishers


@dataclass
class Running:
    worker: Worker
    task: asyncio.Task[None]
    events: Events
    base_url: str = ""

    async def get(self, path: str, **headers: str) -> requests.Response:
        return await asyncio.to_thread(requests.get, self.base_url + path, headers=headers, timeout=5)


@contextlib.asynccontextmanager
async def running_worker(
    app: App, services: list[Callable[[Worker], Any]], *, http: bool = True, first_polls: bool = True
) -> AsyncIterator[Running]:
    """Run the real Worker (scheduler, delivery loop, services) until the block ends; waits for the first polls
    (which the scheduler starts at the app clock's time: not when that clock is ahead of the real one)."""
    from syndicator.http import serve_http

    events = Events()
    undo = observe(events)
    worker = Worker(app)
    if http:
        worker.extra_services.append(serve_http)
    worker.extra_services.extend(services)
    task = asyncio.create_task(worker.run())
    run = Running(worker, task, events)
    try:
        if http:
            await wait_until(lambda: events.named("http.listening"), what="the HTTP listener")
            run.base_url = "http://" + events.named("http.listening")[0]["address"]
        feeds = {f.name for f in app.config.feeds} if first_polls else set()
        await wait_until(
            lambda: feeds <= {f["feed"] for f in events.named("feed.polled") + events.named("feed.failed")},
            what="the first polls",
        )
        yield run
    finally:
        worker.stop()
        await asyncio.wait_for(task, 10)
        undo()


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    out: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float | None:
    return found.get((name, frozenset(labels.items())))
