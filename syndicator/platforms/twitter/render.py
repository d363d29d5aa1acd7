"""X: plain text, weighted length ≤ 280 (twitter-text v3), the article image attached as media."""

from __future__ import annotations

from typing import TYPE_CHECKING

from syndicator.article import Post
from syndicator.platforms.twitter.measure import X_LIMIT, x_weighted_length
from syndicator.render import reads
from syndicator.render import rich as rt
from syndicator.render.context import Prepared, common_extra, render_text

if TYPE_CHECKING:
    from syndicator.config import TargetSettings

DEFAULT_TEMPLATE = "{title}\n\n{url}\n\n{hashtags}"


@reads()
def render_x(prep: Prepared, target: TargetSettings) -> Post:
    template = prep.options.template_for(DEFAULT_TEMPLATE)
    result = render_text(prep, template, rt.plain, x_weighted_length, X_LIMIT)
    return Post(
        platform=target.platform,
        text=result.text,
        length=result.length,
        limit=X_LIMIT,
        link=prep.link,
        image_url=prep.image_url if prep.options.image else None,
        extra=common_extra(prep, result),
    )
