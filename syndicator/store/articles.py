"""Deciding what is new: every article a feed has shown is recorded; new ones get their deliveries in the same
transaction (the outbox).

Each item is written under its own SAVEPOINT: an item the store refuses (a value the database cannot hold) is
rolled back alone and reported in `PollOutcome.rejected`, and the rest of the poll is committed. A fault of the
store itself (locked, full, unreachable) still fails the whole poll, which its next turn repeats.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, StatementError

from syndicator.article import Article, DeliveryKind, DeliveryState
from syndicator.sources.clean import clean_text
from syndicator.store import tables as t
from syndicator.store.article_rows import (
    SKIPPED,
    FeedPolicy,
    Incoming,
    NewDelivery,
    Planned,
    article_values,
    insert_article,
    insert_deliveries,
    row_to_article,
    skipped_by,
)
from syndicator.store.deliveries import insert_delivery
from syndicator.store.engine import Store

__all__ = [  # the poll's record API, and the row values importers find here
    "SKIPPED", "FeedPolicy", "Incoming", "NewDelivery", "Planned", "PollOutcome", "queue_skipped", "record_poll",
    "row_to_article", "skip_unposted", "skipped_by",
]  # fmt: skip


@dataclass
class PollOutcome:
    first_poll: bool = False
    new: list[tuple[int, Article]] = field(default_factory=list)  # queued (article row id, article)
    updated: list[tuple[int, Article]] = field(default_factory=list)
    skipped: list[tuple[Article, str]] = field(default_factory=list)  # recorded, not posted, and why
    # recorded as `skipped` at the newsroom's word (opt-out): editorial.plan logged why as it decided
    opted_out: list[tuple[int, Article, str]] = field(default_factory=list)
    rejected: list[tuple[Article, str]] = field(default_factory=list)  # not recorded at all (unstorable), and why
    unchanged: int = 0
    seen_ids: list[int] = field(default_factory=list)  # known and unchanged: last_seen_at moves in one statement
    corrections: int = 0  # edits queued for posts already sent
    refreshed: int = 0  # unsent deliveries whose post was re-rendered


def record_poll(
    store: Store,
    policy: FeedPolicy,
    items: Sequence[Incoming],
    *,
    now: datetime,
    make_deliveries: Callable[[Article], list[NewDelivery]],
    editable: frozenset[str] = frozenset(),
    mark_initialized: bool = True,
    then: Callable[[Connection], None] | None = None,
) -> PollOutcome:
    """Record one poll's items. Retried once on a uniqueness race with another worker.

    An item already known whose content changed is updated; its unsent deliveries get the re-rendered post, and
    its sent posts on `editable` targets get an edit delivery (a correction) — all in the same transaction.
    `mark_initialized=False` (a push for one article) never turns the feed's first poll into "everything is new".
    `then` runs last in the same transaction (the poll's own bookkeeping: one commit for the whole poll).
    """
    unique = _dedupe(items)
    # Rendering is CPU work: done before the write transaction, never while it holds SQLite's one write lock.
    # What the store says now decides what is rendered; the transaction reads it again and renders, inside, only
    # what another worker changed meanwhile (rare).
    with store.engine.connect() as conn:
        initialized, known = _read_state(conn, policy.name, unique)
    plan = _plan(policy, unique, known, first_poll=not initialized, now=now)
    rendered = {item.key: make_deliveries(item.article) for item in plan}

    def make(item: Incoming) -> list[NewDelivery]:
        got = rendered.get(item.key)
        return got if got is not None else make_deliveries(item.article)

    args = (store, policy, unique, now, make, editable, mark_initialized, then)
    try:
        return _record(*args, last_try=False)
    except IntegrityError:
        # on the second try a uniqueness error is no longer a race: it is that item's, and only it is skipped
        return _record(*args, last_try=True)


def _read_state(
    conn: Connection, feed: str, items: Sequence[Incoming]
) -> tuple[bool, dict[tuple[str, str], RowMapping]]:
    row = conn.execute(select(t.feeds.c.initialized).where(t.feeds.c.name == feed)).first()
    return bool(row and row.initialized), _known(conn, feed, items)


def _plan(
    policy: FeedPolicy,
    items: Sequence[Incoming],
    known: dict[tuple[str, str], RowMapping],
    *,
    first_poll: bool,
    now: datetime,
) -> list[Incoming]:
    """The items whose posts will be rendered: new ones that will be queued, known ones whose content changed."""
    chosen = _first_run_choice(items, policy.latest_on_first_run) if first_poll else None
    out = []
    for item in items:
        row = _row_of(known, item)
        if row is not None:
            if item.article.fingerprint() != row["fingerprint"]:
                out.append(item)
        elif _skip_reason(item, policy, chosen, now) is None:
            out.append(item)
    return out


def _row_of(known: dict[tuple[str, str], RowMapping], item: Incoming) -> RowMapping | None:
    return known.get(("k", item.key)) or known.get(("u", item.url_key))


def _skip_reason(item: Incoming, policy: FeedPolicy, chosen: set[str] | None, now: datetime) -> str | None:
    if chosen is not None and item.key not in chosen:
        return "first poll of the feed: recorded as seen"
    if _too_old(item.article, policy.max_age, now):
        return f"older than max_age ({policy.max_age})"
    return None


def _record(
    store: Store,
    policy: FeedPolicy,
    unique: Sequence[Incoming],
    now: datetime,
    make_deliveries: Callable[[Incoming], list[NewDelivery]],
    editable: frozenset[str],
    mark_initialized: bool,
    then: Callable[[Connection], None] | None,
    *,
    last_try: bool,
) -> PollOutcome:
    out = PollOutcome()
    with store.write() as conn:
        feed_row = conn.execute(select(t.feeds.c.initialized).where(t.feeds.c.name == policy.name)).first()
        out.first_poll = not (feed_row and feed_row.initialized)
        known = _known(conn, policy.name, unique)
        chosen = _first_run_choice(unique, policy.latest_on_first_run) if out.first_poll else None
        for item in unique:
            row = _row_of(known, item)
            part = PollOutcome()
            try:
                if row is not None and _unchanged(row, item, part):
                    _absorb(out, part)
                    continue  # nothing to write: marked seen in one statement below
                with conn.begin_nested():
                    _record_item(conn, item, row, policy, chosen, now, make_deliveries, editable, part)
            except Exception as exc:
                if not _item_fault(exc, last_try):
                    raise
                out.rejected.append((item.article, f"cannot be stored: {_describe(exc)}"))
                continue
            _absorb(out, part)
        for chunk in range(0, len(out.seen_ids), 500):
            ids = out.seen_ids[chunk : chunk + 500]
            conn.execute(update(t.articles).where(t.articles.c.id.in_(ids)).values(last_seen_at=now))
        if feed_row is None:
            conn.execute(insert(t.feeds).values(name=policy.name, url="", initialized=mark_initialized, last_items=0))
        elif mark_initialized and out.first_poll:
            conn.execute(update(t.feeds).where(t.feeds.c.name == policy.name).values(initialized=True))
        if then is not None:
            then(conn)
    return out


def _record_item(
    conn: Connection,
    item: Incoming,
    row: RowMapping | None,
    policy: FeedPolicy,
    chosen: set[str] | None,
    now: datetime,
    make_deliveries: Callable[[Incoming], list[NewDelivery]],
    editable: frozenset[str],
    out: PollOutcome,
) -> None:
    if row is not None:  # known and changed
        planned = make_deliveries(item)
        if row["state"] == SKIPPED:
            _update_skipped(conn, row, item, policy, now, planned, out)
            return
        _update(conn, row, item, now, out)
        _correct(conn, row["id"], planned, editable, now, out)
        why = skipped_by(planned)
        if why and row["state"] == "queued":
            _opt_out_later(conn, row["id"], item.article, why, now, out)
        return
    reason = _skip_reason(item, policy, chosen, now)
    planned = [] if reason else make_deliveries(item)
    opted_out = skipped_by(planned)
    state = "seen" if reason else SKIPPED if opted_out else "queued"
    article_id = insert_article(conn, policy.name, item, now, state, reason or opted_out)
    if reason:
        if not reason.startswith("first poll"):
            out.skipped.append((item.article, reason))
        return
    if opted_out:
        out.opted_out.append((article_id, item.article, opted_out))
        return
    insert_deliveries(conn, article_id, policy, item.article, now, planned)
    out.new.append((article_id, item.article))


def _update_skipped(
    conn: Connection,
    row: RowMapping,
    item: Incoming,
    policy: FeedPolicy,
    now: datetime,
    planned: list[NewDelivery],
    out: PollOutcome,
) -> None:
    """An article the newsroom had kept off everything changed. Still kept off: recorded, with today's reason.
    No longer (the tag was removed): queued now, as a new article would be — unless it is older than `max_age`
    by now, which a new article would not be posted for either."""
    values: dict[str, Any] = {"last_seen_at": now, "fingerprint": item.article.fingerprint(), "changed_at": now}
    values.update(article_values(item.article))
    why = skipped_by(planned)
    if why:
        values["reason"] = why
        out.opted_out.append((row["id"], item.article, why))
    elif _too_old(item.article, policy.max_age, now):
        why = f"its opt-out was lifted, but it is older than max_age ({policy.max_age}) by now"
        values["reason"] = why
        out.skipped.append((item.article, why))
    else:
        values.update(state="queued", reason=None)
    a = t.articles
    # conditional: another worker (or the plugin's webhook) may have queued it meanwhile
    changed = conn.execute(update(a).where(a.c.id == row["id"], a.c.state == SKIPPED).values(**values)).rowcount
    if changed and not why:
        insert_deliveries(conn, row["id"], policy, item.article, now, planned)
        out.new.append((row["id"], item.article))


def queue_skipped(
    store: Store, article_id: int, policy: FeedPolicy, article: Article, deliveries: list[NewDelivery], *, now: datetime
) -> bool:
    """A `skipped` article the newsroom no longer keeps off (the plugin's box unticked): queued now, in one
    transaction, if it is still skipped and within `max_age`. True when it was queued here."""
    if skipped_by(deliveries) or not deliveries or _too_old(article, policy.max_age, now):
        return False
    a = t.articles
    with store.write() as conn:
        changed = conn.execute(
            update(a).where(a.c.id == article_id, a.c.state == SKIPPED).values(state="queued", reason=None)
        ).rowcount
        if changed:
            insert_deliveries(conn, article_id, policy, article, now, deliveries)
    return bool(changed)


def skip_unposted(store: Store, article_id: int, *, reason: str) -> bool:
    """A queued article the newsroom now keeps off everything, whose unsent deliveries were cancelled: `skipped`
    with `reason` if nothing of it is (or may be) on a platform; one with posts out stays `queued` (re-checked for
    withdrawal, its posts stay). True when it is skipped now."""
    with store.write() as conn:
        return _skip_if_unposted(conn, article_id, reason)


def _skip_if_unposted(conn: Connection, article_id: int, reason: str) -> bool:
    a, d = t.articles, t.deliveries
    out = select(d.c.id).where(
        d.c.article_id == article_id, d.c.state.in_((DeliveryState.SENT, DeliveryState.SENDING, DeliveryState.UNKNOWN))
    )
    result = conn.execute(
        update(a)
        .where(a.c.id == article_id, a.c.state == "queued", ~out.exists())
        .values(state=SKIPPED, reason=reason)
    )
    return bool(result.rowcount)


def _opt_out_later(
    conn: Connection, article_id: int, article: Article, reason: str, now: datetime, out: PollOutcome
) -> None:
    """A queued article was tagged to stay off social media after all: what has not gone out is cancelled (as
    the plugin's "don't post this" does, editorial.told), and with nothing out it becomes `skipped`."""
    d = t.deliveries
    conn.execute(
        update(d)
        .where(
            d.c.article_id == article_id,
            d.c.state.in_((DeliveryState.PENDING, DeliveryState.RETRY, DeliveryState.HELD)),
        )
        .values(
            state=DeliveryState.RETRACTED, error_class="skipped", last_error=reason, updated_at=now,
            lease_owner=None, lease_until=None,
        )
    )  # fmt: skip
    if _skip_if_unposted(conn, article_id, reason):
        out.opted_out.append((article_id, article, reason))


def _absorb(out: PollOutcome, part: PollOutcome) -> None:
    """One item's outcome into the poll's, once its writes are in: a rolled-back item leaves no trace."""
    out.new += part.new
    out.updated += part.updated
    out.skipped += part.skipped
    out.opted_out += part.opted_out
    out.unchanged += part.unchanged
    out.seen_ids += part.seen_ids
    out.corrections += part.corrections
    out.refreshed += part.refreshed


def _item_fault(exc: Exception, last_try: bool) -> bool:
    """Whether a failure belongs to the item (a value the store cannot hold) rather than to the store."""
    if isinstance(exc, IntegrityError):
        return last_try  # first a race with another worker: the whole poll is tried again
    if isinstance(exc, DBAPIError):
        # 22: data exception (NUL, bad encoding, value too long); 54: program limit (an index entry too large)
        sqlstate = str(getattr(exc.orig, "sqlstate", "") or "")
        return isinstance(exc, DataError) or sqlstate.startswith(("22", "54"))
    # a value refused before it reached the database (encoding, a naive datetime, an overflow)
    return isinstance(exc, StatementError | ValueError | TypeError | OverflowError)


def _describe(exc: Exception) -> str:
    """A short reason: the underlying error's class and first line, never the statement or its parameters."""
    cause = exc.orig if isinstance(exc, StatementError) and exc.orig is not None else exc
    message = str(cause).strip().split("\n", 1)[0]
    return clean_text(f"{cause.__class__.__name__}: {message}" if message else cause.__class__.__name__, 200)


def _dedupe(items: Sequence[Incoming]) -> list[Incoming]:
    seen: set[str] = set()
    out = []
    for item in items:
        if item.key in seen or item.url_key in seen:
            continue
        seen.update((item.key, item.url_key))
        out.append(item)
    return out


def _known(conn: Connection, feed: str, items: Sequence[Incoming]) -> dict[tuple[str, str], RowMapping]:
    known: dict[tuple[str, str], RowMapping] = {}
    keys = [i.key for i in items]
    url_keys = [i.url_key for i in items]
    for chunk in range(0, len(items), 400):
        rows = conn.execute(
            select(
                t.articles.c.id, t.articles.c.key, t.articles.c.url_key, t.articles.c.fingerprint, t.articles.c.state
            ).where(
                t.articles.c.feed == feed,
                or_(
                    t.articles.c.key.in_(keys[chunk : chunk + 400]),
                    t.articles.c.url_key.in_(url_keys[chunk : chunk + 400]),
                ),
            )
        ).mappings()
        for row in rows:
            known[("k", row["key"])] = row
            known[("u", row["url_key"])] = row
    return known


def _first_run_choice(items: Sequence[Incoming], latest: int | None) -> set[str] | None:
    if latest is None:
        return None
    # newest by published time; undated items keep the feed's own order (newest first in practice)
    order = sorted(
        enumerate(items),
        key=lambda pair: (pair[1].article.published is None, -_ts(pair[1].article.published), pair[0]),
    )
    return {item.key for _, item in order[:latest]}


def _ts(value: datetime | None) -> float:
    return value.timestamp() if value else 0.0


def _too_old(article: Article, max_age: timedelta | None, now: datetime) -> bool:
    if not max_age or article.published is None:
        return False
    return now - article.published > max_age


def _unchanged(row: RowMapping, item: Incoming, out: PollOutcome) -> bool:
    """True (and counted) when a known item is as stored: it is only marked seen, in one batch."""
    if item.article.fingerprint() != row["fingerprint"]:
        return False
    out.unchanged += 1
    out.seen_ids.append(row["id"])
    return True


def _update(conn: Connection, row: RowMapping, item: Incoming, now: datetime, out: PollOutcome) -> None:
    """Record a changed item (`_unchanged` said it is) at once."""
    values: dict[str, Any] = {"last_seen_at": now, "fingerprint": item.article.fingerprint(), "changed_at": now}
    values.update(article_values(item.article))
    out.updated.append((row["id"], item.article))
    conn.execute(update(t.articles).where(t.articles.c.id == row["id"]).values(**values))


def _correct(
    conn: Connection,
    article_id: int,
    rerendered: list[NewDelivery],
    editable: frozenset[str],
    now: datetime,
    out: PollOutcome,
) -> None:
    d = t.deliveries
    fresh = {(n.target, n.recipient): n for n in rerendered if n.error is None}
    latest: dict[tuple[str, str], RowMapping] = {}
    for row in conn.execute(
        select(d).where(d.c.article_id == article_id, d.c.kind == DeliveryKind.POST).order_by(d.c.generation)
    ).mappings():
        latest[(row["target"], row["recipient"])] = row
    for key, row in latest.items():
        new = fresh.get(key)
        if new is None or new.post_json == row["post"]:
            continue
        if row["state"] in (DeliveryState.PENDING, DeliveryState.RETRY, DeliveryState.HELD):
            conn.execute(update(d).where(d.c.id == row["id"]).values(post=new.post_json, updated_at=now))
            out.refreshed += 1
        elif row["state"] in (DeliveryState.SENT, DeliveryState.SENDING) and row["target"] in editable:
            # in flight: the edit waits for the post's receipt (the dispatcher retries it until then)
            if json.loads(new.post_json).get("text") == json.loads(row["post"]).get("text"):
                continue
            insert_delivery(
                conn, article_id=article_id, feed=row["feed"], target=row["target"], recipient=row["recipient"],
                post_json=new.post_json, published_at=row["published_at"], now=now, kind=DeliveryKind.EDIT,
                parent_id=row["id"],
            )  # fmt: skip
            out.corrections += 1
