"""The withdrawal re-check's cadence is shared by every worker on the database (issue 16, point 4): two worker apps
on one store make one round per interval between them, and a round whose worker died is taken over once its lease
has run out. SQLite and PostgreSQL, an injected clock (nothing waits for real time)."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest

from syndicator import recheck
from syndicator.app import App
from syndicator.polling import poll_feed
from syndicator.store.rechecks import cadence, claim_round
from tests.wordpress.fake import FakeWordPress
from tests.wordpress.helpers import NOW, Clock, make_app, posts

# a worker's process: it claims the round (committed), then dies before anything else runs
KILLED_MID_ROUND = """
import os, signal, sys
from datetime import datetime, timedelta
from syndicator.store import Store
from syndicator.store.rechecks import claim_round
url, job, now, lease = sys.argv[1:]
store = Store(url)
assert claim_round(store, job, worker="killed-worker", now=datetime.fromisoformat(now),
                   lease=timedelta(seconds=float(lease)))
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.fixture
def wp() -> Iterator[FakeWordPress]:
    with FakeWordPress() as site:
        site.publish(2, now=NOW - timedelta(hours=1))
        yield site


def workers(wp: FakeWordPress, store_url: str, clock: Clock) -> tuple[App, App]:
    first = make_app(wp, store_url, clock, wordpress=True, feed_extra='hold_for = "1h"\n')
    second = make_app(wp, store_url, clock, wordpress=True, feed_extra='hold_for = "1h"\n')
    assert first.worker_id != second.worker_id
    feed = first.config.feed("en")
    poll_feed(first, feed)
    wp.publish(3, start=10, now=NOW)
    poll_feed(first, feed)
    return first, second


def rounds(wp: FakeWordPress) -> int:
    """REST list requests by id: one per batch, and these rounds have one batch each."""
    return sum(1 for r in wp.requests if r.path == "/wp-json/wp/v2/posts" and "include" in r.query)


def test_two_workers_make_one_round_per_interval(wp: FakeWordPress, store_url: str) -> None:
    clock = Clock()
    a, b = workers(wp, store_url, clock)
    before = rounds(wp)
    ran = []
    for _ in range(60):  # an hour, both workers looking every minute, in turn
        for app in (a, b):
            ran += [(app.worker_id, clock.now) for _ in recheck.recheck_due(app)]
        clock.now += timedelta(minutes=1)
    assert [when for _, when in ran] == [NOW + recheck.EVERY * n for n in range(4)]  # 0, 15, 30, 45 minutes
    assert rounds(wp) - before == 4  # not 8: one round per interval between the two
    row = cadence(a.store, recheck.job_of(a.config.feed("en")))
    assert row is not None and row["lease_owner"] is None and row["due_at"] == NOW + recheck.EVERY * 4


def test_the_round_still_withdraws_whichever_worker_runs_it(wp: FakeWordPress, store_url: str) -> None:
    clock = Clock()
    a, b = workers(wp, store_url, clock)
    assert recheck.recheck_due(a) == {"en": 0}
    wp.posts[10].status = "draft"
    assert recheck.recheck_due(b) == {} and recheck.recheck_due(a) == {}  # not due yet
    clock.now += recheck.EVERY
    assert recheck.recheck_due(b) == {"en": 1}
    assert {v["state"] for (guid, _), v in posts(a).items() if guid == wp.guid(10)} == {"retracted"}


def test_a_round_whose_worker_was_killed_is_taken_over_when_its_lease_ends(
    wp: FakeWordPress, store_url: str
) -> None:
    clock = Clock()
    a, b = workers(wp, store_url, clock)
    feed = a.config.feed("en")
    job = recheck.job_of(feed)
    lease = max(recheck.LEASE, feed.timeout * 3)
    # a worker process takes the round and is SIGKILLed in the middle of it
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_MID_ROUND, store_url, job, clock.now.isoformat(), str(lease.total_seconds())],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    row = cadence(a.store, job)
    assert row is not None and row["lease_owner"] == "killed-worker"
    before = rounds(wp)
    clock.now += lease - timedelta(seconds=1)
    assert recheck.recheck_due(b) == {} and rounds(wp) == before  # a's lease still holds
    clock.now += timedelta(seconds=1)
    taken_over = clock.now
    assert recheck.recheck_due(b) == {"en": 0} and rounds(wp) == before + 1
    row = cadence(b.store, job)
    assert row is not None and row["lease_owner"] is None and row["due_at"] == taken_over + recheck.EVERY


def test_a_worker_whose_lease_was_taken_over_stops_its_round(wp: FakeWordPress, store_url: str) -> None:
    clock = Clock()
    a, b = workers(wp, store_url, clock)
    job = recheck.job_of(a.config.feed("en"))
    lease = recheck.LEASE
    assert claim_round(a.store, job, worker=a.worker_id, now=clock.now, lease=lease)
    held = recheck.Lease(a, job, lease)
    clock.now += lease / 2
    assert held()  # renewed at half-time
    clock.now += lease + timedelta(seconds=1)  # a stalled past its renewed lease; b takes the round
    assert claim_round(b.store, job, worker=b.worker_id, now=clock.now, lease=lease)
    assert not held()
    before = rounds(wp)
    assert recheck.recheck_feed(a, a.config.feed("en"), lease=held) == 0 and rounds(wp) == before


def test_simultaneous_claims_let_exactly_one_worker_in(wp: FakeWordPress, store_url: str) -> None:
    clock = Clock()
    apps = workers(wp, store_url, clock)
    for n in range(5):
        job = f"race:{n}"
        start = threading.Barrier(6)
        won: list[str] = []

        def claim(app: App, job: str = job, start: threading.Barrier = start, won: list[str] = won) -> None:
            start.wait()
            if claim_round(app.store, job, worker=app.worker_id, now=clock.now, lease=recheck.LEASE):
                won.append(app.worker_id)

        threads = [threading.Thread(target=claim, args=(apps[i % 2],)) for i in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(won) == 1
