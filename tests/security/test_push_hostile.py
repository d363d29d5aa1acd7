"""Hostile pushes: a stranger who finds the WebSub callback or captures a signed publish call gains nothing.

Everything runs through the worker's real HTTP handlers (and once through its real listener), on SQLite and on
PostgreSQL, with an injected clock: nothing sleeps. Polls are recorded, not made: what matters here is whether
the worker *would* poll, and how often.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from sqlalchemy import func, select

from syndicator import config
from syndicator.app import App
from syndicator.logs import observe
from syndicator.polling import PollReport
from syndicator.sources import webhook, websub
from syndicator.sources.webhook import sign
from syndicator.store import Store
from syndicator.store import feeds as feed_store
from syndicator.store import tables as t
from syndicator.store.replays import StoreReplayGuard
from syndicator.web import HttpRequest, build_app, start
from syndicator.web.ops import ops_routes
from syndicator.worker import Worker

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SECRET = "webhook-secret-TEST-not-real-0123456789"
TOPIC = "https://www.example.org/en/feed/"
HUB = "https://hub.example.net/"
LEASE = timedelta(days=7)
SKEW = timedelta(minutes=5)
CONFIG = """
[store]
url = "{db}"

[webhook]
secret_env = "HOOK"
public_url = "https://syndicator.example.org"
websub_lease = "7d"
max_skew = "5m"

[[feeds]]
name = "en"
url = "https://www.example.org/en/feed/"
every = "2m"
targets = ["tg"]

[targets.tg]
platform = "telegram"
chat = "@c"
token_env = "TOK"
"""


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Node:
    """One worker: its own App and Store (its own connections), the polls it would make, the calls it handled."""

    worker: Worker
    polls: list[str] = field(default_factory=list)
    handled: list[webhook.PublishCall] = field(default_factory=list)

    @property
    def app(self) -> App:
        return self.worker.app


def node(store_url: str, clock: Clock) -> Node:
    cfg = config.parse(CONFIG.format(db=store_url), environ={"TOK": "1:x", "HOOK": SECRET})
    n = Node(Worker(App(cfg, Store(cfg.store.url), clock=clock)))

    async def poll(feed: config.FeedSettings) -> PollReport:
        n.polls.append(feed.name)
        return PollReport(feed=feed.name, status="not_modified")

    async def handle(call: webhook.PublishCall) -> None:
        n.handled.append(call)  # what would run: a poll, or a withdrawal for "trash"

    n.worker.poll = poll  # type: ignore[method-assign]
    n.worker.pushes.handle = handle  # type: ignore[method-assign]
    return n


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def events() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    seen: list[tuple[str, dict[str, Any]]] = []
    undo = observe(lambda event, fields: seen.append((event, fields)))
    yield seen
    undo()


# ── WebSub ──────────────────────────────────────────────────────────────────────────────────────────────────
def hub_advertised(n: Node) -> None:
    """What a poll of a feed with `<atom:link rel="hub">` records; last_poll_at makes the slow-down observable."""
    store, now = n.app.store, n.app.clock()
    feed_store.ensure_feeds(store, {"en": TOPIC})
    feed_store.remember_hub(store, "en", hub=HUB, topic=TOPIC)
    feed_store.finish_poll(store, "en", worker=n.app.worker_id, now=now, next_poll=now, status="not_modified")


async def ask_hub(n: Node, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The worker subscribes; the hub's request is captured instead of sent."""
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(websub, "request_subscription", lambda **kw: sent.append(kw))
    await n.worker.pushes.renew_due()
    assert len(sent) == 1
    return sent[0]


def callback_params(callback: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(callback).query).items()}


async def hub_get(n: Node, params: dict[str, str]) -> tuple[int, str]:
    req = HttpRequest("GET", "/hooks/websub", urlencode(params), {}, b"", "203.0.113.9:4000")
    answer = await n.worker.pushes.websub_verify(req)
    return answer.status, answer.body.decode()


async def hub_post(n: Node, params: dict[str, str], body: bytes, secret: str) -> int:
    import hashlib
    import hmac

    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    req = HttpRequest("POST", "/hooks/websub", urlencode(params), {"x-hub-signature": signature}, body, "hub")
    answer = await n.worker.pushes.websub_notify(req)
    await n.worker.pushes.drain()
    return answer.status


def verification(callback: str, **extra: str) -> dict[str, str]:
    return {
        **callback_params(callback),
        "hub.mode": "subscribe",
        "hub.topic": TOPIC,
        "hub.challenge": "challenge-1",
        "hub.lease_seconds": str(int(LEASE.total_seconds())),
        **extra,
    }


async def scheduled_polls(n: Node) -> bool:
    """Does the interval job poll now (True), or has a WebSub lease slowed it to the safety net (False)?"""
    before = len(n.polls)
    await n.worker.scheduled_poll(n.app.config.feed("en"))
    return len(n.polls) > before


FORGED = {
    "feed": "en",
    "hub.mode": "subscribe",
    "hub.topic": TOPIC,
    "hub.lease_seconds": "999999999",
    "hub.challenge": "x",
}


@pytest.mark.parametrize("state", ["none", "requested", "active"])
async def test_a_strangers_verification_is_refused_and_changes_nothing(
    store_url: str, clock: Clock, state: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    n = node(store_url, clock)
    hub_advertised(n)
    if state != "none":
        sent = await ask_hub(n, monkeypatch)
        if state == "active":
            assert (await hub_get(n, verification(sent["callback"])))[0] == 200
    before = feed_store.subscription(n.app.store, "en")
    assert await hub_get(n, FORGED) == (404, "unknown subscription")
    assert await hub_get(n, {**FORGED, "token": ""}) == (404, "unknown subscription")
    assert feed_store.subscription(n.app.store, "en") == before
    if state != "active":
        assert await scheduled_polls(n)  # polling keeps its pace


async def test_the_issue_reproduction_through_the_real_listener(store_url: str, clock: Clock) -> None:
    n = node(store_url, clock)
    hub_advertised(n)
    server = await start(build_app(n.worker.pushes.routes()), "127.0.0.1", 0)
    try:
        url = f"http://127.0.0.1:{server.port}/hooks/websub?" + urlencode(FORGED)
        answer = await asyncio.to_thread(requests.get, url, timeout=5)
    finally:
        await server.close()
    assert answer.status_code == 404 and answer.text != "x"
    sub = feed_store.subscription(n.app.store, "en")
    assert sub is not None and sub.state is None and sub.expires_at is None
    assert await scheduled_polls(n)


async def test_the_hub_we_asked_verifies_with_our_token_and_the_lease_is_ours_at_most(
    store_url: str, clock: Clock, monkeypatch: pytest.MonkeyPatch, events: list[tuple[str, dict[str, Any]]]
) -> None:
    n = node(store_url, clock)
    hub_advertised(n)
    sent = await ask_hub(n, monkeypatch)
    assert sent["lease"] == LEASE and sent["topic"] == TOPIC and sent["hub"] == HUB
    params = callback_params(sent["callback"])
    assert params["feed"] == "en" and len(params["token"]) >= 32
    sub = feed_store.subscription(n.app.store, "en")
    assert sub is not None and (sub.state, sub.pending, sub.token) == ("requested", True, params["token"])
    assert await scheduled_polls(n)
    # the hub offers far more than we asked: we take what we asked
    assert await hub_get(n, verification(sent["callback"], **{"hub.lease_seconds": "999999999"})) == (
        200,
        "challenge-1",
    )
    sub = feed_store.subscription(n.app.store, "en")
    assert sub is not None and (sub.state, sub.pending, sub.expires_at) == ("active", False, T0 + LEASE)
    assert not await scheduled_polls(n)  # now pushes do the work
    # the same verification again (a replay, or the hub's copy): nothing pending, nothing extended
    clock.now = T0 + timedelta(days=1)
    assert (await hub_get(n, verification(sent["callback"])))[0] == 404
    assert feed_store.subscription(n.app.store, "en") == sub
    # a renewal we ask for keeps callback and secret, and is verified like the first
    feed_store.set_subscription(n.app.store, "en", sub_expires_at=clock.now + timedelta(minutes=30))
    renewal = await ask_hub(n, monkeypatch)
    assert (renewal["callback"], renewal["secret"]) == (sent["callback"], sent["secret"])
    assert (await hub_get(n, verification(renewal["callback"], **{"hub.lease_seconds": "3600"})))[0] == 200
    sub = feed_store.subscription(n.app.store, "en")
    assert sub is not None and sub.expires_at == clock.now + timedelta(hours=1)  # a shorter lease is taken as is
    # neither the token nor a secret reached a log line
    logged = json.dumps([[e, {k: str(v) for k, v in f.items()}] for e, f in events])
    assert params["token"] not in logged and sent["secret"] not in logged
    assert "websub.active" in logged and "websub.requested" in logged


async def test_wrong_token_wrong_topic_or_nothing_pending_is_refused(
    store_url: str, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    n = node(store_url, clock)
    hub_advertised(n)
    sent = await ask_hub(n, monkeypatch)
    token = callback_params(sent["callback"])["token"]
    pending = feed_store.subscription(n.app.store, "en")
    wrong_token = token[:-1] + ("A" if token[-1] != "A" else "B")
    for params in (
        verification(sent["callback"], token=wrong_token),
        verification(sent["callback"], token=token[:-1]),
        verification(sent["callback"], token="é" + token),
        verification(sent["callback"], feed="fr"),
        verification(sent["callback"], **{"hub.topic": "https://evil.example/feed/"}),
        verification(sent["callback"], **{"hub.mode": "unsubscribe"}),
        {k: v for k, v in verification(sent["callback"]).items() if k != "hub.topic"},
    ):
        assert (await hub_get(n, params))[0] == 404, params
    assert feed_store.subscription(n.app.store, "en") == pending
    # a denial, too, counts only with the token
    denial = {**callback_params(sent["callback"]), "hub.mode": "denied", "hub.topic": TOPIC}
    assert (await hub_get(n, {**denial, "token": wrong_token}))[0] == 404
    assert (await hub_get(n, {"feed": "en", "hub.mode": "denied", "hub.topic": TOPIC}))[0] == 404
    assert feed_store.subscription(n.app.store, "en") == pending
    assert (await hub_get(n, denial))[0] == 200
    sub = feed_store.subscription(n.app.store, "en")
    assert sub is not None and (sub.state, sub.pending) == ("failed", False)
    # and after the denial, the old request's verification is no longer pending
    assert (await hub_get(n, verification(sent["callback"])))[0] == 404


async def test_a_new_request_makes_the_old_token_worthless(
    store_url: str, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    n = node(store_url, clock)
    hub_advertised(n)
    first = await ask_hub(n, monkeypatch)
    clock.now = T0 + timedelta(minutes=11)  # the hub never answered: asked again, with a new token and secret
    second = await ask_hub(n, monkeypatch)
    assert first["callback"] != second["callback"] and first["secret"] != second["secret"]
    assert (await hub_get(n, verification(first["callback"])))[0] == 404
    assert (await hub_get(n, verification(second["callback"])))[0] == 200


async def test_notifications_need_the_token_and_the_signature(
    store_url: str, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    n = node(store_url, clock)
    hub_advertised(n)
    sent = await ask_hub(n, monkeypatch)
    assert (await hub_get(n, verification(sent["callback"])))[0] == 200
    params, secret = callback_params(sent["callback"]), sent["secret"]
    assert await hub_post(n, {"feed": "en"}, b"<rss/>", secret) == 404  # the old callback, no token
    assert await hub_post(n, {**params, "token": "x" * 43}, b"<rss/>", secret) == 404
    assert await hub_post(n, {"feed": "nope", "token": params["token"]}, b"<rss/>", secret) == 404
    assert n.polls == []
    assert await hub_post(n, params, b"<rss/>", "not-the-secret") == 202  # acknowledged, ignored (the spec)
    assert n.polls == []
    assert await hub_post(n, params, b"<rss/>", secret) == 202
    assert n.polls == ["en"]


# ── the publish webhook: replays ────────────────────────────────────────────────────────────────────────────
def signed(body: dict[str, Any], stamp: datetime) -> HttpRequest:
    raw = json.dumps(body).encode()
    ts = int(stamp.timestamp())
    headers = {
        "content-type": "application/json",
        "x-syndicator-timestamp": str(ts),
        "x-syndicator-signature": sign(SECRET, ts, raw),
    }
    return HttpRequest("POST", "/hooks/publish", "", headers, raw, "203.0.113.9:4000")


async def publish(n: Node, req: HttpRequest) -> int:
    answer = await n.worker.pushes.publish_hook(req)
    await n.worker.pushes.drain()
    return answer.status


def replay_rows(n: Node) -> int:
    with n.app.store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.webhook_replays)).scalar_one())


TRASH = {"feed": "en", "post_id": 42, "status": "trash", "url": "https://www.example.org/en/a/"}


async def test_a_captured_trash_call_replayed_on_another_worker_and_after_a_restart_is_refused(
    store_url: str, clock: Clock
) -> None:
    first, second = node(store_url, clock), node(store_url, clock)
    captured = signed({**TRASH, "nonce": uuid.uuid4().hex}, T0)
    assert await publish(first, captured) == 202
    assert await publish(second, captured) == 409  # another worker, same database
    assert await publish(first, captured) == 409
    clock.now = T0 + timedelta(minutes=4)  # still inside the timestamp's window
    for n in (first, second):
        await n.app.aclose()
    restarted = node(store_url, clock)  # a new process: nothing in memory
    assert await publish(restarted, captured) == 409
    # the same call without a nonce: its signature is what is remembered
    bare = signed(TRASH, T0 + timedelta(minutes=4))
    assert await publish(restarted, bare) == 202
    assert await publish(node(store_url, clock), bare) == 409
    assert [c.status for c in first.handled + second.handled + restarted.handled] == ["trash", "trash"]


async def test_two_calls_in_the_same_second_with_distinct_nonces_are_both_taken(store_url: str, clock: Clock) -> None:
    a, b = node(store_url, clock), node(store_url, clock)
    call = {"feed": "en", "url": "https://www.example.org/en/a/"}
    assert await publish(a, signed({**call, "nonce": "n-1"}, T0)) == 202
    assert await publish(b, signed({**call, "nonce": "n-2"}, T0)) == 202
    assert len(a.handled) + len(b.handled) == 2
    # a nonce used again is the same call, whatever its timestamp says
    assert await publish(a, signed({**call, "nonce": "n-1"}, T0 + timedelta(seconds=1))) == 409


async def test_remembered_calls_are_purged_after_twice_max_skew(store_url: str, clock: Clock) -> None:
    n = node(store_url, clock)
    assert await publish(n, signed({**TRASH, "nonce": "old"}, T0)) == 202
    assert replay_rows(n) == 1
    clock.now = T0 + 2 * SKEW - timedelta(seconds=1)
    assert await publish(n, signed({**TRASH, "nonce": "middle"}, clock.now)) == 202
    assert replay_rows(n) == 2  # "old" could still be replayed (stamped T0 + 5 min would be valid until T0 + 10)
    clock.now = T0 + 2 * SKEW + timedelta(seconds=1)
    assert await publish(n, signed({**TRASH, "nonce": "new"}, clock.now)) == 202
    assert replay_rows(n) == 2  # "old" is gone; "middle" and "new" stay
    # the stale copy is refused by its timestamp, before the store is asked
    assert await publish(n, signed({**TRASH, "nonce": "old"}, T0)) == 401


def test_the_guard_itself_on_an_injected_clock(store_url: str) -> None:
    guard = StoreReplayGuard(Store(store_url))
    assert guard.first_time("k", now=T0, window=SKEW)
    assert not guard.first_time("k", now=T0 + 2 * SKEW - timedelta(seconds=1), window=SKEW)
    assert not StoreReplayGuard(guard.store).first_time("k", now=T0 + SKEW, window=SKEW)  # a second worker
    # long after, a row not purged yet (no call came since) no longer counts
    assert guard.first_time("k", now=T0 + 2 * SKEW + timedelta(seconds=1), window=SKEW)
    assert not guard.first_time("k", now=T0 + 2 * SKEW + timedelta(seconds=2), window=SKEW)


async def test_130_idle_connections_leave_healthz_200_and_a_signed_call_202(store_url: str, clock: Clock) -> None:
    """The issue's reproduction: the old listener answered 503 to both past 100 open connections."""
    n = node(store_url, clock)
    routes = ops_routes(
        worker_id=n.app.worker_id,
        scheduler_alive=lambda: True,
        store_problems=n.worker.store_health.problems,
        metrics=lambda _accept: (b"", "text/plain"),
    )
    server = await start(build_app([*routes, *n.worker.pushes.routes()]), "127.0.0.1", 0)
    idle = []
    try:
        for _ in range(130):
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")  # answered, then kept open: idle
            await writer.drain()
            assert (await reader.readuntil(b"}")).startswith(b"HTTP/1.1 200 ")
            idle.append(writer)
        base = f"http://127.0.0.1:{server.port}"
        health = await asyncio.to_thread(requests.get, base + "/healthz", timeout=5)
        assert health.status_code == 200 and health.json()["status"] == "ok"
        call = signed({"feed": "en", "url": "https://www.example.org/en/a/", "nonce": uuid.uuid4().hex}, T0)
        answer = await asyncio.to_thread(
            requests.post, base + "/hooks/publish", data=call.body, headers=call.headers, timeout=5
        )
        assert answer.status_code == 202 and answer.json() == {"accepted": True, "feed": "en"}
        await n.worker.pushes.drain()
    finally:
        for writer in idle:
            writer.close()
        await server.close()
