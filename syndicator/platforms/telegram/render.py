"""Telegram: HTML parse mode with only the tags Telegram knows, balanced; ≤ 4096 (text) or ≤ 1024 (photo caption)
UTF-16 code units after entity parsing; an optional "Read more" button."""

from __future__ import annotations

from typing import TYPE_CHECKING

from syndicator.article import Button, Post
from syndicator.platforms.telegram.measure import TELEGRAM_CAPTION_LIMIT, TELEGRAM_TEXT_LIMIT, telegram_length
from syndicator.platforms.telegram.settings import TelegramSettings
from syndicator.render import reads
from syndicator.render import rich as rt
from syndicator.render.context import Prepared, common_extra, render_text
from syndicator.render.graphemes import graphemes
from syndicator.render.rich import Rich
from syndicator.render.text import ELLIPSIS, inline

if TYPE_CHECKING:
    from syndicator.config import TargetSettings

DEFAULT_TEMPLATE = "{title:bold}\n\n{summary}\n\n{url}\n\n{hashtags}"
BUTTON_LABEL_MAX = 64  # graphemes
_TAG_ORDER = ((rt.BOLD, "b"), (rt.ITALIC, "i"), (rt.UNDERLINE, "u"), (rt.STRIKE, "s"))


def escape(text: str) -> str:
    """Telegram knows only &lt; &gt; &amp; &quot; (and numeric entities)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_attribute(text: str) -> str:
    return escape(text).replace('"', "&quot;")


def to_html(value: Rich) -> str:
    """Rich text as Telegram HTML. Each span opens and closes its own tags, so the result is always balanced."""
    out: list[str] = []
    for span in rt.merge(value):
        body = escape(span.text)
        if rt.PRE in span.marks:
            out.append(f"<pre>{body}</pre>")
            continue
        if rt.CODE in span.marks:
            out.append(f"<code>{body}</code>")
            continue
        for mark, tag in reversed(_TAG_ORDER):
            if mark in span.marks:
                body = f"<{tag}>{body}</{tag}>"
        if span.href:
            body = f'<a href="{escape_attribute(span.href)}">{body}</a>'
        out.append(body)
    return "".join(out)


@reads("settings.read_more_button")
def render_telegram(prep: Prepared, target: TargetSettings) -> Post:
    settings = target.settings
    image = prep.image_url if prep.options.image else None
    limit = TELEGRAM_CAPTION_LIMIT if image else TELEGRAM_TEXT_LIMIT
    template = prep.options.template_for(DEFAULT_TEMPLATE)
    result = render_text(prep, template, to_html, telegram_length, limit)
    buttons: tuple[Button, ...] = ()
    label = settings.read_more_button if isinstance(settings, TelegramSettings) else ""
    if label and prep.link:
        buttons = (Button(_label(label), prep.link),)
    return Post(
        platform=target.platform,
        text=result.text,
        length=result.length,
        limit=limit,
        link=prep.link,
        image_url=image,
        parse_mode="HTML",
        buttons=buttons,
        extra=common_extra(prep, result),
    )


def _label(text: str) -> str:
    clusters = graphemes(inline(text))
    if len(clusters) <= BUTTON_LABEL_MAX:
        return "".join(clusters) or ELLIPSIS
    return "".join(clusters[: BUTTON_LABEL_MAX - 1]).rstrip() + ELLIPSIS
