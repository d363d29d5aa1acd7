"""Limits as values: quotas, quiet hours, a target's send history and the governor's `Decision`.

Config parses into these, the governor decides with them, the store hands them over and events carry them; this
module imports nothing of the pipeline, so none of those import each other through it.

Why a decision says "not now" is a `WaitKind`, never free text to be parsed back: metrics and alerts read the
kind, the reason is for people.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from syndicator.schema import format_duration, parse_duration


class WaitKind(enum.StrEnum):
    """Why a target must wait. The values are metric label values (`ratelimit_waits_total{kind}`)."""

    AUTH = "auth"  # a credential failed: paused until `syndicator check` passes
    PLATFORM = "platform"  # the platform said so (429, flood control, a pause it asked for)
    USAGE = "usage"  # the platform's usage headers near or at 100%: slowing down
    QUIET_HOURS = "quiet_hours"
    SPACING = "spacing"
    QUOTA = "quota"
    COST_CAP = "cost_cap"
    LEASE_LOST = "lease_lost"  # not a limit: another worker owns the delivery now


@dataclass(frozen=True)
class Quota:
    count: int
    window: timedelta

    def __str__(self) -> str:
        return f"{self.count}/{format_duration(self.window)}"


def parse_quota(text: str) -> Quota:
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\S+)\s*", text)
    if not match or int(match.group(1)) <= 0:
        raise ValueError(f"bad quota {text!r} (use e.g. '17/24h')")
    return Quota(int(match.group(1)), parse_duration(match.group(2)))


QuietHours = tuple[time, time]


def parse_quiet_hours(text: str) -> QuietHours | None:
    if not text:
        return None
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", text)
    if not match:
        raise ValueError(f"bad quiet_hours {text!r} (use e.g. '23:00-07:00')")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ValueError(f"bad quiet_hours {text!r}")
    return time(h1, m1), time(h2, m2)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None


def quiet_end(now: datetime, quiet: QuietHours, tz: ZoneInfo) -> datetime | None:
    """If `now` is inside the quiet window (local time, may span midnight), when it ends (UTC); else None."""
    start, end = quiet
    local = now.astimezone(tz)
    t = local.time().replace(tzinfo=None)
    if start == end:
        return None
    inside = (start <= t < end) if start < end else (t >= start or t < end)
    if not inside:
        return None
    day = local.date()
    if start > end and t >= start:
        day = day + timedelta(days=1)
    # wall-clock end in the zone; across a DST change the zone resolves the real instant
    return datetime.combine(day, end, tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True)
class TargetHistory:
    """What the governor needs to know about a target, read inside the target's lock."""

    target: str
    send_times: list[datetime]  # when posts reached the platform at the latest (end of the call), newest first
    month_count: int  # posts since `month_start`
    paused_until: datetime | None
    pause_reason: str | None
    auth_failed: bool


@dataclass(frozen=True)
class Decision:
    allowed: bool
    at: datetime | None = None  # when to ask again, if not allowed
    reason: str = ""  # for people (status, history, logs)
    kind: WaitKind | None = None  # for code (metrics, alerts); None when allowed


@dataclass(frozen=True)
class HistoryNeeds:
    """What the governor reads of a target before it lets a wave start: nothing at all for a target it never
    limits (a dry run); else its state row (pauses), and its recent sends and month's count only if a limit
    counts them."""

    lookback: timedelta
    month_start: datetime
    limit: int  # the newest sends that matter (the largest quota or daily cap)
    sends: bool = True
    month: bool = True
