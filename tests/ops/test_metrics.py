"""`/metrics` and `/healthz` on the running worker's HTTP listener, after a known sequence of events."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from syndicator import events as ev
from syndicator import logs
from syndicator.alerts import ops_services
from syndicator.errors import AuthError
from syndicator.limits import WaitKind
from syndicator.metrics import Metrics
from syndicator.store import tables as t
from tests.ops.support import (
    Clock,
    FeedSite,
    make_app,
    make_config,
    running_worker,
    samples,
    value,
    wait_until,
)

CONFIG = """
[store]
url = "sqlite:///{db}"

[http]
listen = "127.0.0.1:0"

[[feeds]]
name = "en"
url = "{feed}"
every = "1h"
max_age = "0s"
targets = ["tg_a", "tg_b", "x_dry"]

[targets.tg_a]
platform = "telegram"
chat = "@a"
token_env = "TG_A_TOKEN"
limits = {{ min_spacing = "0s", quotas = ["5/1h"] }}

[targets.tg_b]
platform = "telegram"
chat = "@b"
token_env = "TG_B_TOKEN"
limits = {{ min_spacing = "0s" }}

[targets.x_dry]
platform = "twitter"
dry_run = true
"""
ENV = {"TG_A_TOKEN": "111111:token-a-not-real-aaaaaaaaaaaa", "TG_B_TOKEN": "222222:token-b-not-real-bbbbbbbbbbbb"}


@pytest.fixture
def site() -> Iterator[FeedSite]:
    with FeedSite() as s:
        yield s


async def test_metrics_and_health_after_a_known_sequence(tmp_path: Path, site: FeedSite) -> None:
    clock = Clock()
    site.publish(1, clock.now.replace(hour=0, minute=0))
    site.publish(2, clock.now.replace(hour=0, minute=1))
    cfg = make_config(CONFIG.format(db=tmp_path / "s.db", feed=site.url + "/en/feed/"), ENV)
    app, publishers = make_app(cfg, clock)
    publishers["tg_b"].outcomes.append(AuthError("the bot token was revoked"))
    baseline_observers = len(logs._observers)
    baseline_subscribers = ev.subscribers()

    async with running_worker(app, ops_services(cfg, ENV)) as run:
        feed = cfg.feed("en")

        def by_state() -> dict[tuple[str, str], int]:
            d = t.deliveries
            with app.store.engine.connect() as conn:
                rows = conn.execute(select(d.c.target, d.c.state)).all()
            out: dict[tuple[str, str], int] = {}
            for target, state in rows:
                out[(target, state)] = out.get((target, state), 0) + 1
            return out

        async def settle(expected: dict[tuple[str, str], int]) -> None:
            await wait_until(lambda: by_state() == expected, what=f"deliveries {expected}")

        # story 3: tg_a and the dry run post it 90 s after publication; tg_b's token is refused
        site.publish(3, clock.now - timedelta(seconds=90))
        await run.worker.poll(feed)
        await settle({("tg_a", "sent"): 1, ("x_dry", "sent"): 1, ("tg_b", "failed"): 1})
        # story 4: tg_b is paused for authorization, so its delivery waits
        clock.advance(seconds=30)
        site.publish(4, clock.now - timedelta(seconds=90))
        await run.worker.poll(feed)
        await settle({("tg_a", "sent"): 2, ("x_dry", "sent"): 2, ("tg_b", "failed"): 1, ("tg_b", "pending"): 1})
        await wait_until(lambda: run.events.named("ratelimit.wait"), what="tg_b's wait")

        # events the dispatcher and the poller emit, emitted on the bus
        failure = {"article": "a", "feed": "en", "code": None}
        ev.emit(
            ev.DeliveryRetry(delivery=90, target="tg_a", attempt=1, error_class="transient", error="503", **failure)
        )
        ev.emit(ev.DeliveryUnknown(delivery=91, target="tg_a", article="a", error="RuntimeError('boom')"))
        ev.emit(
            ev.RateLimitWait(
                target="tg_a", delivery=92, until=clock.now, reason="quota 5/1h reached", kind=WaitKind.QUOTA
            )
        )
        ev.emit(_sent("not_configured", 93, delay=1.0))
        ev.emit(ev.FeedFailed(feed="en", error="http 500", duration_seconds=0.5))
        clock.advance(seconds=60)

        resp = await run.get("/metrics")
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/plain; version=0.0.4")
        m = samples(resp.text)

        # counters from events
        assert value(m, "syndicator_articles_found_total", feed="en") == 2
        assert value(m, "syndicator_feed_polls_total", feed="en", result="ok") == 3
        assert value(m, "syndicator_feed_polls_total", feed="en", result="failed") == 1
        assert value(m, "syndicator_feed_failures_total", feed="en") == 1
        assert value(m, "syndicator_feed_poll_duration_seconds_count", feed="en") == 4
        assert value(m, "syndicator_deliveries_sent_total", target="tg_a") == 2
        assert value(m, "syndicator_deliveries_sent_total", target="x_dry") == 2
        assert value(m, "syndicator_deliveries_sent_total", target="tg_b") == 0
        assert value(m, "syndicator_deliveries_failed_total", target="tg_b") == 1
        assert value(m, "syndicator_deliveries_retried_total", target="tg_a") == 1
        assert value(m, "syndicator_deliveries_unknown_total", target="tg_a") == 1
        assert value(m, "syndicator_deliveries_attempted_total", target="tg_a") == 4
        assert value(m, "syndicator_deliveries_attempted_total", target="tg_b") == 1
        assert value(m, "syndicator_delivery_errors_total", target="tg_b", error_class="auth") == 1
        assert value(m, "syndicator_delivery_errors_total", target="tg_a", error_class="transient") == 1
        assert value(m, "syndicator_delivery_errors_total", target="tg_a", error_class="unknown") == 1
        assert value(m, "syndicator_target_pauses_total", target="tg_b", reason="authorization") == 1
        assert value(m, "syndicator_ratelimit_waits_total", target="tg_b", kind="auth") == 1
        assert value(m, "syndicator_ratelimit_waits_total", target="tg_a", kind="quota") == 1
        assert not [k for k in m if ("target", "not_configured") in k[1]]
        # publish → post delay: both of tg_a's posts went out 90 s after publication
        assert value(m, "syndicator_publish_delay_seconds_count", target="tg_a") == 2
        assert value(m, "syndicator_publish_delay_seconds_sum", target="tg_a") == 180
        assert value(m, "syndicator_publish_delay_seconds_bucket", target="tg_a", le="60.0") == 0
        assert value(m, "syndicator_publish_delay_seconds_bucket", target="tg_a", le="120.0") == 2
        assert value(m, "syndicator_publish_delay_seconds_bucket", target="tg_a", le="86400.0") == 2

        # gauges from the store
        assert value(m, "syndicator_store_up") == 1
        assert value(m, "syndicator_scheduler_running") == 1
        assert value(m, "syndicator_deliveries", target="tg_a", state="sent") == 2
        assert value(m, "syndicator_deliveries", target="tg_b", state="failed") == 1
        assert value(m, "syndicator_deliveries", target="tg_b", state="pending") == 1
        assert value(m, "syndicator_deliveries", target="x_dry", state="unknown") == 0
        assert value(m, "syndicator_queue_depth", target="tg_b") == 1
        assert value(m, "syndicator_queue_depth", target="tg_a") == 0
        assert value(m, "syndicator_oldest_pending_age_seconds", target="tg_b") == 60
        assert value(m, "syndicator_oldest_pending_age_seconds", target="tg_a") == 0
        assert value(m, "syndicator_quota_left", target="tg_a", quota="5/1h") == 3
        assert value(m, "syndicator_quota_left", target="tg_b", quota="20/1m") == 20  # the platform default
        assert not [k for k in m if k[0] == "syndicator_quota_left" and ("target", "x_dry") in k[1]]
        assert value(m, "syndicator_target_paused", target="tg_b") == 1
        assert value(m, "syndicator_target_auth_failed", target="tg_b") == 1
        assert value(m, "syndicator_target_paused", target="tg_a") == 0
        assert value(m, "syndicator_target_info", target="x_dry", platform="twitter", dry_run="true") == 1
        assert value(m, "syndicator_feed_failing_seconds", feed="en") == 0
        assert value(m, "syndicator_feed_last_poll_timestamp_seconds", feed="en") == pytest.approx(
            clock.now.timestamp() - 60,
            abs=1,  # the second poll, before the last minute
        )

        # OpenMetrics for scrapers that ask for it
        om = await run.get("/metrics", Accept="application/openmetrics-text; version=1.0.0")
        assert om.headers["content-type"].startswith("application/openmetrics-text")
        assert om.text.rstrip().endswith("# EOF")

        health = await run.get("/healthz")
        assert health.status_code == 200 and health.json()["status"] == "ok"

        # the store goes away: health says so, metrics still answer with store_up 0
        run.worker.store_health.ttl = 0  # the probe's answer is cached for seconds; this swap is instant
        engine = app.store.engine
        app.store.engine = create_engine(f"sqlite:///{tmp_path}/missing-dir/x.db")
        try:
            health = await run.get("/healthz")
            assert health.status_code == 503
            reason = health.json()["reason"]
            assert reason == "store unreachable: cannot reach the database: unable to open database file"
            down = samples((await run.get("/metrics")).text)
            assert value(down, "syndicator_store_up") == 0
            assert value(down, "syndicator_deliveries_sent_total", target="tg_a") == 2  # counters survive
        finally:
            app.store.engine = engine
        # the scheduler stops
        run.worker.scheduler_alive = False
        health = await run.get("/healthz")
        assert health.status_code == 503 and health.json()["reason"] == "scheduler not running"
        assert value(samples((await run.get("/metrics")).text), "syndicator_scheduler_running") == 0
        run.worker.scheduler_alive = True

        assert (await run.get("/nope")).status_code == 404

    assert len(logs._observers) == baseline_observers
    assert ev.subscribers() == baseline_subscribers  # the metrics subscriber left with the worker


def test_each_worker_has_its_own_registry(tmp_path: Path) -> None:
    cfg = make_config(CONFIG.format(db=tmp_path / "s.db", feed="http://127.0.0.1:9/feed"), ENV)
    app, _ = make_app(cfg, Clock())
    first, second = Metrics(app), Metrics(app)
    first.attach()
    try:
        ev.emit(_sent("tg_a", 1, delay=3.0))
    finally:
        first.detach()
    ev.emit(_sent("tg_a", 1, delay=3.0))
    one, two = samples(first.render()[0].decode()), samples(second.render()[0].decode())
    assert value(one, "syndicator_deliveries_sent_total", target="tg_a") == 1  # detached: the second not counted
    assert value(two, "syndicator_deliveries_sent_total", target="tg_a") == 0  # never attached
    assert value(one, "syndicator_store_up") == 1


def _sent(target: str, delivery: int, *, delay: float | None = None) -> ev.DeliverySent:
    return ev.DeliverySent(
        delivery=delivery, article="a", feed="en", target=target, platform="telegram", attempt=1,
        remote_id="1", url=None, delay_seconds=delay,
    )  # fmt: skip


@pytest.mark.parametrize("kind", list(WaitKind))
def test_waits_count_by_their_kind_whatever_the_reason_says(tmp_path: Path, kind: WaitKind) -> None:
    """The label is the Decision's WaitKind: a reworded (or misleading) reason moves nothing."""
    cfg = make_config(CONFIG.format(db=tmp_path / "s.db", feed="http://127.0.0.1:9/feed"), ENV)
    app, _ = make_app(cfg, Clock())
    metrics = Metrics(app)
    metrics.attach()
    try:
        ev.emit(ev.RateLimitWait(target="tg_a", until=None, reason="quota 5/1h reached (reworded)", kind=kind))
    finally:
        metrics.detach()
    m = samples(metrics.render()[0].decode())
    assert value(m, "syndicator_ratelimit_waits_total", target="tg_a", kind=kind.value) == 1
    others = [k for k in WaitKind if k is not kind]  # "quota" among them, whatever the reason says
    assert not any(value(m, "syndicator_ratelimit_waits_total", target="tg_a", kind=k.value) for k in others)


def test_wait_kinds_are_the_documented_label_values() -> None:
    documented = {"quota", "cost_cap", "spacing", "quiet_hours", "auth", "platform", "usage"}
    assert {k.value for k in WaitKind} - {"lease_lost"} == documented


def test_the_deploy_files_use_only_metrics_the_worker_exposes(tmp_path: Path) -> None:
    import json
    import re

    deploy = Path(__file__).resolve().parents[2] / "deploy"
    dashboard = (deploy / "grafana-dashboard.json").read_text()
    rules = (deploy / "prometheus-alerts.yml").read_text()
    json.loads(dashboard)
    cfg = make_config(CONFIG.format(db=tmp_path / "s.db", feed="http://127.0.0.1:9/feed"), ENV)
    app, _ = make_app(cfg, Clock())
    exposition = Metrics(app).render()[0].decode()
    exposed = set(re.findall(r"^# (?:HELP|TYPE) (\w+)", exposition, re.M))
    exposed |= {f"{n}{suffix}" for n in exposed for suffix in ("_bucket", "_count", "_sum")}
    used = set(re.findall(r"\bsyndicator_\w+", dashboard + rules))
    assert used and used <= exposed, used - exposed
