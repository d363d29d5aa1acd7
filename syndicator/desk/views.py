"""What the desk's pages show, read from the store: plain dicts for the templates, no HTML here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from syndicator.app import App
from syndicator.article import DeliveryKind as K
from syndicator.article import DeliveryState as S
from syndicator.article import Post
from syndicator.desk import edits as desk_edits
from syndicator.limits import Decision, TargetHistory
from syndicator.platforms import registry
from syndicator.render import render
from syndicator.render.bidi import is_rtl
from syndicator.store import desk as desk_store
from syndicator.store import manage, reports
from syndicator.store import tables as t
from syndicator.store.articles import row_to_article
from syndicator.store.deliveries import Delivery, to_delivery

WAITING = (S.PENDING, S.RETRY, S.HELD, S.SENDING)
QUEUE_LIMIT = 200


@dataclass
class QueueItem:
    delivery: Delivery
    title: str
    language: str
    eta: datetime | None  # when it should go, as far as the limits tell today
    why: str  # why it waits, in words ("" when it goes at the next round)
    kind: str  # held | retry | not_before | quiet_hours | spacing | quota | paused | cost_cap | sending | due


@dataclass
class PostPreview:
    target: str
    platform: str
    title: str  # the platform's title (its spec's `title`: what it posts to)
    post: Post
    delivery: Delivery | None  # None: not queued for this target (drawn from a fresh render)
    edit: desk_store.Edit | None = None
    not_editable: str | None = None  # why the text cannot be edited (None: it can, if the delivery is unsent)
    live_url: str | None = None

    @property
    def state(self) -> str:
        return str(self.delivery.state) if self.delivery else "not queued"

    @property
    def editable_now(self) -> bool:
        return self.delivery is not None and self.delivery.state in desk_store.EDITABLE_STATES and not self.not_editable

    @property
    def over(self) -> bool:
        return self.post.length > self.post.limit


@dataclass
class ArticleView:
    row: dict[str, Any]
    rtl: bool
    previews: list[PostPreview] = field(default_factory=list)
    audit: list[desk_store.AuditEntry] = field(default_factory=list)


def _history(app: App, target: str, now: datetime, counts: dict[str, Any]) -> TargetHistory:
    gov = app.governor
    times = reports.send_times(app.store, target, now - gov.lookback(target))
    month = reports.send_times(app.store, target, gov.month_start(target, now)) if gov.limits[target].per_month else []
    return TargetHistory(
        target=target,
        send_times=times,
        month_count=len(month),
        paused_until=counts.get("paused_until"),
        pause_reason=counts.get("pause_reason"),
        auth_failed=bool(counts.get("auth_failed")),
    )


def queue(app: App) -> list[QueueItem]:
    """Everything not yet out, in the order the dispatcher takes it, with when and why."""
    now = app.clock()
    d, a = t.deliveries, t.articles
    with app.store.engine.connect() as conn:
        rows = list(
            conn.execute(
                select(d, a.c.title.label("article_title"), a.c.language.label("article_language"))
                .join(a, a.c.id == d.c.article_id)
                .where(d.c.state.in_(WAITING))
                .order_by(d.c.priority.desc(), d.c.published_at.desc().nulls_last(), d.c.id)
                .limit(QUEUE_LIMIT)
            ).mappings()
        )
    counts = reports.target_counts(app.store, app.config.targets, now=now)
    decisions: dict[str, Decision] = {}
    next_slot: dict[str, datetime] = {}
    items: list[QueueItem] = []
    for row in rows:
        delivery = to_delivery(row)
        name = delivery.target
        item = QueueItem(delivery, row["article_title"], row["article_language"], None, "", "due")
        items.append(item)
        if delivery.state == S.SENDING:
            item.kind, item.why, item.eta = "sending", "being posted now", now
            continue
        if delivery.state == S.HELD:
            item.kind, item.why = "held", row["wait_reason"] or "held by an editor"
            continue
        if name not in app.config.targets:
            item.kind, item.why = "unknown_target", f"target {name!r} is no longer configured"
            continue
        if name not in decisions:
            history = _history(app, name, now, counts.get(name, {}))
            decisions[name] = app.governor.decide(name, history, now, kind=delivery.kind)
        decision = decisions[name]
        slot = next_slot.get(name)
        if delivery.not_before > now and (slot is None or delivery.not_before > slot):
            retrying = delivery.state == S.RETRY
            item.kind = "retry" if retrying else "not_before"
            item.why = (row["last_error"] or "retrying") if retrying else (row["wait_reason"] or "scheduled")
            item.eta = delivery.not_before
        elif slot is not None:
            item.kind, item.why, item.eta = "spacing", "after the posts before it on this target", slot
        elif not decision.allowed:
            item.kind = str(decision.kind or "paused")
            item.why, item.eta = decision.reason, decision.at
        else:
            item.eta = now
        spacing = app.governor.limits[name].spacing if name not in app.governor.unlimited else None
        if item.eta is not None and spacing:
            next_slot[name] = max(item.eta, now) + spacing
    return items


def articles(app: App, *, page: int, size: int) -> tuple[list[dict[str, Any]], bool]:
    """A page of articles, newest first, each with its targets' latest deliveries; and whether there is more."""
    a, d = t.articles, t.deliveries
    with app.store.engine.connect() as conn:
        rows = [
            dict(r)
            for r in conn.execute(
                select(a.c.id, a.c.feed, a.c.title, a.c.url, a.c.language, a.c.published_at, a.c.first_seen_at,
                       a.c.state, a.c.reason)
                .order_by(func.coalesce(a.c.published_at, a.c.first_seen_at).desc(), a.c.id.desc())
                .offset((page - 1) * size)
                .limit(size + 1)
            ).mappings()
        ]  # fmt: skip
        more = len(rows) > size
        rows = rows[:size]
        ids = [r["id"] for r in rows]
        latest: dict[int, dict[tuple[str, str], dict[str, Any]]] = {i: {} for i in ids}
        if ids:
            for r in conn.execute(
                select(d.c.article_id, d.c.target, d.c.recipient, d.c.state, d.c.remote_url, d.c.generation)
                .where(d.c.article_id.in_(ids), d.c.kind == K.POST)
                .order_by(d.c.generation)
            ).mappings():
                latest[r["article_id"]][(r["target"], r["recipient"])] = dict(r)
    for row in rows:
        row["rtl"] = is_rtl(row["language"] or "", row["title"] or "")
        row["targets"] = sorted(latest[row["id"]].values(), key=lambda x: (x["target"], x["recipient"]))
    return rows, more


def article(app: App, article_id: int) -> ArticleView | None:
    a = t.articles
    with app.store.engine.connect() as conn:
        found = conn.execute(select(a).where(a.c.id == article_id)).mappings().first()
    if found is None:
        return None
    row = dict(found)
    item = row_to_article(found)
    view = ArticleView(row, is_rtl(item.language, item.title + " " + item.summary))
    deliveries = manage.latest_deliveries(app.store, article_id)
    edits = desk_store.edits_for(app.store, (x.id for x in deliveries))
    shown = desk_edits.applied(app.store, deliveries)
    by_target: dict[str, list[Delivery]] = {}
    for x in shown:
        by_target.setdefault(x.target, []).append(x)
    feed = next((f for f in app.config.feeds if f.name == row["feed"]), None)
    names = list(dict.fromkeys([*(feed.targets if feed else []), *by_target]))
    for name in names:
        target = app.config.targets.get(name)
        spec = registry.find(target.platform) if target else None
        title = spec.title if spec else name
        if name not in by_target:
            if target is None:
                continue
            post = render(item, target)
            view.previews.append(PostPreview(name, target.platform, title, post, None, None, None))
            continue
        for x in by_target[name]:
            view.previews.append(
                PostPreview(
                    name, x.post.platform, title, x.post, x, edits.get(x.id), desk_edits.editable(x.post),
                    x.remote_url if x.state == S.SENT else None,
                )
            )  # fmt: skip
    view.audit = desk_store.audit_entries(app.store, article_ids=[article_id], limit=100)
    return view


def delivery(app: App, delivery_id: int) -> tuple[Delivery, dict[str, Any]] | None:
    """One delivery (its editor's text applied) and its article's row."""
    d, a = t.deliveries, t.articles
    with app.store.engine.connect() as conn:
        found = conn.execute(select(d).where(d.c.id == delivery_id)).mappings().first()
        if found is None:
            return None
        art = conn.execute(select(a).where(a.c.id == found["article_id"])).mappings().one()
    return desk_edits.applied(app.store, [to_delivery(found)])[0], dict(art)


__all__ = ["ArticleView", "PostPreview", "QueueItem", "article", "articles", "delivery", "queue"]
