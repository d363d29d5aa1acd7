"""The read-only commands: `status`, `history`, `preview`. They need no platform secret."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from syndicator.cli.output import cut, emit_json, table, when
from syndicator.cli.parser import positive
from syndicator.cli.registry import command

if TYPE_CHECKING:
    from syndicator.config import Config

STATES = ("pending", "sending", "sent", "retry", "failed", "unknown", "held", "retracted")


def _status_options(p: argparse.ArgumentParser) -> None:
    pass


@command(
    "status",
    summary="feeds and targets at a glance",
    description="Feeds (last poll, result, new articles) and targets (queue, sends, failures, quota and spend\n"
    "left, pauses), and the delivery that has waited longest.",
    examples=("syndicator status", "syndicator status --json | jq '.targets[] | {target, queued}'"),
    configure=_status_options,
    secrets=False,
)
def cmd_status(args: argparse.Namespace, cfg: Config) -> int:
    from syndicator.app import App
    from syndicator.status import collect_status

    doc = collect_status(App.open(cfg))
    if args.json:
        emit_json(doc)
        return 0
    feeds = [
        [
            f["feed"],
            when(f["last_poll"]),
            f["result"] or "never polled",
            when(f["next_poll"]),
            str(f["articles_24h"]),
            str(f.get("skipped_24h", 0)),
            cut(f["error"], 60),
        ]
        for f in doc["feeds"]
    ]
    table(feeds, ["FEED", "LAST POLL (UTC)", "RESULT", "NEXT POLL", "NEW 24H", "SKIPPED 24H", "ERROR"])
    print()
    targets = [
        [
            t["target"],
            t["platform"] + (" (dry run)" if t["dry_run"] else ""),
            str(t["queued"]),
            str(t["sent_24h"]),
            str(t["failed"]),
            str(t["unknown"]),
            t["quota_left"] or "-",
            _paused(t),
        ]
        for t in doc["targets"]
    ]
    table(targets, ["TARGET", "PLATFORM", "QUEUED", "SENT 24H", "FAILED", "UNKNOWN", "QUOTA LEFT", "PAUSED"])
    oldest = doc["oldest_waiting"]
    if oldest:
        print(
            f"\nOldest waiting: delivery {oldest['delivery']} to {oldest['target']} since "
            f"{when(oldest['since'])} — {oldest['reason'] or 'due'}"
        )
    return 0


def _paused(t: dict[str, Any]) -> str:
    if t["auth_failed"]:
        return f"AUTH: {t['pause_reason'] or 'authorization failed'} (fix, then `syndicator check`)"
    if t["paused_until"]:
        return f"until {when(t['paused_until'])}: {t['pause_reason']}"
    return t.get("waiting_because") or "-"


def _history_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--since", default="24h", metavar="DURATION", help="e.g. 2h, 7d (default 24h)")
    p.add_argument("--target", metavar="NAME")
    p.add_argument("--state", choices=STATES)
    p.add_argument("--feed", metavar="NAME")
    p.add_argument("--article", metavar="ARTICLE", help="a12, d345 (its article), a URL or a guid")
    p.add_argument("--limit", type=positive, default=200, help="at most this many deliveries (default 200)")


@command(
    "history",
    summary="deliveries with state, attempts, remote URL, error",
    description="Deliveries, newest first: their state, attempts, the post's URL or the error. DELIVERY ids\n"
    "(d345) and ARTICLE ids (a12) are what resend, retract, hold and release take.",
    examples=(
        "syndicator history --since 2h",
        "syndicator history --state failed --target x",
        "syndicator history --article a12 --json",
    ),
    configure=_history_options,
    secrets=False,
)
def cmd_history(args: argparse.Namespace, cfg: Config) -> int:
    from syndicator.app import App
    from syndicator.errors import ConfigError
    from syndicator.schema import parse_duration
    from syndicator.store import reports

    try:
        since = parse_duration(args.since)
        start = datetime.now(UTC) - since
    except (ValueError, OverflowError) as exc:
        raise ConfigError(f"--since: {exc}") from None
    app = App.open(cfg)
    article_ids = None
    if args.article:
        from syndicator.actions import select_articles

        article_ids = [r["id"] for r in select_articles(app, args.article).rows]
    rows = reports.history(
        app.store,
        since=start,
        target=args.target,
        state=args.state,
        feed=args.feed,
        article_ids=article_ids,
        limit=args.limit,
    )
    from syndicator.desk.commands import audit_rows, print_audit

    desk = audit_rows(app, since=start, article_ids=article_ids, limit=args.limit)  # who did what on the desk
    # articles the newsroom kept off social media have no deliveries: listed apart, with why (not per target)
    skipped = [] if args.target or args.state else reports.skipped_articles(
        app.store, since=start, feed=args.feed, article_ids=article_ids, limit=args.limit
    )
    if args.json:
        emit_json({
            "deliveries": [{"ref": f"d{r['id']}", "article_ref": f"a{r['article_id']}", **r} for r in rows],
            "desk_audit": desk,
            "skipped_articles": [{"ref": f"a{r['id']}", **r} for r in skipped],
        })  # fmt: skip
        return 0
    out = [
        [
            f"d{r['id']}",
            f"a{r['article_id']}",
            when(r["updated_at"]),
            r["target"] + (f"→{r['recipient']}" if r["recipient"] else ""),
            r["state"],
            str(r["attempts"]),
            cut(r["title"], 40),
            _result(r),
        ]
        for r in rows
    ]
    table(out, ["DELIVERY", "ARTICLE", "UPDATED (UTC)", "TARGET", "STATE", "TRIES", "TITLE", "RESULT"])
    if skipped:
        print("\nSkipped (kept off social media by the newsroom):")
        table(
            [[f"a{r['id']}", when(r["first_seen_at"]), r["feed"], cut(r["title"], 40), cut(r["reason"], 60)]
             for r in skipped],
            ["ARTICLE", "SEEN (UTC)", "FEED", "TITLE", "WHY"],
        )  # fmt: skip
    print_audit(desk)
    return 0


def _result(r: dict[str, Any]) -> str:
    """The post's URL once it is out; else the error, or why it waits."""
    if r["error_class"] and r["state"] not in ("sent", "retracted"):
        return cut(f"{r['error_class']}: {r['last_error']}", 60)
    return str(r["remote_url"] or r["remote_id"] or cut(r["wait_reason"], 60))


def _preview_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("url", nargs="?", metavar="URL", help="an article URL or id (stored, or an item of a feed)")
    p.add_argument("--feed", metavar="NAME", help="preview the newest items of this feed")
    p.add_argument("--latest", type=positive, default=1, metavar="N", help="with --feed: how many items (default 1)")
    p.add_argument("--target", action="append", metavar="NAME", help="only this target (repeatable)")
    p.add_argument("--png", metavar="DIR", help="also draw each post as a PNG into DIR (headless Chromium)")


@command(
    "preview",
    summary="show what each target would post, without sending",
    description="Render an article for each target as it would be posted — nothing is sent or recorded.",
    examples=(
        "syndicator preview https://news.example/2026/12/story",
        "syndicator preview --feed en --latest 3 --target x",
    ),
    configure=_preview_options,
    secrets=False,
)
def cmd_preview(args: argparse.Namespace, cfg: Config) -> int:
    import sys

    from syndicator import actions
    from syndicator.app import App
    from syndicator.errors import ConfigError, FeedError

    if bool(args.url) == bool(args.feed):
        raise ConfigError("preview needs either an article URL or --feed NAME")
    for name in args.target or []:
        cfg.target(name)
    app = App.open(cfg)
    try:
        articles = actions.preview_articles(app, ref=args.url, feed_name=args.feed, latest=args.latest)
    except FeedError as exc:
        print(f"syndicator: cannot read the feed: {exc}", file=sys.stderr)
        return 1
    if args.png:
        from pathlib import Path

        from syndicator.desk.commands import preview_pngs

        return preview_pngs(app, articles, args.target, Path(args.png))
    doc = actions.preview(app, articles, args.target)
    if args.json:
        emit_json({"articles": doc})
        return 0
    for entry in doc:
        a = entry["article"]
        print(f"━━ {a['title']}\n   {a['url']}  ({a['feed']}, {a['language'] or '?'}, {a['published'] or 'undated'})")
        for post in entry["posts"]:
            flag = "ok" if post["within_limit"] else "TOO LONG"
            print(f"\n── {post['target']} ({post['platform']}) — {post['length']}/{post['limit']} {flag}")
            if post["image"]:
                print(f"   image: {post['image']}")
            for button in post["buttons"]:
                print(f"   button: [{button['text']}] → {button['url']}")
            template = post["extra"].get("template") if post["extra"].get("mode") == "template" else None
            if template:
                # what is sent: the approved template and its parameters; the text is only for posting by hand
                print(f"   sent as template {template['name']!r} ({template['language']}), parameters:")
                for n, value in enumerate(template.get("parameters") or [], 1):
                    print(f"     {{{{{n}}}}} = {value}")
            if post["extra"].get("share_url"):
                print(f"   share link: {post['extra']['share_url']}")
            if template:
                print("   text for a Channel, posted by hand:")
            print("\n".join("   │ " + line for line in post["text"].splitlines()))
        print()
    return 0
