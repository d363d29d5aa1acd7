"""Facebook Page: a plain-text message with the link (Facebook builds the card from the page's Open Graph tags), or
a photo post whose caption carries the link when the target posts photos and the article has an image."""

from __future__ import annotations

from typing import TYPE_CHECKING

from syndicator.article import Post
from syndicator.platforms.facebook.settings import FacebookSettings
from syndicator.render import reads
from syndicator.render import rich as rt
from syndicator.render.context import Prepared, common_extra, render_text
from syndicator.render.measure import utf16_length

FACEBOOK_LIMIT = 63206

if TYPE_CHECKING:
    from syndicator.config import TargetSettings

LINK_TEMPLATE = "{title}\n\n{summary}\n\n{hashtags}"  # the link goes in the post's `link`, not in the text
PHOTO_TEMPLATE = "{title}\n\n{summary}\n\n{url}\n\n{hashtags}"


@reads("settings.post_as")
def render_facebook(prep: Prepared, target: TargetSettings) -> Post:
    settings = target.settings
    wants_photo = isinstance(settings, FacebookSettings) and settings.post_as == "photo"
    image = prep.image_url if wants_photo and prep.options.image else None  # no image: a link post instead
    template = prep.options.template_for(PHOTO_TEMPLATE if image else LINK_TEMPLATE)
    result = render_text(prep, template, rt.plain, utf16_length, FACEBOOK_LIMIT)
    extra = common_extra(prep, result)
    extra["post_as"] = "photo" if image else "link"
    return Post(
        platform=target.platform,
        text=result.text,
        length=result.length,
        limit=FACEBOOK_LIMIT,
        link=prep.link,
        image_url=image,
        extra=extra,
    )
