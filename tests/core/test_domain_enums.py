"""Delivery states and kinds are enums (StrEnum: they still compare, print and serialise as their strings)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from syndicator.article import Article, DeliveryKind, DeliveryState, Post
from syndicator.store import Store, manage
from syndicator.store import deliveries as outbox
from syndicator.store import tables as t
from syndicator.store.articles import FeedPolicy, Incoming, NewDelivery, record_poll

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _make(a: Article) -> list[NewDelivery]:
    post = Post(platform="telegram", text=a.title, length=len(a.title), limit=4096, link=a.url)
    return [NewDelivery("tg", "", post.to_json())]


def test_a_delivery_read_from_the_store_carries_enums(store_url: str) -> None:
    store = Store(store_url)
    policy = FeedPolicy(name="en", latest_on_first_run=0, max_age=timedelta(days=2))
    article = Article(id="a1", feed="en", url="https://example.org/a1/", title="One", published=NOW)
    record_poll(store, policy, [], now=NOW, make_deliveries=_make)
    record_poll(store, policy, [Incoming(article, key="a1", url_key="a1")], now=NOW, make_deliveries=_make)
    [d] = outbox.claim_due(store, worker="w", now=NOW, lease=timedelta(minutes=1))
    assert type(d.state) is DeliveryState and type(d.kind) is DeliveryKind
    assert d.kind == DeliveryKind.POST == "post" and d.state in ("pending", "sending")
    assert json.dumps({"state": d.state, "kind": d.kind}) == f'{{"state": "{d.state.value}", "kind": "post"}}'
    followup = manage.queue_followup(store, d, kind=DeliveryKind.DELETE, post=d.post, now=NOW)
    with store.engine.connect() as conn:
        row = conn.execute(select(t.deliveries).where(t.deliveries.c.id == followup)).mappings().one()
    again = outbox.to_delivery(row)
    assert again.kind is DeliveryKind.DELETE and again.state is DeliveryState.PENDING and again.parent_id == d.id
