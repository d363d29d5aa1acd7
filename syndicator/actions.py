"""What the editor commands do — preview, resend, retract, check — apart from parsing and printing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from syndicator.app import App
from syndicator.article import Article, DeliveryState, Post
from syndicator.config import FeedSettings, TargetSettings
from syndicator.errors import ConfigError, PublishError
from syndicator.logs import get_logger
from syndicator.outbound import OutboundGuard
from syndicator.polling import recipients_of
from syndicator.render import render
from syndicator.sources.feed import fetch, parse
from syndicator.sources.urls import url_key
from syndicator.store import deliveries as outbox
from syndicator.store import manage
from syndicator.store.articles import row_to_article
from syndicator.store.deliveries import Delivery

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


def _article_rows(app: App, ref: str) -> list[Any]:
    rows = manage.find_articles(app.store, ref, url_key(ref) if "://" in ref else None)
    if not rows:
        raise ConfigError(f"no stored article matches {ref!r} (use an article id from `history` or its URL)")
    return rows


def resend(app: App, ref: str, targets: list[str] | None, *, force: bool, confirm_unknown: bool) -> ActionReport:
    report = ActionReport()
    now = app.clock()
    for row in _article_rows(app, ref):
        article = row_to_article(row)
        feed = next((f for f in app.config.feeds if f.name == row["feed"]), None)
        wanted = targets or (feed.targets if feed else [])
        for name in wanted:
            target = app.config.target(name)
            existing = {d.recipient: d for d in manage.latest_deliveries(app.store, row["id"]) if d.target == name}
            post = render(article, target)
            for recipient in recipients_of(target):
                label = f"{name}{' → ' + recipient if recipient else ''}"
                d = existing.get(recipient)
                if d is None or force:
                    if d is not None and d.state in (DeliveryState.PENDING, DeliveryState.RETRY, DeliveryState.SENDING):
                        report.skipped.append(f"{label}: already queued ({d.state})")
                        continue
                    manage.add_delivery(
                        app.store,
                        article_id=row["id"],
                        feed=row["feed"],
                        target=name,
                        recipient=recipient,
                        post=_with_recipient(post, recipient),
                        published_at=article.published,
                        now=now,
                    )
                    report.done.append(f"{label}: queued" + (" (forced)" if d is not None else ""))
                elif d.state == DeliveryState.UNKNOWN and not confirm_unknown:
                    report.skipped.append(
                        f"{label}: state unknown — it may already be on {target.platform}; check, then add --yes"
                    )
                elif d.state in (DeliveryState.FAILED, DeliveryState.UNKNOWN, DeliveryState.HELD):
                    manage.requeue(app.store, d.id, now=now, post=_with_recipient(post, recipient))
                    report.done.append(f"{label}: queued again (was {d.state})")
                else:
                    hint = "; use --force to post it again" if d.state == DeliveryState.SENT else ""
                    report.skipped.append(f"{label}: {d.state}{hint}")
    return report


def _with_recipient(post: Post, recipient: str) -> Post:
    from dataclasses import replace

    return replace(post, recipient=recipient)


def hold(app: App, ref: str) -> list[str]:
    lines = []
    for row in _article_rows(app, ref):
        count = manage.hold(app.store, row["id"], now=app.clock(), reason="held by an editor")
        lines.append(f"held     {count} unsent deliveries of {row['title'][:60]!r} (article {row['id']})")
        log.info("article.held", article=row["guid"], feed=row["feed"], deliveries=count)
    return lines


def release(app: App, ref: str) -> list[str]:
    lines = []
    for row in _article_rows(app, ref):
        count = manage.release(app.store, row["id"], now=app.clock())
        lines.append(f"released {count} deliveries of {row['title'][:60]!r} (article {row['id']})")
        log.info("article.released", article=row["guid"], feed=row["feed"], deliveries=count)
    return lines


async def retract(app: App, ref: str, targets: list[str] | None) -> ActionReport:
    """Cancel what has not gone out and delete what has (every generation) where the platform allows."""
    report = ActionReport()
    for row in _article_rows(app, ref):
        cancelled = manage.cancel_unsent(
            app.store, row["id"], now=app.clock(), reason="retracted by an editor", targets=targets
        )
        if cancelled:
            report.done.append(f"{cancelled} unsent deliveries of article {row['id']}: cancelled before posting")
        for d in manage.sent_posts(app.store, row["id"]):
            if targets and d.target not in targets:
                continue
            label = f"{d.target}{' → ' + d.recipient if d.recipient else ''}"
            if d.state == DeliveryState.SENDING:
                report.failed.append(f"{label}: being posted right now; run retract again in a minute")
                continue
            if d.state == DeliveryState.UNKNOWN or d.receipt is None:
                report.skipped.append(f"{label}: outcome unknown; if the post is on the platform, delete it by hand")
                continue
            await _delete(app, d, label, report)
        manage.set_article_state(app.store, row["id"], "withdrawn", reason="retracted by an editor")
    return report


async def _delete(app: App, d: Delivery, label: str, report: ActionReport) -> None:
    target = app.config.target(d.target)
    publisher = app.publisher(target)
    if not publisher.supports_delete:
        report.skipped.append(f"{label}: {target.platform} posts cannot be deleted through the API")
        return
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
                    if outbox.clear_auth_pause(app.store, target.name, now=app.clock()):
                        log.info("target.resumed", target=target.name, reason="credentials checked")
        results.append(entry)
    await app.aclose()
    return results
