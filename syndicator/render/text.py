"""Text preparation: cleaning input, feed HTML → rich text (the parse itself is `html_text`'s), where text may be
cut, and cutting it (for posts, and for the excerpts sources store).

Cutting happens at a word boundary (at a grapheme boundary in scripts written without spaces, or inside a very
long word), never inside a grapheme cluster, a URL or a hashtag, and ends with an ellipsis.
"""

from __future__ import annotations

import html
import html.entities
import re
import unicodedata
from bisect import bisect_left, bisect_right
from dataclasses import replace
from urllib.parse import urljoin

from syndicator.render import rich as rt
from syndicator.render.graphemes import RangeSet, boundaries
from syndicator.render.html_text import COMMON_TAG, LINE, PARAGRAPH, reduce_html
from syndicator.render.links import clean_url
from syndicator.render.rich import Rich, Span

ELLIPSIS = "…"

# --- cleaning -------------------------------------------------------------------------------------------------

_NONCHARACTERS = "".join(f"{chr(p * 0x10000 + 0xFFFE)}-{chr(p * 0x10000 + 0xFFFF)}" for p in range(1, 17))
# C0/C1 controls (but tab and newlines, handled below), soft hyphen, explicit bidi embeddings/overrides/isolates
# (unbalanced ones from the feed would disturb the whole post; we add our own), BOM, noncharacters, surrogates.
_REMOVE = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u00ad\u202a-\u202e\u2066-\u2069\ufeff\ufdd0-\ufdef\ufffe\uffff"
    f"\ud800-\udfff{_NONCHARACTERS}]"
)
_NEWLINES = re.compile("\r\n|[\r\x85\u2028\u2029]")
# every space separator and tab: collapsed to one plain space
_SPACE_RUN = re.compile("[ \t\x0b\x0c\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")


def clean(text: str) -> str:
    """Remove what no platform should receive and NFC-normalise (lengths are counted on NFC; some platforms reject
    controls)."""
    text = _NEWLINES.sub("\n", text)
    text = _REMOVE.sub("", text)
    return unicodedata.normalize("NFC", text)


def inline(text: str) -> str:
    """One line: all whitespace runs (newlines too) become one space; trimmed."""
    return _SPACE_RUN.sub(" ", clean(text).replace("\n", " ")).strip()


def block(text: str) -> str:
    """Paragraphs kept (at most one blank line between them), whitespace inside lines collapsed."""
    cleaned = _SPACE_RUN.sub(" ", clean(text))
    paragraphs = [" ".join(line.strip() for line in p.split("\n") if line.strip()) for p in cleaned.split("\n\n")]
    return "\n\n".join(p for p in paragraphs if p)


_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|([A-Za-z][A-Za-z0-9]{1,31}));")


def looks_like_html(text: str) -> bool:
    """Feeds are supposed to give plain titles and summaries; some give markup or entities. Detect those."""
    if COMMON_TAG.search(text):
        return True
    return any(m.group(1) is None or (m.group(1) + ";") in html.entities.html5 for m in _ENTITY.finditer(text))


# --- HTML → rich text -----------------------------------------------------------------------------------------


def _absolute_http(href: str, base_url: str) -> str | None:
    href = clean(href).strip()
    if not href:
        return None
    try:
        url = urljoin(base_url, href) if base_url else href
    except ValueError:
        return None
    if not re.match(r"^https?://[^/\s]", url, re.IGNORECASE):
        return None
    return clean_url(url)


def html_to_rich(markup: str, base_url: str = "") -> Rich:
    """Feed HTML reduced to styled text: paragraphs separated by a blank line, inline styles and links kept."""
    return normalize_space(reduce_html(markup, lambda href: _absolute_http(href, base_url)))


def normalize_space(spans: list[Span] | Rich) -> Rich:
    """Clean each span; collapse whitespace runs across spans; block boundaries become one blank line."""
    out: list[Span] = []
    pending_space = False
    pending_breaks = 0  # 1: line break, 2: paragraph break
    started = False
    for span in spans:
        pieces = re.split(f"([{LINE}{PARAGRAPH}])", span.text)
        text = "".join(
            "\n" if p == LINE else "\n\n" if p == PARAGRAPH else _SPACE_RUN.sub(" ", clean(p).replace("\n", " "))
            for p in pieces
        )
        buf: list[str] = []
        for ch in text:
            if ch == " ":
                pending_space = True
            elif ch == "\n":
                pending_breaks = min(2, pending_breaks + 1) if pending_breaks or started else 0
                pending_space = False
            else:
                if started and pending_breaks:
                    buf.append("\n" * pending_breaks)
                elif started and pending_space:
                    if not buf and out and _plainer(out[-1], span):
                        out[-1] = replace(out[-1], text=out[-1].text + " ")  # "a <b>b</b>", not "a<b> b</b>"
                    else:
                        buf.append(" ")
                buf.append(ch)
                started = True
                pending_space = False
                pending_breaks = 0
        if buf:
            out.append(replace(span, text="".join(buf)))
    return rt.merge(out)


def _plainer(left: Span, right: Span) -> bool:
    """Whether a space between two spans belongs to the left one (the less styled one keeps it)."""
    return (left.href is None, -len(left.marks)) >= (right.href is None, -len(right.marks))


def rich_from_field(text: str, base_url: str = "", *, single_line: bool = False) -> Rich:
    """A plain-text field of the article (title, summary): markup the feed left in it is reduced too."""
    if looks_like_html(text):
        value = html_to_rich(text, base_url)
        if single_line:
            value = tuple(replace(s, text=s.text.replace("\n", " ")) for s in value)
            value = normalize_space(list(value))
        return value
    return rt.text_span(inline(text) if single_line else block(text))


_READ_MORE_TAIL = re.compile(r"\s*(?:\[(?:…|\.\.\.)\]|(?:Continue reading|Read more)\W*)\s*$", re.IGNORECASE)


_OPENING_CHARS = 200  # a summary made from the content: its opening paragraphs, at least this much text ...
_OPENING_MAX = 600  # ... cut at this many characters
_CONTENT_READ = 200_000  # of the content's HTML, at most this much is read for them
_CUT_CONTEXT = 1_000  # a text cut at N characters is searched for cut points in its first N + this many only


def summary_from(summary: str, content_html: str, base_url: str, max_chars: int) -> Rich:
    """The article's summary, or the opening paragraphs of its content when the summary is empty."""
    value = rich_from_field(summary, base_url) if summary.strip() else ()
    if not rt.plain(value).strip() and content_html.strip():
        value = rt.join_lines(_with_blank_lines(_opening(content_html, base_url)))
        max_chars = min(max_chars, _OPENING_MAX) if max_chars else _OPENING_MAX
    # WordPress excerpts end with " […]" or "Continue reading": one ellipsis says the same
    text = rt.plain(value)
    tail = _READ_MORE_TAIL.search(text)
    if tail and tail.start() > 0:
        value = rt.rstrip(rt.prefix(value, tail.start()))
        value = rt.merge([*value, Span(ELLIPSIS)])
    return cut_within(value, max_chars) if max_chars else value


def _opening(content_html: str, base_url: str) -> list[Rich]:
    """The content's first paragraphs with at least _OPENING_CHARS of text. The HTML is read in growing chunks:
    the first few kilobytes nearly always hold them, and reducing a whole long article for each target is slow."""
    size = 4096
    while True:
        whole = size >= min(len(content_html), _CONTENT_READ)
        chunk = content_html[: min(size, _CONTENT_READ)]
        paragraphs = [p for p in rt.lines(html_to_rich(chunk, base_url)) if rt.plain(p).strip()]
        chosen: list[Rich] = []
        total = 0
        for paragraph in paragraphs:
            chosen.append(paragraph)
            total += len(rt.plain(paragraph))
            if total >= _OPENING_CHARS:
                break
        # a paragraph after the chosen ones shows that they ended inside the chunk, so they are whole; and text
        # far beyond the cut does not change where the cut goes
        if whole or (total >= _OPENING_CHARS and len(chosen) < len(paragraphs)) or total > _OPENING_MAX + _CUT_CONTEXT:
            return chosen
        size *= 4


def _with_blank_lines(paragraphs: list[Rich]) -> list[Rich]:
    out: list[Rich] = []
    for j, paragraph in enumerate(paragraphs):
        if j:
            out.append(())
        out.append(paragraph)
    return out


# --- where text may be cut --------------------------------------------------------------------------------------

LONG_WORD = 20  # graphemes; a longer word may be cut inside ...
LONG_WORD_KEEP = 10  # ... but not before this many of its graphemes
# URLs (without the punctuation that usually follows one), e-mail addresses, hashtags and mentions
# an address starts where its run of address characters starts, and the run is taken whole: a `\b` start, free to
# begin anywhere inside a long run ("-a-a-a…") and to give it back a character at a time, was quadratic
_ATOM = re.compile(
    r"(?:https?://|www\.)[^\s<>\"]*[^\s<>\".,;:!?)\]}'»…،؛]"
    r"|(?<![\w.+-])[\w.+-]++@[\w-]+(?:\.[\w-]+)+"
    r"|[#@＃](?:[\w\u200c\u200d]|[\u0300-\u036f\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed])+",
    re.IGNORECASE,
)
ATOM = _ATOM  # URLs, e-mail addresses and hashtags written in running text: never altered, never cut


_NO_SPACE_SCRIPTS = (
    (0x0E00, 0x0EFF), (0x1000, 0x109F), (0x1780, 0x17FF), (0x2E80, 0x2FDF), (0x3000, 0x30FF), (0x3100, 0x31FF),
    (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0xFF00, 0xFFEF), (0x20000, 0x3FFFF),
)  # fmt: skip


_NO_SPACE = RangeSet(_NO_SPACE_SCRIPTS)


def _no_space_script(ch: str) -> bool:
    return ord(ch) in _NO_SPACE


def protected_ranges(value: Rich) -> list[tuple[int, int]]:
    """Offsets of URLs and hashtags: atoms, and ones written inside the text."""
    out: list[tuple[int, int]] = []
    pos = 0
    for span in value:
        end = pos + len(span.text)
        if span.atom:
            out.append((pos, end))
        else:
            out.extend((pos + m.start(), pos + m.end()) for m in _ATOM.finditer(span.text))
        pos = end
    return out


def cut_points(value: Rich) -> list[int]:
    """Ascending code point offsets at which `value` may be cut; always includes 0 and its length."""
    text = rt.plain(value)
    n = len(text)
    if n == 0:
        return [0]
    bounds = boundaries(text)
    allowed = {0, n}
    word_start: int | None = None
    word_graphemes = 0
    for j, b in enumerate(bounds):
        if b == n:
            break
        ch = text[b]
        if ch.isspace():
            if word_start is not None and b > 0:
                allowed.add(b)
            word_start, word_graphemes = None, 0
            continue
        if word_start is None:
            word_start, word_graphemes = b, 0
        word_graphemes += 1
        if b > 0 and (_no_space_script(ch) or _no_space_script(text[bounds[j - 1]])):
            allowed.add(b)
    for m in re.finditer(r"\S+", text):  # inside long words
        if m.end() - m.start() >= LONG_WORD:
            inner = bounds[bisect_right(bounds, m.start()) : bisect_left(bounds, m.end())]
            if len(inner) + 1 >= LONG_WORD:
                allowed.update(inner[LONG_WORD_KEEP - 1 :])
    valid = set(bounds)
    return _outside(sorted(a for a in allowed if a in valid), protected_ranges(value))


def _outside(points: list[int], ranges: list[tuple[int, int]]) -> list[int]:
    """The sorted `points` not strictly inside any of `ranges`, in one sweep: filtering the points once per range
    was quadratic in a text of many hashtags."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    out: list[int] = []
    j = 0
    for point in points:
        while j < len(merged) and merged[j][1] <= point:
            j += 1
        if j < len(merged) and merged[j][0] < point:
            continue  # start < point < end
        out.append(point)
    return out


_STRIP_BEFORE_ELLIPSIS = " \n,;:.-–—/([{«‹“‘\"'،؛·\u200c\u200d"


def cut_within(value: Rich, max_chars: int) -> Rich:
    """`value` cut at its last cut point within `max_chars` code points (then an ellipsis), or whole if it fits."""
    if len(rt.plain(value)) <= max_chars:
        return value
    # where to cut near max_chars depends on the text around it, not on a long tail
    cuts = [c for c in cut_points(rt.prefix(value, max_chars + _CUT_CONTEXT)) if c <= max_chars]
    return cut(value, cuts[-1] if cuts else 0)


def truncate(text: str, max_chars: int) -> str:
    """Plain `text` cut as `cut_within` cuts: at a word boundary, never inside a URL, hashtag or grapheme."""
    return text if len(text) <= max_chars else rt.plain(cut_within(rt.text_span(text), max_chars))


def cut(value: Rich, keep: int) -> Rich:
    """`value` cut to its first `keep` code points (a cut point), with an ellipsis when anything was removed."""
    text = rt.plain(value)
    if keep >= len(text):
        return value
    kept = rt.rstrip(rt.prefix(value, keep), _STRIP_BEFORE_ELLIPSIS)
    if not rt.plain(kept).strip():
        return ()
    if kept[-1].atom:
        return (*kept, Span(" " + ELLIPSIS))
    return rt.merge([*kept[:-1], replace(kept[-1], text=kept[-1].text + ELLIPSIS)])
