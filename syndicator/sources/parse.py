"""Feed documents → `Article`s: RSS 2.0/0.9x, RSS 1.0 (RDF), Atom 1.0/0.3, and JSON Feed, with libxml2 (lxml).

How a document is read, safest and fastest first:

1. The bytes go to a strict lxml parser that resolves no entities, loads no DTD and never touches the network (so
   "billion laughs" and XXE are inert: an undefined or declared entity stays an unexpanded reference node).
2. If that fails (ill-formed XML, wrong declared encoding, HTML entities, control characters, leading blank lines,
   a DOCTYPE that declares entities, a single-byte encoding declared for UTF-8 bytes), the bytes are decoded with
   the first encoding that fits (BOM, declaration, HTTP charset, UTF-8; else UTF-8 with stray bytes read as
   cp1252), cleaned (forbidden control
   characters removed, DOCTYPE removed, its simple internal entities substituted within a budget, HTML named
   entities turned into character references, stray "&" escaped) and parsed strictly again, then with the
   recovering parser. A recovered document keeps what is usable; an item cut off by truncation is dropped.

Nothing here does I/O. Text fields of an `Article` are plain text (tags stripped, entities decoded, whitespace
collapsed); `content_html` is the entry's raw HTML.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import hashlib
import html
import json
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from html.entities import html5 as _HTML5
from typing import Any, cast
from urllib.parse import urljoin

from lxml import etree

from syndicator.article import Article
from syndicator.errors import FeedError
from syndicator.sources import clean
from syndicator.sources.clean import clip, clip_markup, well_formed
from syndicator.sources.urls import absolute_url, canonical_url

__all__ = ["ParsedFeed", "html_to_text", "normalise_language", "parse", "parse_date"]

SUMMARY_CHARS = 300
"""A summary made from an entry's content is cut at a word boundary near this many characters."""

# A field's raw value is clipped before it is turned into text, so nothing costly ever sees a megabyte title; the
# finished Article is then cleaned and capped by sources/clean.py. URLs and ids are clipped above their caps, so
# one that was too long still is (and is refused or hashed there, never silently cut here).
_RAW_TITLE = clean.TITLE_CHARS * clean.RAW_FACTOR
_RAW_SUMMARY = clean.SUMMARY_CHARS * clean.RAW_FACTOR
_RAW_AUTHOR = clean.AUTHOR_CHARS * clean.RAW_FACTOR
_RAW_CATEGORY = clean.CATEGORY_CHARS * clean.RAW_FACTOR
_RAW_ID = clean.ID_CHARS * clean.RAW_FACTOR
_RAW_URL = clean.URL_CHARS * 4
_RAW_ITEMS = 4 * clean.CATEGORIES  # categories or authors looked at per entry (duplicates are common)


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    language: str  # the `language` argument if given, else the feed's own, as a primary code ("en", "fa")
    link: str  # the site the feed belongs to (canonical), "" if the feed does not say
    hub: str | None  # WebSub hub (atom:link rel="hub")
    self_url: str | None  # the feed's own URL as it declares it (atom:link rel="self")
    articles: list[Article]


def parse(
    data: bytes, *, feed: str, base_url: str = "", language: str = "", content_type: str | None = None
) -> ParsedFeed:
    """Parse one feed document. Raises FeedError (reason "empty", "not_a_feed" or "malformed") when nothing usable.

    `base_url` (normally the URL the document was fetched from) resolves relative links; `content_type` is the HTTP
    Content-Type, whose charset is tried when the document's own encoding is wrong; `language` overrides the feed's.
    A feed with no items is not an error: it parses to an empty list.
    """
    body = _strip_leading(data)
    if not body.strip():
        raise FeedError("the feed document is empty", reason="empty")
    override = normalise_language(language) if language else ""
    if body[:1] == b"{":
        return _parse_json(body, feed=feed, base_url=base_url, language=override)
    root, cleaned = _load(body, content_type)
    kind = _kind(root)
    if kind == "atom":
        return _parse_atom(root, cleaned, feed=feed, base_url=base_url, language=override)
    return _parse_rss(root, cleaned, feed=feed, base_url=base_url, language=override)


# --------------------------------------------------------------------------------------------------------------
# Reading the document safely


class _Parsers(threading.local):
    """lxml parser objects must not be shared between threads: one pair per thread."""

    def __init__(self) -> None:
        options: dict[str, Any] = {
            "resolve_entities": False,
            "no_network": True,
            "huge_tree": False,
            "load_dtd": False,
            "dtd_validation": False,
            "remove_comments": True,
            "remove_pis": True,
            "strip_cdata": True,
        }
        self.strict = etree.XMLParser(recover=False, **options)
        self.recover = etree.XMLParser(recover=True, **options)


_PARSERS = _Parsers()

_DECL_ENCODING = re.compile(rb"""^<\?xml[^>]{0,200}?encoding\s*=\s*["']\s*([A-Za-z0-9._:+-]{1,40})""")
_XML_DECL = re.compile(r"^<\?xml[^>]{0,500}\?>")
_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9._:+-]+)""", re.I)
_FORBIDDEN_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
# possessive (*+) and one character of whitespace at a time: no way to re-split a run, so no exponential
# backtracking when a feed's prolog does not end in a DOCTYPE (a stylesheet PI, a comment, then spaces)
_PROLOG_DOCTYPE = re.compile(
    r"((?:\s|<!--(?:(?!-->).)*-->|<\?(?:(?!\?>).)*\?>)*+)<!DOCTYPE\s+[^\[>]*(?:\[(.*?)\]\s*)?>", re.S | re.I
)
_ENTITY_DECL = re.compile(r"""<!ENTITY\s+([A-Za-z_][\w.-]*)\s+(?:"([^"]*)"|'([^']*)')\s*>""")
_SAFE_ENTITY_VALUE = re.compile(r"(?:[^&%<\"]|&#[0-9]{1,7};|&#x[0-9a-fA-F]{1,6};){0,1000}")
_AMPERSANDS = re.compile(
    r"<!\[CDATA\[.*?(?:\]\]>|$)|<!--.*?(?:-->|$)|&(?:(#[0-9]{1,8}|#[xX][0-9a-fA-F]{1,7}|[A-Za-z_][\w.:-]{0,63});)?",
    re.S,
)
_XML_PREDEFINED = frozenset({"amp", "lt", "gt", "quot", "apos"})
_SINGLE_BYTE = re.compile(r"^(?:iso[-_]?8859[-_]?\d+|latin[-_]?\d|l\d|(?:cp|windows-?)125\d|us-ascii|ascii)$", re.I)
_WIDE = re.compile(r"^(?:utf-?16|utf-?32|ucs-?2|ucs-?4|iso-10646-ucs-[24])", re.I)
_ENTITY_BUDGET = 1_000_000  # characters that declared entities may add to a document


def _strip_leading(data: bytes) -> bytes:
    if data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    if data[:1].isspace():
        data = data.lstrip()
    return data


def _load(body: bytes, content_type: str | None) -> tuple[etree._Element, str | None]:
    """The root element; and the cleaned text when the recovering parser had to be used (else None)."""
    parsers = _PARSERS
    if b"<!ENTITY" not in body and not _mislabelled_utf8(body):
        try:
            return etree.fromstring(body, parsers.strict), None
        except etree.XMLSyntaxError:
            pass
    text = _clean(_decode(body, content_type))
    if not text.strip():
        raise FeedError("the feed document is empty", reason="empty")
    raw = text.encode("utf-8")
    try:
        return etree.fromstring(raw, parsers.strict), None
    except etree.XMLSyntaxError:
        pass
    try:
        root = etree.fromstring(raw, parsers.recover)
    except etree.XMLSyntaxError:
        root = None
    if root is None:
        if "<" not in text[:4096]:
            raise FeedError("the document is not XML", reason="not_a_feed")
        raise FeedError("the document is not well-formed XML and nothing could be recovered", reason="malformed")
    return root, text


def _mislabelled_utf8(body: bytes) -> bool:
    """True when a single-byte encoding is declared for bytes that are (non-ASCII) UTF-8: a common server mistake."""
    match = _DECL_ENCODING.match(body)
    if not match or not _SINGLE_BYTE.match(match.group(1).decode("ascii")) or body.isascii():
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _decode(body: bytes, content_type: str | None) -> str:
    for bom, encoding in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if body.startswith(bom):
            return body.decode(encoding, "replace")
    candidates: list[str] = []
    if body[:4] == b"<\x00?\x00":
        candidates.append("utf-16-le")
    elif body[:4] == b"\x00<\x00?":
        candidates.append("utf-16-be")
    match = _DECL_ENCODING.match(body)
    declared = match.group(1).decode("ascii") if match else ""
    if declared and _WIDE.match(declared):
        declared = ""  # the declaration was readable as ASCII, so the document is not UTF-16/32
    charset = ""
    if content_type:
        found = _CHARSET.search(content_type)
        charset = found.group(1) if found else ""
    if not body.isascii() and any(_SINGLE_BYTE.match(e) for e in (declared, charset) if e):
        candidates.append("utf-8")  # see _mislabelled_utf8
    candidates += [e for e in (declared, charset) if e] + ["utf-8"]
    for encoding in candidates:
        try:
            return body.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    # Mostly UTF-8 with stray legacy bytes (a paste from Word), or cp1252 throughout: every byte sequence that is
    # valid UTF-8 stays UTF-8, every other byte is read as cp1252. For a pure cp1252 document that is cp1252.
    return body.decode("utf-8", _CP1252_FALLBACK)


def _cp1252_bytes(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return bytes(error.object[error.start : error.end]).decode("cp1252", "replace"), error.end


_CP1252_FALLBACK = "syndicator-cp1252-fallback"
codecs.register_error(_CP1252_FALLBACK, _cp1252_bytes)


def _clean(text: str) -> str:
    text = text.lstrip("\ufeff \t\r\n")
    if text.startswith("<?xml"):
        text = _XML_DECL.sub("", text, count=1).lstrip()
    text = _FORBIDDEN_CHARS.sub("", text)
    entities: dict[str, str] = {}
    doctype = _PROLOG_DOCTYPE.match(text)
    if doctype:
        for decl in _ENTITY_DECL.finditer(doctype.group(2) or ""):
            value = decl.group(2) if decl.group(2) is not None else decl.group(3)
            if _SAFE_ENTITY_VALUE.fullmatch(value):
                entities.setdefault(decl.group(1), value)
        text = doctype.group(1) + text[doctype.end() :]
    if "&" in text:
        text = _fix_ampersands(text, entities)
    return text


def _fix_ampersands(text: str, entities: dict[str, str]) -> str:
    """Make every "&" well-formed: HTML entities → character references, declared simple entities substituted
    (within a budget), unknown entities and stray ampersands escaped. CDATA sections and comments are left alone."""
    budget = [_ENTITY_BUDGET]

    def replace(match: re.Match[str]) -> str:
        whole = match.group(0)
        if whole[0] == "<":
            return whole
        name = match.group(1)
        if name is None:
            return "&amp;"
        if name[0] == "#":
            try:
                code = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
            except ValueError:
                return ""
            return f"&#{code};" if _xml_char_ok(code) else ""
        if name in _XML_PREDEFINED:
            return whole
        if name in entities:
            value = entities[name]
            budget[0] -= len(value)
            return value if budget[0] >= 0 else ""
        chars = _HTML5.get(name + ";")
        if chars is not None:
            return "".join(f"&#{ord(c)};" for c in chars)
        return "&amp;" + name + ";"

    return _AMPERSANDS.sub(replace, text)


def _xml_char_ok(code: int) -> bool:
    return code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF


# --------------------------------------------------------------------------------------------------------------
# Element names: "{namespace}local" → a short key ("title", "dc:creator", "media:content"); Atom's namespace and
# the RSS namespaces map to bare names, so RSS items and Atom entries share one reader.

_ATOM_NS = ("http://www.w3.org/2005/Atom", "http://purl.org/atom/ns#")
_RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_XML_NS = "http://www.w3.org/XML/1998/namespace"
_XML_LANG = f"{{{_XML_NS}}}lang"
_XML_BASE = f"{{{_XML_NS}}}base"
_XHTML_NS = "http://www.w3.org/1999/xhtml"
_BARE_NS = (
    "",
    "http://purl.org/rss/1.0/",
    "http://my.netscape.com/rdf/simple/0.9/",
    "http://channel.netscape.com/rdf/simple/0.9/",
    "http://backend.userland.com/rss2",
    "http://backend.userland.com/rss",
    "http://blogs.law.harvard.edu/tech/rss",
    "http://purl.org/net/rss1.1#",
    *_ATOM_NS,
)
_PREFIXES = {
    **dict.fromkeys(_BARE_NS, ""),
    "http://purl.org/dc/elements/1.1/": "dc:",
    "http://purl.org/dc/elements/1.0/": "dc:",
    "http://purl.org/dc/terms/": "dcterms:",
    "http://purl.org/rss/1.0/modules/content/": "content:",
    "http://search.yahoo.com/mrss/": "media:",
    "http://search.yahoo.com/mrss": "media:",
    "http://www.itunes.com/dtds/podcast-1.0.dtd": "itunes:",
    _RDF_NS: "rdf:",
    _XHTML_NS: "xhtml:",
}
# Prefixes seen literally when a recovered document used a namespace it never declared.
_KNOWN_PREFIXES = {"dc", "dcterms", "content", "media", "itunes", "rdf", "xhtml"}
_KEYS: dict[str, str] = {}
_ITEM_TAGS = ("item", "ITEM", "Item", *(f"{{{ns}}}item" for ns in _BARE_NS if ns and ns not in _ATOM_NS))
_ENTRY_TAGS = (*(f"{{{ns}}}entry" for ns in _ATOM_NS), "entry")


def _key(tag: str) -> str:
    key = _KEYS.get(tag)
    if key is None:
        if tag[:1] == "{":
            ns, _, local = tag[1:].partition("}")
            prefix = _PREFIXES.get(ns)
            key = prefix + local.lower() if prefix is not None else "{" + ns + "}" + local.lower()
        elif ":" in tag:
            prefix, _, local = tag.partition(":")
            prefix = prefix.lower()
            key = (
                (local.lower() if prefix == "atom" else f"{prefix}:{local.lower()}")
                if prefix in _KNOWN_PREFIXES or prefix == "atom"
                else tag.lower()
            )
        else:
            key = tag.lower()
        if len(_KEYS) < 4096:
            _KEYS[tag] = key
    return key


def _children(el: etree._Element) -> Iterator[tuple[str, etree._Element]]:
    for child in el:
        tag = child.tag
        if isinstance(tag, str):
            yield _key(tag), child


def _kind(root: etree._Element) -> str:
    key = _key(root.tag) if isinstance(root.tag, str) else ""
    if key in ("rss", "rdf:rdf", "rdf", "channel"):
        return "rss"
    if key == "feed":
        return "atom"
    if key in ("html", "xhtml:html") or key.endswith("}html"):
        raise FeedError("the document is an HTML page, not a feed", reason="not_a_feed")
    if next(root.iter(*_ITEM_TAGS), None) is not None:
        return "rss"
    if next(root.iter(*_ENTRY_TAGS), None) is not None:
        return "atom"
    raise FeedError(f"the document is XML but not a feed (root element {key!r})", reason="not_a_feed")


def _text(el: etree._Element) -> str:
    """All the text inside an element (entity references nobody resolved stay as "&name;")."""
    if len(el) == 0:
        return el.text or ""
    return "".join(cast("Iterator[str]", el.itertext()))


def _inner_markup(el: etree._Element) -> str:
    """An element's content as a string of markup: its text when it has no children (CDATA or escaped HTML, the
    usual case), else the serialised children (unescaped inline (X)HTML)."""
    if len(el) == 0:
        return el.text or ""
    parts = [html.escape(el.text, quote=False)] if el.text else []
    for child in el:
        parts.append(str(etree.tostring(child, encoding="unicode", with_tail=True)))
    markup = _XMLNS_ATTR.sub("", "".join(parts))  # lxml repeats the namespace declarations in scope
    return markup.replace("<xhtml:", "<").replace("</xhtml:", "</") if "xhtml:" in markup else markup


_XMLNS_ATTR = re.compile(r"""\sxmlns(?::[\w.-]+)?=(?:"[^"]*"|'[^']*')""")


def _construct(el: etree._Element, atom: bool) -> tuple[str, bool]:
    """(value, is_html) of a text construct. RSS text is HTML; Atom says which with type="text|html|xhtml"."""
    if not atom:
        return _inner_markup(el), True
    kind = (el.get("type") or "text").strip().lower()
    mode = (el.get("mode") or "").strip().lower()  # Atom 0.3
    if kind in ("xhtml", "application/xhtml+xml") or (mode == "xml" and len(el)):
        inner = el
        if len(el) == 1 and isinstance(el[0].tag, str) and _key(el[0].tag) in ("xhtml:div", "div"):
            inner = el[0]
        return _inner_markup(inner) if len(inner) else html.escape(inner.text or "", quote=False), True
    value = _text(el)
    if mode == "base64":
        try:
            value = base64.b64decode(value, validate=False).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            return "", False
        if not kind.startswith("text/plain") and _KNOWN_TAGS.search(value):
            return value, True
    if kind in ("html", "text/html") or mode == "escaped":
        return value, True
    if kind in ("text", "text/plain") or kind.startswith("text/"):
        return value, False
    if mode != "base64" and not kind.endswith("xml"):  # another media type: Atom says base64
        try:
            value = base64.b64decode("".join(value.split()), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            return "", False
        return value, bool(_KNOWN_TAGS.search(value))
    return "", False


def _join(base: str, url: str) -> str:
    if not base:
        return url
    try:
        return urljoin(base, url)
    except ValueError:
        return url


def _base(el: etree._Element, inherited: str) -> str:
    own = el.get(_XML_BASE)
    if not own:
        return inherited
    try:
        return urljoin(inherited, own.strip()) if inherited else own.strip()
    except ValueError:
        return inherited


# --------------------------------------------------------------------------------------------------------------
# Feed formats


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


def _clean_feed(parsed: ParsedFeed) -> ParsedFeed:
    """The feed's own fields under the same rules as its items' (the hub and self URL are stored)."""
    return replace(
        parsed,
        title=clean.clean_text(parsed.title, clean.TITLE_CHARS),
        link=clean.clean_url(parsed.link),
        hub=clean.clean_url(parsed.hub) or None,
        self_url=clean.clean_url(parsed.self_url) or None,
    )


def _drop_truncated(elements: list[etree._Element], cleaned: str, local: str) -> list[etree._Element]:
    """In a recovered document, entries beyond the number of closing tags were cut off: drop them."""
    closed = len(re.findall(rf"</(?:[\w.-]+:)?{local}\s*>", cleaned, re.I))
    return elements[:closed] if closed < len(elements) else elements


def _collect(entries: Iterable[Article | None]) -> list[Article]:
    seen: set[str] = set()
    out: list[Article] = []
    for article in entries:
        if article is not None and article.id not in seen:
            seen.add(article.id)
            out.append(article)
    return out


_IMAGE_EXT = re.compile(r"\.(?:jpe?g|png|gif|webp|avif|bmp|svg)(?:$|[?#])", re.I)
_PUBLISHED_KEYS = ("pubdate", "published", "dc:date", "issued", "created", "dcterms:issued", "dcterms:created")
_UPDATED_KEYS = ("updated", "modified", "dcterms:modified")


def _entry(el: etree._Element, ctx: _Context) -> Article | None:
    """One RSS item or Atom entry → Article (None when it has nothing to identify it by)."""
    base = _base(el, ctx.base)
    atom = ctx.atom
    title = ""
    title_html = True
    has_title = False
    fallback_title = fallback_summary = ""
    link = alternate = permalink = ""
    alternate_is_html = False
    ident = ""
    summary = ""
    summary_html = True
    content = ""
    dates: dict[str, str] = {}
    categories: list[str] = []
    authors: list[str] = []
    media_image = thumbnail = enclosure = ""
    lang = ""
    for key, child in _children(el):
        if key == "title":
            if not has_title:
                title, title_html = _construct(child, atom)
                has_title = True
        elif key in ("dc:title", "media:title"):
            fallback_title = fallback_title or _text(child)
        elif key == "link":
            href = child.get("href")
            if href is None:
                if not atom and child.get("rel") is None:  # RSS: <link>URL</link>
                    link = link or _text(child).strip()
                    continue
                href = _text(child).strip()  # Atom 0.3 era feeds sometimes put the URL in the text
                if not href.startswith(("http://", "https://", "/")):
                    continue
            rel = (child.get("rel") or "alternate").strip().lower()
            kind = (child.get("type") or "").lower()
            if rel == "alternate":
                if not alternate or ("html" in kind and not alternate_is_html):
                    alternate = _join(_base(child, base), href.strip())
                    alternate_is_html = "html" in kind or not kind
            elif rel == "enclosure" and not enclosure and _is_image(href, kind, ""):
                enclosure = href
        elif key in ("guid", "id"):
            if not ident:
                ident = clip(_text(child).strip(), _RAW_ID)
                if key == "id" or (child.get("isPermaLink") or "true").strip().lower() != "false":
                    permalink = ident  # an RSS guid is a permalink unless it says otherwise; Atom ids may be
        elif key in ("description", "summary", "abstract"):
            if not summary:
                summary, summary_html = _construct(child, atom)
        elif key in ("dc:description", "media:description", "itunes:summary", "itunes:subtitle"):
            fallback_summary = fallback_summary or _text(child)
        elif key in ("content:encoded", "content", "xhtml:body", "body", "fullitem"):
            if not content:
                if child.get("src"):
                    continue
                value, is_html = _construct(child, atom)
                content = value if is_html else html.escape(clip(value, clean.CONTENT_CHARS), quote=False)
                if not is_html and value and key != "content:encoded":
                    content = content.replace("\n", "<br>\n")
                content = clip_markup(content, clean.CONTENT_CHARS)
        elif key in _PUBLISHED_KEYS or key in _UPDATED_KEYS:
            dates.setdefault(key, _text(child))
        elif key in ("category", "dc:subject"):
            if len(categories) < _RAW_ITEMS:
                value = child.get("term") or child.get("label") or _text(child)
                categories.append(clip_markup(value, _RAW_CATEGORY))
        elif key in ("dc:creator", "author", "itunes:author"):
            if len(authors) < _RAW_ITEMS:
                authors.append(_person(child) if len(child) else _rss_author(_text(child)))
        elif key == "media:content":
            media_image, thumbnail = _media(child, media_image, thumbnail)
        elif key == "media:group":
            for sub_key, sub in _children(child):
                if sub_key == "media:content":
                    media_image, thumbnail = _media(sub, media_image, thumbnail)
                elif sub_key == "media:thumbnail" and not thumbnail:
                    thumbnail = sub.get("url") or ""
                elif sub_key == "media:description":
                    fallback_summary = fallback_summary or _text(sub)
                elif sub_key == "media:title":
                    fallback_title = fallback_title or _text(sub)
        elif key == "media:thumbnail":
            thumbnail = thumbnail or child.get("url") or ""
        elif key == "enclosure":
            url = child.get("url") or child.get("href") or ""
            if url and not enclosure and _is_image(url, (child.get("type") or "").lower(), ""):
                enclosure = url
        elif key in ("dc:language", "language"):
            lang = lang or _text(child)
        elif key == "dc:identifier" and not ident:
            ident = clip(_text(child).strip(), _RAW_ID)
    if not ident:
        ident = clip((el.get(f"{{{_RDF_NS}}}about") or "").strip(), _RAW_ID)
    if not link:
        link = alternate or (permalink if permalink[:4].lower() == "http" else "")
        link = link or el.get("href") or el.get("HREF") or ""  # CDF
    url = canonical_url(clip(link, _RAW_URL), base) if link else ""

    if not title and fallback_title:
        title, title_html = fallback_title, True
    title_text = _plain_or_html(clip_markup(title, _RAW_TITLE), title_html)
    if not summary and fallback_summary:
        summary, summary_html = fallback_summary, True
    summary = clip_markup(summary, _RAW_SUMMARY)
    summary_text = _strip_boilerplate(_plain_or_html(summary, summary_html)) if summary else ""
    if not summary_text and content:
        summary_text = _excerpt(content)

    published = _first_date(dates, _PUBLISHED_KEYS)
    updated = _first_date(dates, _UPDATED_KEYS)
    if ident:
        # an id's fragment may be all that tells two entries apart (`…/live/#post-101`, `#post-102`)
        article_id = (
            canonical_url(ident, keep_fragment=True) if ident[:4].lower() == "http" else " ".join(ident.split())
        )
    elif url:
        article_id = url
    else:
        date_raw = next((dates[k] for k in _PUBLISHED_KEYS + _UPDATED_KEYS if k in dates), "")
        if not title_text and not date_raw and not summary_text and not content:
            return None
        seed = f"{title_text}\x1f{date_raw.strip()}" + ("" if title_text else f"\x1f{summary_text or content}")
        article_id = "sha256:" + hashlib.sha256(seed.encode("utf-8")).hexdigest()[:32]

    image = ""
    for candidate in (media_image, thumbnail, enclosure):
        if candidate:
            image = absolute_url(clip(candidate, _RAW_URL), base)
            if image.startswith(("http://", "https://")):
                break
            image = ""
    if not image:
        image = _first_img(content, base) or (_first_img(summary, base) if summary_html else "")

    language = ctx.language if ctx.override else normalise_language(el.get(_XML_LANG) or lang) or ctx.language
    author = ", ".join(_unique(a for a in authors if a)) or ctx.author
    return clean.clean_article(
        Article(
            id=article_id,
            feed=ctx.feed,
            url=url,
            title=title_text,
            summary=summary_text,
            content_html=content,
            categories=tuple(_unique(_plain_or_html(c, True) for c in categories)),
            language=language,
            author=author,
            published=published,
            updated=updated,
            image_url=image or None,
        )
    )


def _first_date(dates: dict[str, str], keys: tuple[str, ...]) -> datetime | None:
    for key in keys:
        value = dates.get(key)
        if value:
            parsed = parse_date(value)
            if parsed is not None:
                return parsed
    return None


def _unique(values: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for value in values:
        folded = value.casefold()
        if value and folded not in seen:
            seen.add(folded)
            out.append(value)
    return out


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
# HTML → plain text

_TAGS = re.compile(
    r"<!--.*?(?:-->|$)"
    r"|<(script|style|noscript|template)\b[^<>]*>.*?(?:</\1\s*>|$)"
    r"|<(/?)([A-Za-z][\w:-]{0,40})[^<>]*>"
    r"|<![^<>]*>|<\?[^<>]*>",
    re.S | re.I,
)
_INLINE_TAGS = frozenset(
    {
        "a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "del", "dfn", "em", "font", "i", "ins", "kbd",
        "mark", "q", "rp", "rt", "ruby", "s", "samp", "small", "span", "strike", "strong", "sub", "sup", "time",
        "tt", "u", "var", "wbr",
    }
)  # fmt: skip
_KNOWN_TAGS = re.compile(
    r"</?(?:a|abbr|b|br|cite|code|div|em|font|h[1-6]|i|img|li|ol|p|q|s|small|span|strike|strong|sub|sup|u|ul)"
    r"\b[^<>]*>",
    re.I,
)
_ENTITY_LIKE = re.compile(r"&(?:#[0-9]{1,8}|#[xX][0-9a-fA-F]{1,7}|[A-Za-z][A-Za-z0-9]{1,31});")


def _tag_space(match: re.Match[str]) -> str:
    name = match.group(3)
    if name is not None and name.lower() in _INLINE_TAGS:
        return ""
    return " "


def html_to_text(value: str) -> str:
    """Plain text of an HTML fragment: tags (and script/style bodies, comments) removed, entities decoded,
    whitespace (including no-break spaces) collapsed to single spaces, cp1252/UTF-8 mix-ups repaired."""
    if not value:
        return ""
    if "<" in value:
        value = _TAGS.sub(_tag_space, value)
    if "&" in value:
        value = html.unescape(value)
    return _repair(" ".join(value.split()))


def _plain_or_html(value: str, is_html: bool) -> str:
    """A text field's plain text. HTML that was escaped twice (no real markup, but entities that decode to markup
    or to more entities) is decoded once more; plain text escaped once too often is decoded once."""
    if not value:
        return ""
    if is_html:
        text = html_to_text(value)
        if "<" not in value and ("&" in text or "<" in text):
            if "&" in text and _ENTITY_LIKE.search(text):
                text = html.unescape(text)
            if "<" in text and _KNOWN_TAGS.search(text):
                text = _TAGS.sub(_tag_space, text)
            text = " ".join(text.split())
        return text
    if "&" in value and _ENTITY_LIKE.search(value):
        value = html.unescape(value)
    return _repair(" ".join(value.split()))


# cp1252 bytes mis-decoded as Latin-1 show up as C1 control characters; UTF-8 read as cp1252/Latin-1 shows up as
# "â€™"-style sequences. Both are repaired in text fields (never in content_html).
_C1 = re.compile("[\x80-\x9f]")
_C1_TABLE = {i: bytes([i]).decode("cp1252", "ignore") or None for i in range(0x80, 0xA0)}
_CP1252_BYTES = {bytes([i]).decode("cp1252"): i for i in range(0x80, 0xA0) if i not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)}
_CONT = "[\x80-\xbf" + "".join(_CP1252_BYTES) + "]"
_MOJIBAKE = re.compile(f"(?:[\xc2-\xdf]{_CONT}|[\xe0-\xef]{_CONT}{{2}}|[\xf0-\xf4]{_CONT}{{3}})+")
_MOJIBAKE_HINT = re.compile(f"[\xc2-\xf4]{_CONT}")  # a cheap first test: one character class, then another


def _unmojibake(match: re.Match[str]) -> str:
    run = match.group(0)
    try:
        return bytes(_CP1252_BYTES.get(c, ord(c)) for c in run).decode("utf-8")
    except (UnicodeDecodeError, ValueError):
        return run


def _repair(text: str) -> str:
    if text.isascii():
        return text
    if _MOJIBAKE_HINT.search(text):
        text = _MOJIBAKE.sub(_unmojibake, text)
    if _C1.search(text):
        text = text.translate(_C1_TABLE)
    return text


_THE_POST = re.compile(r"The post\s.{1,500}?\sappeared first on\s.{1,300}?\s*$", re.S)
_MORE_SUFFIXES = ("[…]", "[...]", "[ … ]", "[&hellip;]", "[&#8230;]")
_MORE_PHRASES = ("Continue reading", "Continue Reading", "Read more", "Read More", "Lire la suite")
_LINK_DECORATION = ("→", "»", "…", "...", ">", "›")
_SENTENCE_END = (".", "!", "?", "…", "؟", "۔", "。", '"', "”", "»", ")")


def _strip_boilerplate(text: str) -> str:
    """Remove WordPress's "The post X appeared first on Y." and a trailing "[…]" / "Continue reading →".

    Where a "more" marker said the text was cut, the excerpt ends with "…" so no post reads as if it stopped short.
    """
    cut = False
    at = text.rfind("The post ")
    if at >= 0 and _THE_POST.match(text, at):
        text = text[:at].rstrip()
    for _round in range(3):  # "… […] Continue reading →": a few layers at most (never a loop over hostile input)
        before = text
        if text.endswith(_MORE_SUFFIXES):
            text = text[: text.rfind("[")].rstrip()
            cut = True
        tail = text[-150:]
        for phrase in _MORE_PHRASES:
            found = tail.rfind(phrase)
            if found < 0 or (found > 0 and tail[found - 1].isalnum()):
                continue
            label = tail[found + len(phrase) :].strip()
            # "Continue reading", "Read more →", "Continue reading <post title> …": a link label, not prose.
            if not label or label.endswith(_LINK_DECORATION) or label.startswith(_LINK_DECORATION):
                text = text[: len(text) - len(tail) + found].rstrip()
                cut = True
                break
        if text == before:
            break
    if cut and text and not text.endswith(_SENTENCE_END):
        text = text.rstrip(" ,;:-–—") + "…"
    return text


def _excerpt(content_html: str, limit: int = SUMMARY_CHARS) -> str:
    """The first ~`limit` characters of an HTML body's text, cut at a word boundary."""
    size = 4096
    while True:
        whole = size >= len(content_html)
        chunk = content_html if whole else content_html[:size]
        if not whole:
            lt = chunk.rfind("<")
            if lt > chunk.rfind(">"):
                chunk = chunk[:lt]
        text = html_to_text(chunk)
        if whole:
            text = _strip_boilerplate(text)
        if whole or len(text) > limit + 50:
            return _truncate(text, limit)
        size *= 4


def _truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit + 1]
    space = cut.rfind(" ")
    cut = cut[:space] if space >= limit * 0.6 else cut[:limit]
    return cut.rstrip(" ,;:-–—") + "…"


_IMG = re.compile(r"<img\b[^<>]*>", re.I)
# a name starts only where no name character precedes it, and is taken whole (possessive): otherwise a long run
# of name characters is retried from each of its positions, quadratic in the length of a hostile <img> tag
_ATTR = re.compile(r"""(?<![-\w:.])([A-Za-z_:][-\w:.]*+)\s*+=\s*+(?:"([^"]*)"|'([^']*)'|([^\s"'<>]++))""")
_SKIP_IMG = re.compile(
    r"(?:s\.w\.org/images/core/emoji|stats\.wordpress\.com|feeds\.feedburner\.com/~r|/pixel\.|1x1\.)", re.I
)


def _first_img(markup: str, base: str) -> str:
    """The first real <img> in an HTML fragment (not an emoji, tracking pixel or data: placeholder), absolute."""
    if not markup or "<img" not in markup.lower():
        return ""
    for tag in _IMG.finditer(markup):
        attrs = {m.group(1).lower(): m.group(2) or m.group(3) or m.group(4) or "" for m in _ATTR.finditer(tag.group(0))}
        if "emoji" in attrs.get("class", "") or attrs.get("width") == "1" or attrs.get("height") == "1":
            continue
        src = attrs.get("src", "").strip()
        if not src or src.startswith("data:"):
            src = (attrs.get("data-lazy-src") or attrs.get("data-src") or attrs.get("data-orig-file") or "").strip()
        if not src or src.startswith("data:") or _SKIP_IMG.search(src):
            continue
        url = absolute_url(html.unescape(src), base)
        if url.startswith(("http://", "https://")):
            return url
    return ""


# --------------------------------------------------------------------------------------------------------------
# Languages

_LANGUAGE_ALIASES = {
    "eng": "en", "english": "en", "ara": "ar", "arabic": "ar", "عربي": "ar", "العربية": "ar",
    "fas": "fa", "per": "fa", "persian": "fa", "farsi": "fa", "فارسی": "fa", "sqi": "sq", "alb": "sq",
    "albanian": "sq", "shqip": "sq", "fre": "fr", "fra": "fr", "french": "fr", "ger": "de", "deu": "de",
    "german": "de", "spa": "es", "spanish": "es", "rus": "ru", "russian": "ru", "tur": "tr", "turkish": "tr",
    "urd": "ur", "urdu": "ur", "kur": "ku", "kurdish": "ku", "heb": "he", "hebrew": "he", "iw": "he",
}  # fmt: skip
_LANGUAGE = re.compile(r"[a-z]{2,3}")


def normalise_language(value: str) -> str:
    """A language tag or name → its lowercase primary code: "en-US" → "en", "fa_IR" → "fa", "per" → "fa"."""
    value = value.strip().lower()
    if not value:
        return ""
    if value in _LANGUAGE_ALIASES:
        return _LANGUAGE_ALIASES[value]
    primary = value.replace("_", "-").split("-", 1)[0].split(",", 1)[0].strip()
    primary = _LANGUAGE_ALIASES.get(primary, primary)
    return primary if _LANGUAGE.fullmatch(primary) else ""


# --------------------------------------------------------------------------------------------------------------
# Dates: RFC 822 in its many real-world shapes, ISO 8601 / RFC 3339 / W3C-DTF. Always timezone-aware UTC.

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10,
    "nov": 11, "dec": 12, "sept": 9, "janv": 1, "févr": 2, "fevr": 2, "fév": 2, "fev": 2, "mars": 3, "avr": 4,
    "mai": 5, "juin": 6, "juil": 7, "août": 8, "aout": 8, "déc": 12, "mär": 3, "mrz": 3, "okt": 10, "dez": 12,
    "ene": 1, "abr": 4, "ago": 8, "dic": 12, "gen": 1, "giu": 6, "lug": 7, "set": 9, "ott": 10, "maj": 5,
    "mei": 5, "janar": 1, "shkurt": 2, "prill": 4, "qershor": 6, "korrik": 7, "gusht": 8, "shtator": 9,
    "tetor": 10, "nëntor": 11, "nentor": 11, "dhjetor": 12,
}  # fmt: skip
# weekday names whose first letters look like a month ("mardi" → "mar"): never read as the month
_WEEKDAYS = frozenset(
    [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "lundi",
        "mardi",
        "mercredi",
        "jeudi",
        "vendredi",
        "samedi",
        "dimanche",
        "lunes",
        "martes",
        "miércoles",
        "miercoles",
        "jueves",
        "viernes",
        "sábado",
        "sabado",
        "domingo",
        "lunedì",
        "lunedi",
        "martedì",
        "martedi",
        "mercoledì",
        "mercoledi",
        "giovedì",
        "giovedi",
        "venerdì",
        "venerdi",
        "sabato",
        "domenica",
        "montag",
        "dienstag",
        "mittwoch",
        "donnerstag",
        "freitag",
        "samstag",
        "sonntag",
        "hënë",
        "hene",
        "martë",
        "marte",
        "mërkurë",
        "merkure",
        "enjte",
        "premte",
        "shtunë",
        "shtune",
        "diel",
    ]
)
_ZONES = {
    "ut": 0, "utc": 0, "gmt": 0, "z": 0, "est": -300, "edt": -240, "cst": -360, "cdt": -300, "mst": -420,
    "mdt": -360, "pst": -480, "pdt": -420, "akst": -540, "akdt": -480, "hst": -600, "adt": -180, "nst": -210,
    "ndt": -150, "brt": -180, "art": -180, "wet": 0, "west": 60, "bst": 60, "ist": 330, "cet": 60, "cest": 120,
    "met": 60, "mest": 120, "eet": 120, "eest": 180, "msk": 180, "trt": 180, "irst": 210, "irdt": 270,
    "gst": 240, "pkt": 300, "npt": 345, "ict": 420, "wib": 420, "hkt": 480, "sgt": 480, "pht": 480,
    "awst": 480, "jst": 540, "kst": 540, "acst": 570, "acdt": 630, "aest": 600, "aedt": 660, "nzst": 720,
    "nzdt": 780, "sast": 120, "cat": 120, "eat": 180, "wat": 60,
}  # fmt: skip
_RFC822_FAST = re.compile(
    r"(?:[A-Za-z]{3},\s*)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4})\s+(\d{2}):(\d{2})(?::(\d{2}))?\s*([+-]\d{4}|GMT|UTC|UT|Z)?"
)
_TIME = re.compile(r"(?<![\d:])(\d{1,2})[:.](\d{2})(?:[:.](\d{2})(?:[.,]\d+)?)?(?:\s*([AaPp])\.?[Mm]\.?(?![A-Za-z]))?")
_OFFSET = re.compile(r"(?:GMT|UTC|UT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?(?!\d)")
_WORDS = re.compile(r"[^\W\d_]+")
_NUMBERS = re.compile(r"\d+")
_ISO = re.compile(
    r"(\d{4})(?:-?(\d{2})(?:-?(\d{2}))?)?"
    r"(?:(?:T|\s+)(\d{2})(?::?(\d{2})(?::?(\d{2})(?:[.,]\d+)?)?)?)?"
    r"\s*(Z|[+-]\d{2}(?::?\d{2})?|UTC|GMT)?",
    re.I,
)


def parse_date(value: str) -> datetime | None:
    """A feed date → aware UTC datetime, or None when it cannot be read (never raises)."""
    text = value.strip()
    if not text or len(text) > 120:
        return None
    try:
        if text[:4].isdigit():
            return _iso_date(text) or _rfc822_date(text)
        return _rfc822_date(text) or _iso_date(text)
    except (ValueError, OverflowError):
        return None


def _aware(year: int, month: int, day: int, hour: int, minute: int, second: int, offset: int) -> datetime | None:
    if year < 100:
        year += 2000 if year < 50 else 1900
    extra = timedelta(0)
    if hour == 24 and minute == 0 and second == 0:
        hour, extra = 0, timedelta(days=1)
    second = min(second, 59)  # leap seconds
    try:
        local = datetime(year, month, day, hour, minute, second, tzinfo=timezone(timedelta(minutes=offset)))
        return (local + extra).astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _iso_date(text: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        pass
    else:
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    match = _ISO.fullmatch(text)
    if not match:
        return None
    y, mo, d, h, mi, s, zone = match.groups()
    return _aware(int(y), int(mo or 1), int(d or 1), int(h or 0), int(mi or 0), int(s or 0), _zone_minutes(zone or ""))


def _zone_minutes(zone: str) -> int:
    zone = zone.strip()
    if not zone or zone.lower() in _ZONES:
        return _ZONES.get(zone.lower(), 0)
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    hours = int(digits[:2] or 0) if len(digits) != 1 else int(digits)
    minutes = int(digits[2:4] or 0) if len(digits) > 2 else 0
    return sign * (hours * 60 + minutes)


def _rfc822_date(text: str) -> datetime | None:
    fast = _RFC822_FAST.fullmatch(text)
    if fast:
        d, mon, y, h, mi, s, zone = fast.groups()
        month = _MONTHS.get(mon.lower())
        if month:
            return _aware(int(y), month, int(d), int(h), int(mi), int(s or 0), _zone_minutes(zone or ""))
    hour = minute = second = 0
    offset: int | None = None
    date_part = text
    time = _TIME.search(text)
    if time:
        hour, minute = int(time.group(1)), int(time.group(2))
        second = int(time.group(3) or 0)
        meridiem = (time.group(4) or "").lower()
        if meridiem == "p" and hour < 12:
            hour += 12
        elif meridiem == "a" and hour == 12:
            hour = 0
        after = text[time.end() :]
        zone = _OFFSET.match(after.lstrip())
        if zone and (zone.group(0).strip()[:1] in "+-" or zone.group(0).strip()[:1].isalpha()):
            sign = -1 if zone.group(1) == "-" else 1
            digits = zone.group(2)
            hours, minutes = int(digits), int(zone.group(3) or 0)
            if zone.group(3) is None and len(digits) > 2:
                hours, minutes = int(digits[:-2]), int(digits[-2:])
            offset = sign * (hours * 60 + minutes)
            after = after.lstrip()[zone.end() :]
        date_part = text[: time.start()] + " " + after
    month = 0
    for word in _WORDS.findall(date_part.lower()):
        if not month and word not in _WEEKDAYS:
            month = _MONTHS.get(word) or _MONTHS.get(word[:4]) or _MONTHS.get(word[:3]) or 0
            if month:
                continue
        if offset is None and word in _ZONES:
            offset = _ZONES[word]
    numbers = _NUMBERS.findall(date_part)
    if month:
        years = [n for n in numbers if len(n) == 4]
        days = [n for n in numbers if len(n) <= 2]
        if not days:
            return None
        if years:
            year = int(years[0])
            day = int(days[0])
        elif len(days) >= 2:
            day, year = int(days[0]), int(days[1])
        else:
            return None
    elif len(numbers) >= 3 and len(numbers[0]) == 4:
        year, month, day = int(numbers[0]), int(numbers[1]), int(numbers[2])
    else:
        return None
    return _aware(year, month, day, hour, minute, second, offset or 0)


# --------------------------------------------------------------------------------------------------------------
# JSON Feed (https://jsonfeed.org/version/1.1)


def _parse_json(body: bytes, *, feed: str, base_url: str, language: str) -> ParsedFeed:
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise FeedError(f"the document is not valid JSON: {exc}", reason="malformed") from None
    if not isinstance(doc, dict) or "jsonfeed.org" not in _str(doc.get("version")):
        raise FeedError("the document is JSON but not a JSON Feed", reason="not_a_feed")
    feed_lang = normalise_language(_str(doc.get("language")))
    lang = language or feed_lang
    base = base_url or _str(doc.get("feed_url"))
    hubs = doc.get("hubs")
    hub = (
        next((_str(h.get("url")) for h in hubs if isinstance(h, dict) and h.get("url")), None)
        if isinstance(hubs, list)
        else None
    )
    articles: list[Article | None] = []
    items = doc.get("items")
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            articles.append(_json_item(item, feed=feed, base=base, language=lang))
    home = _str(doc.get("home_page_url"))
    return _clean_feed(
        ParsedFeed(
            title=_plain_or_html(_str(doc.get("title"), _RAW_TITLE), False),
            language=lang,
            link=canonical_url(home, base) if home else "",
            hub=absolute_url(hub, base) if hub else None,
            self_url=absolute_url(_str(doc.get("feed_url")), base) or None,
            articles=_collect(articles),
        )
    )


def _str(value: object, limit: int = _RAW_URL) -> str:
    """A JSON value as a string, clipped to `limit`: JSON may carry lone surrogates ("\\ud800"), which become
    U+FFFD here, before anything hashes, percent-encodes or stores them."""
    if isinstance(value, str):
        return well_formed(clip(value, limit))
    return str(value) if isinstance(value, int | float) else ""


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _json_item(item: dict[str, Any], *, feed: str, base: str, language: str) -> Article | None:
    link = _str(item.get("url")) or _str(item.get("external_url"))
    url = canonical_url(link, base) if link else ""
    ident = _str(item.get("id"), _RAW_ID).strip()
    title = _plain_or_html(_str(item.get("title"), _RAW_TITLE), False)
    content = _str(item.get("content_html"), clean.CONTENT_CHARS) or html.escape(
        _str(item.get("content_text"), clean.CONTENT_CHARS), quote=False
    )
    content = clip_markup(content, clean.CONTENT_CHARS)
    summary = _plain_or_html(_str(item.get("summary"), _RAW_SUMMARY), False)
    summary = summary or (_excerpt(content) if content else "")
    if ident:
        article_id = canonical_url(ident) if ident[:4].lower() == "http" else ident
    elif url:
        article_id = url
    elif title or content:
        seed = f"{title}\x1f{_str(item.get('date_published'))}"
        article_id = "sha256:" + hashlib.sha256(seed.encode("utf-8")).hexdigest()[:32]
    else:
        return None
    authors = _list(item.get("authors"))[:_RAW_ITEMS] or [item.get("author")]
    names = [_str(a.get("name"), _RAW_AUTHOR) for a in authors if isinstance(a, dict)]
    tags = _list(item.get("tags"))[:_RAW_ITEMS]
    image = _str(item.get("image")) or _str(item.get("banner_image"))
    if not image:
        attachments = _list(item.get("attachments"))
        image = next(
            (
                _str(a.get("url"))
                for a in attachments
                if isinstance(a, dict) and _str(a.get("mime_type")).startswith("image/")
            ),
            "",
        )
    image = absolute_url(image, base) if image else _first_img(content, base)
    return clean.clean_article(
        Article(
            id=article_id,
            feed=feed,
            url=url,
            title=title,
            summary=summary,
            content_html=content,
            categories=tuple(_unique(" ".join(_str(t, _RAW_CATEGORY).split()) for t in tags)),
            language=language or normalise_language(_str(item.get("language"))),
            author=", ".join(_unique(n.strip() for n in names if n.strip())),
            published=parse_date(_str(item.get("date_published"))),
            updated=parse_date(_str(item.get("date_modified"))),
            image_url=image or None,
        )
    )
