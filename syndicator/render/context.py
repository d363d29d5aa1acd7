"""What every platform's renderer starts from: the article's fields cleaned, the link, direction and hashtags."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from syndicator.article import Article
from syndicator.render import bidi, links
from syndicator.render import rich as rt
from syndicator.render.compose import (
    Composed,
    Composer,
    FixedSlot,
    ListSlot,
    Measure,
    Serializer,
    Slot,
    TextSlot,
    cut_order,
    last_resort,
)
from syndicator.render.hashtags import build_hashtags
from syndicator.render.options import RenderOptions
from syndicator.render.rich import Rich, Span
from syndicator.render.templates import Template, parse
from syndicator.render.text import inline, rich_from_field, summary_from

if TYPE_CHECKING:
    from syndicator.config import TargetSettings

# tried in turn when the target's template cannot be made to fit (only an absurdly long URL or template can do that)
FALLBACK_TEMPLATES = ("{title}\n{url}", "{url}", "{title}")


@dataclass(frozen=True)
class Prepared:
    article: Article
    options: RenderOptions
    rtl: bool
    link: str | None  # canonical URL, ASCII, with this target's UTM parameters
    title: Rich
    summary: Rich
    hashtags: tuple[str, ...]
    image_url: str | None  # the article's image, absolute http(s), or None

    def values(self) -> dict[str, Rich]:
        a = self.article
        categories = [inline(c) for c in a.categories]
        return {
            "title": self.title,
            "summary": self.summary,
            "author": rt.text_span(inline(a.author)),
            "category": rt.text_span(categories[0] if categories else ""),
            "feed": rt.text_span(inline(a.feed)),
            "date": rt.text_span(a.published.date().isoformat() if a.published else ""),
        }

    def slots(self) -> dict[str, Slot]:
        values = self.values()
        slots: dict[str, Slot] = {
            "title": TextSlot(values["title"]),
            "summary": TextSlot(values["summary"]),
            "hashtags": ListSlot([(Span(tag, atom=True),) for tag in self.hashtags]),
            "categories": ListSlot([rt.text_span(inline(c)) for c in self.article.categories], ", "),
            "url": FixedSlot((Span(self.link, href=self.link, atom=True),) if self.link else ()),
        }
        for name in ("author", "category", "feed", "date"):
            slots[name] = ListSlot([values[name]])
        return slots


def prepare(article: Article, target: TargetSettings) -> Prepared:
    options = target.render
    base = article.url.strip()
    link = None
    if links.is_http_url(base):
        canonical = links.clean_url(base)
        utm = links.utm_params(
            options.utm_source,
            options.utm_medium,
            options.utm_campaign,
            {"feed": article.feed, "target": target.name, "platform": target.platform, "language": article.language},
        )
        link = links.add_params(canonical, utm)
    if article.social_text:
        # the newsroom's own words for this platform (syndicator/editorial.py): they stand in for title and
        # summary, and are fitted and cut like them
        title, summary = rich_from_field(article.social_text, base), rt.text_span("")
    else:
        title = rich_from_field(article.title, base, single_line=True)
        content = article.content_html if options.summary_from_content else ""
        summary = summary_from(article.summary, content, base, options.summary_max_chars)
    hashtags: tuple[str, ...] = ()
    if options.hashtags and options.max_hashtags:
        hashtags = tuple(
            build_hashtags(
                article.categories,
                limit=options.max_hashtags,
                style=options.hashtag_style,
                mapping=options.hashtag_map,
                stoplist=options.hashtag_stoplist,
            )
        )
    rtl = bidi.is_rtl(article.language, rt.plain(title) + " " + rt.plain(summary))
    return Prepared(article, options, rtl, link, title, summary, hashtags, _image(article.image_url, base))


def _image(image_url: str | None, base: str) -> str | None:
    if not image_url or not image_url.strip():
        return None
    try:
        url = urljoin(base, image_url.strip()) if base else image_url.strip()
    except ValueError:
        return None
    return links.clean_url(url) if links.is_http_url(url) else None


def render_text(prep: Prepared, template: Template, serialize: Serializer, measure: Measure, limit: int) -> Composed:
    """The template filled and fitted within `limit`; simpler templates if it cannot fit; never empty."""
    slots = prep.slots()
    order = cut_order(prep.options.cut_first)
    for candidate in (template, *(parse(t) for t in FALLBACK_TEMPLATES)):
        composer = Composer(
            candidate, slots, serialize, measure, limit, prep.rtl, isolate=prep.options.bidi, link=prep.link
        )
        result = composer.fit(order)
        if result is not None:
            return result
    return last_resort(rt.plain(prep.title), serialize, measure, limit)


def common_extra(prep: Prepared, result: Composed) -> dict[str, object]:
    """Post.extra entries every platform shares: text direction and the hashtags the post carries."""
    extra: dict[str, object] = {
        "direction": "rtl" if prep.rtl else "ltr",
        "hashtags": rt.plain(result.fields.get("hashtags", ())).split(),
    }
    if prep.image_url and prep.article.image_alt:
        extra["image_alt"] = prep.article.image_alt  # for the platforms that describe images (alt text)
    return extra
