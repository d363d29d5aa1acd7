"""Pure rendering: (Article, target settings) → Post. No network, no database.

`render` is the only entry point the pipeline needs. The helpers that measure text as the platforms do are
exported for previews and tests.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from syndicator.article import Article, Post
from syndicator.render.context import Prepared, prepare
from syndicator.render.facebook import render_facebook
from syndicator.render.measure import telegram_length, utf16_length, x_weighted_length
from syndicator.render.telegram import render_telegram
from syndicator.render.twitter import render_x
from syndicator.render.whatsapp import render_whatsapp

if TYPE_CHECKING:
    from syndicator.config import TargetSettings

__all__ = ["render", "telegram_length", "utf16_length", "x_weighted_length"]

_RENDERERS: dict[str, Callable[[Prepared, TargetSettings], Post]] = {
    "twitter": render_x,
    "telegram": render_telegram,
    "facebook": render_facebook,
    "whatsapp": render_whatsapp,
}


def render(article: Article, target: TargetSettings) -> Post:
    """The post `target` would publish for `article`: final text escaped for its markup, measured by the
    platform's own rule and within its limit. Never raises for any article content."""
    renderer = _RENDERERS.get(target.platform)
    if renderer is None:
        raise ValueError(f"no renderer for platform {target.platform!r}")  # config validation prevents this
    return renderer(prepare(article, target), target)
