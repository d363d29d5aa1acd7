"""What an editor does to one article: `resend`, `retract`, `hold`, `release`.

Each names the article and the targets it acts on before it acts; the public or destructive ones (resend,
retract, release) then ask on a terminal, and refuse without --yes elsewhere (cron, scripts, pipes).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING

from syndicator.cli.output import confirm, cut, emit_json
from syndicator.cli.registry import command

if TYPE_CHECKING:
    from syndicator.actions import ActionReport, Plan
    from syndicator.config import Config

ARTICLE_HELP = "a12 (article 12), d345 (the article of delivery 345, only its target), a URL or a feed's guid"
DECLINED = 1


def _article(p: argparse.ArgumentParser) -> None:
    p.add_argument("article", metavar="ARTICLE", help=ARTICLE_HELP)


def _targets(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target", action="append", metavar="NAME", help="only this target (repeatable)")


def _yes(p: argparse.ArgumentParser) -> None:
    p.add_argument("-y", "--yes", action="store_true", help="do it without asking (needed when not on a terminal)")


def _resend_options(p: argparse.ArgumentParser) -> None:
    _article(p)
    _targets(p)
    p.add_argument("--force", action="store_true", help="post again even where it was sent")
    _yes(p)


def show_plan(plan: Plan) -> None:
    for a in plan.articles:
        print(f"{plan.verb}: article {a['ref']} {cut(a['title'], 70)!r} ({a['feed']}) {a['url']}")
    for s in plan.steps:
        print(f"  {s.label:<28} {s.action:<8} {s.note}")
    if not plan.steps:
        print("  (no deliveries)")


def _go_ahead(args: argparse.Namespace, plan: Plan, question: str) -> bool:
    """Shows the plan (not with --json), asks; False: nothing to do or the answer was no."""
    if not args.json:
        show_plan(plan)
    if not plan.acting:
        if not args.json:
            print("Nothing to do.")
        return False
    if not confirm(question, yes=args.yes, what=f"{plan.verb} {plan.articles[0]['ref']}"):
        print("Cancelled: nothing was done.", file=sys.stderr)
        return False
    return True


def _emit(args: argparse.Namespace, plan: Plan, report: ActionReport | None, lines: list[str] | None = None) -> None:
    doc = plan.view()
    if report is not None:
        doc["done"], doc["skipped"], doc["failed"] = report.done, report.skipped, report.failed
    elif lines is not None:
        doc["done"] = lines
    emit_json(doc)


@command(
    "resend",
    summary="queue an article again",
    description="Queue an article again for its targets: never-made, failed and held deliveries, and unknown\n"
    "ones (check the platform first: they may be there). Sent ones only with --force (a second post). Each is\n"
    "queued with a fresh count of attempts. Shows what it will do and asks first.",
    examples=(
        "syndicator resend a12                     # article 12, every target where it is missing",
        "syndicator resend d345                    # the article of delivery 345, only that delivery's target",
        "syndicator resend https://news.example/story --target x --force --yes",
    ),
    configure=_resend_options,
)
def cmd_resend(args: argparse.Namespace, cfg: Config) -> int:
    from syndicator import actions
    from syndicator.app import App

    for name in args.target or []:
        cfg.target(name)
    app = App.open(cfg)
    plan = actions.plan_resend(app, args.article, args.target, force=args.force)
    count = len(plan.acting)
    if not _go_ahead(args, plan, f"Queue {count} deliver{'y' if count == 1 else 'ies'}" + " now?"):
        if args.json:
            _emit(args, plan, None)
        return 0 if not plan.acting else DECLINED
    report = actions.carry_out_resend(app, plan)
    if args.json:
        _emit(args, plan, report)
        return 0
    for line in report.done:
        print(f"queued   {line}")
    for line in report.skipped:
        print(f"skipped  {line}")
    if report.done:
        print("The worker (or `syndicator poll`) sends queued deliveries.")
    return 0


def _retract_options(p: argparse.ArgumentParser) -> None:
    _article(p)
    _targets(p)
    _yes(p)


@command(
    "retract",
    summary="delete what was posted for an article",
    description="Cancel an article's posts that have not gone out, and delete the ones that have (every\n"
    "generation) where the platform allows it. Shows what it will do and asks first.",
    examples=("syndicator retract a12", "syndicator retract d345 --yes", "syndicator retract a12 --target x"),
    configure=_retract_options,
)
def cmd_retract(args: argparse.Namespace, cfg: Config) -> int:
    from syndicator import actions
    from syndicator.app import App

    for name in args.target or []:
        cfg.target(name)
    app = App.open(cfg)
    plan = actions.plan_retract(app, args.article, args.target)
    if not _go_ahead(args, plan, f"Retract article {plan.articles[0]['ref']} on these targets?"):
        if args.json:
            _emit(args, plan, None)
        return 0 if not plan.acting else DECLINED

    async def go() -> ActionReport:
        try:
            return await actions.carry_out_retract(app, plan)
        finally:
            await app.aclose()

    report = asyncio.run(go())
    if args.json:
        _emit(args, plan, report)
        return 1 if report.failed else 0
    for line in report.done:
        print(f"retracted  {line}")
    for line in report.skipped:
        print(f"skipped    {line}")
    for line in report.failed:
        print(f"FAILED     {line}")
    return 1 if report.failed else 0


@command(
    "hold",
    summary="stop an article's posts that have not gone out yet",
    description="Hold every delivery of an article that has not gone out (pending or waiting to retry);\n"
    "`release` lets them go, `retract` cancels them.",
    examples=("syndicator hold a12", "syndicator hold https://news.example/story"),
    configure=_article,
)
def cmd_hold(args: argparse.Namespace, cfg: Config) -> int:
    from syndicator import actions
    from syndicator.app import App

    app = App.open(cfg)
    plan = actions.plan_hold(app, args.article)
    if not args.json:
        show_plan(plan)
    lines = actions.carry_out_hold(app, plan)
    if args.json:
        _emit(args, plan, None, lines)
    else:
        print("\n".join(lines))
    return 0


def _release_options(p: argparse.ArgumentParser) -> None:
    _article(p)
    _yes(p)


@command(
    "release",
    summary="let held posts of an article go out",
    description="Let an article's held deliveries go out now. Shows them and asks first.",
    examples=("syndicator release a12", "syndicator release a12 --yes"),
    configure=_release_options,
)
def cmd_release(args: argparse.Namespace, cfg: Config) -> int:
    from syndicator import actions
    from syndicator.app import App

    app = App.open(cfg)
    plan = actions.plan_release(app, args.article)
    if not _go_ahead(args, plan, f"Post article {plan.articles[0]['ref']} on these targets now?"):
        if args.json:
            _emit(args, plan, None)
        return 0 if not plan.acting else DECLINED
    lines = actions.carry_out_release(app, plan)
    if args.json:
        _emit(args, plan, None, lines)
    else:
        print("\n".join(lines))
    return 0
