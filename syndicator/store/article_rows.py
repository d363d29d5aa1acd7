"""An article as rows: the values a poll brings (`Incoming`, the deliveries planned for it, the feed's policy) and
how an article and its deliveries are written and read back."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Connection, RowMapping

from syndicator.article import Article, DeliveryKind, DeliveryState
from syndicator.store import tables as t


@dataclass(frozen=True)
class Incoming:
    article: Article
    key: str  # identity within the feed (normalised id)
    url_key: str  # normalised URL: http/https, www and tracking variants collide


@dataclass(frozen=True)
class NewDelivery:
    target: str
    recipient: str
    post_json: str
    state: str = DeliveryState.PENDING
    error: str | None = None
    delay: timedelta = timedelta(0)  # the target's own cancel window


class Planned(list[NewDelivery]):
    """What `make_deliveries` may answer: an article's deliveries and, when the newsroom kept it off every target
    (syndicator/editorial.py), why: `skipped`. Such an article is recorded in state `skipped` with that reason,
    not `queued` without deliveries. A plain list means "no editorial objection"."""

    def __init__(self, deliveries: Iterable[NewDelivery] = (), *, skipped: str | None = None) -> None:
        super().__init__(deliveries)
        self.skipped = skipped


def skipped_by(deliveries: Sequence[NewDelivery]) -> str | None:
    """Why `deliveries` (an answer of `make_deliveries`) are none at the newsroom's word, else None."""
    return deliveries.skipped if isinstance(deliveries, Planned) else None


SKIPPED = "skipped"  # the article's state when the newsroom kept it off everything (articles.reason says why)


@dataclass(frozen=True)
class FeedPolicy:
    name: str
    latest_on_first_run: int | None  # None: all; 0: none; N: the N newest
    max_age: timedelta | None
    hold_for: timedelta = timedelta(0)
    priority: int = 0


def article_values(a: Article) -> dict[str, Any]:
    return {
        "url": a.url,
        "title": a.title,
        "summary": a.summary,
        "content_html": a.content_html,
        "categories": json.dumps(list(a.categories), ensure_ascii=False),
        "language": a.language,
        "author": a.author,
        "image_url": a.image_url,
        "published_at": a.published,
        "updated_at": a.updated,
    }


def insert_article(conn: Connection, feed: str, item: Incoming, now: datetime, state: str, reason: str | None) -> int:
    result = conn.execute(
        insert(t.articles).values(
            feed=feed,
            key=item.key,
            url_key=item.url_key,
            guid=item.article.id,
            fingerprint=item.article.fingerprint(),
            first_seen_at=now,
            last_seen_at=now,
            state=state,
            reason=reason,
            **article_values(item.article),
        )
    )
    assert result.inserted_primary_key is not None
    return int(result.inserted_primary_key[0])


def insert_deliveries(
    conn: Connection,
    article_id: int,
    policy: FeedPolicy,
    article: Article,
    now: datetime,
    deliveries: list[NewDelivery],
) -> None:
    not_before = now + policy.hold_for
    if article.published and article.published > not_before:
        not_before = article.published  # scheduled/future-dated: not before its time
    if not deliveries:
        return
    conn.execute(
        _INSERT_DELIVERY,
        [
            {
                "article_id": article_id, "feed": policy.name, "target": d.target, "recipient": d.recipient,
                "generation": 0, "kind": DeliveryKind.POST, "parent_id": None, "state": d.state,
                "priority": policy.priority, "manual": False, "post": d.post_json, "published_at": article.published,
                "not_before": max(not_before, now + d.delay), "attempts": 0, "created_at": now, "updated_at": now,
                "error_class": "render" if d.error else None, "last_error": d.error,
            }
            for d in deliveries
        ],
    )  # fmt: skip


# one executemany for an article's deliveries (built once: a statement costs more to build than to run)
_INSERT_DELIVERY = insert(t.deliveries)


def row_to_article(row: RowMapping) -> Article:
    return Article(
        id=row["guid"],
        feed=row["feed"],
        url=row["url"],
        title=row["title"],
        summary=row["summary"],
        content_html=row["content_html"],
        categories=tuple(json.loads(row["categories"] or "[]")),
        language=row["language"],
        author=row["author"],
        published=row["published_at"],
        updated=row["updated_at"],
        image_url=row["image_url"],
    )
