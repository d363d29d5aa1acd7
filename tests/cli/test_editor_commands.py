"""resend / retract / hold / release: they name the article and targets, ask first on a terminal (refuse without
--yes elsewhere), take ids an editor can tell apart (history's d345 and a12), and a resend starts afresh."""

from __future__ import annotations

import io
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import update

from syndicator.store import Store
from syndicator.store import deliveries as outbox
from syndicator.store import tables as t
from tests.cli.conftest import Run, as_json


def db(cfg: Path) -> str:
    return f"sqlite:///{cfg.parent / 'syndicator.db'}"


@pytest.fixture
def polled(cli: Run) -> list[dict[str, object]]:
    """After one poll of the sample: three articles sent to four targets; history rows newest first."""
    code, _, err = cli("poll")
    assert code == 0, err
    rows: list[dict[str, object]] = as_json(cli("history", "--json"))["deliveries"]
    assert len(rows) == 12
    return rows


def fail(cfg: Path, delivery: int, attempts: int = 8) -> None:
    store = Store(db(cfg))
    try:
        outbox.record_failure(
            store, delivery, now=datetime.now(UTC), error_class="transient", message="HTTP 503", retry_at=None
        )
        with store.engine.begin() as conn:
            conn.execute(update(t.deliveries).where(t.deliveries.c.id == delivery).values(attempts=attempts))
    finally:
        store.close()


def test_history_shows_delivery_and_article_ids_that_resend_takes(
    cli: Run, cfg: Path, polled: list[dict[str, object]]
) -> None:
    code, table, _ = cli("history")
    header, first, *_ = table.splitlines()
    assert header.split()[:2] == ["DELIVERY", "ARTICLE"]
    row = polled[0]
    assert first.split()[:2] == [f"d{row['id']}", f"a{row['article_id']}"]
    x = next(r for r in polled if r["target"] == "x")
    fail(cfg, int(str(x["id"])))

    code, out, err = cli("resend", f"d{x['id']}", "--yes")
    assert code == 0, err
    # the plan names the article, then only that delivery's target acts
    assert out.startswith(f"resend: article a{x['article_id']} '{x['title']}' (sample) {x['url']}\n")
    assert "queued   x: queued again (was failed)" in out
    assert "telegram" not in out and "facebook" not in out


def test_a_bare_number_that_could_be_either_is_refused_with_both_meanings(
    cli: Run, polled: list[dict[str, object]]
) -> None:
    article_of = {int(str(r["id"])): int(str(r["article_id"])) for r in polled}
    # a number that is an article's id and the id of a delivery of another article
    number = next(a for a in sorted(set(article_of.values())) if article_of.get(a, a) != a)
    code, _, err = cli("resend", str(number), "--yes")
    assert code == 2
    assert f"{number} is ambiguous: say a{number} for article {number} (" in err
    assert f"or d{number} for delivery {number} (to " in err
    code, _, err = cli("resend", "a999", "--yes")
    assert code == 2 and "no article a999" in err
    code, _, err = cli("resend", "d999", "--yes")
    assert code == 2 and "no delivery d999" in err


def test_not_on_a_terminal_nothing_is_done_without_yes(cli: Run, cfg: Path, polled: list[dict[str, object]]) -> None:
    x = next(r for r in polled if r["target"] == "x")
    fail(cfg, int(str(x["id"])))
    for command in (["resend", f"a{x['article_id']}"], ["retract", f"a{x['article_id']}"]):
        code, out, err = cli(*command)
        assert code == 2
        assert "needs a confirmation: not a terminal, so nothing was done; add --yes" in err
        assert f"article a{x['article_id']}" in out  # it said what it would have done
    states = {r["state"] for r in as_json(cli("history", "--json", "--article", f"a{x['article_id']}"))["deliveries"]}
    assert states == {"sent", "failed"}


@pytest.mark.parametrize(("answer", "code", "state"), [("y\n", 0, "pending"), ("n\n", 1, "failed"), ("", 1, "failed")])
def test_on_a_terminal_it_asks(
    cli: Run,
    cfg: Path,
    polled: list[dict[str, object]],
    monkeypatch: pytest.MonkeyPatch,
    answer: str,
    code: int,
    state: str,
) -> None:
    x = next(r for r in polled if r["target"] == "x")
    fail(cfg, int(str(x["id"])))
    monkeypatch.setattr("syndicator.cli.output.stdin_is_terminal", lambda: True)
    monkeypatch.setattr(sys, "stdin", io.StringIO(answer))
    result, out, err = cli("resend", f"a{x['article_id']}")
    assert result == code
    assert "Queue 1 delivery now? [y/N]" in err
    assert "x                            requeue  was failed" in out
    [row] = as_json(cli("history", "--json", "--article", f"d{x['id']}", "--target", "x"))["deliveries"]
    assert row["state"] == state


def test_resend_starts_a_fresh_count_of_attempts(cli: Run, cfg: Path, polled: list[dict[str, object]]) -> None:
    x = next(r for r in polled if r["target"] == "x")
    fail(cfg, int(str(x["id"])), attempts=8)  # retries exhausted
    assert cli("resend", f"d{x['id']}", "--yes")[0] == 0
    [row] = as_json(cli("history", "--json", "--target", "x", "--state", "pending"))["deliveries"]
    assert row["id"] == x["id"] and row["attempts"] == 0


def test_json_shows_the_plan_and_what_was_done(cli: Run, polled: list[dict[str, object]]) -> None:
    article = polled[0]["article_id"]
    doc = as_json(cli("resend", f"a{article}", "--force", "--target", "telegram", "--yes", "--json"))
    assert doc["action"] == "resend" and doc["articles"][0]["ref"] == f"a{article}"
    assert [(s["target"], s["action"]) for s in doc["steps"]] == [("telegram", "force")]
    assert doc["done"] == ["telegram: queued (forced)"]
    held = as_json(cli("hold", f"a{article}", "--json"))
    assert [s["target"] for s in held["steps"]] == ["telegram"]
    released = as_json(cli("release", f"a{article}", "--yes", "--json"))
    assert released["done"] == [f"released 1 deliveries of {polled[0]['title']!r} (article a{article})"]


def test_a_real_terminal_is_asked(cfg: Path, polled: list[dict[str, object]]) -> None:
    """The same through a pseudo-terminal: the command sees a real tty on stdin and waits for the answer."""
    import os
    import pty
    import subprocess

    x = next(r for r in polled if r["target"] == "x")
    fail(cfg, int(str(x["id"])))
    master, slave = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "syndicator", "--config", str(cfg), "resend", f"a{x['article_id']}"],
            stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cfg.parent,
        )  # fmt: skip
        os.write(master, b"y\n")  # the terminal holds the line until the command reads it
        out, err = process.communicate(timeout=60)
    finally:
        os.close(master)
        os.close(slave)
    assert process.returncode == 0, err
    assert b"Queue 1 delivery now? [y/N]" in err and b"queued   x: queued again (was failed)" in out
