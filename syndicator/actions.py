"""What the editor commands do — preview, resend, retract, check — apart from parsing and printing."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from syndicator.app import App
from syndicator.article import Article, Post
from syndicator.article import DeliveryState as S
from syndicator.config import FeedSettings, TargetSettings
from syndicator.errors import ConfigError, PublishError
from syndicator.logs import get_logger
from syndicator.outbound import OutboundGuard
from syndicator.polling import recipients_of
from syndicator.render import render
from syndicator.sources.feed import fetch, parse
from syndicator.sources.urls import url_key
from syndicator.store import manage, reports
from syndicator.store.articles import row_to_article
from syndicator.store.deliveries import Delivery
from syndicator.store.recovery import resume_after_auth

log = get_logger("syndicator.actions")


def post_view(target: TargetSettings, post: Post) -> dict[str, Any]:
    return {
        "target": target.name,
        "platform": target.platform,
        "dry_run": target.dry_run,
        "text": post.text,
        "length": post.length,
        "limit": post.limit,
        "within_limit": post.length <= post.limit,
        "parse_mode": post.parse_mode,
        "link": post.link,
        "image": post.image_url,
        "buttons": [{"text": b.text, "url": b.url} for b in post.buttons],
        "extra": dict(post.extra),
    }


def article_view(article: Article) -> dict[str, Any]:
    return {
        "id": article.id,
        "feed": article.feed,
        "url": article.url,
        "title": article.title,
        "language": article.language,
        "published": article.published.isoformat() if article.published else None,
        "image": article.image_url,
        "categories": list(article.categories),
    }


def feed_articles(feed: FeedSettings, outbound: OutboundGuard | None = None) -> list[Article]:
    result = fetch(feed.url, timeout=feed.timeout.total_seconds(), max_bytes=feed.max_bytes, outbound=outbound)
    parsed = parse(
        result.body, feed=feed.name, base_url=result.final_url, language=feed.language, content_type=result.content_type
    )
    return parsed.articles


def preview_articles(app: App, *, ref: str | None, feed_name: str | None, latest: int) -> list[Article]:
    if feed_name:
        articles = feed_articles(app.config.feed(feed_name), app.outbound)
        articles.sort(key=lambda a: a.published.timestamp() if a.published else 0.0, reverse=True)
        return articles[:latest]
    assert ref is not None
    rows = manage.find_articles(app.store, ref, url_key(ref) if "://" in ref else None)
    if rows:
        return [row_to_article(rows[-1])]
    wanted = url_key(ref) if "://" in ref else ref
    for feed in app.config.feeds:  # not stored yet: look for it in the feeds
        for article in feed_articles(feed, app.outbound):
            if wanted in (url_key(article.url), article.id, url_key(article.id) if "://" in article.id else ""):
                return [article]
    raise ConfigError(f"no stored article and no feed item matches {ref!r}")


def preview(app: App, articles: list[Article], target_names: list[str] | None) -> list[dict[str, Any]]:
    out = []
    for article in articles:
        feed = next((f for f in app.config.feeds if f.name == article.feed), None)
        names = target_names or (feed.targets if feed else list(app.config.targets))
        posts = [post_view(app.config.target(n), render(article, app.config.target(n))) for n in names]
        out.append({"article": article_view(article), "posts": posts})
    return out


@dataclass
class ActionReport:
    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


# ── which article: ids an editor can tell apart ─────────────────────────────────────────────────────────────
# `history` shows deliveries as d<ID> and articles as a<ID>; the commands take either (a delivery stands for its
# article and its own target), a URL or a feed's guid. A bare number could be either: it is taken only when just
# one of the two exists.
_PREFIXED = re.compile(r"^([ad])(\d+)$", re.IGNORECASE)


def article_ref(article_id: int) -> str:
    return f"a{article_id}"


def delivery_ref(delivery_id: int) -> str:
    return f"d{delivery_id}"


@dataclass(frozen=True)
class Selection:
    """What a reference names: articles (store rows) and, for a delivery reference, its (target, recipient)."""

    rows: list[Any]
    only: tuple[str, str] | None = None  # (target, recipient) when the reference was a delivery


def select_articles(app: App, ref: str | int) -> Selection:
    """The article(s) an editor's reference names; a ConfigError (exit 2) saying why when none, or two kinds, do."""
    if isinstance(ref, int):
        ref = article_ref(ref)
    ref = ref.strip()
    prefixed = _PREFIXED.match(ref)
    if prefixed:
        kind, number = prefixed.group(1).lower(), int(prefixed.group(2))
        if kind == "a":
            rows = reports.article_rows(app.store, [number])
            if not rows:
                raise ConfigError(f"no article {ref} (article ids are the ARTICLE column of `syndicator history`)")
            return Selection(rows)
        return _by_delivery(app, number, ref)
    if ref.isdigit():
        return _bare_number(app, int(ref))
    rows = manage.find_articles(app.store, ref, url_key(ref) if "://" in ref else None)
    if not rows:
        raise ConfigError(f"no stored article matches {ref!r} (use a{{ID}} or d{{ID}} from `history`, or its URL)")
    return Selection(rows)


def _by_delivery(app: App, number: int, ref: str) -> Selection:
    d = outbox_delivery(app, number)
    if d is None:
        raise ConfigError(f"no delivery {ref} (delivery ids are the first column of `syndicator history`)")
    return Selection(reports.article_rows(app.store, [d.article_id]), only=(d.target, d.recipient))


def _bare_number(app: App, number: int) -> Selection:
    articles = reports.article_rows(app.store, [number])
    delivery = outbox_delivery(app, number)
    if articles and delivery is not None and delivery.article_id != number:
        title = cut(articles[0]["title"], 50)
        raise ConfigError(
            f"{number} is ambiguous: say a{number} for article {number} ({title!r}) or d{number} for delivery "
            f"{number} (to {delivery.target}, of article a{delivery.article_id})"
        )
    if articles:
        return Selection(articles)
    if delivery is not None:
        return _by_delivery(app, number, f"d{number}")
    raise ConfigError(f"no article or delivery {number} (see `syndicator history`)")


def outbox_delivery(app: App, delivery_id: int) -> Delivery | None:
    return reports.delivery_by_id(app.store, delivery_id)


def cut(text: str | None, width: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: max(0, width - 1)].rstrip() + "…"


# ── plans: what a command will do, shown (and confirmed) before it is done ─────────────────────────────────


@dataclass(frozen=True)
class Step:
    article_id: int
    target: str
    recipient: str
    action: str  # queue | requeue | force | cancel | delete | release | hold | skip
    note: str  # why, in words: "was failed", "sent; use --force to post it again"
    delivery: Delivery | None = None
    post: Post | None = None

    @property
    def label(self) -> str:
        return f"{self.target}{' → ' + self.recipient if self.recipient else ''}"

    @property
    def acts(self) -> bool:
        return self.action != "skip"


@dataclass(frozen=True)
class Plan:
    verb: str  # resend | retract | release | hold
    articles: list[dict[str, Any]]  # id, ref, title, url, feed
    steps: list[Step]
    targets: list[str] | None = None  # retract: only these targets (None: all)

    @property
    def acting(self) -> list[Step]:
        return [s for s in self.steps if s.acts]

    def view(self) -> dict[str, Any]:
        """The plan as JSON: what a page or `--json` shows before (or after) it is carried out."""
        return {
            "action": self.verb,
            "articles": self.articles,
            "steps": [
                {
                    "article": s.article_id,
                    "target": s.target,
                    "recipient": s.recipient or None,
                    "action": s.action,
                    "note": s.note,
                    "delivery": s.delivery.id if s.delivery else None,
                    "state": s.delivery.state if s.delivery else None,
                }
                for s in self.steps
            ],
        }


def _articles_view(rows: list[Any]) -> list[dict[str, Any]]:
    return [
        {"id": r["id"], "ref": article_ref(r["id"]), "title": r["title"], "url": r["url"], "feed": r["feed"]}
        for r in rows
    ]


def _wanted(sel: Selection, target: str, recipient: str, targets: list[str] | None) -> bool:
    if sel.only is not None and sel.only != (target, recipient):
        return False
    return not targets or target in targets


def plan_resend(
    app: App, ref: str | int, targets: list[str] | None, *, force: bool, include_unknown: bool = True
) -> Plan:
    """What `resend` would queue: never-made and failed/held deliveries; `unknown` ones when `include_unknown`
    (the editor has checked the platform); with `force`, a new post even where one was sent."""
    sel = select_articles(app, ref)
    steps: list[Step] = []
    for row in sel.rows:
        article = row_to_article(row)
        feed = next((f for f in app.config.feeds if f.name == row["feed"]), None)
        names = targets or (feed.targets if feed else [])
        if sel.only is not None:
            names = [sel.only[0]]
        for name in names:
            target = app.config.target(name)
            existing = {d.recipient: d for d in manage.latest_deliveries(app.store, row["id"]) if d.target == name}
            post = render(article, target)
            for recipient in recipients_of(target):
                if not _wanted(sel, name, recipient, targets):
                    continue
                steps.append(_resend_step(row["id"], target, recipient, existing.get(recipient), post, force,
                                          include_unknown))  # fmt: skip
    return Plan("resend", _articles_view(sel.rows), steps)


def _resend_step(
    article_id: int,
    target: TargetSettings,
    recipient: str,
    d: Delivery | None,
    post: Post,
    force: bool,
    include_unknown: bool,
) -> Step:
    post = _with_recipient(post, recipient)

    def step(action: str, note: str) -> Step:
        return Step(article_id, target.name, recipient, action, note, d, post)

    if d is None:
        return step("queue", "never queued for this target")
    if d.state in (S.PENDING, S.RETRY, S.SENDING):
        return step("skip", f"already queued ({d.state})")
    if force:
        return step("force", f"a new post, although it was {d.state}")
    if d.state == S.UNKNOWN and not include_unknown:
        return step("skip", f"state unknown — it may already be on {target.platform}; check, then add --yes")
    if d.state == S.UNKNOWN:
        return step("requeue", f"was unknown: it may already be on {target.platform} — check it is not")
    if d.state in (S.FAILED, S.HELD):
        return step("requeue", f"was {d.state}")
    hint = "; use --force to post it again" if d.state == S.SENT else ""
    return step("skip", f"{d.state}{hint}")


def carry_out_resend(app: App, plan: Plan) -> ActionReport:
    report = ActionReport()
    now = app.clock()
    for s in plan.steps:
        if not s.acts:
            report.skipped.append(f"{s.label}: {s.note}")
            continue
        assert s.post is not None
        if s.action in ("queue", "force"):
            row = reports.article_rows(app.store, [s.article_id])[0]
            manage.add_delivery(
                app.store, article_id=s.article_id, feed=row["feed"], target=s.target, recipient=s.recipient,
                post=s.post, published_at=row_to_article(row).published, now=now,
            )  # fmt: skip
            report.done.append(f"{s.label}: queued" + (" (forced)" if s.action == "force" else ""))
        else:
            assert s.delivery is not None
            if manage.requeue(app.store, s.delivery.id, now=now, post=s.post):
                report.done.append(f"{s.label}: queued again (was {s.delivery.state})")
            else:
                report.skipped.append(f"{s.label}: changed meanwhile; run resend again")
    for a in plan.articles:
        log.info("article.resent", article=a["id"], feed=a["feed"], deliveries=len(report.done))
    return report


def resend(
    app: App, ref: str | int, targets: list[str] | None, *, force: bool, confirm_unknown: bool
) -> ActionReport:
    """Plan and carry out at once (a caller that showed the plan itself, like the desk)."""
    return carry_out_resend(app, plan_resend(app, ref, targets, force=force, include_unknown=confirm_unknown))


def _with_recipient(post: Post, recipient: str) -> Post:
    from dataclasses import replace

    return replace(post, recipient=recipient)


def plan_hold(app: App, ref: str | int) -> Plan:
    return _plan_state_change(app, ref, "hold", (S.PENDING, S.RETRY), "will be held")


def plan_release(app: App, ref: str | int) -> Plan:
    return _plan_state_change(app, ref, "release", (S.HELD,), "will go out")


def _plan_state_change(app: App, ref: str | int, verb: str, states: tuple[S, ...], note: str) -> Plan:
    rows = select_articles(app, ref).rows  # the whole article, also when named by one of its deliveries
    steps = [
        Step(row["id"], d.target, d.recipient, verb, f"{d.state}: {note}", d)
        for row in rows
        for d in manage.latest_deliveries(app.store, row["id"])
        if d.state in states
    ]
    return Plan(verb, _articles_view(rows), steps)


def carry_out_hold(app: App, plan: Plan) -> list[str]:
    lines = []
    for a in plan.articles:
        count = manage.hold(app.store, a["id"], now=app.clock(), reason="held by an editor")
        lines.append(f"held     {count} unsent deliveries of {cut(a['title'], 60)!r} (article {a['ref']})")
        log.info("article.held", article=a["id"], feed=a["feed"], deliveries=count)
    return lines


def carry_out_release(app: App, plan: Plan) -> list[str]:
    lines = []
    for a in plan.articles:
        count = manage.release(app.store, a["id"], now=app.clock())
        lines.append(f"released {count} deliveries of {cut(a['title'], 60)!r} (article {a['ref']})")
        log.info("article.released", article=a["id"], feed=a["feed"], deliveries=count)
    return lines


def hold(app: App, ref: str | int) -> list[str]:
    return carry_out_hold(app, plan_hold(app, ref))


def release(app: App, ref: str | int) -> list[str]:
    return carry_out_release(app, plan_release(app, ref))


def plan_retract(app: App, ref: str | int, targets: list[str] | None) -> Plan:
    """Cancel what has not gone out; delete what has (every generation) where the platform allows."""
    sel = select_articles(app, ref)
    steps: list[Step] = []
    for row in sel.rows:
        for d in manage.latest_deliveries(app.store, row["id"]):
            if d.state in (S.PENDING, S.RETRY, S.HELD) and _wanted(sel, d.target, d.recipient, targets):
                note = f"{d.state}: cancelled before posting"
                steps.append(Step(row["id"], d.target, d.recipient, "cancel", note, d))
        for d in manage.sent_posts(app.store, row["id"]):
            if not _wanted(sel, d.target, d.recipient, targets):
                continue
            target = app.config.target(d.target)
            if d.state == S.SENDING:
                note = "being posted right now; run retract again in a minute"
                steps.append(Step(row["id"], d.target, d.recipient, "skip", note, d))
            elif d.state == S.UNKNOWN or d.receipt is None:
                note = "outcome unknown; if the post is on the platform, delete it by hand"
                steps.append(Step(row["id"], d.target, d.recipient, "skip", note, d))
            elif not app.publisher(target).supports_delete:
                note = f"{target.platform} posts cannot be deleted through the API"
                steps.append(Step(row["id"], d.target, d.recipient, "skip", note, d))
            else:
                note = f"delete {d.remote_url or d.remote_id}"
                steps.append(Step(row["id"], d.target, d.recipient, "delete", note, d))
    only = [sel.only[0]] if sel.only else targets
    return Plan("retract", _articles_view(sel.rows), steps, targets=only)


async def carry_out_retract(app: App, plan: Plan) -> ActionReport:
    report = ActionReport()
    for a in plan.articles:
        # every generation not gone out yet, in one statement (a worker about to send one finds it no longer due)
        cancelled = manage.cancel_unsent(
            app.store, a["id"], now=app.clock(), reason="retracted by an editor", targets=plan.targets
        )
        if cancelled:
            report.done.append(f"{cancelled} unsent deliveries of article {a['ref']}: cancelled before posting")
    for s in plan.steps:
        if s.action == "delete":
            assert s.delivery is not None
            await _delete(app, s.delivery, s.label, report)
        elif s.action == "skip":
            (report.failed if s.delivery and s.delivery.state == S.SENDING else report.skipped).append(
                f"{s.label}: {s.note}"
            )
    for a in plan.articles:
        manage.set_article_state(app.store, a["id"], "withdrawn", reason="retracted by an editor")
    return report


async def retract(app: App, ref: str | int, targets: list[str] | None) -> ActionReport:
    return await carry_out_retract(app, plan_retract(app, ref, targets))


async def _delete(app: App, d: Delivery, label: str, report: ActionReport) -> None:
    target = app.config.target(d.target)
    publisher = app.publisher(target)
    assert d.receipt is not None
    try:
        await publisher.delete(d.receipt)
    except PublishError as exc:
        report.failed.append(f"{label}: {exc.error_class}: {exc}")
        log.error("delivery.retract_failed", delivery=d.id, target=d.target, error=str(exc))
        return
    manage.mark_retracted(app.store, d.id, now=app.clock())
    log.info("delivery.retracted", delivery=d.id, target=d.target, remote_id=d.remote_id)
    report.done.append(f"{label}: deleted {d.remote_url or d.remote_id}")


async def check(app: App, *, offline: bool) -> list[dict[str, Any]]:
    results = []
    for target in app.config.targets.values():
        entry: dict[str, Any] = {"target": target.name, "platform": target.platform, "ok": True}
        if target.dry_run:
            entry["identity"] = "dry run: nothing is sent, no credentials needed"
        elif offline:
            entry["identity"] = "not checked (--offline); configuration and secrets present"
        else:
            try:
                identity = await app.publisher(target).check()
            except PublishError as exc:
                entry.update(ok=False, error_class=exc.error_class, error=str(exc))
            else:
                entry["identity"] = identity.name
                entry["id"] = identity.id
                if identity.expires_at:
                    entry["expires_at"] = identity.expires_at.isoformat()
                if identity.details:
                    entry["details"] = dict(identity.details)
                problems = identity.details.get("problems") if identity.details else None
                if problems:
                    entry.update(ok=False, error="; ".join(problems))
                else:
                    resumed = resume_after_auth(app.store, target.name, now=app.clock())
                    if resumed is not None:
                        entry["resumed"] = {"requeued": resumed.requeued, "unblocked": resumed.unblocked}
                        log.info("target.resumed", target=target.name, reason="credentials checked",
                                 requeued=resumed.requeued, unblocked=resumed.unblocked)  # fmt: skip
        results.append(entry)
    await app.aclose()
    return results
