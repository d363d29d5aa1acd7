"""RSS 2.0/0.9x, RSS 1.0 (RDF) and Atom 1.0/0.3 trees → `ParsedFeed`: one reader for RSS items and Atom entries."""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree

from syndicator.article import Article
from syndicator.sources import clean
from syndicator.sources.clean import clip, clip_markup
from syndicator.sources.parse.dates import parse_date
from syndicator.sources.parse.elements import (
    _ENTRY_TAGS,
    _ITEM_TAGS,
    _RDF_NS,
    _XML_LANG,
    _base,
    _children,
    _construct,
    _join,
    _key,
    _text,
)
from syndicator.sources.parse.model import (
    _RAW_AUTHOR,
    _RAW_CATEGORY,
    _RAW_ID,
    _RAW_ITEMS,
    _RAW_SUMMARY,
    _RAW_TITLE,
    _RAW_URL,
    ParsedFeed,
)
from syndicator.sources.parse.normalise import _clean_feed, _collect, _unique, normalise_language
from syndicator.sources.parse.text import _excerpt, _first_img, _plain_or_html, _strip_boilerplate
from syndicator.sources.urls import absolute_url, canonical_url


@dataclass
class _Context:
    feed: str
    base: str
    language: str  # the override, else the feed's
    override: bool
    atom: bool
    author: str = ""  # Atom: the feed's author, inherited by entries without one


def _parse_rss(root: etree._Element, cleaned: str | None, *, feed: str, base_url: str, language: str) -> ParsedFeed:
    channel = root
    if _key(root.tag) != "channel":
        channel = next((c for k, c in _children(root) if k == "channel"), root)
    base = _base(channel, _base(root, base_url))
    if channel.get("BASE"):  # CDF
        base = _join(base, channel.get("BASE") or "")
    title = link = feed_lang = dc_title = ""
    hub = self_url = None
    for key, child in _children(channel):
        if key == "title" and not title:
            title = _plain_or_html(clip_markup(_text(child), _RAW_TITLE), True)
        elif key == "dc:title" and not dc_title:
            dc_title = _plain_or_html(clip_markup(_text(child), _RAW_TITLE), True)
        elif key == "link":
            href = child.get("href")
            rel = (child.get("rel") or "alternate").strip().lower()
            if href is None:
                link = link or _text(child).strip()
            elif rel == "hub" and hub is None:
                hub = absolute_url(href, base) or None
            elif rel == "self" and self_url is None:
                self_url = absolute_url(href, base) or None
            elif rel == "alternate" and not link:
                link = href.strip()
        elif key in ("language", "dc:language") and not feed_lang:
            feed_lang = normalise_language(_text(child))
    title = title or dc_title
    if not link:
        link = channel.get("href") or channel.get("HREF") or ""  # CDF
    link = canonical_url(link, base) if link else ""
    feed_lang = (
        feed_lang or normalise_language(channel.get(_XML_LANG) or "") or normalise_language(root.get(_XML_LANG) or "")
    )
    ctx = _Context(
        feed=feed,
        base=base or (link if link.startswith(("http://", "https://")) else ""),
        language=language or feed_lang,
        override=bool(language),
        atom=False,
    )
    items = list(root.iter(*_ITEM_TAGS))
    if cleaned is not None:
        items = _drop_truncated(items, cleaned, "item")
    articles = _collect(_entry(item, ctx) for item in items)
    return _clean_feed(ParsedFeed(title, language or feed_lang, link, hub, self_url, articles))


def _parse_atom(root: etree._Element, cleaned: str | None, *, feed: str, base_url: str, language: str) -> ParsedFeed:
    base = _base(root, base_url)
    title = link = author = ""
    hub = self_url = None
    for key, child in _children(root):
        if key == "title" and not title:
            value, is_html = _construct(child, True)
            title = _plain_or_html(clip_markup(value, _RAW_TITLE), is_html)
        elif key == "link":
            href = (child.get("href") or "").strip()
            rel = (child.get("rel") or "alternate").strip().lower()
            if not href:
                continue
            if rel == "hub" and hub is None:
                hub = absolute_url(href, _base(child, base))
            elif rel == "self" and self_url is None:
                self_url = absolute_url(href, _base(child, base))
            elif rel == "alternate" and not link:
                link = canonical_url(href, _base(child, base))
        elif key == "author" and not author:
            author = _person(child)
    feed_lang = normalise_language(root.get(_XML_LANG) or "")
    ctx = _Context(
        feed=feed, base=base, language=language or feed_lang, override=bool(language), atom=True, author=author
    )
    entries = list(root.iter(*_ENTRY_TAGS))
    if cleaned is not None:
        entries = _drop_truncated(entries, cleaned, "entry")
    articles = _collect(_entry(entry, ctx) for entry in entries)
    return _clean_feed(ParsedFeed(title, language or feed_lang, link, hub, self_url, articles))


def _drop_truncated(elements: list[etree._Element], cleaned: str, local: str) -> list[etree._Element]:
    """In a recovered document, entries beyond the number of closing tags were cut off: drop them."""
    closed = len(re.findall(rf"</(?:[\w.-]+:)?{local}\s*>", cleaned, re.I))
    return elements[:closed] if closed < len(elements) else elements


_IMAGE_EXT = re.compile(r"\.(?:jpe?g|png|gif|webp|avif|bmp|svg)(?:$|[?#])", re.I)
_PUBLISHED_KEYS = ("pubdate", "published", "dc:date", "issued", "created", "dcterms:issued", "dcterms:created")
_UPDATED_KEYS = ("updated", "modified", "dcterms:modified")


@dataclass(slots=True)
class _Fields:
    """What one entry's children say, as read: raw values, not yet turned into text."""

    title: str = ""
    title_html: bool = True
    has_title: bool = False
    fallback_title: str = ""  # dc:title, media:title
    fallback_summary: str = ""  # dc:description, media:description, itunes:summary …
    link: str = ""  # RSS <link>URL</link>
    alternate: str = ""  # Atom <link rel="alternate" href=…>
    alternate_is_html: bool = False
    permalink: str = ""
    ident: str = ""
    summary: str = ""
    summary_html: bool = True
    content: str = ""
    dates: dict[str, str] = field(default_factory=dict)
    categories: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    media_image: str = ""
    thumbnail: str = ""
    enclosure: str = ""
    lang: str = ""


def _entry(el: etree._Element, ctx: _Context) -> Article | None:
    """One RSS item or Atom entry → Article (None when it has nothing to identify it by)."""
    base = _base(el, ctx.base)
    fields = _read_children(el, ctx.atom, base)
    if not fields.ident:
        fields.ident = clip((el.get(f"{{{_RDF_NS}}}about") or "").strip(), _RAW_ID)
    link = fields.link
    if not link:
        link = fields.alternate or (fields.permalink if fields.permalink[:4].lower() == "http" else "")
        link = link or el.get("href") or el.get("HREF") or ""  # CDF
    url = canonical_url(clip(link, _RAW_URL), base) if link else ""
    title_text, summary_text = _texts(fields)
    article_id = _article_id(fields, url, title_text, summary_text)
    if article_id is None:
        return None
    language = ctx.language if ctx.override else normalise_language(el.get(_XML_LANG) or fields.lang) or ctx.language
    author = ", ".join(_unique(a for a in fields.authors if a)) or ctx.author
    return clean.clean_article(
        Article(
            id=article_id,
            feed=ctx.feed,
            url=url,
            title=title_text,
            summary=summary_text,
            content_html=fields.content,
            categories=tuple(_unique(_plain_or_html(c, True) for c in fields.categories)),
            language=language,
            author=author,
            published=_first_date(fields.dates, _PUBLISHED_KEYS),
            updated=_first_date(fields.dates, _UPDATED_KEYS),
            image_url=_image(fields, base) or None,
        )
    )


def _read_children(el: etree._Element, atom: bool, base: str) -> _Fields:
    """One pass over an entry's children; for each field the first value wins (categories and authors collect)."""
    f = _Fields()
    for key, child in _children(el):
        if key == "title":
            if not f.has_title:
                f.title, f.title_html = _construct(child, atom)
                f.has_title = True
        elif key in ("dc:title", "media:title"):
            f.fallback_title = f.fallback_title or _text(child)
        elif key == "link":
            _read_link(f, child, atom, base)
        elif key in ("guid", "id"):
            if not f.ident:
                f.ident = clip(_text(child).strip(), _RAW_ID)
                if key == "id" or (child.get("isPermaLink") or "true").strip().lower() != "false":
                    f.permalink = f.ident  # an RSS guid is a permalink unless it says otherwise; Atom ids may be
        elif key in ("description", "summary", "abstract"):
            if not f.summary:
                f.summary, f.summary_html = _construct(child, atom)
        elif key in ("dc:description", "media:description", "itunes:summary", "itunes:subtitle"):
            f.fallback_summary = f.fallback_summary or _text(child)
        elif key in ("content:encoded", "content", "xhtml:body", "body", "fullitem"):
            if not f.content and not child.get("src"):
                f.content = _content(child, key, atom)
        elif key in _PUBLISHED_KEYS or key in _UPDATED_KEYS:
            f.dates.setdefault(key, _text(child))
        elif key in ("category", "dc:subject"):
            if len(f.categories) < _RAW_ITEMS:
                value = child.get("term") or child.get("label") or _text(child)
                f.categories.append(clip_markup(value, _RAW_CATEGORY))
        elif key in ("dc:creator", "author", "itunes:author"):
            if len(f.authors) < _RAW_ITEMS:
                f.authors.append(_person(child) if len(child) else _rss_author(_text(child)))
        elif key == "media:content":
            f.media_image, f.thumbnail = _media(child, f.media_image, f.thumbnail)
        elif key == "media:group":
            _read_media_group(f, child)
        elif key == "media:thumbnail":
            f.thumbnail = f.thumbnail or child.get("url") or ""
        elif key == "enclosure":
            url = child.get("url") or child.get("href") or ""
            if url and not f.enclosure and _is_image(url, (child.get("type") or "").lower(), ""):
                f.enclosure = url
        elif key in ("dc:language", "language"):
            f.lang = f.lang or _text(child)
        elif key == "dc:identifier" and not f.ident:
            f.ident = clip(_text(child).strip(), _RAW_ID)
    return f


def _read_link(f: _Fields, child: etree._Element, atom: bool, base: str) -> None:
    href = child.get("href")
    if href is None:
        if not atom and child.get("rel") is None:  # RSS: <link>URL</link>
            f.link = f.link or _text(child).strip()
            return
        href = _text(child).strip()  # Atom 0.3 era feeds sometimes put the URL in the text
        if not href.startswith(("http://", "https://", "/")):
            return
    rel = (child.get("rel") or "alternate").strip().lower()
    kind = (child.get("type") or "").lower()
    if rel == "alternate":
        if not f.alternate or ("html" in kind and not f.alternate_is_html):
            f.alternate = _join(_base(child, base), href.strip())
            f.alternate_is_html = "html" in kind or not kind
    elif rel == "enclosure" and not f.enclosure and _is_image(href, kind, ""):
        f.enclosure = href


def _content(child: etree._Element, key: str, atom: bool) -> str:
    """The entry's body as HTML (plain text is escaped, its line breaks kept), clipped."""
    value, is_html = _construct(child, atom)
    content = value if is_html else html.escape(clip(value, clean.CONTENT_CHARS), quote=False)
    if not is_html and value and key != "content:encoded":
        content = content.replace("\n", "<br>\n")
    return clip_markup(content, clean.CONTENT_CHARS)


def _read_media_group(f: _Fields, group: etree._Element) -> None:
    for key, sub in _children(group):
        if key == "media:content":
            f.media_image, f.thumbnail = _media(sub, f.media_image, f.thumbnail)
        elif key == "media:thumbnail" and not f.thumbnail:
            f.thumbnail = sub.get("url") or ""
        elif key == "media:description":
            f.fallback_summary = f.fallback_summary or _text(sub)
        elif key == "media:title":
            f.fallback_title = f.fallback_title or _text(sub)


def _texts(f: _Fields) -> tuple[str, str]:
    """(title, summary) as plain text; the summary falls back to an excerpt of the content. `f.summary` is left
    as the clipped markup the summary was read from (its first image may be the entry's)."""
    if not f.title and f.fallback_title:
        f.title, f.title_html = f.fallback_title, True
    title_text = _plain_or_html(clip_markup(f.title, _RAW_TITLE), f.title_html)
    if not f.summary and f.fallback_summary:
        f.summary, f.summary_html = f.fallback_summary, True
    f.summary = clip_markup(f.summary, _RAW_SUMMARY)
    summary_text = _strip_boilerplate(_plain_or_html(f.summary, f.summary_html)) if f.summary else ""
    if not summary_text and f.content:
        summary_text = _excerpt(f.content)
    return title_text, summary_text


def _article_id(f: _Fields, url: str, title_text: str, summary_text: str) -> str | None:
    """The entry's id, else its URL, else a hash of its title and date (None: nothing to identify it by)."""
    ident = f.ident
    if ident:
        # an id's fragment may be all that tells two entries apart (`…/live/#post-101`, `#post-102`)
        return canonical_url(ident, keep_fragment=True) if ident[:4].lower() == "http" else " ".join(ident.split())
    if url:
        return url
    dates = f.dates
    date_raw = next((dates[k] for k in _PUBLISHED_KEYS + _UPDATED_KEYS if k in dates), "")
    if not title_text and not date_raw and not summary_text and not f.content:
        return None
    seed = f"{title_text}\x1f{date_raw.strip()}" + ("" if title_text else f"\x1f{summary_text or f.content}")
    return "sha256:" + hashlib.sha256(seed.encode("utf-8")).hexdigest()[:32]


def _image(f: _Fields, base: str) -> str:
    """media:content, else media:thumbnail, else an image enclosure, else the first real <img> of the body or
    (HTML) summary: absolute http(s) only."""
    for candidate in (f.media_image, f.thumbnail, f.enclosure):
        if candidate:
            image = absolute_url(clip(candidate, _RAW_URL), base)
            if image.startswith(("http://", "https://")):
                return image
    return _first_img(f.content, base) or (_first_img(f.summary, base) if f.summary_html else "")


def _first_date(dates: dict[str, str], keys: tuple[str, ...]) -> datetime | None:
    for key in keys:
        value = dates.get(key)
        if value:
            parsed = parse_date(value)
            if parsed is not None:
                return parsed
    return None


def _is_image(url: str, kind: str, medium: str) -> bool:
    if medium:
        return medium == "image"
    if kind:
        return kind.startswith("image/")
    return bool(_IMAGE_EXT.search(url))


def _media(el: etree._Element, image: str, thumbnail: str) -> tuple[str, str]:
    url = el.get("url") or ""
    if url and not image and _is_image(url, (el.get("type") or "").lower(), (el.get("medium") or "").lower()):
        image = url
    if not thumbnail:
        for key, child in _children(el):
            if key == "media:thumbnail" and child.get("url"):
                thumbnail = child.get("url") or ""
                break
    return image, thumbnail


def _person(el: etree._Element) -> str:
    """An Atom person construct (author/contributor): the name, else the e-mail address."""
    name = email = ""
    for key, child in _children(el):
        if key == "name" and not name:
            name = clip(_text(child), _RAW_AUTHOR)
        elif key == "email" and not email:
            email = clip(_text(child), _RAW_AUTHOR)
    if not name and not email and len(el) == 0:
        return _rss_author(el.text or "")
    return _plain_or_html(name or email, False)


def _rss_author(value: str) -> str:
    """RSS's "jane@example.org (Jane Doe)" and "Jane Doe <jane@example.org>" → "Jane Doe"; plain names unchanged.

    String operations, not a regular expression: the obvious patterns backtrack cubically on a long name.
    """
    value = _plain_or_html(clip(value, _RAW_AUTHOR), True)  # whitespace collapsed, stripped
    if value.endswith(")"):
        opening = value.find("(")
        address = value[:opening].strip()
        if opening > 0 and _is_address(address) and value[opening + 1 : -1].strip():
            return value[opening + 1 : -1].strip()
    if value.endswith(">"):
        opening = value.rfind("<")
        if opening > 0 and _is_address(value[opening + 1 : -1]) and value[:opening].strip():
            return value[:opening].strip()
    return value


def _is_address(value: str) -> bool:
    at = value.find("@")
    return 0 < at < len(value) - 1 and " " not in value


# --------------------------------------------------------------------------------------------------------------
