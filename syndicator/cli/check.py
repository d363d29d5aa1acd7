"""`check`: the configuration, then each target's credentials with a real call."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING

from syndicator.cli.registry import command

if TYPE_CHECKING:
    from syndicator.config import Config


def _options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--offline", action="store_true", help="configuration only, no platform calls")


@command(
    "check",
    summary="validate configuration and credentials",
    description="Validate the configuration, then sign in to each target (a read-only call). A target paused\n"
    "for an authorization failure is resumed when its check passes: what the failure held back is queued again.",
    examples=("syndicator check", "syndicator check --offline", "syndicator check --json"),
    configure=_options,
)
def cmd_check(args: argparse.Namespace, cfg: Config) -> int:
    from syndicator import actions
    from syndicator.alerts import load_settings
    from syndicator.app import App
    from syndicator.cli.output import emit_json

    load_settings(cfg)  # a bad [alerts] section is a configuration error here too
    app = App.open(cfg)
    app.prepare_publishers()
    results = asyncio.run(actions.check(app, offline=args.offline))
    ok = all(r["ok"] for r in results)
    if args.json:
        emit_json({"configuration": {"ok": True, "source": cfg.source}, "targets": results, "ok": ok})
        return 0 if ok else 1
    print(f"configuration: ok ({cfg.source}: {len(cfg.feeds)} feeds, {len(cfg.targets)} targets)")
    for r in results:
        if r["ok"]:
            extra = f" (token expires {r['expires_at']})" if r.get("expires_at") else ""
            print(f"ok       {r['target']} ({r['platform']}): {r['identity']}{extra}")
            if r.get("resumed"):
                back = r["resumed"]
                print(
                    f"resumed  {r['target']}: authorization works again — {back['requeued']} failed deliveries "
                    f"queued again, {back['unblocked']} waiting ones due now"
                )
        else:
            print(f"PROBLEM  {r['target']} ({r['platform']}): {r.get('error_class', 'check')}: {r['error']}")
    return 0 if ok else 1
