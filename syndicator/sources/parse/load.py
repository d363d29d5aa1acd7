"""Bytes → an lxml tree, safely: strict first; else decoded (encoding repaired), cleaned and parsed again."""

from __future__ import annotations

import codecs
import re
import threading
from html.entities import html5 as _HTML5
from typing import Any

from lxml import etree

from syndicator.errors import FeedError


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
