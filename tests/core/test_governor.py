"""The governor with an injected clock: spacing, windows, platform pauses, quiet hours (midnight, DST), caps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from syndicator import config
from syndicator.governor import Governor, parse_quota, quiet_end
from syndicator.limits import TargetHistory

BASE = """
[[feeds]]
name = "f"
url = "https://example.org/feed/"
targets = ["t"]

[targets.t]
platform = "telegram"
chat = "@c"
token_env = "TOK"

[targets.t.limits]
"""


def governor(limits: str = "", platform_defaults: bool = False) -> Governor:
    cfg = config.parse(BASE + limits, environ={"TOK": "1:x"})
    return Governor(cfg.targets)


def history(sends: list[datetime] | None = None, **kw: object) -> TargetHistory:
    values: dict[str, object] = dict(
        target="t",
        send_times=sorted(sends or [], reverse=True),
        month_count=len(sends or []),
        paused_until=None,
        pause_reason=None,
        auth_failed=False,
    )
    values.update(kw)
    return TargetHistory(**values)  # type: ignore[arg-type]


NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def test_platform_defaults_telegram_20_per_minute_and_spacing() -> None:
    gov = governor()
    assert gov.decide("t", history(), NOW).allowed
    just_sent = history([NOW - timedelta(seconds=1)])
    d = gov.decide("t", just_sent, NOW)
    assert not d.allowed and d.at == NOW + timedelta(seconds=2) and "spacing" in d.reason
    twenty = history([NOW - timedelta(seconds=2.9 * i + 3) for i in range(20)])
    d = gov.decide("t", twenty, NOW)
    assert not d.allowed and "quota 20/1m" in d.reason
    oldest_in_window = NOW - timedelta(seconds=2.9 * 19 + 3)
    assert d.at == oldest_in_window + timedelta(minutes=1)


def test_windowed_quota_counts_only_the_window() -> None:
    gov = governor('quotas = ["3/1h"]\nmin_spacing = "0s"')
    sends = [NOW - timedelta(minutes=m) for m in (70, 50, 20, 5)]
    d = gov.decide("t", history(sends), NOW)
    assert not d.allowed and d.at == NOW - timedelta(minutes=50) + timedelta(hours=1)
    later = NOW + timedelta(minutes=11)
    assert gov.decide("t", history(sends), later).allowed


def test_platform_pause_and_auth_pause() -> None:
    gov = governor()
    until = NOW + timedelta(seconds=37)
    d = gov.decide("t", history(paused_until=until, pause_reason="429 retry after 37s"), NOW)
    assert not d.allowed and d.at == until and "429" in d.reason
    assert gov.decide("t", history(paused_until=until), until).allowed
    d = gov.decide("t", history(auth_failed=True), NOW)
    assert not d.allowed and "authorization" in d.reason


def test_quiet_hours_across_midnight_in_the_targets_zone() -> None:
    gov = governor('quiet_hours = "23:00-07:00"\ntimezone = "Asia/Tehran"')  # UTC+3:30, no DST since 2022
    at_night = datetime(2026, 3, 10, 21, 0, tzinfo=UTC)  # 00:30 in Tehran
    d = gov.decide("t", history(), at_night)
    assert not d.allowed and d.reason == "quiet hours"
    assert d.at == datetime(2026, 3, 11, 3, 30, tzinfo=UTC)  # 07:00 Tehran
    before_midnight = datetime(2026, 3, 10, 19, 45, tzinfo=UTC)  # 23:15 Tehran
    assert gov.decide("t", history(), before_midnight).at == datetime(2026, 3, 11, 3, 30, tzinfo=UTC)
    assert gov.decide("t", history(), datetime(2026, 3, 10, 4, 0, tzinfo=UTC)).allowed  # 07:30
    assert gov.decide("t", history(), at_night, breaking=True).allowed


def test_quiet_hours_end_across_a_dst_change() -> None:
    from datetime import time
    from zoneinfo import ZoneInfo

    london = ZoneInfo("Europe/London")
    # night of 28→29 March 2026: clocks go forward at 01:00 UTC; 07:00 local is then 06:00 UTC
    night = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    assert quiet_end(night, (time(23, 0), time(7, 0)), london) == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)
    # and back in October: 07:00 local on 25 Oct 2026 is 07:00 UTC
    autumn = datetime(2026, 10, 25, 3, 0, tzinfo=UTC)
    assert quiet_end(autumn, (time(23, 0), time(7, 0)), london) == datetime(2026, 10, 25, 7, 0, tzinfo=UTC)


def test_cost_caps_per_day_and_month() -> None:
    gov = governor('max_posts_per_day = 2\nmax_posts_per_month = 5\nmin_spacing = "0s"\nquotas = ["100/1h"]')
    sends = [NOW - timedelta(hours=1), NOW - timedelta(hours=2)]
    d = gov.decide("t", history(sends), NOW)
    assert not d.allowed and "2 posts/day" in d.reason and d.at == datetime(2026, 3, 11, tzinfo=UTC)
    d = gov.decide("t", history([], month_count=5), NOW)
    assert not d.allowed and "5 posts/month" in d.reason and d.at == datetime(2026, 4, 1, tzinfo=UTC)


def test_dry_run_targets_are_not_limited() -> None:
    cfg = config.parse(BASE.replace('token_env = "TOK"', 'token_env = "TOK"\ndry_run = true'), environ={})
    gov = Governor(cfg.targets)
    assert gov.decide("t", history([NOW] * 50), NOW).allowed


@pytest.mark.parametrize("bad", ["17", "x/1h", "0/1h", "5/soon"])
def test_bad_quota(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_quota(bad)


def test_a_deletion_is_not_held_by_quotas_or_quiet_hours_but_waits_for_a_platform_pause() -> None:
    gov = governor('quotas = ["1/1h"]\nquiet_hours = "00:00-23:59"')
    full = history([NOW - timedelta(minutes=5)])
    assert not gov.decide("t", full, NOW).allowed
    assert gov.decide("t", full, NOW, kind="delete").allowed
    paused = history(paused_until=NOW + timedelta(seconds=30), pause_reason="429")
    assert not gov.decide("t", paused, NOW, kind="delete").allowed


def test_a_wave_is_planned_as_if_each_one_before_it_had_just_been_sent() -> None:
    from syndicator.article import DeliveryKind

    post, delete = (False, DeliveryKind.POST), (False, DeliveryKind.DELETE)
    quota = governor('min_spacing = "0s"\nquotas = ["3/1h"]')
    assert quota.plan("t", history([NOW - timedelta(minutes=5)]), NOW, [post] * 5)[0] == 2
    allowed, refusal = quota.plan("t", history(), NOW, [post, delete, post, post, post])
    assert allowed == 4 and refusal is not None and refusal.reason.startswith("quota")  # a deletion uses none
    paced = governor('min_spacing = "2s"')
    allowed, refusal = paced.plan("t", history(), NOW, [post] * 8)
    assert allowed == 1 and refusal is not None and refusal.at == NOW + timedelta(seconds=2)
    needs = paced.needs("t", NOW)
    assert needs is not None and needs.sends and not needs.month  # no monthly cap: the month is not counted


def test_a_dry_run_target_reads_no_history_and_any_wave_goes() -> None:
    from syndicator.article import DeliveryKind

    cfg = config.parse(BASE + 'quotas = ["1/1h"]\n', environ={}, dry_run=True)
    dry = Governor(cfg.targets)
    assert dry.needs("t", NOW) is None
    assert dry.plan("t", None, NOW, [(False, DeliveryKind.POST)] * 50) == (50, None)
