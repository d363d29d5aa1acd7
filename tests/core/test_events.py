"""The typed event bus: subscribe/emit/unsubscribe, each event's log line, and consumers that read values."""

from __future__ import annotations

from datetime import UTC, datetime

from syndicator import events as ev
from syndicator import logs
from syndicator.limits import WaitKind

WHEN = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def _lines() -> tuple[list[tuple[str, dict[str, object]]], object]:
    seen: list[tuple[str, dict[str, object]]] = []
    return seen, logs.observe(lambda event, fields: seen.append((event, dict(fields))))


def test_subscribers_get_every_event_until_they_unsubscribe() -> None:
    got: list[ev.Event] = []
    undo = ev.subscribe(got.append)
    wait = ev.RateLimitWait(target="x", until=WHEN, reason="quota 1/1h reached", kind=WaitKind.QUOTA)
    ev.emit(wait)
    undo()
    undo()  # idempotent
    ev.emit(wait)
    assert got == [wait]


def test_a_failing_subscriber_does_not_stop_the_others_or_the_emitter() -> None:
    def broken(event: ev.Event) -> None:
        raise RuntimeError("bug")

    undo = ev.subscribe(broken)
    try:
        with ev.captured() as seen:
            ev.emit(ev.FeedPolled(feed="en", items=0, new=0, not_modified=True))
    finally:
        undo()
    assert [type(e) for e in seen] == [ev.FeedPolled]


def test_each_event_is_still_its_log_line() -> None:
    seen, undo = _lines()
    try:
        ev.emit(ev.RateLimitWait(target="x", delivery=3, until=WHEN, reason="spacing 1m", kind=WaitKind.SPACING))
        ev.emit(ev.RateLimitWait(target="x", until=WHEN, reason="usage at 90%", kind=WaitKind.USAGE))
        ev.emit(ev.FeedFailed(feed="en", error="http 500", reason="store", cause="locked", severe=True))
        ev.emit(ev.TargetPaused(target="x", reason="authorization", error="401"))
        ev.emit(ev.DeliveryChanged(parent=1, delivery=2, article=3, feed="en", target="x", platform="telegram",
                                   attempt=1, remote_id="9", url=None, deleted=True))  # fmt: skip
    finally:
        undo()  # type: ignore[operator]
    assert seen == [
        ("ratelimit.wait", {"target": "x", "delivery": 3, "until": WHEN, "reason": "spacing 1m"}),
        ("ratelimit.wait", {"target": "x", "until": WHEN, "reason": "usage at 90%"}),  # the kind is not logged
        ("feed.failed", {"feed": "en", "error": "http 500", "reason": "store", "cause": "locked"}),
        ("target.paused", {"target": "x", "reason": "authorization", "error": "401"}),
        ("delivery.retracted", {"parent": 1, "delivery": 2, "article": 3, "feed": "en", "target": "x",
                                "platform": "telegram", "attempt": 1, "remote_id": "9", "url": None}),
    ]  # fmt: skip
    assert ev.TargetPaused(target="x", reason="authorization").log_level() == ev.ERROR
    assert ev.TargetPaused(target="x", reason="platform").log_level() == ev.WARNING


def test_alerts_read_the_wait_kind_not_the_reason() -> None:
    from syndicator.alerts import Conditions

    class Target:
        platform = "telegram"

    conditions = Conditions(
        targets={"x": Target()},  # type: ignore[dict-item]
        feeds=[],
        feed_failing_after=WHEN - WHEN,
        expiry_window=None,
        clock=lambda: WHEN,
    )
    worded_like_a_quota = ev.RateLimitWait(target="x", until=WHEN, reason="quota reached", kind=WaitKind.SPACING)
    assert conditions.on_event(worded_like_a_quota, received=1.0) == []
    reworded = ev.RateLimitWait(target="x", until=WHEN, reason="posts used up", kind=WaitKind.COST_CAP)
    assert [a.condition for a in conditions.on_event(reworded, received=2.0)] == ["limit:x"]
