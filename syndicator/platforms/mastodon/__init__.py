"""Mastodon: statuses through Mastodon.py, fitted to the instance's own limits.

Plain text, grapheme clusters ≤ the instance's `max_characters` with every URL counting its
`characters_reserved_per_url` (`measure.py`, `instance.py`); `language` from the article; the image attached with
its alt text; the delivery id as `Idempotency-Key` (a resend after a lost answer returns the first status); edits
on correction; delete on retract.
"""

from __future__ import annotations

from datetime import timedelta

from syndicator.limits import Quota
from syndicator.platforms.mastodon.desk import LOOK
from syndicator.platforms.mastodon.instance import STOCK
from syndicator.platforms.mastodon.measure import mastodon_length
from syndicator.platforms.mastodon.render import DEFAULT_TEMPLATE, render_mastodon
from syndicator.platforms.mastodon.settings import MastodonSettings
from syndicator.platforms.spec import Capabilities, PlatformSpec

__all__ = ["SPEC", "MastodonSettings"]

SPEC = PlatformSpec(
    name="mastodon",
    title="Mastodon",
    order=60,
    settings=MastodonSettings,
    render=render_mastodon,
    default_template=DEFAULT_TEMPLATE,
    limits={"text": STOCK.max_characters},  # a stock server's; each target renders to its instance's own
    measure=mastodon_length,
    counting="grapheme clusters, every URL 23 (both as the instance says: max_characters, characters_reserved_per_url)",
    spacing=timedelta(seconds=10),
    # 300 requests per 5 minutes, media uploads 30 per 30 minutes: a post with its image is two or three requests
    quotas=(Quota(30, timedelta(minutes=30)),),
    capabilities=Capabilities(edit=True, delete=True, media=True),
    publisher="syndicator.platforms.mastodon.publisher:MastodonPublisher",
    desk=LOOK,
    loggers=("mastodon",),
)
