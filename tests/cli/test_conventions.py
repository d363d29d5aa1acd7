"""What the best CLIs do: --version, --json on every command, help with a description and examples, tab
completion, quiet on a closed pipe, bad numbers refused, tables on a terminal and plain columns elsewhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from syndicator.cli import COMMANDS, build_parser, main
from tests.cli.conftest import Run, as_json

SYNDICATOR = [sys.executable, "-m", "syndicator"]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip().startswith("syndicator 0.")


@pytest.mark.parametrize("latest", ["0", "-1", "many"])
def test_preview_latest_must_be_a_positive_number(cli: Run, latest: str) -> None:
    code, _, err = cli("preview", "--feed", "sample", "--latest", latest)
    assert code == 2 and "--latest" in err and ("must be at least 1" in err or "not a number" in err)


def test_every_command_has_a_description_and_examples(capsys: pytest.CaptureFixture[str]) -> None:
    build_parser()
    for name, command in COMMANDS.items():
        assert command.description and command.examples, name
        assert main([*name.split(), "--help"]) == 0
        text = capsys.readouterr().out
        assert "examples:" in text and command.examples[0] in text, name
    assert main(["--help"]) == 0
    top = capsys.readouterr().out
    listed = " ".join(top.split())  # argparse wraps the summaries
    assert all(command.summary[:30] in listed for name, command in COMMANDS.items() if " " not in name)


def test_json_on_every_command(cli: Run, cfg: Path) -> None:
    docs = {
        "poll": as_json(cli("poll", "--json")),
        "status": as_json(cli("status", "--json")),
        "history": as_json(cli("history", "--json")),
        "preview": as_json(cli("preview", "--feed", "sample", "--json")),
        "check": as_json(cli("check", "--offline", "--json")),
        "hold": as_json(cli("hold", "a1", "--json")),
        "release": as_json(cli("release", "a1", "--yes", "--json")),
        "resend": as_json(cli("resend", "a1", "--json", "--yes")),
        "retract": as_json(cli("retract", "a1", "--json", "--yes")),
        "completion": as_json(cli("completion", "bash", "--json")),
    }
    assert docs["check"]["ok"] is True and docs["poll"]["exit_code"] == 0
    assert docs["retract"]["action"] == "retract" and docs["completion"]["shell"] == "bash"
    # every command registered is covered here, except the worker (its --json is its log lines as JSON)
    assert set(COMMANDS) - set(docs) <= {"run"} | {n for n in COMMANDS if " " in n or n.startswith("desk")}


def test_shell_completion(tmp_path: Path) -> None:
    script = subprocess.run([*SYNDICATOR, "completion", "bash"], capture_output=True, text=True, check=True).stdout
    assert "complete" in script and "syndicator" in script
    answer = tmp_path / "completions"
    env = dict(os.environ, _ARGCOMPLETE="1", COMP_LINE="syndicator sta", COMP_POINT="14",
               _ARGCOMPLETE_STDOUT_FILENAME=str(answer))  # fmt: skip
    entry = [sys.executable, "-c", "import sys; from syndicator.cli import main; sys.exit(main())"]
    subprocess.run(entry, env=env, capture_output=True, check=False, timeout=60)
    assert answer.read_text().split() == ["status"]


def test_a_closed_pipe_is_quiet_and_exit_0(cfg: Path) -> None:
    """`syndicator preview … | head -1`: the reader closes early; no 'unexpected error (BrokenPipeError)'."""
    process = subprocess.Popen(
        [*SYNDICATOR, "--config", str(cfg), "preview", "--feed", "sample", "--latest", "10"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cfg.parent,
    )  # fmt: skip
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # like `head -1` done reading: long before the command, still starting, writes a line
    err = process.stderr.read().decode()
    assert process.wait(timeout=60) == 0
    assert "BrokenPipe" not in err and "unexpected error" not in err and "Exception ignored" not in err


def test_tables_on_a_terminal_plain_columns_in_a_pipe(cli: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli("poll")[0] == 0
    plain = cli("history")[1]
    assert plain.splitlines()[0].split()[:2] == ["DELIVERY", "ARTICLE"] and "─" not in plain
    monkeypatch.setattr("syndicator.cli.output.stdout_is_terminal", lambda: True)
    drawn = cli("history")[1]
    assert "DELIVERY" in drawn and "─" in drawn  # rich's table, its header ruled
    assert json.loads(cli("history", "--json")[1])["deliveries"]  # --json is never a table
