"""`status` and `history` as an editor reads them: the right counts, a readable quota, every feed, cut text
marked, and no secret needed to look."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update

from syndicator.store import Store
from syndicator.store import deliveries as outbox
from syndicator.store import tables as t
from tests.cli.conftest import Run, as_json

LIVE_X = '\n[targets.x_live]\nplatform = "twitter"\napi_key_env = "TEST_UNSET_X_KEY"\n'


def store(cfg: Path) -> Store:
    return Store(f"sqlite:///{cfg.parent / 'syndicator.db'}")


def test_a_feed_never_polled_is_shown(cli: Run) -> None:
    doc = as_json(cli("status", "--json"))
    assert [(f["feed"], f["result"]) for f in doc["feeds"]] == [("sample", None)]
    code, out, _ = cli("status")
    assert code == 0 and "never polled" in out


def test_counts_new_sent_and_spend_as_they_are(cli: Run, cfg: Path) -> None:
    text = cfg.read_text().replace('[targets.x]\nplatform = "twitter"\ndry_run = true\n',
                                   '[targets.x]\nplatform = "twitter"\ndry_run = true\n'
                                   "limits = { cost_per_post = 0.01, cost_per_post_with_link = 0.2 }\n")  # fmt: skip
    cfg.write_text(text)
    assert cli("poll")[0] == 0
    s = store(cfg)
    try:
        x = [r.id for r in s.engine.connect().execute(select(t.deliveries.c.id).where(t.deliveries.c.target == "x"))]
        with s.engine.begin() as conn:  # two of the three X posts carried no link (priced as plain posts)
            for delivery in x[:2]:
                post = json.loads(conn.execute(select(t.deliveries.c.post).where(t.deliveries.c.id == delivery))
                                  .scalar_one())  # fmt: skip
                post["link"] = None
                conn.execute(update(t.deliveries).where(t.deliveries.c.id == delivery).values(post=json.dumps(post)))
        telegram = [r["id"] for r in outbox_rows(s, "telegram")]
        with s.engine.begin() as conn:  # one Telegram post's outcome is unknown: not counted as sent
            conn.execute(update(t.deliveries).where(t.deliveries.c.id == telegram[0])
                         .values(state="unknown", sent_at=None))  # fmt: skip
    finally:
        s.close()
    doc = as_json(cli("status", "--json"))
    assert doc["feeds"][0]["articles_24h"] == 3  # the first run posted 3 of the sample's 10 items
    by_name = {entry["target"]: entry for entry in doc["targets"]}
    assert by_name["x"]["cost"] == {"posts_this_month": 3, "with_link": 1, "spend_this_month": 0.22}
    assert by_name["telegram"]["sent_24h"] == 2 and by_name["telegram"]["unknown"] == 1


def outbox_rows(s: Store, target: str) -> list[dict[str, object]]:
    with s.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(t.deliveries).where(t.deliveries.c.target == target)).mappings()]


def test_quota_reads_as_words_and_no_secret_is_needed_to_look(
    cli: Run, cfg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg.write_text(cfg.read_text() + LIVE_X)  # a real X target whose secrets are not set
    for name in ("TEST_UNSET_X_KEY", "X_API_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_SECRET"):
        monkeypatch.delenv(name, raising=False)
    doc = as_json(cli("status", "--json"))
    live = next(entry for entry in doc["targets"] if entry["target"] == "x_live")
    assert live["quotas"] and live["quota_left"].startswith(f"{live['quotas'][0]['limit']} of ")
    assert " per " in live["quota_left"] and "/" not in live["quota_left"]
    assert cli("history")[0] == 0
    assert cli("preview", "--feed", "sample", "--target", "x")[0] == 0
    code, _, err = cli("poll")  # sending needs them: every missing one is named at once
    assert code == 2
    assert "environment variables are not set: TEST_UNSET_X_KEY (targets.x_live.api_key_env); " in err


def test_history_marks_cut_text(cli: Run, cfg: Path) -> None:
    assert cli("poll")[0] == 0
    s = store(cfg)
    try:
        [first, *_] = outbox_rows(s, "facebook")
        outbox.record_failure(s, int(str(first["id"])), now=datetime.now(UTC), error_class="permanent",
                              message="(#100) " + "the platform explains at length " * 10, retry_at=None)  # fmt: skip
    finally:
        s.close()
    code, out, _ = cli("history", "--target", "facebook", "--state", "failed")
    assert code == 0
    [row] = out.splitlines()[1:]
    assert row.endswith("…") and "permanent: (#100) the platform explains" in row
