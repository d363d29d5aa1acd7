"""When may this target post next? A pure function of the target's limits, its recent sends (read from the store
inside the target's lock) and the clock it is given — so it holds across restarts and workers, and tests need no
sleeping.

Checks, in order: authorization pause → platform pause (429, usage headers) → quiet hours → spacing → windowed
quotas → cost caps. Nothing is dropped by a limit: the answer is always "not now, ask again at T, because R".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from syndicator.config import LimitsSettings, TargetSettings
from syndicator.schema import format_duration, parse_duration
from syndicator.store.deliveries import Decision, TargetHistory


@dataclass(frozen=True)
class Quota:
    count: int
    window: timedelta

    def __str__(self) -> str:
        return f"{self.count}/{format_duration(self.window)}"


# Platform defaults (PLATFORMS.md): used when a target sets no quotas / spacing of its own.
DEFAULT_SPACING = {
    "twitter": timedelta(seconds=60),
    "telegram": timedelta(seconds=3),  # ~1 message/s per chat; leave room for edits
    "facebook": timedelta(seconds=30),
    "whatsapp": timedelta(0),  # per-recipient pacing is `pace`
}
DEFAULT_QUOTAS = {
    "twitter": (Quota(17, timedelta(hours=24)),),  # free-era account; raise it for paid tiers
    "telegram": (Quota(20, timedelta(minutes=1)),),
    "facebook": (Quota(50, timedelta(hours=1)),),
    "whatsapp": (),
}


def parse_quota(text: str) -> Quota:
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\S+)\s*", text)
    if not match or int(match.group(1)) <= 0:
        raise ValueError(f"bad quota {text!r} (use e.g. '17/24h')")
    return Quota(int(match.group(1)), parse_duration(match.group(2)))


def parse_quiet_hours(text: str) -> tuple[time, time] | None:
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


@dataclass(frozen=True)
class TargetLimits:
    spacing: timedelta
    quotas: tuple[Quota, ...]
    quiet: tuple[time, time] | None
    tz: ZoneInfo
    per_day: int
    per_month: int

    @classmethod
    def of(cls, platform: str, limits: LimitsSettings, pace: timedelta | None = None) -> TargetLimits:
        quotas = tuple(parse_quota(q) for q in limits.quotas) if limits.quotas else DEFAULT_QUOTAS[platform]
        spacing = limits.min_spacing if limits.min_spacing is not None else DEFAULT_SPACING[platform]
        if pace is not None and limits.min_spacing is None:
            spacing = pace
        return cls(
            spacing=spacing,
            quotas=quotas,
            quiet=parse_quiet_hours(limits.quiet_hours),
            tz=zone(limits.timezone),
            per_day=limits.max_posts_per_day,
            per_month=limits.max_posts_per_month,
        )

    @property
    def lookback(self) -> timedelta:
        # 26 h: a local day is 25 h long when daylight saving ends, and the daily cap counts the whole local day
        return max([self.spacing, timedelta(hours=26), *(q.window for q in self.quotas)])


def validate_limits(target: TargetSettings) -> TargetLimits:
    """Raises ValueError for bad quotas, quiet hours or time zone (the caller reports it as a config error)."""
    pace = getattr(target.settings, "pace", None)
    return TargetLimits.of(target.platform, target.limits, pace)


class Governor:
    def __init__(self, targets: dict[str, TargetSettings]) -> None:
        self.limits = {name: validate_limits(t) for name, t in targets.items()}
        # a dry run sends nothing, so no platform limit applies to it
        self.unlimited = {name for name, t in targets.items() if t.dry_run}

    def history_limit(self, target: str) -> int:
        """How many recent sends `decide` needs to see: the largest quota or daily cap (at least the latest one)."""
        lim = self.limits[target]
        return max([1, lim.per_day, *(q.count for q in lim.quotas)])

    def lookback(self, target: str) -> timedelta:
        return self.limits[target].lookback

    def month_start(self, target: str, now: datetime) -> datetime:
        local = now.astimezone(self.limits[target].tz)
        return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)

    def decide(
        self, target: str, history: TargetHistory, now: datetime, *, breaking: bool = False, kind: str = "post"
    ) -> Decision:
        lim = self.limits[target]
        if target in self.unlimited:
            return Decision(True)
        if history.auth_failed:
            return Decision(
                False, now + timedelta(minutes=10), "paused: authorization failed — fix it, then run `syndicator check`"
            )
        if history.paused_until and history.paused_until > now:
            return Decision(
                False, history.paused_until, f"paused by the platform: {history.pause_reason or 'rate limit'}"
            )
        if kind == "delete":
            return Decision(True)  # taking a post down is not posting: no quiet hours, quotas or caps hold it up
        if lim.quiet and not breaking:
            end = quiet_end(now, lim.quiet, lim.tz)
            if end is not None:
                return Decision(False, end, "quiet hours")
        times = history.send_times  # newest first
        if times and lim.spacing and times[0] + lim.spacing > now:
            return Decision(False, times[0] + lim.spacing, f"spacing {format_duration(lim.spacing)}")
        for quota in lim.quotas:
            recent = [ts for ts in times if ts > now - quota.window]
            if len(recent) >= quota.count:
                return Decision(False, recent[quota.count - 1] + quota.window, f"quota {quota} reached")
        if lim.per_day:
            day_start = now.astimezone(lim.tz).replace(hour=0, minute=0, second=0, microsecond=0)
            today = [ts for ts in times if ts >= day_start.astimezone(UTC)]
            if len(today) >= lim.per_day:
                return Decision(False, _next_local_midnight(now, lim.tz), f"cost cap: {lim.per_day} posts/day reached")
        if lim.per_month and history.month_count >= lim.per_month:
            return Decision(False, _next_month(now, lim.tz), f"cost cap: {lim.per_month} posts/month reached")
        return Decision(True)


def quiet_end(now: datetime, quiet: tuple[time, time], tz: ZoneInfo) -> datetime | None:
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


def _next_local_midnight(now: datetime, tz: ZoneInfo) -> datetime:
    local = now.astimezone(tz)
    return datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)


def _next_month(now: datetime, tz: ZoneInfo) -> datetime:
    local = now.astimezone(tz)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return datetime(year, month, 1, tzinfo=tz).astimezone(UTC)
