"""Prometheus metrics for one worker, served at `GET /metrics` on the worker's HTTP listener.

Two sources, one registry per worker (never the library's global one, so tests and several workers in one
process stay apart):

* **Counters and histograms** are fed by a subscriber of the typed events (`syndicator.events`): every event the
  pipeline emits (`ArticleNew`, `FeedPolled`, `DeliverySent`, ...) moves a counter. It reads the events'
  attributes, never a log line or a reason text (a wait's kind is its `WaitKind`). They count what *this
  process* saw since it started; aggregate them across workers with `sum()`.
* **Gauges** are read from the store at scrape time by `StoreCollector` (indexed queries only: the same ones as
  `syndicator status`, whose quota arithmetic is reused, not repeated). They describe the shared database, so
  several workers report the same values: aggregate them with `max()`.

Metric names (all prefixed `syndicator_`):

    counters      articles_found_total{feed}
                  feed_polls_total{feed,result}              result: ok | not_modified | failed
                  feed_failures_total{feed}
                  deliveries_attempted_total{target}         every platform call whose outcome was recorded
                  deliveries_sent_total{target}
                  deliveries_failed_total{target}
                  deliveries_retried_total{target}
                  deliveries_unknown_total{target}
                  deliveries_skipped_total{target,reason}
                  delivery_errors_total{target,error_class}  retry_later | transient | permanent | auth | unknown
                  ratelimit_waits_total{target,kind}         quota | cost_cap | spacing | quiet_hours | auth |
                                                             platform | usage (limits.WaitKind)
                  target_pauses_total{target,reason}
                  render_failures_total{target}
                  alerts_sent_total{channel,state}           state: firing | resolved
                  alerts_failed_total{channel}
                  store_errors_total{operation,cause}        operation: poll | claim | deliver | health | …;
                                                             cause: locked | disk_full | read_only | permission |
                                                             unreachable | error (syndicator/store/faults.py)
    histograms    publish_delay_seconds{target}              article published → post sent (1 s … 1 day)
                  feed_poll_duration_seconds{feed}
    gauges        deliveries{target,state}                   rows in the outbox per state
                  queue_depth{target}                        pending + retry
                  oldest_pending_age_seconds{target}         0 when nothing waits
                  quota_left{target,quota}                   e.g. quota="17/1d"; absent for dry-run targets
                  posts_this_month{target}, spend_this_month{target}   targets with a cost per post
                  target_paused{target}                      1 while paused (platform pause or authorization)
                  target_auth_failed{target}                 1 until `syndicator check` passes
                  target_info{target,platform,dry_run}       always 1
                  feed_failing_seconds{feed}                 0 when the last poll succeeded
                  feed_last_poll_timestamp_seconds{feed}
                  store_up                                   0 when the store could not be read at scrape time
                  scheduler_running                          the worker's scheduler is alive
                  metrics_collect_seconds                    how long reading the store took
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder

from syndicator import events as ev
from syndicator.article import DeliveryState
from syndicator.logs import get_logger
from syndicator.platforms import registry
from syndicator.store.faults import WORDS

if TYPE_CHECKING:
    from syndicator.app import App
    from syndicator.worker import Worker

log = get_logger("syndicator.metrics")
PREFIX = "syndicator"

# publish → post: seconds for a healthy pipeline, hours when quotas or quiet hours hold posts back
DELAY_BUCKETS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 43200, 86400)
POLL_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60)
STATES = tuple(s.value for s in DeliveryState)
# the `channel` label: the platforms that carry alerts (their spec's `alert_channel`), then webhook and smtp
ALERT_CHANNELS = (*(spec.name for spec in registry.specs() if spec.alert_channel is not None), "webhook", "smtp")


class EventMetrics:
    """The counters and histograms, and the events subscriber that feeds them.

    Only configured targets and feeds become label values (bounded cardinality; events of another worker object
    in the same process, as in tests, are ignored). Prometheus' metric objects are thread-safe: events emitted from
    worker threads (`asyncio.to_thread`) count directly.
    """

    def __init__(self, registry: CollectorRegistry, *, targets: list[str], feeds: list[str]) -> None:
        self.targets = set(targets)
        self.feeds = set(feeds)

        def counter(name: str, doc: str, labels: list[str]) -> Counter:
            return Counter(f"{PREFIX}_{name}", doc, labels, registry=registry)

        self.articles_found = counter("articles_found", "New articles found, by feed.", ["feed"])
        self.feed_polls = counter("feed_polls", "Feed polls by result (ok, not_modified, failed).", ["feed", "result"])
        self.feed_failures = counter("feed_failures", "Failed feed polls.", ["feed"])
        self.attempted = counter("deliveries_attempted", "Platform calls whose outcome was recorded.", ["target"])
        self.sent = counter("deliveries_sent", "Deliveries posted (or recorded as sent in dry run).", ["target"])
        self.failed = counter("deliveries_failed", "Deliveries failed for good.", ["target"])
        self.retried = counter("deliveries_retried", "Delivery attempts that will be retried.", ["target"])
        self.unknown = counter("deliveries_unknown", "Deliveries whose outcome is unknown.", ["target"])
        self.skipped = counter("deliveries_skipped", "Deliveries not posted (e.g. stale).", ["target", "reason"])
        self.errors = counter("delivery_errors", "Delivery errors by error class.", ["target", "error_class"])
        self.waits = counter("ratelimit_waits", "Times the governor made a target wait, by kind.", ["target", "kind"])
        self.pauses = counter("target_pauses", "Target pauses (authorization).", ["target", "reason"])
        self.render_failures = counter("render_failures", "Articles that could not be rendered.", ["target"])
        self.alerts_sent = counter("alerts_sent", "Alert messages sent, by channel.", ["channel", "state"])
        self.alerts_failed = counter("alerts_failed", "Alert messages that could not be sent.", ["channel"])
        self.store_errors = counter(
            "store_errors", "Store failures met by polls, deliveries and health probes.", ["operation", "cause"]
        )
        self.delay = Histogram(
            f"{PREFIX}_publish_delay_seconds",
            "Seconds from the article's publication to its post, by target.",
            ["target"],
            buckets=DELAY_BUCKETS,
            registry=registry,
        )
        self.poll_duration = Histogram(
            f"{PREFIX}_feed_poll_duration_seconds",
            "Duration of feed polls (fetch, parse, record).",
            ["feed"],
            buckets=POLL_BUCKETS,
            registry=registry,
        )
        # series exist from the start at 0, so rate() and dashboards work before the first event
        for target in targets:
            for c in (self.attempted, self.sent, self.failed, self.retried, self.unknown):
                c.labels(target=target)
            self.delay.labels(target=target)
        for feed in feeds:
            self.articles_found.labels(feed=feed)
            self.feed_failures.labels(feed=feed)
            self.poll_duration.labels(feed=feed)
            for result in ("ok", "not_modified", "failed"):
                self.feed_polls.labels(feed=feed, result=result)

    def __call__(self, event: ev.Event) -> None:
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(self, event)

    # -- one method per event ---------------------------------------------------------------------------------

    def _feed(self, feed: str | None) -> str | None:
        return feed if feed in self.feeds else None

    def _target(self, target: str | None) -> str | None:
        return target if target in self.targets else None

    def _article_new(self, e: ev.ArticleNew) -> None:
        if feed := self._feed(e.feed):
            self.articles_found.labels(feed=feed).inc()

    def _feed_polled(self, e: ev.FeedPolled) -> None:
        if feed := self._feed(e.feed):
            self.feed_polls.labels(feed=feed, result="not_modified" if e.not_modified else "ok").inc()
            self._duration(feed, e.duration_seconds)

    def _feed_failed(self, e: ev.FeedFailed) -> None:
        if feed := self._feed(e.feed):
            self.feed_polls.labels(feed=feed, result="failed").inc()
            self.feed_failures.labels(feed=feed).inc()
            self._duration(feed, e.duration_seconds)
            if e.reason == "store":
                self._store_error("poll", e.cause)

    def _store_failed(self, e: ev.StoreFailed) -> None:
        if (e.feed is not None and self._feed(e.feed) is None) or (
            e.target is not None and self._target(e.target) is None
        ):
            return  # another worker's (tests run several in one process)
        self._store_error(e.operation, e.cause)

    def _store_error(self, operation: str | None, cause: str | None) -> None:
        op = operation or "store"
        self.store_errors.labels(operation=op[:20], cause=cause if cause in WORDS else "error").inc()

    def _duration(self, feed: str, seconds: float | None) -> None:
        if seconds is not None:
            self.poll_duration.labels(feed=feed).observe(float(seconds))

    def _delivery_sent(self, e: ev.DeliverySent) -> None:
        if target := self._target(e.target):
            self.attempted.labels(target=target).inc()
            self.sent.labels(target=target).inc()
            if e.delay_seconds is not None and e.delay_seconds >= 0:
                self.delay.labels(target=target).observe(float(e.delay_seconds))

    def _delivery_retry(self, e: ev.DeliveryRetry) -> None:
        if target := self._target(e.target):
            self.attempted.labels(target=target).inc()
            self.retried.labels(target=target).inc()
            self._error(target, e.error_class)

    def _delivery_failed(self, e: ev.DeliveryFailed) -> None:
        if target := self._target(e.target):
            self.attempted.labels(target=target).inc()
            self.failed.labels(target=target).inc()
            self._error(target, e.error_class)

    def _delivery_unknown(self, e: ev.DeliveryUnknown) -> None:
        if target := self._target(e.target):
            self.attempted.labels(target=target).inc()
            self.unknown.labels(target=target).inc()
            self._error(target, "unknown")

    def _error(self, target: str, error_class: str | None) -> None:
        name = error_class or "error"
        self.errors.labels(target=target, error_class=name[:40]).inc()

    def _delivery_skipped(self, e: ev.DeliverySkipped) -> None:
        if target := self._target(e.target):
            self.skipped.labels(target=target, reason=e.reason or "other").inc()

    def _ratelimit_wait(self, e: ev.RateLimitWait) -> None:
        if target := self._target(e.target):
            self.waits.labels(target=target, kind=e.kind.value).inc()

    def _target_paused(self, e: ev.TargetPaused) -> None:
        if target := self._target(e.target):
            self.pauses.labels(target=target, reason=e.reason or "other").inc()

    def _render_failed(self, e: ev.RenderFailed) -> None:
        if target := self._target(e.target):
            self.render_failures.labels(target=target).inc()

    def _alert_sent(self, e: ev.AlertSent) -> None:
        if e.channel in ALERT_CHANNELS:
            self.alerts_sent.labels(channel=e.channel, state="resolved" if e.resolved else "firing").inc()

    def _alert_failed(self, e: ev.AlertFailed) -> None:
        if e.channel in ALERT_CHANNELS:
            self.alerts_failed.labels(channel=e.channel).inc()

    _handlers: ClassVar[dict[type[ev.Event], Callable[[EventMetrics, Any], None]]] = {
        ev.ArticleNew: _article_new,
        ev.FeedPolled: _feed_polled,
        ev.FeedFailed: _feed_failed,
        ev.StoreFailed: _store_failed,
        ev.DeliverySent: _delivery_sent,
        ev.DeliveryRetry: _delivery_retry,
        ev.DeliveryFailed: _delivery_failed,
        ev.DeliveryUnknown: _delivery_unknown,
        ev.DeliverySkipped: _delivery_skipped,
        ev.RateLimitWait: _ratelimit_wait,
        ev.TargetPaused: _target_paused,
        ev.RenderFailed: _render_failed,
        ev.AlertSent: _alert_sent,
        ev.AlertFailed: _alert_failed,
    }


def _seconds(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


class StoreCollector:
    """Gauges read from the store at scrape time. Never raises: a store it cannot read gives `store_up 0`."""

    def __init__(self, app: App, scheduler_running: Callable[[], bool] = lambda: True) -> None:
        self.app = app
        self.scheduler_running = scheduler_running

    def collect(self) -> Iterator[Metric]:
        started = time.monotonic()
        alive = GaugeMetricFamily(f"{PREFIX}_scheduler_running", "1 while the worker's scheduler is alive.")
        alive.add_metric([], 1.0 if self.scheduler_running() else 0.0)
        yield alive
        store_up = GaugeMetricFamily(f"{PREFIX}_store_up", "1 if the store could be read at scrape time.")
        try:
            families = list(self._from_store())
        except Exception as exc:
            log.warning("metrics.store_error", error=f"{exc.__class__.__name__}: {exc}"[:300])
            store_up.add_metric([], 0.0)
            yield store_up
            return
        store_up.add_metric([], 1.0)
        yield store_up
        yield from families
        took = GaugeMetricFamily(
            f"{PREFIX}_metrics_collect_seconds", "Seconds spent reading the store for this scrape."
        )
        took.add_metric([], time.monotonic() - started)
        yield took

    def _from_store(self) -> Iterator[Metric]:
        from syndicator.status import collect_status
        from syndicator.store import reports

        app = self.app
        now = app.clock()
        counts = reports.target_counts(app.store, app.config.targets, now=now)
        status = collect_status(app, counts)  # quotas and cost, computed the way `syndicator status` shows them
        targets = app.config.targets

        def gauge(name: str, doc: str, labels: list[str]) -> GaugeMetricFamily:
            return GaugeMetricFamily(f"{PREFIX}_{name}", doc, labels=labels)

        by_state = gauge("deliveries", "Deliveries in the outbox, by target and state.", ["target", "state"])
        depth = gauge("queue_depth", "Deliveries waiting to be sent (pending + retry).", ["target"])
        oldest = gauge("oldest_pending_age_seconds", "Age of the oldest waiting delivery (0: none).", ["target"])
        for name in targets:
            c = counts.get(name, {})
            for state in STATES:
                by_state.add_metric([name, state], float(c.get(state, 0)))
            depth.add_metric([name], float(c.get(DeliveryState.PENDING, 0) + c.get(DeliveryState.RETRY, 0)))
            first: datetime | None = c.get("oldest_waiting")
            oldest.add_metric([name], max(0.0, (now - first).total_seconds()) if first else 0.0)
        yield from (by_state, depth, oldest)

        quota = gauge(
            "quota_left", "Posts left in each quota window (targets that post for real).", ["target", "quota"]
        )
        paused = gauge("target_paused", "1 while the target is paused (platform pause or authorization).", ["target"])
        auth = gauge("target_auth_failed", "1 while the target waits for a human to fix its credentials.", ["target"])
        info = gauge(
            "target_info", "The target's platform and whether it is a dry run.", ["target", "platform", "dry_run"]
        )
        posts = gauge("posts_this_month", "Posts this month, for targets with a cost per post.", ["target"])
        spend = gauge("spend_this_month", "Spend this month at the configured cost per post.", ["target"])
        for entry in status["targets"]:
            name = entry["target"]
            for q in entry.get("quotas") or ():
                quota.add_metric([name, f"{q['limit']}/{q['window']}"], float(q["left"]))
            paused.add_metric([name], 1.0 if entry.get("paused_until") or entry.get("auth_failed") else 0.0)
            auth.add_metric([name], 1.0 if entry.get("auth_failed") else 0.0)
            info.add_metric([name, str(entry.get("platform", "")), "true" if entry.get("dry_run") else "false"], 1.0)
            cost = entry.get("cost")
            if cost:
                posts.add_metric([name], float(cost["posts_this_month"]))
                spend.add_metric([name], float(cost["spend_this_month"]))
        yield from (quota, paused, auth, info, posts, spend)

        failing = gauge(
            "feed_failing_seconds", "How long the feed has been failing (0: last poll succeeded).", ["feed"]
        )
        last = gauge("feed_last_poll_timestamp_seconds", "When the feed was last polled (Unix time).", ["feed"])
        configured = {f.name for f in app.config.feeds}
        for feed in status["feeds"]:
            if feed["feed"] not in configured:
                continue
            since: datetime | None = feed.get("failing_since")
            failing.add_metric([feed["feed"]], max(0.0, (now - since).total_seconds()) if since else 0.0)
            polled = _seconds(feed.get("last_poll"))
            if polled is not None:
                last.add_metric([feed["feed"]], polled)
        yield from (failing, last)


class Metrics:
    """A worker's registry: event counters (while attached) plus the store gauges."""

    def __init__(self, app: App, scheduler_running: Callable[[], bool] = lambda: True) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.events = EventMetrics(
            self.registry, targets=list(app.config.targets), feeds=[f.name for f in app.config.feeds]
        )
        self.registry.register(StoreCollector(app, scheduler_running))
        self._undo: Callable[[], None] | None = None
        self._lock = threading.Lock()

    def attach(self) -> None:
        """Start counting events (idempotent)."""
        with self._lock:
            if self._undo is None:
                self._undo = ev.subscribe(self.events)

    def detach(self) -> None:
        with self._lock:
            if self._undo is not None:
                self._undo()
                self._undo = None

    def render(self, accept: str = "") -> tuple[bytes, str]:
        """The exposition for an `Accept` header: (body, content type). Blocking (reads the store)."""
        encoder, content_type = choose_encoder(accept)
        return encoder(self.registry), content_type


_by_worker: weakref.WeakKeyDictionary[Worker, Metrics] = weakref.WeakKeyDictionary()
_by_worker_lock = threading.Lock()


def metrics_for(worker: Worker) -> Metrics:
    """The worker's metrics, created on first use (one registry per worker)."""
    with _by_worker_lock:
        found = _by_worker.get(worker)
        if found is None:
            ref = weakref.ref(worker)  # the registry must not keep its worker alive

            def running() -> bool:
                alive = ref()
                return bool(alive is not None and alive.scheduler_alive)

            found = _by_worker[worker] = Metrics(worker.app, running)
        return found


async def run_metrics(worker: Worker) -> None:
    """A worker service: counts events for the worker's lifetime (until cancelled)."""
    metrics = metrics_for(worker)
    metrics.attach()
    try:
        await asyncio.Event().wait()
    finally:
        metrics.detach()


__all__ = ["EventMetrics", "Metrics", "StoreCollector", "metrics_for", "run_metrics"]
