"""Alerts (a package): tell a human when one is needed, once per condition, and once more when it is over.

Conditions, what raises them and what clears them (T a target, F a feed):

    auth:T     `target.paused` for authorization, the store's auth flag, or the daily credential check failing with
               an AuthError  →  the flag lifted (`syndicator check`) and the check passing, or a post sent to T
    unknown:T  `delivery.unknown`  →  no delivery of T left in state unknown (`resend --yes`, or resolved by hand)
    failed:T   `delivery.failed` (other than authorization, which auth:T covers)  →  a post sent to T
    limit:T    `ratelimit.wait` for a quota or a cost cap  →  a post sent to T
    feed:F     the feed failing for longer than `feed_failing_after` (the store's `failing_since`)  →  a good poll
    expiry:T   the daily credential check: the token expires within `token_expiry_days`  →  a later check that
               shows a renewed token

Alerting never blocks the pipeline: an events subscriber (`syndicator.events`) only puts events on a queue (it
may be called from worker threads); one task applies them to the condition state, one sends the messages, each
channel in a thread with a timeout (`asyncio.timeout`, not `wait_for`, which on Python 3.11 can swallow the
cancellation that stops the worker). A message that cannot be sent is logged as `alert.failed`, never raised.
Secrets (a channel's token, the SMTP password, the webhook URL) go to the log redactor and are never part of a
log line.

State lives in memory. It is rebuilt from the store at start: conditions the store shows (an auth pause, deliveries
in state unknown, a feed failing for long) are *adopted* silently — the previous process already announced them —
and still get their recovery message. Conditions seen only in events (failed deliveries, quota and cost caps) start
afresh after a restart: they are announced again only if they happen again. The credential check runs at start and
then daily, so a token that still expires soon is announced once more after a restart. Run alerts on one worker
only when several share a database: each worker alerts on what it sees.

Layout: `settings` (the `[alerts]` table and its secrets), `conditions` (the state machine), `channels` (webhook,
e-mail, and the channels platform packages offer through their spec's `alert_channel`, such as an ops chat),
`service` (the loops beside the worker, and `ops_services`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from syndicator.alerts.channels import AlertDeliveryError, Channel, SmtpChannel, WebhookChannel
    from syndicator.alerts.conditions import Alert, Conditions, StoreSnapshot
    from syndicator.alerts.service import AlertService, ops_services
    from syndicator.alerts.settings import AlertConfig, AlertSettings, load_settings, parse_settings

# Names load lazily (module __getattr__): config loading imports `alerts.settings` only, and must not pull in the
# channels' HTTP client.
_HOMES = {
    "AlertDeliveryError": "channels",
    "Channel": "channels",
    "SmtpChannel": "channels",
    "WebhookChannel": "channels",
    "Alert": "conditions",
    "Conditions": "conditions",
    "StoreSnapshot": "conditions",
    "AlertService": "service",
    "ops_services": "service",
    "AlertConfig": "settings",
    "AlertSettings": "settings",
    "load_settings": "settings",
    "parse_settings": "settings",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])


__all__ = [
    "Alert",
    "AlertConfig",
    "AlertDeliveryError",
    "AlertService",
    "AlertSettings",
    "Channel",
    "Conditions",
    "SmtpChannel",
    "StoreSnapshot",
    "WebhookChannel",
    "load_settings",
    "ops_services",
    "parse_settings",
]
