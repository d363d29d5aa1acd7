"""`run` (the worker) and `poll` (one round, for cron)."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING, Any

from syndicator.cli.registry import command

if TYPE_CHECKING:
    from syndicator.config import Config


@command(
    "run",
    summary="the worker: poll on schedule, deliver, serve health/metrics",
    description="The long-running worker: polls every feed on its schedule, delivers what is due, serves\n"
    "/healthz, /metrics and the push hooks on [http] listen. Stops cleanly on SIGTERM or Ctrl-C.",
    examples=("syndicator run", "syndicator run --config /etc/syndicator.toml --log-format json"),
)
def cmd_run(args: argparse.Namespace, cfg: Config) -> int:
    from syndicator.alerts import ops_services
    from syndicator.app import App
    from syndicator.errors import ConfigError
    from syndicator.http import serve_http
    from syndicator.worker import Worker

    if args.dry_run:
        raise ConfigError(
            "run --dry-run would mark real deliveries as sent; use `poll --dry-run` to see what would go out"
        )

    app = App.open(cfg)
    app.prepare_publishers()
    worker = Worker(app)
    worker.extra_services.append(serve_http)
    worker.extra_services.extend(ops_services(cfg))  # /metrics counters; alerts when [alerts] is configured
    asyncio.run(worker.run())
    return worker.exit_code


def _poll_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--feed", action="append", metavar="NAME", help="only this feed (repeatable)")


@command(
    "poll",
    summary="poll the feeds once, deliver what is due, exit",
    description="One round, for cron: poll the feeds, deliver what is due, exit.",
    examples=("syndicator poll", "syndicator poll --feed en --dry-run"),
    configure=_poll_options,
)
def cmd_poll(args: argparse.Namespace, cfg: Config) -> int:
    from syndicator.app import App
    from syndicator.cli.output import emit_json
    from syndicator.worker import poll_once

    if args.feed:
        for name in args.feed:
            cfg.feed(name)
    app = App.open(cfg)
    app.prepare_publishers()

    async def go() -> Any:
        try:
            return await poll_once(app, args.feed)
        finally:
            await app.aclose()

    reports = asyncio.run(go())
    if args.json:
        emit_json({"feeds": [vars(r) for r in reports]})
    else:
        for r in reports:
            detail = f"error: {r.error}" if r.error else f"{r.items} items, {r.new} new, {r.updated} updated"
            print(f"{r.feed}: {r.status} — {detail}")
    return 1 if any(r.status == "failed" for r in reports) else 0
