"""The `status` document: feeds, targets (queue, sends, pauses, quota and cost left), the oldest waiting delivery."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from syndicator.app import App
from syndicator.article import DeliveryState as S
from syndicator.limits import Quota
from syndicator.schema import format_duration
from syndicator.store import reports

_WINDOWS = {timedelta(days=1): "day", timedelta(hours=1): "hour", timedelta(minutes=1): "minute"}


def quota_text(left: int, quota: Quota) -> str:
    """'12 of 17 left this day' reads better than '12/17/1d': what is left, of what, in which window."""
    window = _WINDOWS.get(quota.window) or format_duration(quota.window)
    return f"{left} of {quota.count} per {window}"


def collect_status(app: App, counts: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """`counts`: `reports.target_counts` already read by the caller (metrics), so a scrape reads the store once."""
    now = app.clock()
    if counts is None:
        counts = reports.target_counts(app.store, app.config.targets, now=now)
    targets = []
    oldest: dict[str, Any] | None = None
    for name, target in app.config.targets.items():
        c = counts.get(name, {})
        limits = app.governor.limits[name]
        quotas: list[dict[str, Any]] = []
        if name not in app.governor.unlimited:
            times = reports.send_times(app.store, name, now - limits.lookback)
            for quota in limits.quotas:
                used = sum(1 for ts in times if ts > now - quota.window)
                left = max(0, quota.count - used)
                quotas.append({"left": left, "limit": quota.count, "window": format_duration(quota.window),
                               "text": quota_text(left, quota)})  # fmt: skip
        cost = None
        prices = target.limits
        if prices.cost_per_post or prices.cost_per_post_with_link:
            start = app.governor.month_start(name, now)
            with_link, without = reports.posts_with_links(app.store, name, start)
            # a post with a link at its own price where one is set, a post without at the plain price
            linked = prices.cost_per_post_with_link or prices.cost_per_post
            spend = with_link * linked + without * prices.cost_per_post
            cost = {
                "posts_this_month": with_link + without,
                "with_link": with_link,
                "spend_this_month": round(spend, 2),
            }
        entry = {
            "target": name,
            "platform": target.platform,
            "dry_run": target.dry_run,
            "queued": c.get(S.PENDING, 0) + c.get(S.RETRY, 0),
            "sending": c.get(S.SENDING, 0),
            "sent": c.get(S.SENT, 0),
            "sent_24h": c.get("sent_24h", 0),
            "failed": c.get(S.FAILED, 0),
            "unknown": c.get(S.UNKNOWN, 0),
            "held": c.get(S.HELD, 0),
            "paused_until": c.get("paused_until"),
            "pause_reason": c.get("pause_reason"),
            "auth_failed": c.get("auth_failed", False),
            "waiting_because": c.get("waiting_because"),
            "quota_left": ", ".join(q["text"] for q in quotas) or None,
            "quotas": quotas,
            "cost": cost,
        }
        targets.append(entry)
    waiting = reports.oldest_waiting(app.store)
    if waiting:
        oldest = {
            "delivery": waiting["id"],
            "target": waiting["target"],
            "since": waiting["created_at"],
            "due": waiting["not_before"],
            "reason": waiting["wait_reason"] or waiting["last_error"],
            "age_seconds": round((now - waiting["created_at"]).total_seconds(), 1),
        }
    return {"now": now, "feeds": _feeds(app, now), "targets": targets, "oldest_waiting": oldest}


def _feeds(app: App, now: Any) -> list[dict[str, Any]]:
    """Every configured feed, also one never polled (no row in the store yet), in the configuration's order."""
    stored: dict[str, dict[str, Any] | None] = {f["feed"]: f for f in reports.feed_status(app.store, now=now)}
    out = []
    for feed in app.config.feeds:
        out.append(stored.pop(feed.name, None) or {
            "feed": feed.name, "url": feed.url, "last_poll": None, "result": None, "error": None,
            "failing_since": None, "next_poll": None, "items": None, "articles_24h": 0, "skipped_24h": 0,
            "gap": None,
        })  # fmt: skip
    return out + [f for f in stored.values() if f]  # feeds no longer configured keep their history
