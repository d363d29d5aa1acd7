"""The store decides what is new and keeps the outbox exact — on SQLite and PostgreSQL alike."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from syndicator.article import Article, Post, Receipt
from syndicator.limits import Decision
from syndicator.store import Store
from syndicator.store import deliveries as outbox
from syndicator.store import tables as t
from syndicator.store.articles import FeedPolicy, Incoming, NewDelivery, record_poll

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
TARGETS = ("x", "tg")


def art(n: int, **kw: object) -> Incoming:
    a = Article(
        id=f"https://example.org/?p={n}",
        feed="en",
        url=f"https://example.org/post-{n}/",
        title=f"Title {n}",
        published=NOW - timedelta(minutes=n),
    )
    a = replace(a, **kw)  # type: ignore[arg-type]
    return Incoming(a, key=f"example.org/?p={n}", url_key=f"example.org/post-{n}")


def make(a: Article) -> list[NewDelivery]:
    post = Post(platform="telegram", text=a.title, length=len(a.title), limit=4096, link=a.url)
    return [NewDelivery(name, "", post.to_json()) for name in TARGETS]


def policy(**kw: object) -> FeedPolicy:
    values: dict[str, object] = dict(name="en", latest_on_first_run=0, max_age=timedelta(days=2))
    values.update(kw)
    return FeedPolicy(**values)  # type: ignore[arg-type]


def count(store: Store, table: t.Table = t.deliveries) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_first_poll_records_without_posting_then_only_new_items(store_url: str) -> None:
    store = Store(store_url)
    first = record_poll(store, policy(), [art(i) for i in range(10)], now=NOW, make_deliveries=make)
    assert first.first_poll and not first.new and count(store) == 0 and count(store, t.articles) == 10
    later = [art(i) for i in range(-5, 5)]  # five newer on top, five oldest gone
    second = record_poll(store, policy(), later, now=NOW, make_deliveries=make)
    assert {a.title for _, a in second.new} == {f"Title {i}" for i in range(-5, 0)}
    assert count(store) == 5 * len(TARGETS)
    again = record_poll(store, policy(), later, now=NOW, make_deliveries=make)
    assert not again.new and count(store) == 5 * len(TARGETS)
    # a restart: a new Store on the same database knows everything
    restarted = Store(store_url)
    assert not record_poll(restarted, policy(), later, now=NOW, make_deliveries=make).new


def test_first_run_latest_n_and_all(store_url: str) -> None:
    store = Store(store_url)
    out = record_poll(store, policy(latest_on_first_run=3), [art(i) for i in range(10)], now=NOW, make_deliveries=make)
    assert {a.title for _, a in out.new} == {"Title 0", "Title 1", "Title 2"}
    out = record_poll(
        store,
        policy(name="other", latest_on_first_run=None),
        [art(i) for i in range(4)],
        now=NOW,
        make_deliveries=make,
    )
    assert len(out.new) == 4


def test_many_new_items_in_one_poll_all_queued_once(store_url: str) -> None:
    store = Store(store_url)
    record_poll(store, policy(), [art(0)], now=NOW, make_deliveries=make)
    burst = [art(i, published=NOW) for i in range(1, 201)]
    out = record_poll(store, policy(), burst + burst[:50], now=NOW, make_deliveries=make)
    assert len(out.new) == 200 and count(store) == 400


def test_same_article_under_variant_url_or_twice_in_feed_is_one_article(store_url: str) -> None:
    store = Store(store_url)
    record_poll(store, policy(), [], now=NOW, make_deliveries=make)
    a = art(1)
    twin = Incoming(replace(a.article, id="https://example.org/post-1/?utm_source=x"), key="other", url_key=a.url_key)
    out = record_poll(store, policy(), [a, twin], now=NOW, make_deliveries=make)
    assert len(out.new) == 1
    out = record_poll(store, policy(), [twin], now=NOW, make_deliveries=make)
    assert not out.new and count(store) == 2


def test_edited_item_is_updated_not_queued_again(store_url: str) -> None:
    store = Store(store_url)
    record_poll(store, policy(), [], now=NOW, make_deliveries=make)
    record_poll(store, policy(), [art(1)], now=NOW, make_deliveries=make)
    edited = Incoming(replace(art(1).article, title="Corrected title"), art(1).key, art(1).url_key)
    out = record_poll(store, policy(), [edited], now=NOW, make_deliveries=make)
    assert not out.new and [a.title for _, a in out.updated] == ["Corrected title"]
    assert count(store) == 2
    with store.engine.connect() as conn:
        assert conn.execute(select(t.articles.c.title)).scalar_one() == "Corrected title"


def test_future_items_wait_and_old_items_are_recorded_not_posted(store_url: str) -> None:
    store = Store(store_url)
    record_poll(store, policy(), [], now=NOW, make_deliveries=make)
    future = art(1, published=NOW + timedelta(hours=3))
    old = art(2, published=NOW - timedelta(days=3))
    out = record_poll(store, policy(), [future, old], now=NOW, make_deliveries=make)
    assert [a.title for _, a in out.new] == ["Title 1"]
    assert [(a.title, "max_age" in why) for a, why in out.skipped] == [("Title 2", True)]
    assert outbox.claim_due(store, worker="w", now=NOW, lease=timedelta(minutes=1)) == []
    due = outbox.claim_due(store, worker="w", now=NOW + timedelta(hours=3), lease=timedelta(minutes=1))
    assert len(due) == 2


def _allow(_h: object) -> Decision:
    return Decision(True)


def test_claim_send_record_and_crash_becomes_unknown(store_url: str) -> None:
    store = Store(store_url)
    record_poll(store, policy(), [], now=NOW, make_deliveries=make)
    record_poll(store, policy(), [art(1), art(2)], now=NOW, make_deliveries=make)
    lease = timedelta(minutes=1)
    claimed = outbox.claim_due(store, worker="w1", now=NOW, lease=lease)
    assert [d.published_at for d in claimed][:2] == [NOW - timedelta(minutes=1)] * 2  # newest first
    # another worker sees nothing while the lease holds
    assert outbox.claim_due(store, worker="w2", now=NOW, lease=lease) == []
    first, second = claimed[0], claimed[1]
    kw = dict(worker="w1", now=NOW, lease=lease, lookback=timedelta(days=1), month_start=NOW - timedelta(days=5))
    assert outbox.begin_send(store, first, decide=_allow, **kw).allowed  # type: ignore[arg-type]
    outbox.record_sent(store, first.id, Receipt("r1", "https://t.me/c/1"), now=NOW)
    assert outbox.begin_send(store, second, decide=_allow, **kw).allowed  # type: ignore[arg-type]
    # ...the process dies here, mid-call. Later, the lease has expired:
    gone = outbox.expire_leases(store, now=NOW + timedelta(minutes=5), auto_retry_targets=set())
    assert [d.id for d in gone] == [second.id]
    with store.engine.connect() as conn:
        states = dict(conn.execute(select(t.deliveries.c.id, t.deliveries.c.state)).all())
        attempts = conn.execute(select(t.attempts.c.outcome).order_by(t.attempts.c.id)).scalars().all()
    assert states[first.id] == "sent" and states[second.id] == "unknown"
    assert attempts == ["sent", "unknown"]
    # unknown is never claimed again by itself
    later = outbox.claim_due(store, worker="w2", now=NOW + timedelta(minutes=10), lease=lease)
    assert second.id not in {d.id for d in later}


def test_history_seen_by_the_governor_counts_sends(store_url: str) -> None:
    store = Store(store_url)
    record_poll(store, policy(), [], now=NOW, make_deliveries=make)
    record_poll(store, policy(), [art(1), art(2)], now=NOW, make_deliveries=make)
    lease = timedelta(minutes=1)
    seen: list[int] = []

    def decide(h: outbox.TargetHistory) -> Decision:
        seen.append(len(h.send_times))
        return Decision(len(h.send_times) < 1, NOW + timedelta(minutes=9), "quota 1/1h reached")

    xs = [d for d in outbox.claim_due(store, worker="w", now=NOW, lease=lease) if d.target == "x"]
    kw = dict(worker="w", now=NOW, lease=lease, lookback=timedelta(days=1), month_start=NOW - timedelta(days=5))
    assert outbox.begin_send(store, xs[0], decide=decide, **kw).allowed  # type: ignore[arg-type]
    refused = outbox.begin_send(store, xs[1], decide=decide, **kw)  # type: ignore[arg-type]
    assert not refused.allowed and seen == [0, 1]
    with store.engine.connect() as conn:
        row = conn.execute(select(t.deliveries).where(t.deliveries.c.id == xs[1].id)).mappings().one()
    assert row["state"] == "pending" and row["not_before"] == NOW + timedelta(minutes=9)
    assert row["wait_reason"] == "quota 1/1h reached" and row["lease_owner"] is None


def test_a_wave_is_marked_sending_in_one_transaction_and_its_receipts_recorded_in_one(store_url: str) -> None:
    store = Store(store_url)
    record_poll(store, policy(), [], now=NOW, make_deliveries=make)
    record_poll(store, policy(), [art(i) for i in range(1, 7)], now=NOW, make_deliveries=make)
    lease = timedelta(minutes=1)
    claimed = outbox.claim_due(store, worker="w", now=NOW, lease=lease, limit=5)
    assert len(claimed) == 5  # one statement, never more than the limit
    xs = [d for d in outbox.claim_due(store, worker="w", now=NOW, lease=lease) + claimed if d.target == "x"]
    refusal = Decision(False, NOW + timedelta(minutes=3), "quota 3/1h reached")
    started, refused, allowed = outbox.begin_wave(
        store, "x", xs, worker="w", now=NOW, lease=lease, needs=None, plan=lambda _h: (3, refusal)
    )
    assert allowed == 3 and refused is refusal and [d.id for d in started] == [d.id for d in xs[:3]]
    with store.engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(select(t.deliveries).where(t.deliveries.c.target == "x"))}
        attempts = conn.execute(select(func.count()).select_from(t.attempts)).scalar_one()
    assert [rows[d.id].state for d in xs[:4]] == ["sending"] * 3 + ["pending"]
    assert rows[xs[3].id].lease_owner is None and rows[xs[3].id].wait_reason == "quota 3/1h reached"
    assert rows[xs[4].id].lease_owner == "w"  # behind the refused one: the dispatcher gives it back
    assert attempts == 3
    # the process dies after the first call's receipt was recorded: the other two become unknown
    ours = outbox.record_sent_many(store, [(started[0].id, Receipt("r1", None), NOW)], worker="w")
    assert ours == {started[0].id}
    gone = outbox.expire_leases(store, now=NOW + timedelta(minutes=5), auto_retry_targets=set())
    assert sorted(d.id for d in gone) == sorted(d.id for d in started[1:])
    with store.engine.connect() as conn:
        outcomes = conn.execute(select(t.attempts.c.outcome).order_by(t.attempts.c.id)).scalars().all()
    assert outcomes == ["sent", "unknown", "unknown"]
