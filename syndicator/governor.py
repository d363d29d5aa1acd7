"""When may this target post next? A pure function of the target's limits, its recent sends (read from the store
inside the target's lock) and the clock it is given — so it holds across restarts and workers, and tests need no
sleeping.

Checks, in order: authorization pause → platform pause (429, usage headers) → quiet hours → spacing → windowed
quotas → cost caps. Nothing is dropped by a limit: the answer is always "not now, ask again at T, because R".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from syndicator.article import DeliveryKind
from syndicator.config import LimitsSettings, TargetSettings
from syndicator.limits import (
    Decision,
    HistoryNeeds,
    Quota,
    TargetHistory,
    WaitKind,
    parse_quiet_hours,
    parse_quota,
    quiet_end,
    zone,
)
from syndicator.platforms import registry
from syndicator.schema import format_duration

__all__ = ["Governor", "Quota", "TargetLimits", "parse_quota", "quiet_end", "validate_limits"]


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
        spec = registry.get(platform)  # the platform's defaults (PLATFORMS.md), when the target sets none
        quotas = tuple(parse_quota(q) for q in limits.quotas) if limits.quotas else spec.quotas
        spacing = limits.min_spacing if limits.min_spacing is not None else spec.spacing
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

    def needs(self, target: str, now: datetime) -> HistoryNeeds | None:
        """What `plan` must be given for this target: None for a target never limited (nothing is read); the
        recent sends only when spacing, a quota or a daily cap counts them; the month's count only for a
        monthly cap."""
        if target in self.unlimited:
            return None
        lim = self.limits[target]
        return HistoryNeeds(
            lookback=lim.lookback,
            month_start=self.month_start(target, now),
            limit=self.history_limit(target),
            sends=bool(lim.spacing or lim.quotas or lim.per_day),
            month=bool(lim.per_month),
        )

    def plan(
        self,
        target: str,
        history: TargetHistory | None,
        now: datetime,
        wave: Sequence[tuple[bool, DeliveryKind]],
    ) -> tuple[int, Decision | None]:
        """How many of a wave (each: breaking?, kind) may start now, one decision each as if the ones before it
        had just been sent, and the first refusal. With spacing only one goes at a time."""
        if target in self.unlimited:
            return len(wave), None
        if history is None:
            raise ValueError(f"target {target!r} is limited: plan needs its history")
        times = list(history.send_times)
        month = history.month_count
        for n, (breaking, kind) in enumerate(wave):
            seen = replace(history, send_times=times, month_count=month)
            decision = self.decide(target, seen, now, breaking=breaking, kind=kind)
            if not decision.allowed:
                return n, decision
            if kind != DeliveryKind.DELETE:  # deletions use up no quota
                times = [now, *times]
                month += 1
        return len(wave), None

    def lookback(self, target: str) -> timedelta:
        return self.limits[target].lookback

    def month_start(self, target: str, now: datetime) -> datetime:
        local = now.astimezone(self.limits[target].tz)
        return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)

    def decide(
        self,
        target: str,
        history: TargetHistory,
        now: datetime,
        *,
        breaking: bool = False,
        kind: DeliveryKind = DeliveryKind.POST,
    ) -> Decision:
        lim = self.limits[target]
        if target in self.unlimited:
            return Decision(True)
        if history.auth_failed:
            return Decision(
                False,
                now + timedelta(minutes=10),
                "paused: authorization failed — fix it, then run `syndicator check`",
                WaitKind.AUTH,
            )
        if history.paused_until and history.paused_until > now:
            return Decision(
                False,
                history.paused_until,
                f"paused by the platform: {history.pause_reason or 'rate limit'}",
                WaitKind.PLATFORM,
            )
        if kind == DeliveryKind.DELETE:
            return Decision(True)  # taking a post down is not posting: no quiet hours, quotas or caps hold it up
        if lim.quiet and not breaking:
            end = quiet_end(now, lim.quiet, lim.tz)
            if end is not None:
                return Decision(False, end, "quiet hours", WaitKind.QUIET_HOURS)
        times = history.send_times  # newest first
        if times and lim.spacing and times[0] + lim.spacing > now:
            return Decision(False, times[0] + lim.spacing, f"spacing {format_duration(lim.spacing)}", WaitKind.SPACING)
        for quota in lim.quotas:
            recent = [ts for ts in times if ts > now - quota.window]
            if len(recent) >= quota.count:
                return Decision(False, recent[quota.count - 1] + quota.window, f"quota {quota} reached", WaitKind.QUOTA)
        if lim.per_day:
            day_start = now.astimezone(lim.tz).replace(hour=0, minute=0, second=0, microsecond=0)
            today = [ts for ts in times if ts >= day_start.astimezone(UTC)]
            if len(today) >= lim.per_day:
                return Decision(
                    False,
                    _next_local_midnight(now, lim.tz),
                    f"cost cap: {lim.per_day} posts/day reached",
                    WaitKind.COST_CAP,
                )
        if lim.per_month and history.month_count >= lim.per_month:
            return Decision(
                False, _next_month(now, lim.tz), f"cost cap: {lim.per_month} posts/month reached", WaitKind.COST_CAP
            )
        return Decision(True)


def _next_local_midnight(now: datetime, tz: ZoneInfo) -> datetime:
    local = now.astimezone(tz)
    return datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)


def _next_month(now: datetime, tz: ZoneInfo) -> datetime:
    local = now.astimezone(tz)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return datetime(year, month, 1, tzinfo=tz).astimezone(UTC)
