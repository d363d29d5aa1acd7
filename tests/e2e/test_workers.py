"""Several workers: three real `syndicator run` processes share one PostgreSQL database and 200 articles × 4
targets. No post reaches a platform twice, the configured quotas hold across the processes, everything is sent.

Quotas are checked where they matter, on the times the fake platforms received the requests (a platform counts
its window on its own side), and on the store's `sending_at` times.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import ProgrammingError

from syndicator.store import Store
from syndicator.store import tables as t
from tests.conftest import _reset_pg
from tests.e2e.helpers import (
    TARGETS,
    RunProcess,
    assert_no_secrets,
    config_text,
    deliveries,
    make_feed,
    max_in_window,
    started_fakes,
    wait_for,
    wall_now,
)

# 200 articles: with 100 (tried) the worker that polls could send them all before the others' first look at the
# outbox (their delivery loop checks every 5 s unless woken), and the run failed 'the work was not shared'
ARTICLES = 200
WORKERS = 3
QUOTA, WINDOW = 100, 3.0  # per target, on X and Telegram: "100/3s"
FEED = "/en/feed/"


def all_sent(db: str) -> bool:
    store = Store(db, migrate=False)
    try:
        rows = deliveries(store)
    except ProgrammingError:  # the workers have not created the schema yet
        return False
    finally:
        store.close()
    return len(rows) == ARTICLES * len(TARGETS) and all(r.state == "sent" for r in rows)


@pytest.mark.postgres
def test_three_workers_on_one_postgres_post_everything_once_within_the_limits(pg_database: str, tmp_path: Path) -> None:
    _reset_pg(pg_database)
    with started_fakes() as fakes:
        fakes.site.feeds[FEED] = make_feed(ARTICLES, now=wall_now())
        quota = {"quotas": [f"{QUOTA}/{WINDOW:g}s"]}
        text = config_text(
            fakes,
            db=pg_database,
            feed_url=fakes.site.url_for(FEED),
            first_run="all",
            every="1h",
            recipients=["15550000001"],
            limits={"x": quota, "telegram": quota},
        )
        path = tmp_path / "syndicator.toml"
        path.write_text(text, encoding="utf-8")
        logs = [tmp_path / f"worker-{n}.log" for n in range(WORKERS)]
        workers = [RunProcess(path, log).start() for log in logs]
        try:
            wait_for(lambda: all_sent(pg_database), 60, f"all {ARTICLES * len(TARGETS)} deliveries to be sent")
        finally:
            codes = [w.stop() for w in workers]
        arrivals = {name: fake.post_arrivals() for name, fake in fakes.platforms().items()}
        received = {name: fake.received() for name, fake in fakes.platforms().items()}
        held = {name: fake.held_ids() for name, fake in fakes.platforms().items()}

    for code, log in zip(codes, logs, strict=True):
        assert code == 0, f"{log.name} exited {code}: " + log.read_text(encoding="utf-8")[-3000:]
    store = Store(pg_database, migrate=False)
    try:
        rows = deliveries(store)
        with store.engine.connect() as conn:
            a = t.attempts
            senders = Counter(r.worker for r in conn.execute(select(a.c.worker).where(a.c.outcome == "sent")))
    finally:
        store.close()

    assert len({(r.article_id, r.target, r.recipient) for r in rows}) == len(rows) == ARTICLES * len(TARGETS)
    for name in TARGETS:
        mine = [r for r in rows if r.target == name]
        assert received[name] == Counter(r.key for r in mine), f"{name}: a post reached the platform twice"
        assert all(held[name][r.key] == [r.remote_id] for r in mine), f"{name}: receipts do not match"
        assert all(r.attempts == 1 for r in mine)
    for name in ("x", "telegram"):
        sends = [r.sending_at.timestamp() for r in rows if r.target == name and r.sending_at is not None]
        assert len(sends) == ARTICLES
        assert max_in_window(sends, WINDOW) <= QUOTA, f"{name}: the governor let more than {QUOTA} in {WINDOW}s"
        seen = [a.at for a in arrivals[name]]
        assert max_in_window(seen, WINDOW) <= QUOTA, f"{name}: the platform saw more than {QUOTA} in {WINDOW}s"
    assert len(senders) >= 2, f"the work was not shared: {senders}"
    for log in logs:
        assert_no_secrets(log.read_text(encoding="utf-8"), log.name)
