"""The platform side of the CLI tests: the fake platforms and site, a configuration pointing at them, a fake
clock for `syndicator poll` whose sleep moves it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from syndicator.cli import main
from tests.e2e.helpers import FakeClock, Fakes, config_text
from tests.fakes.feeds import fixture, refresh_dates

FEED = "/en/feed/"


class SleepingClock(FakeClock):
    def __init__(self, start: datetime) -> None:
        super().__init__(start)
        self.slept: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(timedelta(seconds=seconds))


def setup(fakes: Fakes, tmp_path: Path, clock: FakeClock, targets: list[str], **kwargs: Any) -> Path:
    fakes.site.feeds[FEED] = refresh_dates(fixture("front-page-later.rss"), now=clock())
    text = config_text(
        fakes, db=f"sqlite:///{tmp_path}/s.db", feed_url=fakes.site.url_for(FEED), first_run="latest:3",
        targets=targets, **kwargs,
    )  # fmt: skip
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    return path


def poll(path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    code = main(["--config", str(path), "--log-format", "json", "poll", "--json", *args])
    return code, json.loads(capsys.readouterr().out)


