"""An expired token loses nothing: when `syndicator check` (or the worker's periodic check) passes again, the
target's pause is lifted, the delivery the auth error failed is queued again and the ones behind the pause are due
at once, without the stale reason."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from syndicator.alerts.service import AlertService
from syndicator.alerts.settings import load_settings
from syndicator.app import App
from syndicator.cli import main
from syndicator.config import load
from syndicator.store import reports
from tests.cli.platforms import SleepingClock, poll, setup
from tests.e2e.helpers import Fakes
from tests.fakes.server import Response

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

UNAUTHORIZED = Response(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})


def expired_token_poll(fakes: Fakes, tmp_path: Path, clock: SleepingClock, capsys: pytest.CaptureFixture[str]) -> Path:
    path = setup(fakes, tmp_path, clock, ["telegram"], limits={"telegram": {}})
    fakes.telegram.inject(UNAUTHORIZED)
    code, doc = poll(path, capsys)
    assert code == 4 and doc["targets"]["telegram"]["queued"] == 2, doc
    return path


def test_check_passing_sends_what_the_auth_failure_held(
    fakes: Fakes, tmp_path: Path, clock: SleepingClock, capsys: pytest.CaptureFixture[str]
) -> None:
    path = expired_token_poll(fakes, tmp_path, clock, capsys)
    capsys.readouterr()
    assert main(["--config", str(path), "--log-format", "json", "history"]) == 0
    table = capsys.readouterr().out
    assert "failed" in table and "auth" in table and "paused: authorization failed" in table

    assert main(["--config", str(path), "--log-format", "json", "check"]) == 0
    out = capsys.readouterr().out
    assert "resumed  telegram: authorization works again — 1 failed deliveries queued again, 2 waiting" in out

    clock.set(max(clock(), datetime.now(UTC)))  # `check` ran on the real clock
    code, doc = poll(path, capsys, "--max-wait", "0s")  # due now: no waiting needed
    assert code == 0, doc
    assert doc["targets"]["telegram"]["sent"] == 3 and doc["targets"]["telegram"]["queued"] == 0, doc
    assert len([a for a in fakes.telegram.post_arrivals() if a.injected is None]) == 3  # each posted once


async def test_the_workers_periodic_check_resumes_too(
    fakes: Fakes, tmp_path: Path, clock: SleepingClock, capsys: pytest.CaptureFixture[str]
) -> None:
    path = await asyncio.to_thread(expired_token_poll, fakes, tmp_path, clock, capsys)
    text = path.read_text(encoding="utf-8") + '\n[alerts]\nwebhook_url = "http://127.0.0.1:9/hook"\n'
    path.write_text(text, encoding="utf-8")
    cfg = load(path)
    settings = load_settings(cfg)
    assert settings is not None
    app = App.open(cfg, clock=clock)
    woken: list[bool] = []
    service = AlertService(app, settings, channels=[], wake=lambda: woken.append(True))
    service.first_view.set()  # as after the service's first store view (what was firing is adopted by then)
    try:
        await service._check(cfg.targets["telegram"], asyncio.Queue())
        counts = reports.target_counts(app.store, ["telegram"], now=clock())["telegram"]
        assert not counts["auth_failed"] and counts.get("pending") == 3 and woken == [True]
        waiting = reports.waiting(app.store, ["telegram"])["telegram"]
        assert waiting["next_due"] <= clock() and waiting["reason"] is None
    finally:
        await app.aclose()
