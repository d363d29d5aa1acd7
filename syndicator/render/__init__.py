"""Pure rendering: (Article, target settings) → Post. No network, no database."""

from __future__ import annotations

from typing import TYPE_CHECKING

from syndicator.article import Article, Post

if TYPE_CHECKING:
    from syndicator.config import TargetSettings


def render(article: Article, target: TargetSettings) -> Post:
    """The post `target` would publish for `article` (first version: title and link)."""
    text = f"{article.title}\n{article.url}".strip()
    limits = {"twitter": 280, "telegram": 4096, "facebook": 63206, "whatsapp": 4096}
    return Post(platform=target.platform, text=text, length=len(text), limit=limits[target.platform], link=article.url)
