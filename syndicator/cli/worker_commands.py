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

    if not _port_free(cfg):
        return 1
    app = App.open(cfg)
    app.prepare_publishers()
    worker = Worker(app)
    worker.extra_services.append(serve_http)
    worker.extra_services.extend(ops_services(cfg))  # /metrics counters; alerts when [alerts] is configured
    asyncio.run(worker.run())
    return worker.exit_code


def _port_free(cfg: Config) -> bool:
    """The HTTP port is free, or one line says whose it is not: checked before the worker starts, so a taken port
    stops it before any feed is polled (not after a round of polls logged past `worker.stopped`)."""
    from syndicator.logs import get_logger
    from syndicator.web.server import BindError, bind, listen_address

    address = listen_address(cfg.http.listen)
    if address is None:
        return True
    try:
        bind(*address).close()
    except BindError as exc:
        get_logger("syndicator.http").error(
            "http.unavailable", error=str(exc),
            hint="another process listens there (a second worker?): stop it, or change [http] listen (or $PORT)",
        )  # fmt: skip
        return False
    return True


def _poll_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--feed", action="append", metavar="NAME", help="only this feed (repeatable)")
    p.add_argument(
        "--max-wait",
        default="60s",
        metavar="DURATION",
        help="wait for work due within this long (spacing, pace, a short retry-after) before exiting; "
        "longer waits (quotas, quiet hours, cost caps) stay queued (default 60s; 0s: do not wait)",
    )
    p.add_argument(
        "--max-time", default="5m", metavar="DURATION", help="at most this long waiting in all (default 5m)"
    )


@command(
    "poll",
    summary="poll the feeds once, deliver what is due, exit (for cron)",
    description="One round, for cron: poll the feeds, deliver what is due and what becomes due within\n"
    "--max-wait (a target's spacing, a pace between recipients, a short retry-after), then exit. Longer waits\n"
    "stay queued for the next run, and the summary says why. Exit codes: 0 all delivered (or waiting for a\n"
    "quota, quiet hours, a cap); 1 a feed could not be read; 3 deliveries failed, are retrying or unknown;\n"
    "4 a target's authorization failed (fix it, then `syndicator check`); 2 usage or configuration.",
    examples=(
        "syndicator poll",
        "syndicator poll --feed en --dry-run",
        "*/5 * * * * syndicator poll --log-format json >>/var/log/syndicator.log 2>&1",
        "syndicator poll --max-wait 0s          # deliver only what is due now",
    ),
    configure=_poll_options,
)
def cmd_poll(args: argparse.Namespace, cfg: Config) -> int:
    from syndicator.app import App
    from syndicator.cli import drain
    from syndicator.cli.output import emit_json
    from syndicator.errors import ConfigError
    from syndicator.schema import parse_duration
    from syndicator.store.feeds import ensure_feeds
    from syndicator.worker import poll_safely, show_due

    try:
        max_wait, max_time = parse_duration(args.max_wait), parse_duration(args.max_time)
    except (ValueError, OverflowError) as exc:
        raise ConfigError(f"--max-wait/--max-time: {exc}") from None
    feeds = [cfg.feed(name) for name in args.feed] if args.feed else cfg.feeds
    app = App.open(cfg, clock=drain.RUNTIME.clock)
    app.prepare_publishers()

    async def go() -> tuple[list[Any], drain.DrainReport | None]:
        try:
            await asyncio.to_thread(ensure_feeds, app.store, {f.name: f.url for f in cfg.feeds})
            polled = list(await asyncio.gather(*(poll_safely(app, f) for f in feeds)))
            if cfg.dry_run_all:
                await asyncio.to_thread(show_due, app)
                return polled, None
            return polled, await drain.deliver_due(app, max_wait=max_wait, max_time=max_time,
                                                   sleep=drain.RUNTIME.sleep)  # fmt: skip
        finally:
            await app.aclose()

    polled, delivered = asyncio.run(go())
    code = poll_exit_code(polled, delivered)
    if args.json:
        emit_json({
            "feeds": [vars(r) for r in polled],
            "targets": {n: r.view() for n, r in delivered.targets.items()} if delivered else None,
            "waited_seconds": round(delivered.waited_seconds, 3) if delivered else 0,
            "exit_code": code,
        })  # fmt: skip
        return code
    for r in polled:
        detail = f"error: {r.error}" if r.error else f"{r.items} items, {r.new} new, {r.updated} updated"
        print(f"{r.feed}: {r.status} — {detail}")
    if delivered is not None:
        for name, run in delivered.targets.items():
            line = _target_line(run)
            if line:
                print(f"{name}: {line}")
    return code


def poll_exit_code(polled: list[Any], delivered: Any) -> int:
    """The first that applies: 1 a feed failed; 4 a target's authorization failed; 3 deliveries failed, retrying
    or unknown; 0 (README, "Exit codes")."""
    from syndicator.cli.run import AUTH, FAILED, NOT_DELIVERED, OK

    if any(r.status == "failed" for r in polled):
        return FAILED
    if delivered is not None and delivered.auth_paused:
        return AUTH
    if delivered is not None and delivered.not_delivered:
        return NOT_DELIVERED
    return OK


def _target_line(run: Any) -> str:
    from syndicator.cli.output import cut, when

    parts = [f"{n} {what}" for n, what in ((run.sent, "sent"), (run.failed, "failed"),
             (len(run.retrying), "to retry"), (run.unknown, "unknown")) if n]  # fmt: skip
    if run.auth_paused:
        parts.append("PAUSED: authorization failed — fix it, then `syndicator check`")
    if run.queued:
        parts.append(f"{run.queued} left queued, next at {when(run.next_due)} UTC — {cut(run.reason, 80) or 'due'}")
    line = ", ".join(parts)
    if run.errors and (run.failed or run.retrying or run.unknown):
        line += f" (last error: {cut(run.errors[-1], 100)})"
    return line
