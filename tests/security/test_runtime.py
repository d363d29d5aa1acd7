"""Nothing bad stalls the rest, and the store's faults are said in plain words (issue 12, points 2 and 8).

* Deadlines and independence: the real client libraries (tweepy, python-telegram-bot) against the fake platforms.
  A platform that holds its answer is held by an event the test releases, not by a long sleep: X answering late
  never delays Telegram's posts of the same article or of the next one; a call past its deadline (a few tenths
  of a second here) is `unknown`, never re-sent, and what its thread brings back later is not recorded.
* Store faults, through the real worker (scheduler, delivery loop, HTTP listener) on SQLite and PostgreSQL: a
  locked database (another connection holds the write lock), a read-only one (`mode=ro` URI on SQLite, which
  holds even as root; a read-only session on PostgreSQL), a full disk (SQLite's `max_page_count`; an injected
  DiskFull on PostgreSQL). Each is one structured event, a metric and `/healthz` 503 with the cause in words,
  and no traceback anywhere; a read-only store at start is one line and exit 1.
* SIGTERM of `syndicator run` during a poll and during a platform call: both finish and are recorded, and
  stderr holds only JSON lines, no traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from syndicator import config
from syndicator.app import App
from syndicator.cli import main
from syndicator.dispatch import call_deadline
from syndicator.health import StoreHealth
from syndicator.logs import observe
from syndicator.metrics import run_metrics
from syndicator.store import Store
from syndicator.store import tables as t
from syndicator.store.engine import make_engine
from syndicator.store.faults import WORDS, store_fault
from syndicator.worker import Worker
from tests.conftest import _reset_pg
from tests.e2e.helpers import (
    ENV,
    FakeClock,
    Fakes,
    Instrumented,
    RunProcess,
    config_text,
    counting_executor,
    deliveries,
    drive,
    make_feed,
    preserved_logging,
    started_fakes,
    subprocess_env,
    wait_for,
    wall_now,
)
from tests.fakes.server import Request, Response
from tests.ops.support import Clock, Events, FeedSite, make_app, make_config, running_worker, samples, value, wait_until

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

FEED = "/en/feed/"


# ── helpers ──────────────────────────────────────────────────────────────────────────────────────────────────
class Gate:
    """Holds a fake platform's answers to post requests (the post is created first) until `open()`."""

    def __init__(self, fake: Instrumented, *, limit: float = 10.0) -> None:
        self.fake = fake
        self.opened = threading.Event()
        self.limit = limit
        fake.delay_answer = self._hold

    def _hold(self, _request: Request) -> float:
        self.opened.wait(self.limit)
        return 0.0

    def open(self) -> None:
        self.opened.set()


def real_app(fakes: Fakes, store_url: str, clock: Callable[[], datetime] = wall_now, **kwargs: Any) -> App:
    text = config_text(fakes, db=store_url, feed_url=fakes.site.url_for(FEED), **kwargs)
    return App(config.parse(text, environ=ENV), Store(store_url), clock=clock)


def _rows(store_url: str) -> list[Any]:
    store = Store(store_url, migrate=False)
    try:
        return deliveries(store)
    finally:
        store.close()


def posts(fake: Instrumented) -> int:
    return sum(fake.held().values())


@contextlib.contextmanager
def collected() -> Iterator[Events]:
    events = Events()
    undo = observe(events)
    try:
        yield events
    finally:
        undo()


# ── point 2: a deadline around every call; no target holds back another ─────────────────────────────────────
async def test_a_slow_x_never_delays_telegram_of_the_same_or_the_next_article(store_url: str) -> None:
    with started_fakes() as fakes, collected() as events:
        gate = Gate(fakes.x)
        fakes.site.feeds[FEED] = make_feed(1, now=wall_now())
        app = real_app(fakes, store_url, targets=["x", "telegram"], first_run="all", timeout="5s")
        worker = Worker(app)
        task = asyncio.create_task(worker.run(handle_signals=False))
        try:
            # article 1: Telegram posts it while X still holds its answer to the same article
            await wait_until(lambda: posts(fakes.telegram) == 1 and fakes.x.inflight == 1, what="the first posts")
            # article 2 arrives while X's call is still in flight: Telegram posts it too, at once
            fakes.site.feeds[FEED] = make_feed(2, now=wall_now())
            report = await worker.poll(app.config.feed("en"))
            assert report.new == 1
            await wait_until(lambda: posts(fakes.telegram) == 2, what="Telegram's post of the next article")
            assert fakes.x.inflight == 1 and not gate.opened.is_set()  # X has not answered its first call yet
            telegram_done = time.time()
            gate.open()
            await wait_until(lambda: posts(fakes.x) == 2, what="X's posts once it answers")
        finally:
            gate.open()
            worker.stop()
            await asyncio.wait_for(task, 30)
        rows = _rows(store_url)
        x_first_answer = min(a.answered_at or 0 for a in fakes.x.post_arrivals())
    assert telegram_done < x_first_answer
    assert sorted((r.target, r.state) for r in rows) == [("telegram", "sent")] * 2 + [("x", "sent")] * 2
    assert all(n == 1 for f in (fakes.x, fakes.telegram) for n in f.received().values())  # each once
    assert not events.named("delivery.unknown")


@pytest.mark.parametrize("target", ["x", "telegram"])
async def test_a_call_past_its_deadline_is_unknown_and_never_resent(store_url: str, target: str) -> None:
    """X's client blocks in a thread (it cannot be killed), Telegram's is asyncio: both end at the deadline, and
    what the platform answers later changes nothing."""
    clock = FakeClock(wall_now())
    threads = counting_executor()  # X's client call runs on in its thread after the deadline: the test waits for it
    with started_fakes(clock.seconds) as fakes, collected() as events:
        gate = Gate(getattr(fakes, target))
        fake = gate.fake
        fakes.site.feeds[FEED] = make_feed(1, now=clock.now)
        # the client would wait 10 s for the answer; the call as a whole may take 0.3 s
        retry = {target: {"call_deadline": "0.3s"}}
        app = real_app(fakes, store_url, clock, targets=[target], first_run="all", timeout="10s", retry=retry)
        assert call_deadline(app.config.targets[target]) == timedelta(seconds=0.3)
        from syndicator.polling import poll_feed

        assert poll_feed(app, app.config.feed("en")).new == 1
        started = time.monotonic()
        try:
            assert await app.dispatcher().run_once() == 1
            took = time.monotonic() - started
            [row] = deliveries(app.store)
            assert row.state == "unknown" and "call deadline" in (row.last_error or "")
            # the platform answers after all (the post exists): nothing records that over the unknown state
            gate.open()
            await wait_until(lambda: fake.inflight == 0 and all(a.answered_at for a in fake.post_arrivals()))
            # every thread the call started has come back (X's blocking client with the answer; Telegram's asyncio
            # client was cancelled and started none): whatever could record the answer has run
            await wait_until(lambda: threads.running == 0, what="the cut call's thread to come back")
            [row] = deliveries(app.store)
            assert row.state == "unknown" and row.remote_id is None
            with app.store.engine.connect() as conn:
                lease = conn.execute(select(t.deliveries.c.lease_owner, t.deliveries.c.lease_until)).one()
                outcomes = conn.execute(select(t.attempts.c.outcome)).scalars().all()
            assert tuple(lease) == (None, None)  # the heartbeat stopped with the deadline
            assert outcomes == ["unknown"]
            # hours later, nothing is sent again
            clock.advance(timedelta(hours=6))
            await drive(app, clock)
        finally:
            gate.open()
            await app.aclose()
    assert took < 3.0  # not the client's 10 s
    assert len(fake.post_arrivals()) == 1 and posts(fake) == 1
    [unknown] = events.named("delivery.unknown")
    assert unknown["code"] == "deadline" and unknown["target"] == target
    assert not [e for e in events.named("delivery.late_answer") if e.get("remote_id")]


async def test_a_stop_lets_the_call_in_flight_finish_and_records_it(tmp_path: Path) -> None:
    store_url = f"sqlite:///{tmp_path}/s.db"
    with started_fakes() as fakes:
        gate = Gate(fakes.x)
        fakes.site.feeds[FEED] = make_feed(1, now=wall_now())
        app = real_app(fakes, store_url, targets=["x"], first_run="all", timeout="5s")
        worker = Worker(app)
        task = asyncio.create_task(worker.run(handle_signals=False))
        try:
            await wait_until(lambda: fakes.x.inflight == 1, what="X's call")
            worker.stop()
            # the worker has left its loop and is draining (not before: the stop must come before the answer)
            await wait_until(lambda: not worker.scheduler_alive, what="the worker to begin stopping")
            assert not task.done() and "x" in worker.dispatcher.lanes and fakes.x.inflight == 1
            gate.open()
            await asyncio.wait_for(task, 10)
        finally:
            gate.open()
            if not task.done():
                worker.stop()
                await asyncio.wait_for(task, 30)
        [row] = _rows(store_url)
    assert row.state == "sent" and row.remote_id


# ── point 8: store faults ────────────────────────────────────────────────────────────────────────────────────
CONFIG = """
[store]
url = "{db}"

[http]
listen = "127.0.0.1:0"

[[feeds]]
name = "en"
url = "{feed}"
every = "1h"
max_age = "0s"
targets = ["tg"]

[targets.tg]
platform = "telegram"
chat = "@a"
token_env = "TG_TOKEN"
limits = {{ min_spacing = "0s", quotas = ["100000/1h"] }}
"""
TG_ENV = {"TG_TOKEN": "111111:token-not-real-aaaaaaaaaaaa"}


@pytest.fixture
def site() -> Iterator[FeedSite]:
    with FeedSite() as s:
        yield s


def _on_connect(store: Store, statements: list[str]) -> Callable[[], None]:
    """Run `statements` on every new connection of the store's engine (the pool is emptied, so all are new)."""

    def setup(dbapi_conn: Any, _record: Any) -> None:
        for statement in statements:
            dbapi_conn.execute(statement)
        if store.is_postgres:
            dbapi_conn.commit()

    engine = store.engine
    event.listen(engine, "connect", setup)
    engine.dispose()

    def undo() -> None:
        event.remove(engine, "connect", setup)
        engine.dispose()

    return undo


def _sqlite_path(store: Store) -> str:
    return store.url.removeprefix("sqlite:///")


def inject(kind: str, store: Store) -> Callable[[], None]:
    """Make the store fail the way `kind` says; returns the undo."""
    if kind == "locked":
        # the tests' patience instead of the real 30 s wait for the lock
        if store.is_postgres:
            import psycopg

            shorter = _on_connect(store, ["SET lock_timeout = 300"])
            holder = psycopg.connect(store.url.replace("+psycopg", ""))
            holder.execute("LOCK TABLE feeds, alembic_version IN ACCESS EXCLUSIVE MODE")
        else:
            shorter = _on_connect(store, ["PRAGMA busy_timeout = 300"])
            holder = sqlite3.connect(_sqlite_path(store), isolation_level=None)  # type: ignore[assignment]
            holder.execute("BEGIN EXCLUSIVE")

        def unlock() -> None:
            holder.rollback()
            holder.close()
            shorter()

        return unlock
    if kind == "read_only":
        if store.is_postgres:
            return _on_connect(store, ["SET default_transaction_read_only = on"])
        writable = store.engine
        store.engine = make_engine(f"sqlite:///file:{_sqlite_path(store)}?mode=ro&uri=true")

        def writable_again() -> None:
            store.engine.dispose()
            store.engine = writable

        return writable_again
    assert kind == "disk_full"
    if not store.is_postgres:
        with store.engine.connect() as conn:
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar()
        return _on_connect(store, [f"PRAGMA max_page_count = {pages}"])
    import psycopg

    def full(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT"):
            raise psycopg.errors.DiskFull('could not extend file "base/16384/16397": No space left on device')

    event.listen(store.engine, "before_cursor_execute", full)
    return lambda: event.remove(store.engine, "before_cursor_execute", full)


def run_job_now(worker: Worker, job: str) -> None:
    """Let APScheduler run the job now: the real path, where an exception would become its traceback."""
    worker.scheduler.get_job(job).modify(next_run_time=datetime.now(UTC))


@pytest.mark.parametrize("kind", ["locked", "read_only", "disk_full"])
async def test_a_store_fault_during_a_poll_is_one_event_a_metric_and_an_unhealthy_healthz(
    store_url: str, kind: str, site: FeedSite, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    site.publish(1, clock.now - timedelta(minutes=5))
    cfg = make_config(CONFIG.format(db=store_url, feed=site.url + "/en/feed/"), TG_ENV)
    app, _ = make_app(cfg, clock)
    caplog.set_level(logging.INFO)
    async with running_worker(app, [run_metrics]) as run:
        run.worker.store_health.ttl = 0  # every check probes: this test changes the store between two of them
        assert (await run.get("/healthz")).status_code == 200
        for n in range(2, 42):
            site.publish(n, clock.now)
        undo = inject(kind, app.store)
        try:
            run_job_now(run.worker, "poll:en")
            await wait_until(lambda: run.events.named("feed.failed"), timeout=15, what="the failed poll")
            [failed] = run.events.named("feed.failed")
            assert (failed["reason"], failed["cause"]) == ("store", kind)
            assert WORDS[kind] in failed["error"] and "SQL" not in failed["error"]
            health = await run.get("/healthz")
            assert health.status_code == 503
            assert WORDS[kind] in health.json()["reason"] and "store" in health.json()["reason"]
            metrics = samples((await run.get("/metrics")).text)
            assert value(metrics, "syndicator_store_errors_total", operation="poll", cause=kind) == 1
        finally:
            undo()
        # fixed: the next poll stores the articles, and health is good again
        run_job_now(run.worker, "poll:en")
        await wait_until(lambda: run.events.named("feed.polled")[1:], timeout=15, what="the poll after the fix")
        assert run.events.named("feed.polled")[-1]["new"] == 40
        health = await run.get("/healthz")
        assert health.status_code == 200, health.text
    assert not [r for r in caplog.records if r.name.startswith("apscheduler") and r.levelno >= logging.WARNING]
    assert "Traceback" not in caplog.text


async def test_a_delivery_the_store_cannot_record_is_one_event_with_its_receipt(
    store_url: str, site: FeedSite, caplog: pytest.LogCaptureFixture
) -> None:
    """The post went out, then the store turned read-only: the event says where the post is; nothing re-sends
    it; /healthz says the store cannot be written."""
    clock = Clock()
    cfg = make_config(CONFIG.format(db=store_url, feed=site.url + "/en/feed/"), TG_ENV)
    app, publishers = make_app(cfg, clock)
    undo: list[Callable[[], None]] = []
    publish = publishers["tg"].publish

    async def publish_then_fail(post: Any) -> Any:
        receipt = await publish(post)
        undo.append(inject("read_only", app.store))
        return receipt

    publishers["tg"].publish = publish_then_fail  # type: ignore[method-assign]
    caplog.set_level(logging.INFO)
    async with running_worker(app, [run_metrics]) as run:
        run.worker.store_health.ttl = 0
        site.publish(1, clock.now)
        await run.worker.poll(app.config.feed("en"))
        await wait_until(lambda: run.events.named("store.failed"), timeout=10, what="the failed record")
        failed = run.events.named("store.failed")[0]
        assert (failed["operation"], failed["cause"], failed["target"]) == ("deliver", "read_only", "tg")
        assert failed["remote_id"] == "tg-1" and "do not resend" in failed["hint"]
        health = await run.get("/healthz")
        assert health.status_code == 503 and "read-only" in health.json()["reason"]
        metrics = samples((await run.get("/metrics")).text)
        assert value(metrics, "syndicator_store_errors_total", operation="deliver", cause="read_only") == 1
        for fix in undo:
            fix()
        # the store is writable again: a claim (the one the delivery loop makes next) takes nothing, the delivery
        # is `sending` until its lease runs out, never re-sent
        dispatcher = run.worker.dispatcher
        await wait_until(lambda: "tg" not in dispatcher.lanes, what="the lane that could not record to end")
        assert await dispatcher.start_lanes() == 0
        assert len(publishers["tg"].published) == 1
        [row] = deliveries(app.store)
        assert row.state == "sending"
    assert "Traceback" not in caplog.text


async def test_the_write_probe_is_cached_so_a_storm_of_health_checks_costs_one_write(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/s.db")
    cfg = make_config(CONFIG.format(db=store.url, feed="http://127.0.0.1:9/feed"), TG_ENV)
    now = [100.0]
    health = StoreHealth(store, cfg, clock=lambda: now[0])
    probes: list[float] = []
    real = store.probe_write

    def counted(**kwargs: Any) -> None:
        probes.append(now[0])
        real(**kwargs)

    store.probe_write = counted  # type: ignore[method-assign]
    answers = await asyncio.gather(*(health.problems() for _ in range(50)))
    assert answers == [[]] * 50 and len(probes) == 1
    now[0] += 4.9
    await health.problems()
    assert len(probes) == 1
    now[0] += 0.2
    await health.problems()
    assert len(probes) == 2
    store.close()


def _read_only_url(store_url: str) -> str:
    if store_url.startswith("sqlite:///"):
        return f"sqlite:///file:{store_url.removeprefix('sqlite:///')}?mode=ro&uri=true"
    return store_url + "?options=-c%20default_transaction_read_only%3Don"


@pytest.mark.parametrize("command", ["run", "poll"])
def test_a_read_only_store_at_start_is_one_line_with_the_cause_and_exit_1(
    store_url: str, command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Store(store_url).close()  # an existing database, at the current schema
    path = tmp_path / "syndicator.toml"
    path.write_text(CONFIG.format(db=_read_only_url(store_url), feed="http://127.0.0.1:9/feed"), encoding="utf-8")
    with preserved_logging(), pytest.MonkeyPatch.context() as mp:
        mp.setenv("TG_TOKEN", TG_ENV["TG_TOKEN"])
        code = main([command, "--config", str(path), "--log-format", "json"])
    err = capsys.readouterr().err
    assert code == 1
    [line] = [ln for ln in err.splitlines() if not ln.startswith("{")]
    assert line.startswith("syndicator: the store failed: read-only: ")
    assert "Traceback" not in err and "OperationalError" not in err


def test_store_faults_are_named_by_their_cause(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/s.db")
    holder = sqlite3.connect(f"{tmp_path}/s.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(Exception) as locked:
            store.probe_write(wait=0.05)
    finally:
        holder.rollback()
        holder.close()
    fault = store_fault(locked.value)
    assert fault is not None and (fault.cause, fault.message) == ("locked", "database is locked")
    store.probe_write()  # the probe's short wait did not stay on the pooled connection
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    assert store_fault(ValueError("not the store")) is None
    store.close()


# ── SIGTERM of the real process ──────────────────────────────────────────────────────────────────────────────
def _clean_stderr(log: Path) -> str:
    text = log.read_text(encoding="utf-8")
    assert "Traceback" not in text and "CancelledError" not in text, text[-3000:]
    return text


def test_sigterm_during_a_poll_lets_it_finish_without_a_traceback(store_url: str, tmp_path: Path) -> None:
    with started_fakes() as fakes:
        fakes.site.fail_next(Response(500, "slow and failing", delay=1.0))  # the first poll is in flight 1 s
        path = tmp_path / "syndicator.toml"
        path.write_text(
            config_text(fakes, db=store_url, feed_url=fakes.site.url_for(FEED), targets=["telegram"]), encoding="utf-8"
        )
        process = RunProcess(path, tmp_path / "run.log", env=subprocess_env()).start()
        try:
            process.wait_started()
            wait_for(lambda: fakes.site.requests, 10, "the first poll")
            assert process.stop() == 0
        finally:
            if process.alive():
                process.kill()
        events = process.events()
    _clean_stderr(tmp_path / "run.log")
    names = [e["event"] for e in events]
    assert names.index("worker.stopping") < names.index("feed.failed") < names.index("worker.stopped")


def test_sigterm_during_a_platform_call_records_it_without_a_traceback(store_url: str, tmp_path: Path) -> None:
    with started_fakes() as fakes:
        gate = Gate(fakes.x)
        fakes.site.feeds[FEED] = make_feed(1, now=wall_now())
        path = tmp_path / "syndicator.toml"
        text = config_text(
            fakes, db=store_url, feed_url=fakes.site.url_for(FEED), targets=["x", "telegram"], first_run="all",
            timeout="5s",
        )  # fmt: skip
        path.write_text(text, encoding="utf-8")
        process = RunProcess(path, tmp_path / "run.log", env=subprocess_env()).start()
        try:
            process.wait_started()
            wait_for(lambda: fakes.x.inflight == 1 and posts(fakes.telegram) == 1, 20, "X's call in flight")
            assert process.proc is not None
            process.proc.terminate()  # SIGTERM
            wait_for(lambda: "worker.stopping" in {e.get("event") for e in process.events()}, 20, "worker.stopping")
            assert process.alive() and fakes.x.inflight == 1  # stopping, and waiting for X's answer
            gate.open()
            assert process.stop() == 0
        finally:
            gate.open()
            if process.alive():
                process.kill()
        events = process.events()
        rows = _rows(store_url)
    _clean_stderr(tmp_path / "run.log")
    assert sorted((r.target, r.state) for r in rows) == [("telegram", "sent"), ("x", "sent")]
    names = [e["event"] for e in events]
    sent_x = next(i for i, e in enumerate(events) if e["event"] == "delivery.sent" and e["target"] == "x")
    assert names.index("worker.stopping") < sent_x < names.index("worker.stopped")


@pytest.mark.postgres
async def test_a_revoked_permission_is_said_in_words(pg_database: str) -> None:
    """PostgreSQL only: as root, SQLite cannot be refused access (it ran on both stores and skipped on SQLite)."""
    import uuid

    import psycopg

    _reset_pg(pg_database)
    store_url = pg_database
    Store(store_url).close()
    role = f"syndicator_ro_{uuid.uuid4().hex[:8]}"
    admin = store_url.replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN")
        conn.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
    limited = Store(store_url.replace("postgres@", f"{role}@"), migrate=False)
    cfg = make_config(CONFIG.format(db=limited.url, feed="http://127.0.0.1:9/feed"), TG_ENV)
    try:
        problems = await StoreHealth(limited, cfg).problems()
    finally:
        limited.close()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP OWNED BY {role}")
            conn.execute(f"DROP ROLE {role}")
    assert problems == ["store cannot be written: permission denied: permission denied for table alembic_version"]
