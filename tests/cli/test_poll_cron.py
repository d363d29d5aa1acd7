"""Cron mode: one `syndicator poll` delivers what is due soon (spacing, pace, a short retry-after) and leaves long
waits queued with the reason; its exit code says what happened. Real clients against the fake platforms; the
poll's clock is a fake one whose sleep moves it, so nothing here waits for real time."""

from __future__ import annotations

from pathlib import Path

import pytest

from syndicator.cli import main
from tests.cli.platforms import FEED, SleepingClock, poll, setup
from tests.e2e.helpers import Fakes
from tests.fakes.server import Response

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

RECIPIENTS = [f"1555010{n:04d}" for n in range(20)]


def test_one_poll_sends_every_post_whose_wait_is_short(
    fakes: Fakes, tmp_path: Path, clock: SleepingClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """The issue's report: 1 of 3 Telegram posts (3 s spacing) and 1 of 60 WhatsApp messages (20 recipients,
    50 ms pace) per run. Now one run sends all 63, waiting on the injected clock."""
    limits = {"telegram": {"min_spacing": "3s"}, "whatsapp": {}}
    path = setup(fakes, tmp_path, clock, ["telegram", "whatsapp"], recipients=RECIPIENTS, limits=limits)
    code, doc = poll(path, capsys)
    assert code == 0, doc
    assert doc["targets"]["telegram"]["sent"] == 3 and doc["targets"]["whatsapp"]["sent"] == 60
    assert doc["targets"]["telegram"]["queued"] == 0 and doc["targets"]["whatsapp"]["queued"] == 0
    assert len(fakes.telegram.post_arrivals()) == 3 and len(fakes.whatsapp.post_arrivals()) == 60
    assert max(clock.slept) <= 3.0 and sum(clock.slept) >= 6.0  # the spacing was kept, on the fake clock


def test_long_waits_stay_queued_and_the_poll_says_why(
    fakes: Fakes, tmp_path: Path, clock: SleepingClock, capsys: pytest.CaptureFixture[str]
) -> None:
    path = setup(fakes, tmp_path, clock, ["x", "telegram"], limits={"x": {"quotas": ["1/24h"]}, "telegram": {}})
    code, doc = poll(path, capsys)
    assert code == 0, doc  # a quota is no failure: the next runs send the rest
    x = doc["targets"]["x"]
    assert x["sent"] == 1 and x["queued"] == 2 and "quota 1/1d reached" in x["reason"]
    assert doc["targets"]["telegram"]["sent"] == 3
    assert clock.slept == []  # nothing was waited for: the quota frees a slot in a day
    capsys.readouterr()
    assert main(["--config", str(path), "poll"]) == 0
    out = capsys.readouterr().out
    assert "x: 2 left queued, next at " in out and "quota 1/1d reached" in out


@pytest.mark.parametrize(
    ("answer", "code", "what"),
    [
        (Response(400, {"ok": False, "error_code": 400, "description": "Bad Request: message is too long"}), 3,
         "failed"),
        (Response(429, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 3600",
                        "parameters": {"retry_after": 3600}}), 3, "retry"),
        (Response(502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}), 3, "unknown"),
        (Response(401, {"ok": False, "error_code": 401, "description": "Unauthorized"}), 4, "auth_paused"),
    ],
)  # fmt: skip
def test_the_exit_code_says_what_happened(
    fakes: Fakes,
    tmp_path: Path,
    clock: SleepingClock,
    capsys: pytest.CaptureFixture[str],
    answer: Response,
    code: int,
    what: str,
) -> None:
    path = setup(fakes, tmp_path, clock, ["telegram"], limits={"telegram": {}}, retry={"telegram": {"backoff": "1h"}})
    fakes.telegram.inject(answer)
    result, doc = poll(path, capsys)
    assert result == code and doc["exit_code"] == code, doc
    assert doc["targets"]["telegram"][what], doc
    if code == 4:
        assert doc["targets"]["telegram"]["queued"] == 2  # behind the pause; `check` lifts it (test_recovery)


def test_a_short_retry_after_is_waited_for(
    fakes: Fakes, tmp_path: Path, clock: SleepingClock, capsys: pytest.CaptureFixture[str]
) -> None:
    path = setup(fakes, tmp_path, clock, ["telegram"], limits={"telegram": {}})
    fakes.telegram.inject(Response(429, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry "
                                         "after 5", "parameters": {"retry_after": 5}}))  # fmt: skip
    result, doc = poll(path, capsys)
    assert result == 0, doc
    assert doc["targets"]["telegram"]["sent"] == 3 and doc["targets"]["telegram"]["retry"] == 0
    assert 5.0 <= sum(clock.slept) <= 10.0  # the platform said 5 s; nothing long was waited for


def test_a_feed_that_cannot_be_read_is_exit_1(
    fakes: Fakes, tmp_path: Path, clock: SleepingClock, capsys: pytest.CaptureFixture[str]
) -> None:
    path = setup(fakes, tmp_path, clock, ["telegram"], limits={"telegram": {}})
    text = path.read_text(encoding="utf-8").replace(fakes.site.url_for(FEED), fakes.site.url_for("/gone/"))
    path.write_text(text, encoding="utf-8")
    result, doc = poll(path, capsys)
    assert result == 1 and doc["feeds"][0]["status"] == "failed"
