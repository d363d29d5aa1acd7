"""Mastodon: plain text fitted to the instance's `max_characters`, counted the instance's way (graphemes, every URL
`characters_reserved_per_url`); `language` from the article; the article image attached with its alt text."""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

from syndicator.article import Post
from syndicator.platforms.mastodon.instance import limits_for
from syndicator.platforms.mastodon.measure import mastodon_length
from syndicator.render import reads
from syndicator.render import rich as rt
from syndicator.render.context import Prepared, common_extra, render_text
from syndicator.render.graphemes import graphemes

if TYPE_CHECKING:
    from syndicator.config import TargetSettings

DEFAULT_TEMPLATE = "{title}\n\n{summary}\n\n{url}\n\n{hashtags}"
_ISO_639 = re.compile(r"[a-z]{2,3}")


def language_of(language: str) -> str:
    """Mastodon's `language` (ISO 639-1, or -3): the primary subtag of the feed's language ("pt-BR" → "pt")."""
    primary = language.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if _ISO_639.fullmatch(primary) else ""


@reads(
    "api_base", "settings.instance", "settings.max_characters", "settings.characters_reserved_per_url"
)  # limits_for(target)
def render_mastodon(prep: Prepared, target: TargetSettings) -> Post:
    limits = limits_for(target)
    measure = functools.partial(mastodon_length, reserved_per_url=limits.characters_reserved_per_url)
    template = prep.options.template_for(DEFAULT_TEMPLATE)
    result = render_text(prep, template, rt.plain, measure, limits.max_characters)
    extra = common_extra(prep, result)
    extra["characters_reserved_per_url"] = limits.characters_reserved_per_url
    language = language_of(prep.article.language)
    if language:
        extra["language"] = language
    image = prep.image_url if prep.options.image else None
    if image:
        # the article's own alt text where the feed has one, else its title: never an image without description
        alt = prep.article.image_alt.strip() or rt.plain(prep.title)
        extra["image_alt"] = _within(alt, limits.description_limit)
    return Post(
        platform=target.platform,
        text=result.text,
        length=result.length,
        limit=limits.max_characters,
        link=prep.link,
        image_url=image,
        extra=extra,
    )


def _within(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters (Mastodon's count for alt text) without splitting a grapheme."""
    kept: list[str] = []
    used = 0
    for cluster in graphemes(text):
        used += len(cluster)
        if used > limit:
            break
        kept.append(cluster)
    return "".join(kept)
