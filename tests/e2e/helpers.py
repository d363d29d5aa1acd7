"""Shared setup for the end-to-end tests that run the REAL client libraries (tweepy, python-telegram-bot,
facebook-sdk, requests) against the four fake platforms on 127.0.0.1, through each target's `api_base`.

* `Fakes` starts FakeX, FakeTelegram, FakeFacebook, FakeWhatsApp and a publisher site (feeds with ETag, plus JPEG
  images), each wrapped by `Instrumented`: every request is time-stamped by a clock the test chooses (an injected
  clock in-process, wall time for subprocess tests), failures can be injected on the calls that create a post
  (seeded, and always *before* the fake creates anything), answers can be slowed, and Telegram can enforce a flood
  limit on that clock.
* `config_text()` builds a configuration with the four real targets pointing at the fakes; `ENV` holds obviously
  fake secrets for `config.parse(..., environ=ENV)` or a subprocess environment.
* `make_feed()` writes an RSS feed of N distinct articles; `deliveries()` / `post_key()` / `received()` tie the
  outbox rows to what each fake received and holds.
* `drive()` runs `Dispatcher.run_once` under a `FakeClock`, jumping the clock to the next due time instead of
  sleeping; `RunProcess` runs `python -m syndicator run` as a subprocess.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from sqlalchemy import func, select

from syndicator.app import App
from syndicator.article import Post
from syndicator.dispatch import Dispatcher
from syndicator.store import Store
from syndicator.store import tables as t
from tests.fakes.facebook import FakeFacebook, graph_error
from tests.fakes.feeds import FeedSite
from tests.fakes.server import FakeServer, Request, Response
from tests.fakes.telegram import FakeTelegram
from tests.fakes.twitter import JPEG, FakeX
from tests.fakes.whatsapp import FakeWhatsApp, cloud_error

REPO = Path(__file__).resolve().parents[2]

# ── fake secrets: obviously not real, long enough to be unmistakable in a log ─────────────────────────────────
ENV: dict[str, str] = {
    "X_API_KEY": "X-TEST-consumer-key-not-real-3f1c",
    "X_API_SECRET": "X-TEST-consumer-secret-not-real-8d2e",
    "X_ACCESS_TOKEN": "1500-X-TEST-access-token-not-real-5a7b",
    "X_ACCESS_TOKEN_SECRET": "X-TEST-access-token-secret-not-real-9c4d",
    "TELEGRAM_BOT_TOKEN": "123456:TEST-telegram-token-not-real",
    "FACEBOOK_PAGE_TOKEN": "EAA-TEST-facebook-page-token-not-real",
    "FACEBOOK_APP_ID": "555000111",
    "FACEBOOK_APP_SECRET": "TEST-facebook-app-secret-not-real",
    "WHATSAPP_TOKEN": "EAAW-TEST-whatsapp-token-not-real",
}
SECRETS: tuple[str, ...] = tuple(v for k, v in ENV.items() if k != "FACEBOOK_APP_ID")  # the app id is public

PAGE_ID = "1234567890"
PHONE_NUMBER_ID = "106540352242922"
RECIPIENTS = ("15550000001", "15550000002")
X_HANDLE = "example_news"
CHAT = "@example_news"  # FakeTelegram.PUBLIC
TARGETS = ("x", "telegram", "facebook", "whatsapp")


def assert_no_secrets(text: str, where: str = "log output") -> None:
    """No secret (nor the distinctive half of the bot token) anywhere in `text`."""
    needles = [*SECRETS, ENV["TELEGRAM_BOT_TOKEN"].split(":", 1)[1]]
    leaked = [s for s in needles if s in text]
    assert not leaked, f"secrets in {where}: {leaked}"


# ── clocks ─────────────────────────────────────────────────────────────────────────────────────────────────────
class FakeClock:
    """An injected clock that moves only when the test moves it."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def seconds(self) -> float:
        return self.now.timestamp()

    def advance(self, delta: timedelta) -> None:
        self.now += delta

    def set(self, when: datetime) -> None:
        assert when >= self.now, "time never runs backwards"
        self.now = when


def wall_now() -> datetime:
    """Real UTC time, rounded to the second (the fakes' rate headers are in whole seconds)."""
    return datetime.fromtimestamp(int(time.time()), UTC)


# ── the instrumented fakes ───────────────────────────────────────────────────────────────────────────────────
@dataclass
class Chaos:
    """Seeded failure injection on the calls that create a post. Every failure is answered *instead of* the real
    handler, so the fake never created the post: a retry is the right thing to do."""

    rate: float
    seed: int
    weights: Mapping[str, float] = field(default_factory=lambda: {"5xx": 0.5, "drop": 0.35, "timeout": 0.15})
    timeout_delay: float = 0.6  # longer than the target's timeout
    rng: random.Random = field(init=False)
    injected: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def pick(self) -> str | None:
        if self.rng.random() >= self.rate:
            return None
        kinds = sorted(self.weights)
        kind = self.rng.choices(kinds, [self.weights[k] for k in kinds])[0]
        self.injected[kind] += 1
        return kind


@dataclass
class Arrival:
    at: float  # clock seconds when the fake received it
    request: Request
    status: int | None = None  # what it answered (None: dropped)
    answered_at: float | None = None  # wall time when the handler finished (after any slowing)
    injected: str | None = None  # the failure injected instead of the real handler
    key: tuple[str, str] | None = None  # (recipient, text) when it was a post request


class Instrumented(FakeServer):
    """Mixed in before a fake platform: time-stamps requests, injects failures, slows answers, floods."""

    def __init__(self, *args: Any, clock: Callable[[], float] = time.time, **kwargs: Any) -> None:
        self.clock = clock
        self.arrivals: list[Arrival] = []
        self.injected_answers: list[Response] = []  # one-off answers for the next post requests
        self.chaos: Chaos | None = None
        self.delay_answer: Callable[[Request], float] | None = None  # seconds to hold a real answer (after creating)
        self.transit: Callable[[Request], None] | None = None  # runs before a request is time-stamped
        self.spoil_answer: Callable[[Request], Response | None] | None = None  # created, then answered this way
        self.inflight = 0
        self._log_lock = threading.Lock()
        super().__init__(*args, **kwargs)
        no_delay(self)

    # each platform says which request creates a post and what to answer when it fails
    def is_post(self, request: Request) -> bool:
        raise NotImplementedError

    def post_key(self, request: Request) -> tuple[str, str]:
        raise NotImplementedError

    def error_answer(self) -> Response:
        return Response(503, {"error": "unavailable"})

    def flood(self, now: float) -> Response | None:
        return None

    def inject(self, *responses: Response) -> None:
        """The next post requests get these answers (the real handler does not run: nothing is created)."""
        with self._log_lock:
            self.injected_answers.extend(responses)

    def handle(self, request: Request) -> Response:
        if self.transit is not None:
            self.transit(request)  # e.g. move an injected clock: the request took that long to arrive
        now = self.clock()
        entry = Arrival(now, request)
        post = self.is_post(request)
        if post:
            entry.key = self.post_key(request)
        with self._log_lock:
            self.arrivals.append(entry)
            self.inflight += 1
            scripted = self.injected_answers.pop(0) if post and self.injected_answers else None
        try:
            response = self._answer(request, entry, post, now, scripted)
            if post and self.delay_answer is not None and response.status < 300:
                time.sleep(self.delay_answer(request))  # created, but the answer is late (a kill may fall here)
            spoiled = self.spoil_answer(request) if post and self.spoil_answer and response.status < 300 else None
            if spoiled is not None:
                entry.injected = "answer spoiled"  # the post exists; the client cannot tell from the answer
                response = spoiled
            entry.status = None if response.drop else response.status
            return response
        finally:
            with self._log_lock:
                self.inflight -= 1
                entry.answered_at = time.time()

    def _answer(self, request: Request, entry: Arrival, post: bool, now: float, scripted: Response | None) -> Response:
        if scripted is not None:
            entry.injected = "scripted"
            return scripted
        if post:
            flooded = self.flood(now)
            if flooded is not None:
                entry.injected = "flood"
                return flooded
            kind = self.chaos.pick() if self.chaos else None
            if kind is not None:
                entry.injected = kind
                assert self.chaos is not None
                if kind == "drop":
                    return Response(drop=True)
                if kind == "timeout":
                    return replace(self.error_answer(), delay=self.chaos.timeout_delay)
                return self.error_answer()
        return super().handle(request)

    # -- for assertions --------------------------------------------------------------------------------------
    def post_arrivals(self) -> list[Arrival]:
        with self._log_lock:
            return [a for a in self.arrivals if a.key is not None]

    def received(self) -> Counter[tuple[str, str]]:
        """How many post requests reached the real handler, per (recipient, text)."""
        reached = (None, "answer spoiled")
        return Counter(a.key for a in self.post_arrivals() if a.injected in reached and a.key is not None)

    def held(self) -> Counter[tuple[str, str]]:
        """The posts the fake platform holds now, per (recipient, text)."""
        return Counter({key: len(ids) for key, ids in self.held_ids().items()})

    def held_ids(self) -> dict[tuple[str, str], list[str]]:
        """The remote ids of the posts the fake platform holds now, per (recipient, text)."""
        raise NotImplementedError


class XFake(Instrumented, FakeX):
    """FakeX whose rate-limit windows run on the test's clock."""

    def __init__(self, *, clock: Callable[[], float] = time.time, **kwargs: Any) -> None:
        kwargs.setdefault("consumer_key", ENV["X_API_KEY"])
        kwargs.setdefault("access_token", ENV["X_ACCESS_TOKEN"])
        kwargs.setdefault("username", X_HANDLE)
        kwargs.setdefault("window_limit", 1_000_000)
        super().__init__(clock=clock, **kwargs)

    def reset_windows(self) -> None:
        now = int(self.clock())
        self.window_used = 0
        self.day_used = 0
        self.window_reset = now + self.window_seconds
        self.day_reset = now + 24 * 3600

    def _limited(self) -> Response | None:
        now = self.clock()
        while now >= self.window_reset:  # a new window on the test's clock
            self.window_used = 0
            self.window_reset += self.window_seconds
        return super()._limited()

    def is_post(self, request: Request) -> bool:
        return request.method == "POST" and request.path == "/2/tweets"

    def post_key(self, request: Request) -> tuple[str, str]:
        return ("", str((request.json() or {}).get("text", "")))

    def error_answer(self) -> Response:
        return Response(503, {"title": "Service Unavailable", "detail": "Service Unavailable", "status": 503})

    def held_ids(self) -> dict[tuple[str, str], list[str]]:
        with self._state:
            return _group((("", tw.text), tw.id) for tw in self.tweets.values())


class TelegramFake(Instrumented, FakeTelegram):
    """FakeTelegram with an optional flood limit (`flood_limit = (R, seconds)`, sliding, on the test's clock):
    beyond it, 429 with `parameters.retry_after` as Telegram does. `floods` lists (time, retry_after) given."""

    def __init__(self, *, clock: Callable[[], float] = time.time, **kwargs: Any) -> None:
        kwargs.setdefault("token", ENV["TELEGRAM_BOT_TOKEN"])
        super().__init__(clock=clock, **kwargs)
        self.flood_limit: tuple[int, float] | None = None
        self.floods: list[tuple[float, int]] = []
        self._accepted: list[float] = []

    def is_post(self, request: Request) -> bool:
        return request.path.endswith(("/sendMessage", "/sendPhoto"))

    def post_key(self, request: Request) -> tuple[str, str]:
        params = request.params()
        return ("", params.get("text", params.get("caption", "")))

    def error_answer(self) -> Response:
        return Response(502, {"ok": False, "error_code": 502, "description": "Bad Gateway"})

    def flood(self, now: float) -> Response | None:
        if self.flood_limit is None:
            return None
        count, window = self.flood_limit
        with self._log_lock:
            recent = [ts for ts in self._accepted if ts > now - window]
            if len(recent) >= count:
                retry_after = max(1, math.ceil(recent[0] + window - now))
                self.floods.append((now, retry_after))
                body = {
                    "ok": False,
                    "error_code": 429,
                    "description": f"Too Many Requests: retry after {retry_after}",
                    "parameters": {"retry_after": retry_after},
                }
                return Response(429, body)
            self._accepted.append(now)
        return None

    def held_ids(self) -> dict[tuple[str, str], list[str]]:
        with self._state:
            return _group((("", m.raw), str(m.message_id)) for m in self.messages.values())


class FacebookFake(Instrumented, FakeFacebook):
    def __init__(self, *, clock: Callable[[], float] = time.time, **kwargs: Any) -> None:
        kwargs.setdefault("page_id", PAGE_ID)
        kwargs.setdefault("token", ENV["FACEBOOK_PAGE_TOKEN"])
        kwargs.setdefault("app_id", ENV["FACEBOOK_APP_ID"])
        kwargs.setdefault("app_secret", ENV["FACEBOOK_APP_SECRET"])
        super().__init__(clock=clock, **kwargs)
        self._posts_lock = threading.Lock()

    def is_post(self, request: Request) -> bool:
        return request.method == "POST" and request.path.endswith((f"/{self.page_id}/feed", f"/{self.page_id}/photos"))

    def post_key(self, request: Request) -> tuple[str, str]:
        params = request.params()
        return ("", params.get("message", params.get("caption", "")))

    def error_answer(self) -> Response:
        return graph_error(2, "An unexpected error has occurred. Please retry your request later.", status=500)

    def _answer(self, request: Request, entry: Arrival, post: bool, now: float, scripted: Response | None) -> Response:
        # FakeFacebook has no lock of its own; subprocess tests call it concurrently. Only the handler is locked:
        # an answer held back by `delay_answer` must not hold back the calls behind it (a real platform answers
        # them side by side; queued, they ran into the client's timeout and turned `unknown`)
        with self._posts_lock:
            return super()._answer(request, entry, post, now, scripted)

    def held_ids(self) -> dict[tuple[str, str], list[str]]:
        with self._posts_lock:
            return _group((("", p["message"]), post_id) for post_id, p in self.posts.items())


class WhatsAppFake(Instrumented, FakeWhatsApp):
    def __init__(self, *, clock: Callable[[], float] = time.time, **kwargs: Any) -> None:
        kwargs.setdefault("phone_number_id", PHONE_NUMBER_ID)
        kwargs.setdefault("token", ENV["WHATSAPP_TOKEN"])
        super().__init__(clock=clock, **kwargs)
        self._posts_lock = threading.Lock()

    def is_post(self, request: Request) -> bool:
        return request.method == "POST" and request.path.endswith("/messages")

    def post_key(self, request: Request) -> tuple[str, str]:
        return whatsapp_key(request.json() or {})

    def error_answer(self) -> Response:
        return cloud_error(131000, "Something went wrong", status=500)

    def _answer(self, request: Request, entry: Arrival, post: bool, now: float, scripted: Response | None) -> Response:
        with self._posts_lock:  # as FacebookFake: the handler, not the held answer (a fan-out wave is 8 at once)
            return super()._answer(request, entry, post, now, scripted)

    def held_ids(self) -> dict[tuple[str, str], list[str]]:
        with self._posts_lock:
            return _group((whatsapp_key(m), str(m["id"])) for m in self.messages)


def _group(pairs: Iterable[tuple[tuple[str, str], str]]) -> dict[tuple[str, str], list[str]]:
    out: dict[tuple[str, str], list[str]] = {}
    for key, remote_id in pairs:
        out.setdefault(key, []).append(remote_id)
    return out


def whatsapp_key(body: Mapping[str, Any]) -> tuple[str, str]:
    """(recipient, text) of a Cloud API message: the text body, or the template's parameters joined by '|'."""
    to = str(body.get("to", ""))
    if body.get("type") == "text":
        return to, str((body.get("text") or {}).get("body", ""))
    template = body.get("template") or {}
    params = [p.get("text", "") for c in template.get("components") or [] for p in c.get("parameters") or []]
    return to, "|".join(str(p) for p in params)


def no_delay(server: FakeServer) -> None:
    """TCP_NODELAY on the fake's connections. FakeServer writes the headers and the body of an answer separately;
    with Nagle's algorithm the body waits for the client's delayed ACK: about 40 ms per request."""
    server._httpd.RequestHandlerClass.disable_nagle_algorithm = True  # type: ignore[attr-defined]


class Site(FeedSite):
    """The publisher's site: feeds (ETag, 304) and the articles' JPEG images under /images/."""

    def __init__(self) -> None:
        super().__init__()
        no_delay(self)

    def handle(self, request: Request) -> Response:
        if request.path.startswith("/images/"):
            return Response(200, JPEG, headers={"Content-Type": "image/jpeg"})
        return super().handle(request)


@dataclass
class Fakes:
    x: XFake
    telegram: TelegramFake
    facebook: FacebookFake
    whatsapp: WhatsAppFake
    site: Site

    def platforms(self) -> dict[str, Instrumented]:
        return {"x": self.x, "telegram": self.telegram, "facebook": self.facebook, "whatsapp": self.whatsapp}


@contextlib.contextmanager
def started_fakes(clock: Callable[[], float] = time.time, **x_kwargs: Any) -> Iterator[Fakes]:
    fakes = Fakes(
        XFake(clock=clock, **x_kwargs),
        TelegramFake(clock=clock),
        FacebookFake(clock=clock),
        WhatsAppFake(clock=clock),
        Site(),
    )
    servers: list[FakeServer] = [*fakes.platforms().values(), fakes.site]
    for server in servers:
        server.start()
    try:
        yield fakes
    finally:
        for server in servers:
            server.stop()


# ── configuration ────────────────────────────────────────────────────────────────────────────────────────────
def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    raise TypeError(f"no TOML for {value!r}")


def _table(name: str, values: Mapping[str, Any]) -> str:
    return f"[{name}]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in values.items()) + "\n"


OPEN_LIMITS: dict[str, Any] = {"min_spacing": "0s", "quotas": ["100000/1h"]}


def config_text(
    fakes: Fakes,
    *,
    db: str,
    feed_url: str,
    first_run: str = "skip",
    every: str = "1h",
    max_age: str = "2d",
    targets: Sequence[str] = TARGETS,
    recipients: Sequence[str] = RECIPIENTS,
    whatsapp_mode: str = "text",
    timeout: str = "10s",
    limits: Mapping[str, Mapping[str, Any]] | None = None,
    retry: Mapping[str, Mapping[str, Any]] | None = None,
    extra: Mapping[str, Mapping[str, Any]] | None = None,
    sections: str = "",
    allow: Sequence[str] | None = None,
) -> str:
    """A configuration with one feed and the four real targets, each pointing at its fake through `api_base`.

    Limits default to wide open (no spacing, a huge quota): tests that check limits set their own. The images are
    on the fake site at 127.0.0.1, which the outbound guard refuses unless `[outbound] allow` names it: `allow`
    defaults to the site's host:port (only the site, not the fake platforms); `allow=()` leaves the section out."""
    per_target: dict[str, dict[str, Any]] = {
        "x": {"platform": "twitter", "api_base": fakes.x.url, "handle": X_HANDLE},
        "telegram": {"platform": "telegram", "api_base": fakes.telegram.url, "chat": CHAT},
        "facebook": {
            "platform": "facebook",
            "api_base": fakes.facebook.url,
            "page_id": fakes.facebook.page_id,
            "app_id_env": "FACEBOOK_APP_ID",
            "app_secret_env": "FACEBOOK_APP_SECRET",
        },
        "whatsapp": {
            "platform": "whatsapp",
            "api_base": fakes.whatsapp.url,
            "phone_number_id": fakes.whatsapp.phone_number_id,
            "mode": whatsapp_mode,
            "recipients": list(recipients),
        },
    }
    if whatsapp_mode == "template":
        per_target["whatsapp"].update(template="new_article", template_language="en")
    out = _table("store", {"url": db})
    allowed = [fakes.site.url.removeprefix("http://")] if allow is None else list(allow)
    if allowed:
        out += _table("outbound", {"allow": allowed})
    out += "[[feeds]]\n" + "".join(
        f"{k} = {_toml(v)}\n"
        for k, v in {
            "name": "en",
            "url": feed_url,
            "every": every,
            "first_run": first_run,
            "max_age": max_age,
            "targets": list(targets),
        }.items()
    )
    out += "\n"
    for name in targets:
        table = {**per_target[name], "timeout": timeout, **(extra or {}).get(name, {})}
        out += _table(f"targets.{name}", table)
        out += _table(f"targets.{name}.limits", {**OPEN_LIMITS, **(limits or {}).get(name, {})})
        if retry and name in retry:
            out += _table(f"targets.{name}.retry", retry[name])
    return out + sections


# ── feeds ────────────────────────────────────────────────────────────────────────────────────────────────────
def make_feed(n: int, *, now: datetime, image_base: str | None = None, tag: str = "story") -> bytes:
    """An RSS 2.0 feed of `n` distinct articles (titles, guids and links all differ), newest first."""
    items = []
    for i in range(n):
        published = format_datetime(now - timedelta(seconds=30 * (i + 1)), usegmt=True)
        image = f'<media:content url="{image_base}/images/{tag}-{i}.jpg" medium="image"/>' if image_base else ""
        items.append(
            f"<item><title>{escape(f'{tag.title()} {i:03d}: the council meets on item {i}')}</title>"
            f"<link>https://news.example.org/en/{tag}-{i:03d}/</link>"
            f'<guid isPermaLink="false">https://news.example.org/en/?p={100000 + i}</guid>'
            f"<pubDate>{published}</pubDate>"
            f"<description>{escape(f'What happened at meeting {i}, in brief.')}</description>{image}</item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel>'
        "<title>Example News</title><link>https://news.example.org/en/</link><language>en-US</language>"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


def local_images(feed: bytes, site: FeedSite) -> bytes:
    """Point the sample feeds' image URLs at the fake site, so image downloads work without the Internet."""
    return feed.replace(b"https://www.nejatngo.org/en/wp-content/uploads/", f"{site.url}/images/".encode())


# ── the outbox against the fakes ─────────────────────────────────────────────────────────────────────────────
@dataclass(frozen=True)
class Row:
    id: int
    article_id: int
    target: str
    recipient: str
    state: str
    attempts: int
    post: Post
    remote_id: str | None
    remote_url: str | None
    kind: str
    sending_at: datetime | None
    last_error: str | None

    @property
    def key(self) -> tuple[str, str]:
        return post_key(self.target, self.post)


def deliveries(store: Store) -> list[Row]:
    d = t.deliveries
    with store.engine.connect() as conn:
        rows = conn.execute(select(d).order_by(d.c.id)).mappings().all()
    return [
        Row(
            r["id"],
            r["article_id"],
            r["target"],
            r["recipient"],
            r["state"],
            r["attempts"],
            Post.from_json(r["post"]),
            r["remote_id"],
            r["remote_url"],
            r["kind"],
            r["sending_at"],
            r["last_error"],
        )
        for r in rows
    ]


def article_count(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.articles)).scalar_one())


def post_key(target: str, post: Post) -> tuple[str, str]:
    """What the fake of `target` records for this post: (recipient, text) as in `Instrumented.post_key`."""
    if target == "whatsapp" and post.extra.get("mode") == "template":
        params = (post.extra.get("template") or {}).get("parameters") or []
        return post.recipient, "|".join(" ".join(str(p).split()) for p in params)
    return post.recipient, post.text


def max_in_window(times: Sequence[float], window: float) -> int:
    """The most events inside any half-open interval [t, t + window)."""
    ordered = sorted(times)
    best, start = 0, 0
    for end, at in enumerate(ordered):
        while ordered[start] <= at - window:
            start += 1
        best = max(best, end - start + 1)
    return best


def state_counts(rows: Sequence[Row]) -> Counter[str]:
    return Counter(r.state for r in rows)


# ── driving the dispatcher on an injected clock ──────────────────────────────────────────────────────────────
def next_due(store: Store) -> datetime | None:
    d = t.deliveries
    with store.engine.connect() as conn:
        value: datetime | None = conn.execute(
            select(func.min(d.c.not_before)).where(d.c.state.in_(("pending", "retry")))
        ).scalar()
    return value


async def drive(
    app: App,
    clock: FakeClock,
    *,
    dispatcher: Dispatcher | None = None,
    max_rounds: int = 20_000,
    idle_step: timedelta = timedelta(seconds=1),
    granularity: timedelta = timedelta(0),
) -> int:
    """Run the dispatcher until nothing is due any more. The clock stands still while there is work and jumps to
    the next due time when there is none: hours of platform time pass in no real time. With `granularity`, a jump
    goes on to the next multiple of it, so retries due close together run in one round (time may only run later
    than needed, never earlier). Returns the rounds run."""
    dispatcher = dispatcher or app.dispatcher(rng=random.Random(7), batch=200)
    for rounds in range(1, max_rounds + 1):
        attempted = await dispatcher.run_once()
        if attempted:
            continue
        due = await asyncio.to_thread(next_due, app.store)
        if due is None:
            return rounds
        when = max(due, clock.now + (idle_step if due <= clock.now else timedelta(0)))
        if granularity:
            step = granularity.total_seconds()
            when = datetime.fromtimestamp(math.ceil(when.timestamp() / step) * step, UTC)
        clock.set(when)
    raise AssertionError(f"the outbox did not drain in {max_rounds} rounds")


# ── logging isolation for in-process CLI calls (logs.setup replaces the root handlers) ──────────────────────
@contextlib.contextmanager
def preserved_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: lg.level for name, lg in logging.root.manager.loggerDict.items() if isinstance(lg, logging.Logger)}
    try:
        yield
    finally:
        for handler in list(root.handlers):
            if handler not in handlers:
                root.removeHandler(handler)
        for handler in handlers:
            if handler not in root.handlers:
                root.addHandler(handler)
        root.setLevel(level)
        for name, lg in list(logging.root.manager.loggerDict.items()):
            # loggers created inside the block go back to NOTSET: a level left at DEBUG leaks into later tests
            if isinstance(lg, logging.Logger):
                lg.setLevel(levels.get(name, logging.NOTSET))


# ── `syndicator run` as a real process ───────────────────────────────────────────────────────────────────────
def subprocess_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATOR_") and k != "PORT"}
    env.update(ENV)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


class RunProcess:
    """`python -m syndicator run --config FILE --log-format json`, stderr appended to `log_path`."""

    def __init__(self, config: Path, log_path: Path, *, level: str = "info", env: dict[str, str] | None = None) -> None:
        self.config = config
        self.log_path = log_path
        self.level = level
        self.env = env or subprocess_env()
        self.proc: subprocess.Popen[bytes] | None = None
        self._offset = 0

    def start(self) -> RunProcess:
        self._offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "syndicator", "run", "--config", str(self.config), "--log-format", "json",
                 "--log-level", self.level],
                stdout=subprocess.DEVNULL,
                stderr=err,
                env=self.env,
                cwd=self.config.parent,
            )  # fmt: skip
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def events(self) -> list[dict[str, Any]]:
        """The JSON log lines this run wrote so far."""
        if not self.log_path.exists():
            return []
        with self.log_path.open("rb") as f:
            f.seek(self._offset)
            data = f.read().decode("utf-8", "replace")
        out = []
        for line in data.splitlines():
            with contextlib.suppress(ValueError):
                doc = json.loads(line)
                if isinstance(doc, dict):
                    out.append(doc)
        return out

    def wait_started(self, timeout: float = 60.0) -> None:
        # a condition, so a long limit costs nothing: on a loaded 2-core machine one start-up (imports, migrations
        # check) took 21 s
        wait_for(lambda: any(e.get("event") == "worker.started" for e in self.events()), timeout, "worker.started")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, then wait for a clean exit; returns the exit code."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            raise AssertionError(f"`syndicator run` did not stop within {timeout}s of SIGTERM") from None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class CountingExecutor(ThreadPoolExecutor):
    """A loop's default executor that knows how many of its calls are still running. A call cut by its deadline
    runs on in its thread (a blocking client cannot be stopped): a test waits for it to come back, not a while."""

    def __init__(self) -> None:
        super().__init__(max_workers=8, thread_name_prefix="test-executor")
        self._count_lock = threading.Lock()
        self._running = 0

    @property
    def running(self) -> int:
        with self._count_lock:
            return self._running

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._count_lock:
            self._running += 1

        def counted() -> Any:
            try:
                return fn(*args, **kwargs)
            finally:
                with self._count_lock:
                    self._running -= 1

        return super().submit(counted)


def counting_executor() -> CountingExecutor:
    """A CountingExecutor installed as the running loop's default executor (asyncio.to_thread runs there)."""
    executor = CountingExecutor()
    asyncio.get_running_loop().set_default_executor(executor)
    return executor


def wait_for(predicate: Callable[[], object], timeout: float, what: str, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)
