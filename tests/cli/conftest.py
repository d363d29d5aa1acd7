"""The commands in-process (`syndicator.cli.main`) on the bundled sample with its dry-run targets, a real SQLite
store in the test's directory."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from syndicator.cli import drain, main
from tests.cli.platforms import SleepingClock
from tests.e2e.helpers import ENV, Fakes, preserved_logging, started_fakes

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "syndicator" / "data" / "sample-feed.rss"


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    text = (ROOT / "config" / "syndicator.toml").read_text()
    text = text.replace('url = "../syndicator/data/sample-feed.rss"', f'url = "{SAMPLE}"')
    file = tmp_path / "s.toml"
    file.write_text(text)
    return file


Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(cfg: Path, capsys: pytest.CaptureFixture[str]) -> Run:
    """cli("status", "--json") → (exit code, stdout, stderr)."""

    def run(*args: str, config: Path | None = None) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(["--config", str(config or cfg), "--log-format", "json", *args])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def as_json(result: tuple[int, str, str]) -> Any:
    code, out, err = result
    assert code == 0, err
    return json.loads(out)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> SleepingClock:
    fake = SleepingClock(datetime.now(UTC).replace(microsecond=0))
    monkeypatch.setattr(drain.RUNTIME, "clock", fake)
    monkeypatch.setattr(drain.RUNTIME, "sleep", fake.sleep)
    return fake


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> Iterator[Fakes]:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    for name in ("SYNDICATOR_DB_URL", "SYNDICATOR_CONFIG", "PORT"):
        monkeypatch.delenv(name, raising=False)
    with started_fakes() as started, preserved_logging():
        yield started
