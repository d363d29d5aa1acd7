"""Facebook Page posts through the Graph API (facebook-sdk on `requests`; errors classified by
`syndicator.platforms.graph`): a link post, or a photo post when the target asks for one; edits on correction;
delete on retract."""

from __future__ import annotations

import re
from datetime import timedelta

from syndicator.limits import Quota
from syndicator.platforms.facebook.desk import LOOK
from syndicator.platforms.facebook.render import FACEBOOK_LIMIT, LINK_TEMPLATE, PHOTO_TEMPLATE, render_facebook
from syndicator.platforms.facebook.settings import FacebookSettings
from syndicator.platforms.spec import Capabilities, PlatformSpec, SecretPattern
from syndicator.redaction import MARK
from syndicator.render.measure import utf16_length

__all__ = ["SPEC", "FacebookSettings"]

SPEC = PlatformSpec(
    name="facebook",
    title="a Facebook Page",
    order=30,
    settings=FacebookSettings,
    render=render_facebook,
    default_template=LINK_TEMPLATE,
    templates={"photo": PHOTO_TEMPLATE},
    limits={"text": FACEBOOK_LIMIT},
    measure=utf16_length,
    counting="UTF-16 code units",
    spacing=timedelta(seconds=30),
    quotas=(Quota(50, timedelta(hours=1)),),
    capabilities=Capabilities(edit=True, delete=True, media=True),
    publisher="syndicator.platforms.facebook.publisher:FacebookPublisher",
    desk=LOOK,
    loggers=("facebook",),
    secret_patterns=(SecretPattern(re.compile(r"\bEAA[A-Za-z0-9]{40,}"), MARK, ("eaa",)),),  # Graph access tokens
    optional_secrets=frozenset({"app_id", "app_secret"}),  # only for `check`'s token expiry
)
