"""What an editor does to one article: `resend`, `retract`, `hold`, `release`."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING, Any

from syndicator.cli.registry import command

if TYPE_CHECKING:
    from syndicator.config import Config


def _resend_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("article", metavar="ARTICLE", help="article id or URL")
    p.add_argument("--target", action="append", metavar="NAME")
    p.add_argument("--force", action="store_true", help="post again even where it was sent")
    p.add_argument("--yes", action="store_true", help="also resend deliveries whose outcome is unknown")


@command("resend", summary="queue an article again", configure=_resend_options)
def cmd_resend(args: argparse.Namespace, cfg: Config) -> int:
    from syndicator import actions
    from syndicator.app import App

    for name in args.target or []:
        cfg.target(name)
    app = App.open(cfg)
    report = actions.resend(app, args.article, args.target, force=args.force, confirm_unknown=args.yes)
    for line in report.done:
        print(f"queued   {line}")
    for line in report.skipped:
        print(f"skipped  {line}")
    if report.done:
        print("The worker (or `syndicator poll`) sends queued deliveries.")
    return 0


def _retract_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("article", metavar="ARTICLE", help="article id or URL")
    p.add_argument("--target", action="append", metavar="NAME")


@command("retract", summary="delete what was posted for an article", configure=_retract_options)
def cmd_retract(args: argparse.Namespace, cfg: Config) -> int:
    from syndicator import actions
    from syndicator.app import App

    for name in args.target or []:
        cfg.target(name)
    app = App.open(cfg)

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


def _article_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("article", metavar="ARTICLE", help="article id or URL")


@command("hold", summary="stop an article's posts that have not gone out yet", configure=_article_option)
def cmd_hold(args: argparse.Namespace, cfg: Config) -> int:
    from syndicator import actions
    from syndicator.app import App

    for line in actions.hold(App.open(cfg), args.article):
        print(line)
    return 0


@command("release", summary="let held posts of an article go out", configure=_article_option)
def cmd_release(args: argparse.Namespace, cfg: Config) -> int:
    from syndicator import actions
    from syndicator.app import App

    for line in actions.release(App.open(cfg), args.article):
        print(line)
    return 0
