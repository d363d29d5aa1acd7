"""Crash safety: the real `syndicator run` process, killed with SIGKILL at random moments while the platforms
answer slowly, restarted each time, finally stopped with SIGTERM.

Nothing is posted twice, nothing is lost, and a delivery ends `unknown` exactly when the kill fell inside its
platform call (it was `sending` when the process died) — never silently re-sent. The kill moments are seeded; what
the kills hit depends on timing, so the assertions are invariants that hold whatever they hit.

The call lease is max(retry.call_lease, 4 × timeout): with a 1.2 s timeout a killed call turns `unknown` after
4.8 s instead of a minute, and the dead worker's claimed batch is free as soon.
"""

from __future__ import annotations

import contextlib
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from syndicator import config
from syndicator.app import App
from syndicator.polling import poll_feed
from syndicator.store import Store
from syndicator.store import tables as t
from tests.e2e.helpers import (
    ENV,
    TARGETS,
    RunProcess,
    assert_no_secrets,
    config_text,
    deliveries,
    make_feed,
    started_fakes,
    wait_for,
    wall_now,
)
from tests.fakes.server import Request

SEED = 20261124
ARTICLES = 40
KILLS = 6  # it was 9: most kills fall inside calls (each process starts sending at once), six of them leave unknowns
FEED = "/en/feed/"


@dataclass(frozen=True)
class Kill:
    started: float  # wall time the process was started
    died: float  # wall time after it was reaped: every answer written later never reached it
    sending: frozenset[int]  # deliveries in state `sending` just after it died


def slowing(seed: int) -> Callable[[Request], float]:
    """40 % of a fake's answers are held 0.2–0.5 s after the post is created (seeded)."""
    rng = random.Random(seed)
    lock = threading.Lock()

    def delay(_: Request) -> float:
        with lock:
            return rng.uniform(0.2, 0.5) if rng.random() < 0.4 else 0.0

    return delay


def sending_now(db: str) -> frozenset[int]:
    store = Store(db, migrate=False)
    try:
        with store.engine.connect() as conn:
            d = t.deliveries
            return frozenset(r.id for r in conn.execute(select(d.c.id).where(d.c.state == "sending")))
    finally:
        store.close()


def unfinished(db: str) -> int:
    store = Store(db, migrate=False)
    try:
        return sum(1 for r in deliveries(store) if r.state in ("pending", "retry", "sending"))
    finally:
        store.close()


def test_sigkill_at_random_moments_never_duplicates_and_never_loses(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    db = f"sqlite:///{tmp_path}/syndicator.db"
    log = tmp_path / "run.log"
    with started_fakes() as fakes:
        for n, fake in enumerate(fakes.platforms().values()):
            fake.delay_answer = slowing(SEED + n)
        fakes.site.feeds[FEED] = make_feed(ARTICLES, now=wall_now())
        text = config_text(
            fakes,
            db=db,
            feed_url=fakes.site.url_for(FEED),
            first_run="all",
            recipients=["15550000001"],
            timeout="1.2s",
            retry={name: {"call_lease": "1s", "backoff": "1s"} for name in TARGETS},
        )
        path = tmp_path / "syndicator.toml"
        path.write_text(text, encoding="utf-8")
        # the articles are recorded and queued before the first worker starts (a poll cut short by a kill would
        # hold the feed's poll lease for minutes; this test is about deliveries)
        app = App.open(config.parse(text, environ=ENV))
        assert poll_feed(app, app.config.feed("en")).new == ARTICLES
        app.store.close()

        kills: list[Kill] = []
        processes: list[RunProcess] = []
        try:
            for _ in range(KILLS):
                started = time.time()
                process = RunProcess(path, log, level="debug").start()
                processes.append(process)
                process.wait_started()
                time.sleep(rng.uniform(0.2, 1.5))  # the random moment (the randomness, not a wait for something)
                process.kill()
                kills.append(Kill(started, time.time(), sending_now(db)))

            final = RunProcess(path, log, level="debug").start()
            processes.append(final)
            final_started = time.time()
            wait_for(lambda: unfinished(db) == 0, 60, "every delivery to be sent or unknown")
            assert final.stop() == 0
        finally:  # a failed wait leaves no worker behind, posting to fakes that are gone
            for process in processes:
                if process.alive():
                    process.kill()
        events = final.events()

        store = Store(db, migrate=False)
        rows = deliveries(store)
        store.close()
        arrivals = {name: fake.post_arrivals() for name, fake in fakes.platforms().items()}
        received = {name: fake.received() for name, fake in fakes.platforms().items()}
        held = {name: fake.held_ids() for name, fake in fakes.platforms().items()}

    # none lost: every article × target has its delivery
    assert len(rows) == ARTICLES * len(TARGETS)
    assert Counter(r.target for r in rows) == dict.fromkeys(TARGETS, ARTICLES)
    assert len({(r.article_id, r.target, r.recipient) for r in rows}) == len(rows)

    # every delivery ends sent, or unknown exactly when it was in a platform call when a process died
    in_flight = frozenset().union(*(k.sending for k in kills))
    unknown = {r.id for r in rows if r.state == "unknown"}
    assert Counter(r.state for r in rows).keys() <= {"sent", "unknown"}, Counter(r.state for r in rows)
    assert unknown == in_flight
    assert in_flight, "no kill fell inside a platform call: the scenario did not test anything"

    # nothing twice: each post reached its platform at most once; a sent one exactly once, as its receipt says
    for name in TARGETS:
        twice = {key: n for key, n in received[name].items() if n > 1}
        assert not twice, f"{name} received posts twice: {twice}"
        for r in (r for r in rows if r.target == name):
            if r.state == "sent":
                assert received[name][r.key] == 1 and held[name][r.key] == [r.remote_id], (name, r.id)
            else:
                assert received[name][r.key] <= 1

    # a request the platform was still answering when its process died never got a receipt: it is unknown
    starts = [k.started for k in kills] + [final_started]
    by_key = {(r.target, r.key): r for r in rows}
    for k, kill in enumerate(kills):
        for name, calls in arrivals.items():
            for call in calls:
                if not starts[k] <= call.at < starts[k + 1]:
                    continue
                if call.answered_at is None or call.answered_at > kill.died:
                    assert call.key is not None
                    assert by_key[(name, call.key)].state == "unknown", (name, call.key)

    # the operators were told about each one; and no secret reached a log line
    text_log = log.read_text(encoding="utf-8")
    told = {e.get("delivery") for e in _all_events(text_log) if e.get("event") == "delivery.unknown"}
    assert unknown <= told
    assert any(e.get("event") == "worker.stopped" for e in events)
    assert_no_secrets(text_log, "the workers' stderr")


def _all_events(text: str) -> list[dict[str, object]]:
    out = []
    for line in text.splitlines():
        with contextlib.suppress(ValueError):
            doc = json.loads(line)
            if isinstance(doc, dict):
                out.append(doc)
    return out
