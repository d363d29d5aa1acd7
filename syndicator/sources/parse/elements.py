"""Element names: "{namespace}local" → a short key ("title", "dc:creator", "media:content"); Atom's namespace and
the RSS namespaces map to bare names, so RSS items and Atom entries share one reader. Also: an element's text, its
inner markup, Atom text constructs, and xml:base."""

from __future__ import annotations

import base64
import binascii
import html
import re
from collections.abc import Iterator
from typing import cast
from urllib.parse import urljoin

from lxml import etree

from syndicator.errors import FeedError
from syndicator.sources.parse.text import _KNOWN_TAGS

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
