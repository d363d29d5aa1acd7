"""The dispatcher's reaction to each class of platform error, with an injected clock and a scripted publisher."""

from __future__ import annotations

import asyncio
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import pytest
from sqlalchemy import select

from syndicator import config
from syndicator.app import App
from syndicator.article import Article, Identity, Post, Receipt
from syndicator.errors import AuthError, Permanent, PublishError, RetryLater, Transient
from syndicator.platforms.base import Publisher
from syndicator.polling import ingest
from syndicator.store import Store
from syndicator.store import tables as t

NOW = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)

CONFIG = """
[store]
url = "{db}"

[[feeds]]
name = "f"
url = "https://example.org/feed/"
max_age = "0s"
first_run = "all"
targets = ["tg"]

[targets.tg]
platform = "telegram"
chat = "@c"
token_env = "TOK"
[targets.tg.limits]
min_spacing = "0s"
[targets.tg.retry]
max_attempts = 3
backoff = "10s"
on_unknown = "{on_unknown}"
"""


class Scripted(Publisher):
    platform: ClassVar[str] = "telegram"
    outcomes: ClassVar[list[PublishError | None]] = []
    calls: ClassVar[int] = 0

    async def publish(self, post: Post) -> Receipt:
        type(self).calls += 1
        outcome = type(self).outcomes.pop(0) if type(self).outcomes else None
        if outcome is not None:
            raise outcome
        return Receipt(remote_id=str(type(self).calls), url=f"https://t.me/c/{type(self).calls}")

    async def delete(self, receipt: Receipt) -> None:
        return None

    async def check(self) -> Identity:
        return Identity(name="scripted")


def setup(store_url: str, outcomes: list[PublishError | None], on_unknown: str = "hold") -> tuple[App, list[datetime]]:
    cfg = config.parse(CONFIG.format(db=store_url, on_unknown=on_unknown), environ={"TOK": "1:x"})
    clock = [NOW]
    app = App(cfg, Store(cfg.store.url), clock=lambda: clock[0])
    Scripted.outcomes, Scripted.calls = list(outcomes), 0
    app._publishers["tg"] = Scripted(cfg.targets["tg"])
    article = Article(id="https://example.org/?p=1", feed="f", url="https://example.org/a/", title="A", published=NOW)
    ingest(app, cfg.feeds[0], [article], now=NOW)
    return app, clock


def state(app: App) -> tuple[str, int, str | None, datetime]:
    with app.store.engine.connect() as conn:
        row = conn.execute(select(t.deliveries)).mappings().one()
    return row["state"], row["attempts"], row["error_class"], row["not_before"]


def run(app: App, clock: list[datetime], advance: timedelta = timedelta(0)) -> None:
    clock[0] += advance
    asyncio.run(app.dispatcher(rng=random.Random(7)).run_once())


def test_transient_retries_with_backoff_then_fails_after_max_attempts(store_url: str) -> None:
    app, clock = setup(store_url, [Transient("503", code=503)] * 3)
    run(app, clock)
    st, attempts, err, due = state(app)
    assert (st, attempts, err) == ("retry", 1, "transient") and NOW + timedelta(seconds=5) <= due <= NOW + timedelta(
        seconds=10
    )
    run(app, clock)  # not due yet: nothing happens
    assert Scripted.calls == 1
    run(app, clock, timedelta(seconds=11))
    assert state(app)[:2] == ("retry", 2)
    run(app, clock, timedelta(seconds=30))
    assert state(app)[:3] == ("failed", 3, "transient")
    run(app, clock, timedelta(hours=1))
    assert Scripted.calls == 3


def test_retry_later_waits_for_the_platforms_time_and_pauses_the_target(store_url: str) -> None:
    app, clock = setup(store_url, [RetryLater("429", retry_at=NOW + timedelta(seconds=42))])
    run(app, clock)
    assert state(app)[0] == "retry" and state(app)[3] == NOW + timedelta(seconds=42)
    run(app, clock, timedelta(seconds=41))
    assert Scripted.calls == 1
    run(app, clock, timedelta(seconds=1))
    assert state(app)[0] == "sent" and Scripted.calls == 2


@pytest.mark.parametrize("error", [Permanent("duplicate", code="duplicate"), AuthError("token revoked")])
def test_permanent_and_auth_fail_at_once(store_url: str, error: PublishError) -> None:
    app, clock = setup(store_url, [error])
    run(app, clock)
    assert state(app)[:3] == ("failed", 1, error.error_class)
    with app.store.engine.connect() as conn:
        paused = conn.execute(select(t.target_state.c.auth_failed)).scalar()
    assert bool(paused) == isinstance(error, AuthError)


@pytest.mark.parametrize(("on_unknown", "expected"), [("hold", "unknown"), ("retry", "retry")])
def test_no_answer_after_sending_is_unknown_unless_the_target_allows_retry(
    store_url: str, on_unknown: str, expected: str
) -> None:
    app, clock = setup(store_url, [Transient("read timed out", code="timeout")], on_unknown=on_unknown)
    run(app, clock)
    assert state(app)[0] == expected
    run(app, clock, timedelta(hours=1))
    assert Scripted.calls == (1 if expected == "unknown" else 2)


def test_an_unexpected_exception_is_unknown_never_resent(store_url: str) -> None:
    app, clock = setup(store_url, [])

    async def boom(post: Post) -> Receipt:
        raise RuntimeError("bug")

    app._publishers["tg"].publish = boom  # type: ignore[method-assign]
    run(app, clock)
    assert state(app)[0] == "unknown"


def test_a_backlog_older_than_the_freshness_cut_off_is_not_posted(store_url: str) -> None:
    app, clock = setup(store_url, [RetryLater("429", retry_at=NOW + timedelta(hours=3))])
    target = app.config.targets["tg"]
    app.config.targets["tg"] = replace(target, limits=replace(target.limits, freshness=timedelta(hours=2)))
    run(app, clock)
    assert state(app)[0] == "retry"
    run(app, clock, timedelta(hours=3))
    assert state(app)[:3] == ("failed", 1, "stale") and Scripted.calls == 1


def test_a_resent_stale_delivery_goes_out(store_url: str) -> None:
    from syndicator.actions import resend

    app, clock = setup(store_url, [RetryLater("429", retry_at=NOW + timedelta(hours=3))])
    target = app.config.targets["tg"]
    app.config.targets["tg"] = replace(target, limits=replace(target.limits, freshness=timedelta(hours=2)))
    run(app, clock)
    run(app, clock, timedelta(hours=3))
    assert state(app)[2] == "stale"
    report = resend(app, "https://example.org/a/", None, force=False, confirm_unknown=False)
    assert report.done and state(app)[0] == "pending"
    run(app, clock)
    assert state(app)[0] == "sent"  # an editor's resend is not cut off again


def test_a_slow_call_keeps_its_lease_so_no_other_worker_takes_it(store_url: str) -> None:
    # a call far longer than its lease, well within its deadline (4 × the tiny timeout would cut it)
    cfg_text = CONFIG.format(db=store_url, on_unknown="hold").replace(
        "on_unknown", 'call_lease = "0.3s"\ncall_deadline = "30s"\non_unknown'
    )
    cfg = config.parse(
        cfg_text.replace('token_env = "TOK"', 'token_env = "TOK"\ntimeout = "0.01s"'), environ={"TOK": "1:x"}
    )
    app = App(cfg, Store(cfg.store.url))
    other = App(cfg, Store(cfg.store.url))

    class Slow(Scripted):
        async def publish(self, post: Post) -> Receipt:
            # meanwhile another worker looks for dead calls, several lease lengths later
            for _ in range(4):
                await asyncio.sleep(0.3)
                await other.dispatcher().run_once()
            return Receipt(remote_id="slow")

    app._publishers["tg"] = Slow(cfg.targets["tg"])
    other._publishers["tg"] = Slow(cfg.targets["tg"])
    article = Article(id="https://example.org/?p=9", feed="f", url="https://example.org/b/", title="B")
    ingest(app, cfg.feeds[0], [article], now=datetime.now(UTC))
    asyncio.run(app.dispatcher().run_once())
    assert state(app)[:2] == ("sent", 1)
    with app.store.engine.connect() as conn:
        outcomes = conn.execute(select(t.attempts.c.outcome)).scalars().all()
    assert outcomes == ["sent"]  # never taken for a dead call meanwhile
