"""The commands in-process on the bundled sample: exit codes, one JSON document on stdout, readable tables."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from syndicator.cli import main

SAMPLE = Path(__file__).resolve().parents[2] / "syndicator" / "data" / "sample-feed.rss"


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    text = (Path(__file__).resolve().parents[2] / "config" / "syndicator.toml").read_text()
    text = text.replace('url = "../syndicator/data/sample-feed.rss"', f'url = "{SAMPLE}"')
    file = tmp_path / "s.toml"
    file.write_text(text)
    return str(file)


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> object:
    assert main(list(args)) == 0
    return json.loads(capsys.readouterr().out)


def test_poll_status_history_on_the_sample(cfg: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", cfg, "--log-format", "json", "poll"]) == 0
    out = capsys.readouterr()
    assert "sample: ok — 10 items, 3 new" in out.out
    docs = [json.loads(line) for line in out.err.splitlines()]
    events = [doc["event"] for doc in docs]
    # the sample's targets are dry runs: a newcomer sees each post it would make, with its text (a lane's first
    # ten dry-run sends have their own line; only beyond them is a lane summed up in `delivery.sent_batch`)
    sent = [doc for doc in docs if doc["event"] == "delivery.sent"]
    assert events.count("article.new") == 3 and "delivery.sent_batch" not in events
    assert sorted(d["target"] for d in sent) == sorted(["facebook", "telegram", "whatsapp", "x"] * 3)
    assert all(d["dry_run"] and d["text"] for d in sent)
    status = run_json(capsys, "--config", cfg, "status", "--json")
    assert isinstance(status, dict)
    assert [t["sent"] for t in status["targets"]] == [3, 3, 3, 3]
    assert status["feeds"][0]["result"] == "ok" and status["oldest_waiting"] is None
    history = run_json(capsys, "--config", cfg, "history", "--json", "--target", "telegram")
    assert isinstance(history, dict) and len(history["deliveries"]) == 3
    assert {d["state"] for d in history["deliveries"]} == {"sent"}
    assert main(["--config", cfg, "status"]) == 0
    table = capsys.readouterr().out
    assert "TARGET" in table and "telegram (dry run)" in table


def test_preview_json_shows_four_targets_within_limits(cfg: str, capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_json(capsys, "--config", cfg, "preview", "--feed", "sample", "--latest", "10", "--json")
    assert isinstance(doc, dict) and len(doc["articles"]) == 10
    for entry in doc["articles"]:
        assert [p["platform"] for p in entry["posts"]] == ["twitter", "telegram", "facebook", "whatsapp"]
        assert all(p["length"] <= p["limit"] for p in entry["posts"])
        assert entry["article"]["url"] in entry["posts"][0]["text"]  # the URL whole on X
    url = doc["articles"][0]["article"]["url"]
    one = run_json(capsys, "--config", cfg, "preview", url + "?utm_source=newsletter", "--target", "x", "--json")
    assert isinstance(one, dict) and [p["target"] for p in one["articles"][0]["posts"]] == ["x"]


def test_resend_and_retract_rules(cfg: str, capsys: pytest.CaptureFixture[str]) -> None:
    main(["--config", cfg, "--log-format", "json", "poll"])
    capsys.readouterr()
    history = run_json(capsys, "--config", cfg, "history", "--json", "--target", "x")
    assert isinstance(history, dict)
    url = history["deliveries"][0]["url"]
    assert main(["--config", cfg, "resend", url, "--target", "x"]) == 0  # nothing to do: no confirmation needed
    out = capsys.readouterr().out
    assert "sent; use --force" in out and "Nothing to do." in out
    assert main(["--config", cfg, "resend", url, "--target", "x", "--force"]) == 2  # not a terminal, no --yes
    assert "add --yes" in capsys.readouterr().err
    assert main(["--config", cfg, "resend", url, "--target", "x", "--force", "--yes"]) == 0
    assert "queued (forced)" in capsys.readouterr().out
    assert main(["--config", cfg, "retract", url, "--target", "telegram", "--yes"]) == 0
    assert "retracted" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["preview"], "either an article URL or --feed"),
        (["preview", "--feed", "nope"], "no feed named 'nope'"),
        (["history", "--since", "yesterday"], "--since"),
        (["resend", "https://nowhere.example/a"], "no stored article"),
        (["poll", "--feed", "nope"], "no feed named"),
    ],
)
def test_usage_errors_exit_2(cfg: str, capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    assert main(["--config", cfg, *args]) == 2
    assert message in capsys.readouterr().err


def test_help_is_fast_to_import() -> None:
    import subprocess
    import sys

    code = (
        "import sys, syndicator.cli; print(sorted(m for m in ('telegram', 'tweepy', 'sqlalchemy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"  # heavy libraries load only in the commands that use them


def test_retract_cancels_held_and_every_generation(cfg: str, capsys: pytest.CaptureFixture[str]) -> None:
    main(["--config", cfg, "--log-format", "json", "poll"])
    capsys.readouterr()
    history = run_json(capsys, "--config", cfg, "history", "--json", "--target", "telegram")
    assert isinstance(history, dict)
    url = history["deliveries"][0]["url"]
    assert main(["--config", cfg, "resend", url, "--target", "telegram", "--force", "--yes"]) == 0
    assert main(["--config", cfg, "hold", url]) == 0
    capsys.readouterr()
    assert main(["--config", cfg, "retract", url, "--yes"]) == 0
    out = capsys.readouterr().out
    assert "1 unsent deliveries" in out
    assert len(re.findall(r"^retracted .*: deleted ", out, re.M)) == 3  # the sent posts of the first poll
    assert "retract: article a" in out  # the plan names the article first
    assert main(["--config", cfg, "release", url]) == 0  # nothing held any more: nothing to confirm
    assert "Nothing to do." in capsys.readouterr().out
    after = run_json(capsys, "--config", cfg, "history", "--json", "--state", "pending")
    assert isinstance(after, dict) and after["deliveries"] == []


def test_dry_run_flag_shows_what_would_go_out_and_consumes_nothing(
    cfg: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", cfg, "--log-format", "json", "poll", "--dry-run"]) == 0
    events = [json.loads(line)["event"] for line in capsys.readouterr().err.splitlines()]
    assert events.count("delivery.preview") == 12 and "delivery.sent" not in events
    status = run_json(capsys, "--config", cfg, "status", "--json")
    assert isinstance(status, dict) and [t["queued"] for t in status["targets"]] == [3, 3, 3, 3]
    assert main(["--config", cfg, "run", "--dry-run"]) == 2
    assert "poll --dry-run" in capsys.readouterr().err
