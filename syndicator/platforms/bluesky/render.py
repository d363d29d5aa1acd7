"""Bluesky: plain text ≤ 300 graphemes and ≤ 3,000 UTF-8 bytes, `langs` from the article, and the article as a
link card (title, summary, image as thumb) unless the target turns it off."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from syndicator.article import Post
from syndicator.platforms.bluesky.measure import BLUESKY_LIMIT, bluesky_length, grapheme_length, utf8_length
from syndicator.platforms.bluesky.settings import BlueskySettings
from syndicator.render import reads
from syndicator.render import rich as rt
from syndicator.render.context import Prepared, common_extra, render_text
from syndicator.render.graphemes import graphemes
from syndicator.render.text import ELLIPSIS

if TYPE_CHECKING:
    from syndicator.config import TargetSettings

DEFAULT_TEMPLATE = "{title}\n\n{url}\n\n{hashtags}"
CARD_TITLE_MAX = 300  # graphemes; the lexicon sets no limit, the app shows about two lines
CARD_DESCRIPTION_MAX = 1000
MAX_LANGS = 3
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")


def langs_of(language: str) -> list[str]:
    """The record's `langs` from a feed's language ("fa", "en-US", "pt_BR"): a BCP-47 tag, or none."""
    tag = language.strip().replace("_", "-")
    return [tag] if _LANGUAGE_TAG.fullmatch(tag) else []


@reads("settings.link_card")
def render_bluesky(prep: Prepared, target: TargetSettings) -> Post:
    settings = target.settings
    card = not isinstance(settings, BlueskySettings) or settings.link_card
    template = prep.options.template_for(DEFAULT_TEMPLATE)
    result = render_text(prep, template, rt.plain, bluesky_length, BLUESKY_LIMIT)
    extra = common_extra(prep, result)
    extra.update(graphemes=grapheme_length(result.text), bytes=utf8_length(result.text))
    langs = langs_of(prep.article.language)
    if langs:
        extra["langs"] = langs[:MAX_LANGS]
    if card and prep.link:
        extra["card"] = {
            "uri": prep.link,
            "title": _cut(rt.plain(prep.title), CARD_TITLE_MAX),
            "description": _cut(rt.plain(prep.summary), CARD_DESCRIPTION_MAX),
        }
    return Post(
        platform=target.platform,
        text=result.text,
        length=result.length,
        limit=BLUESKY_LIMIT,
        link=prep.link,
        image_url=prep.image_url if prep.options.image and card and prep.link else None,
        extra=extra,
    )


def _cut(text: str, limit: int) -> str:
    clusters = graphemes(text)
    return text if len(clusters) <= limit else "".join(clusters[: limit - 1]).rstrip() + ELLIPSIS
