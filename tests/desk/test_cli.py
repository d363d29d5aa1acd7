"""The desk's command line: `desk-user add|list|remove`, `preview --png DIR`, and the audit trail in `history`."""

from __future__ import annotations

import io
import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from syndicator.cli import main
from syndicator.desk import passwords
from syndicator.store import Store
from syndicator.store import desk as desk_store
from tests.desk.support import CONFIG, ITEMS, feed_xml

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
GOOD = "TEST-not-real-password-1"


@pytest.fixture
def cfg_path(tmp_path: Path) -> Path:
    feed = tmp_path / "feed.xml"
    feed.write_text(feed_xml([replace(ITEMS[0], image="")]), encoding="utf-8")
    path = tmp_path / "syndicator.toml"
    path.write_text(CONFIG.format(db=tmp_path / "cli.db", feed=feed.as_uri(), desk_extra="", name="news"), "utf-8")
    return path


def run(cfg: Path, *argv: str, stdin: str = "", monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main([*argv, "--config", str(cfg)])


def test_desk_users_are_made_listed_and_removed_from_the_cli(
    cfg_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        run(cfg_path, "desk-user", "add", "alice", "--password-stdin", stdin=GOOD + "\n", monkeypatch=monkeypatch) == 0
    )
    assert "desk user alice (editor) added" in capsys.readouterr().out
    store = Store(f"sqlite:///{cfg_path.parent / 'cli.db'}")
    user = desk_store.get_user(store, "alice")
    assert user is not None and user.role == "editor" and user.password_hash.startswith("$argon2id$")
    assert GOOD not in user.password_hash and passwords.verify(user.password_hash, GOOD)[0]
    assert run(cfg_path, "desk-user", "add", "bob", "--role", "viewer", "--password-stdin", stdin=GOOD + "\n",
               monkeypatch=monkeypatch) == 0  # fmt: skip
    capsys.readouterr()
    assert run(cfg_path, "desk-user", "list", "--json", monkeypatch=monkeypatch) == 0
    listed = json.loads(capsys.readouterr().out)["users"]
    assert [(u["name"], u["role"]) for u in listed] == [("alice", "editor"), ("bob", "viewer")]
    assert run(cfg_path, "desk-user", "remove", "bob", monkeypatch=monkeypatch) == 0
    assert run(cfg_path, "desk-user", "remove", "bob", monkeypatch=monkeypatch) == 2
    assert "no desk user 'bob'" in capsys.readouterr().err
    actions = [e.action for e in desk_store.audit_entries(store)]
    assert actions == ["user-remove", "user-add", "user-add"]


@pytest.mark.parametrize(
    ("stdin", "error"),
    [("short\n", "at least 12 characters"), ("", "at least 12 characters")],
)
def test_a_weak_password_is_refused_in_one_line(
    cfg_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], stdin: str, error: str
) -> None:
    assert run(cfg_path, "desk-user", "add", "alice", "--password-stdin", stdin=stdin, monkeypatch=monkeypatch) == 2
    err = capsys.readouterr().err
    assert error in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_without_a_terminal_the_password_must_come_on_stdin(
    cfg_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(cfg_path, "desk-user", "add", "alice", stdin=GOOD + "\n", monkeypatch=monkeypatch) == 2
    assert "--password-stdin" in capsys.readouterr().err


def test_history_shows_what_was_done_on_the_desk(
    cfg_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(cfg_path, "poll", "--dry-run", monkeypatch=monkeypatch) == 0
    store = Store(f"sqlite:///{cfg_path.parent / 'cli.db'}")
    from syndicator.clock import utcnow

    desk_store.audit(store, user="alice", action="hold", now=utcnow(), lines=["held 5 posts"], article_id=1)
    capsys.readouterr()
    assert run(cfg_path, "history", monkeypatch=monkeypatch) == 0
    out = capsys.readouterr().out
    assert "DESK ACTION" in out and "alice" in out and "held 5 posts" in out
    assert run(cfg_path, "history", "--json", "--article", "a1", monkeypatch=monkeypatch) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [(e["user"], e["action"], e["article_ref"]) for e in doc["desk_audit"]] == [("alice", "hold", "a1")]


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_preview_png_writes_one_picture_per_post(
    cfg_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "pictures"
    code = run(cfg_path, "preview", "--feed", "news", "--target", "telegram", "--target", "x", "--png", str(out),
               monkeypatch=monkeypatch)  # fmt: skip
    assert code == 0
    written = sorted(p.name for p in out.iterdir())
    assert written == ["01-telegram.png", "01-x.png"]
    assert all((out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for name in written)
    assert str(out / "01-x.png") in capsys.readouterr().out


def test_preview_png_without_chromium_says_so_in_one_line(
    cfg_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    code = run(cfg_path, "preview", "--feed", "news", "--png", str(tmp_path / "p"), monkeypatch=monkeypatch)
    err = capsys.readouterr().err
    assert code == 1 and len(err.strip().splitlines()) == 1 and "apt-get install chromium" in err
