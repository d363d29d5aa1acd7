"""Bluesky (AT Protocol): `app.bsky.feed.post` records through the `atproto` SDK, one session kept and refreshed.

Plain text ≤ 300 graphemes and ≤ 3,000 UTF-8 bytes (`measure.py`), links and hashtags as facets with byte offsets
(`facets.py`), `langs` from the article, the article as a link card with its image as thumb; delete on retract;
no edits (the protocol has none for posts).
"""

from __future__ import annotations

from datetime import timedelta

from syndicator.limits import Quota
from syndicator.platforms.bluesky.desk import LOOK
from syndicator.platforms.bluesky.measure import BLUESKY_LIMIT, bluesky_length
from syndicator.platforms.bluesky.render import DEFAULT_TEMPLATE, render_bluesky
from syndicator.platforms.bluesky.settings import BlueskySettings
from syndicator.platforms.spec import Capabilities, PlatformSpec

__all__ = ["SPEC", "BlueskySettings"]

SPEC = PlatformSpec(
    name="bluesky",
    title="Bluesky",
    order=50,
    settings=BlueskySettings,
    render=render_bluesky,
    default_template=DEFAULT_TEMPLATE,
    limits={"text": BLUESKY_LIMIT},
    measure=bluesky_length,
    counting="graphemes (≤ 300), and UTF-8 bytes ÷ 10 where larger (≤ 3,000 bytes)",
    spacing=timedelta(seconds=10),
    # a create costs 3 of the account's 5,000 points an hour and 35,000 a day; stay well inside both
    quotas=(Quota(300, timedelta(hours=1)), Quota(3000, timedelta(hours=24))),
    capabilities=Capabilities(edit=False, delete=True, media=True),
    publisher="syndicator.platforms.bluesky.publisher:BlueskyPublisher",
    desk=LOOK,
    loggers=("atproto", "atproto_client", "atproto_core"),
    # its secrets: the app password (a known value, redacted as such) and session JWTs (redaction.PATTERNS)
)
