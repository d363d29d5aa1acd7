"""The `status` document: feeds, targets (queue, sends, pauses, quota and cost left), the oldest waiting delivery."""

from __future__ import annotations

from typing import Any

from syndicator.app import App
from syndicator.article import DeliveryState as S
from syndicator.store import reports


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
        quota_left = []
        if name not in app.governor.unlimited:
            times = reports.send_times(app.store, name, now - limits.lookback)
            for quota in limits.quotas:
                used = sum(1 for ts in times if ts > now - quota.window)
                quota_left.append(f"{max(0, quota.count - used)}/{quota}")
        cost = None
        if target.limits.cost_per_post or target.limits.cost_per_post_with_link:
            per_post = target.limits.cost_per_post_with_link or target.limits.cost_per_post
            month = reports.send_times(app.store, name, app.governor.month_start(name, now))
            cost = {"posts_this_month": len(month), "spend_this_month": round(len(month) * per_post, 2)}
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
            "quota_left": ", ".join(quota_left) or None,
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
    return {"now": now, "feeds": reports.feed_status(app.store, now=now), "targets": targets, "oldest_waiting": oldest}
