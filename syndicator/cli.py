"""The commands. Thin: parse, call, print. Exit codes: 0 success, 1 operational failure, 2 usage/configuration.

Heavy libraries are imported inside the commands that use them, so `syndicator --help` stays instant.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from syndicator.article import DeliveryState

if TYPE_CHECKING:
    from syndicator.app import App
    from syndicator.config import Config

STATES = tuple(state.value for state in DeliveryState)


def _common(suppress: bool) -> argparse.ArgumentParser:
    # Global options work before or after the command; on the command's parser they must not reset what was
    # given before it, hence SUPPRESS there.
    default: Any = argparse.SUPPRESS if suppress else None
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        metavar="FILE",
        default=default,
        help="configuration file (default: $SYNDICATOR_CONFIG, config/syndicator.toml, else the embedded defaults)",
    )
    common.add_argument(
        "--log-format",
        choices=("auto", "json", "text"),
        default=default,
        help="log lines on stderr (default: text on a terminal, JSON lines elsewhere)",
    )
    common.add_argument("--log-level", choices=("debug", "info", "warning", "error"), default=default)
    common.add_argument(
        "--dry-run",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="render and record, send nothing (all targets)",
    )
    return common


def _platform_list() -> str:
    """What the registered platforms post to, by their spec's `title`: 'A, B, C and D'."""
    from syndicator.platforms import registry

    titles = [spec.title for spec in registry.specs()]
    return ", ".join(titles[:-1]) + " and " + titles[-1] if len(titles) > 1 else "".join(titles)


def build_parser() -> argparse.ArgumentParser:
    top, common = _common(False), _common(True)

    parser = argparse.ArgumentParser(
        prog="syndicator",
        description=f"Posts a publisher's new articles to {_platform_list()} — once each.",
        parents=[top],
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    sub.add_parser("run", parents=[common], help="the worker: poll on schedule, deliver, serve health/metrics")
    p = sub.add_parser("poll", parents=[common], help="poll the feeds once, deliver what is due, exit")
    p.add_argument("--feed", action="append", metavar="NAME", help="only this feed (repeatable)")
    p = sub.add_parser("preview", parents=[common], help="show what each target would post, without sending")
    p.add_argument("url", nargs="?", metavar="URL", help="an article URL or id (stored, or an item of a feed)")
    p.add_argument("--feed", metavar="NAME", help="preview the newest items of this feed")
    p.add_argument("--latest", type=int, default=1, metavar="N", help="with --feed: how many items (default 1)")
    p.add_argument("--target", action="append", metavar="NAME", help="only this target (repeatable)")
    p.add_argument("--json", action="store_true", help="one JSON document on stdout")
    p = sub.add_parser("resend", parents=[common], help="queue an article again")
    p.add_argument("article", metavar="ARTICLE", help="article id or URL")
    p.add_argument("--target", action="append", metavar="NAME")
    p.add_argument("--force", action="store_true", help="post again even where it was sent")
    p.add_argument("--yes", action="store_true", help="also resend deliveries whose outcome is unknown")
    p = sub.add_parser("retract", parents=[common], help="delete what was posted for an article")
    p.add_argument("article", metavar="ARTICLE", help="article id or URL")
    p.add_argument("--target", action="append", metavar="NAME")
    p = sub.add_parser("hold", parents=[common], help="stop an article's posts that have not gone out yet")
    p.add_argument("article", metavar="ARTICLE", help="article id or URL")
    p = sub.add_parser("release", parents=[common], help="let held posts of an article go out")
    p.add_argument("article", metavar="ARTICLE", help="article id or URL")
    p = sub.add_parser("status", parents=[common], help="feeds and targets at a glance")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("history", parents=[common], help="deliveries with state, attempts, remote URL, error")
    p.add_argument("--since", default="24h", metavar="DURATION", help="e.g. 2h, 7d (default 24h)")
    p.add_argument("--target", metavar="NAME")
    p.add_argument("--state", choices=STATES)
    p.add_argument("--feed", metavar="NAME")
    p.add_argument("--article", metavar="ARTICLE", help="article id or URL")
    p.add_argument("--limit", type=_positive, default=200, help="at most this many deliveries (default 200)")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("check", parents=[common], help="validate configuration and credentials")
    p.add_argument("--offline", action="store_true", help="configuration only, no platform calls")
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    from syndicator.errors import ConfigError, StoreFailure, SyndicatorError
    from syndicator.redaction import error_line  # one line, redacted like the logs, capped

    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except StoreFailure as exc:  # the cause in plain words (read-only, disk full, locked...), never the SQL
        from syndicator.logs import redactor

        print(f"syndicator: the store failed: {redactor(str(exc))}", file=sys.stderr)
        return 1
    except ConfigError as exc:
        print(f"syndicator: configuration error: {error_line(str(exc))}", file=sys.stderr)
        return 2
    except SyndicatorError as exc:
        print(f"syndicator: {error_line(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: one line, not a traceback
        from syndicator.logs import redactor

        print(f"syndicator: unexpected error ({type(exc).__name__}): {redactor(str(exc))}", file=sys.stderr)
        return 1


def _dispatch(args: argparse.Namespace) -> int:
    from syndicator import config as config_mod
    from syndicator import logs

    cfg = config_mod.load(args.config, dry_run=args.dry_run)
    logs.setup(args.log_format or cfg.log.format, args.log_level or cfg.log.level)
    from syndicator.store.faults import store_errors

    handler = globals()[f"cmd_{args.command}"]
    with store_errors():  # the store went away, a disk filled up...: a StoreFailure saying why
        result: int = handler(args, cfg)
    return result


def _open(cfg: Config) -> App:
    from syndicator.app import App

    return App.open(cfg)


def _emit_json(doc: Any) -> None:
    print(json.dumps(doc, ensure_ascii=False, indent=2, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return str(value)


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=False)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths, strict=False)).rstrip()]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=False)).rstrip() for r in rows]
    return "\n".join(lines)


def cmd_run(args: argparse.Namespace, cfg: Config) -> int:
    from syndicator.alerts import ops_services
    from syndicator.errors import ConfigError
    from syndicator.http import serve_http
    from syndicator.worker import Worker

    if args.dry_run:
        raise ConfigError(
            "run --dry-run would mark real deliveries as sent; use `poll --dry-run` to see what would go out"
        )

    app = _open(cfg)
    app.prepare_publishers()
    worker = Worker(app)
    worker.extra_services.append(serve_http)
    worker.extra_services.extend(ops_services(cfg))  # /metrics counters; alerts when [alerts] is configured
    asyncio.run(worker.run())
    return worker.exit_code


def cmd_poll(args: argparse.Namespace, cfg: Config) -> int:
    from syndicator.worker import poll_once

    if args.feed:
        for name in args.feed:
            cfg.feed(name)
    app = _open(cfg)
    app.prepare_publishers()

    async def go() -> Any:
        try:
            return await poll_once(app, args.feed)
        finally:
            await app.aclose()

    reports = asyncio.run(go())
    for r in reports:
        detail = f"error: {r.error}" if r.error else f"{r.items} items, {r.new} new, {r.updated} updated"
        print(f"{r.feed}: {r.status} — {detail}")
    return 1 if any(r.status == "failed" for r in reports) else 0


def cmd_preview(args: argparse.Namespace, cfg: Config) -> int:
    from syndicator import actions
    from syndicator.errors import ConfigError, FeedError

    if bool(args.url) == bool(args.feed):
        raise ConfigError("preview needs either an article URL or --feed NAME")
    for name in args.target or []:
        cfg.target(name)
    app = _open(cfg)
    try:
        articles = actions.preview_articles(app, ref=args.url, feed_name=args.feed, latest=args.latest)
    except FeedError as exc:
        print(f"syndicator: cannot read the feed: {exc}", file=sys.stderr)
        return 1
    doc = actions.preview(app, articles, args.target)
    if args.json:
        _emit_json({"articles": doc})
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
            if post["extra"].get("share_url"):
                print(f"   share link: {post['extra']['share_url']}")
            print("\n".join("   │ " + line for line in post["text"].splitlines()))
        print()
    return 0


def cmd_resend(args: argparse.Namespace, cfg: Config) -> int:
    from syndicator import actions

    for name in args.target or []:
        cfg.target(name)
    app = _open(cfg)
    report = actions.resend(app, args.article, args.target, force=args.force, confirm_unknown=args.yes)
    for line in report.done:
        print(f"queued   {line}")
    for line in report.skipped:
        print(f"skipped  {line}")
    if report.done:
        print("The worker (or `syndicator poll`) sends queued deliveries.")
    return 0


def cmd_retract(args: argparse.Namespace, cfg: Config) -> int:
    from syndicator import actions

    for name in args.target or []:
        cfg.target(name)
    app = _open(cfg)

    async def go() -> Any:
        try:
            return await actions.retract(app, args.article, args.target)
        finally:
            await app.aclose()

    report = asyncio.run(go())
    for line in report.done:
        print(f"retracted  {line}")
    for line in report.skipped:
        print(f"skipped    {line}")
    for line in report.failed:
        print(f"FAILED     {line}")
    return 1 if report.failed else 0


def cmd_hold(args: argparse.Namespace, cfg: Config) -> int:
    from syndicator import actions

    app = _open(cfg)
    for line in actions.hold(app, args.article):
        print(line)
    return 0


def cmd_release(args: argparse.Namespace, cfg: Config) -> int:
    from syndicator import actions

    app = _open(cfg)
    for line in actions.release(app, args.article):
        print(line)
    return 0


def cmd_status(args: argparse.Namespace, cfg: Config) -> int:
    from syndicator.status import collect_status

    app = _open(cfg)
    doc = collect_status(app)
    if args.json:
        _emit_json(doc)
        return 0
    feeds = [
        [
            f["feed"],
            _when(f["last_poll"]),
            f["result"] or "never",
            _when(f["next_poll"]),
            str(f["articles_24h"]),
            (f["error"] or "")[:60],
        ]
        for f in doc["feeds"]
    ]
    print(_table(feeds, ["FEED", "LAST POLL (UTC)", "RESULT", "NEXT POLL", "NEW 24H", "ERROR"]))
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
    print(_table(targets, ["TARGET", "PLATFORM", "QUEUED", "SENT 24H", "FAILED", "UNKNOWN", "QUOTA LEFT", "PAUSED"]))
    oldest = doc["oldest_waiting"]
    if oldest:
        print(
            f"\nOldest waiting: delivery {oldest['delivery']} to {oldest['target']} since "
            f"{_when(oldest['since'])} — {oldest['reason'] or 'due'}"
        )
    return 0


def _paused(t: dict[str, Any]) -> str:
    if t["auth_failed"]:
        return f"AUTH: {t['pause_reason'] or 'authorization failed'} (fix, then `syndicator check`)"
    if t["paused_until"]:
        return f"until {_when(t['paused_until'])}: {t['pause_reason']}"
    return t.get("waiting_because") or "-"


def cmd_history(args: argparse.Namespace, cfg: Config) -> int:
    from syndicator.errors import ConfigError
    from syndicator.schema import parse_duration
    from syndicator.sources.urls import url_key
    from syndicator.store import manage, reports

    try:
        since = parse_duration(args.since)
        start = datetime.now(UTC) - since
    except (ValueError, OverflowError) as exc:
        raise ConfigError(f"--since: {exc}") from None
    app = _open(cfg)
    article_ids = None
    if args.article:
        found = manage.find_articles(app.store, args.article, url_key(args.article) if "://" in args.article else None)
        article_ids = [r["id"] for r in found]
    rows = reports.history(
        app.store,
        since=start,
        target=args.target,
        state=args.state,
        feed=args.feed,
        article_ids=article_ids,
        limit=args.limit,
    )
    if args.json:
        _emit_json({"deliveries": rows})
        return 0
    table = [
        [
            str(r["id"]),
            _when(r["updated_at"]),
            r["target"] + (f"→{r['recipient']}" if r["recipient"] else ""),
            r["state"],
            str(r["attempts"]),
            str(r["article_id"]),
            (r["title"] or "")[:40],
            r["remote_url"]
            or r["remote_id"]
            or (f"{r['error_class']}: {r['last_error']}"[:60] if r["error_class"] else r["wait_reason"] or ""),
        ]
        for r in rows
    ]
    print(_table(table, ["ID", "UPDATED (UTC)", "TARGET", "STATE", "TRIES", "ARTICLE", "TITLE", "RESULT"]))
    return 0


def cmd_check(args: argparse.Namespace, cfg: Config) -> int:
    from syndicator import actions
    from syndicator.alerts import load_settings

    load_settings(cfg)  # a bad [alerts] section is a configuration error here too
    print(f"configuration: ok ({cfg.source}: {len(cfg.feeds)} feeds, {len(cfg.targets)} targets)")
    app = _open(cfg)
    app.prepare_publishers()
    results = asyncio.run(actions.check(app, offline=args.offline))
    for r in results:
        if r["ok"]:
            extra = f" (token expires {r['expires_at']})" if r.get("expires_at") else ""
            print(f"ok       {r['target']} ({r['platform']}): {r['identity']}{extra}")
        else:
            print(f"PROBLEM  {r['target']} ({r['platform']}): {r.get('error_class', 'check')}: {r['error']}")
    return 0 if all(r["ok"] for r in results) else 1
