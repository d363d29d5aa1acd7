"""A tiny rich-text model: a post is a sequence of spans, each plain text with a style.

Everything is cut, isolated and assembled in this model and only serialised at the end (a platform's HTML,
marker characters, plain text), so markup is balanced by construction and escaping happens in exactly one place.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

# marks a span may carry; each serialiser keeps the ones its platform knows
BOLD, ITALIC, UNDERLINE, STRIKE, CODE, PRE = "b", "i", "u", "s", "code", "pre"


@dataclass(frozen=True, slots=True)
class Span:
    text: str
    marks: frozenset[str] = frozenset()
    href: str | None = None  # a link target (a platform with links renders it; the others show the text only)
    atom: bool = False  # a URL or hashtag: never cut inside, never a bidi mark inside, never re-written

    def style(self) -> tuple[frozenset[str], str | None, bool]:
        return (self.marks, self.href, self.atom)


Rich = tuple[Span, ...]


def plain(rich: Iterable[Span]) -> str:
    return "".join(span.text for span in rich)


def text_span(text: str) -> Rich:
    return (Span(text),) if text else ()


def merge(spans: Iterable[Span]) -> Rich:
    """Drop empty spans and join neighbours of the same style (atoms stay separate)."""
    out: list[Span] = []
    texts: list[str] = []  # pieces of out[-1], joined once (repeated concatenation would be quadratic)
    for span in spans:
        if not span.text:
            continue
        if out and not span.atom and not out[-1].atom and out[-1].style() == span.style():
            texts.append(span.text)
            continue
        if len(texts) > 1:
            out[-1] = replace(out[-1], text="".join(texts))
        out.append(span)
        texts = [span.text]
    if len(texts) > 1:
        out[-1] = replace(out[-1], text="".join(texts))
    return tuple(out)


def normalize(rich: Iterable[Span]) -> Rich:
    """NFC within each run of one style (neighbours of one style are joined first), never across a change of style:
    serialisers put markup there, and NFC after serialising would compose a combining mark that follows a tag with
    the tag's `>` (`<b>` + U+0338 → `<b≯`). Atoms are never re-written."""
    return tuple(
        span if span.atom else replace(span, text=unicodedata.normalize("NFC", span.text)) for span in merge(rich)
    )


def with_style(rich: Rich, marks: frozenset[str], href: str | None) -> Rich:
    """Add marks (and a link, where the span has none) to every span."""
    if not marks and href is None:
        return rich
    return tuple(
        replace(span, marks=span.marks | marks, href=span.href if span.href is not None else href) for span in rich
    )


def prefix(rich: Rich, length: int) -> Rich:
    """The first `length` code points of `rich`, styles kept."""
    out: list[Span] = []
    left = length
    for span in rich:
        if left <= 0:
            break
        if len(span.text) <= left:
            out.append(span)
            left -= len(span.text)
        else:
            out.append(replace(span, text=span.text[:left]))
            left = 0
    return tuple(out)


def strip(rich: Rich, chars: str | None = None) -> Rich:
    """Remove leading and trailing characters (whitespace by default) across spans; atoms are never touched."""
    spans = list(rich)
    while spans and not spans[0].atom:
        text = spans[0].text.lstrip(chars)
        if text:
            spans[0] = replace(spans[0], text=text)
            break
        spans.pop(0)
    return rstrip(tuple(spans), chars)


def rstrip(rich: Rich, chars: str | None = None) -> Rich:
    spans = list(rich)
    while spans and not spans[-1].atom:
        text = spans[-1].text.rstrip(chars)
        if text:
            spans[-1] = replace(spans[-1], text=text)
            break
        spans.pop()
    return tuple(spans)


def insert(rich: Rich, inserts: Sequence[tuple[int, str, bool]]) -> Rich:
    """Insert characters at code point offsets. Each insert is (offset, text, closing): an opening insert takes the
    style of what follows it, a closing one the style of what precedes it; next to an atom it gets no style."""
    if not inserts:
        return rich
    pending = sorted(enumerate(inserts), key=lambda item: (item[1][0], item[0]))  # stable by offset
    spans = list(rich)
    out: list[Span] = []
    pos = 0
    k = 0

    def styled(text: str, neighbour: Span | None) -> Span:
        if neighbour is None or neighbour.atom:
            return Span(text)
        return Span(text, neighbour.marks, neighbour.href)

    for j, span in enumerate(spans):
        end = pos + len(span.text)
        cursor = 0
        while k < len(pending) and pending[k][1][0] < end:
            offset, text, closing = pending[k][1]
            cut = max(0, offset - pos)
            if cut > cursor:
                out.append(replace(span, text=span.text[cursor:cut]))
                cursor = cut
            if cut == 0 and closing:
                left = spans[j - 1] if j > 0 else None
                out.append(styled(text, left))
            else:
                out.append(styled(text, span))
            k += 1
        if cursor < len(span.text):
            out.append(replace(span, text=span.text[cursor:]))
        pos = end
    last = spans[-1] if spans else None
    while k < len(pending):
        _, text, closing = pending[k][1]
        out.append(styled(text, last if closing else None))
        k += 1
    return merge(out)


def lines(rich: Rich) -> list[Rich]:
    """Split at newlines (the newlines themselves are dropped)."""
    out: list[list[Span]] = [[]]
    for span in rich:
        parts = span.text.split("\n")
        for j, part in enumerate(parts):
            if j:
                out.append([])
            if part:
                out[-1].append(replace(span, text=part))
    return [tuple(line) for line in out]


def join_lines(parts: Sequence[Rich]) -> Rich:
    out: list[Span] = []
    for j, line in enumerate(parts):
        if j:
            out.append(Span("\n"))
        out.extend(line)
    return merge(out)
