"""Pure rendering: (Article, target settings) → Post. No network, no database.

`render` is the only entry point the pipeline needs: it prepares what every platform shares (`context.prepare`)
and hands it to the renderer the target's platform spec names (`syndicator.platforms.<name>`). This package holds
only platform-neutral machinery: text, rich text, templates, hashtags, bidi, links, graphemes, composing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from syndicator.article import Article, Post
from syndicator.render.context import prepare
from syndicator.render.measure import utf16_length

if TYPE_CHECKING:
    from syndicator.config import TargetSettings

__all__ = ["render", "utf16_length"]


def render(article: Article, target: TargetSettings) -> Post:
    """The post `target` would publish for `article`: final text escaped for its markup, measured by the
    platform's own rule and within its limit. Never raises for any article content."""
    from syndicator.platforms import registry

    spec = registry.find(target.platform)
    if spec is None:
        raise ValueError(f"no renderer for platform {target.platform!r}")  # config validation prevents this
    return spec.render(prepare(article, target), target)
