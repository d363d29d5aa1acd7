"""X (formerly Twitter): API v2 posts through tweepy, the article image uploaded as media.

Plain text, weighted length ≤ 280 (twitter-text v3, `measure.py`); no edits through the API; delete on retract.
"""

from __future__ import annotations

from datetime import timedelta

from syndicator.limits import Quota
from syndicator.platforms.spec import Capabilities, PlatformSpec
from syndicator.platforms.twitter.desk import LOOK
from syndicator.platforms.twitter.measure import X_LIMIT, x_weighted_length
from syndicator.platforms.twitter.render import DEFAULT_TEMPLATE, render_x
from syndicator.platforms.twitter.settings import TwitterSettings

__all__ = ["SPEC", "TwitterSettings"]

SPEC = PlatformSpec(
    name="twitter",
    title="X",
    order=10,
    aliases=("x",),
    settings=TwitterSettings,
    render=render_x,
    default_template=DEFAULT_TEMPLATE,
    limits={"text": X_LIMIT},
    measure=x_weighted_length,
    counting="twitter-text v3 weighted length: every link 23, CJK and emoji 2",
    spacing=timedelta(seconds=60),
    quotas=(Quota(17, timedelta(hours=24)),),  # free-era account; raise it for paid tiers
    capabilities=Capabilities(edit=False, delete=True, media=True),
    publisher="syndicator.platforms.twitter.publisher:TwitterPublisher",
    desk=LOOK,
    loggers=("tweepy", "requests_oauthlib", "oauthlib"),
)
