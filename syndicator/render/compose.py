"""Fill a template and make the result fit: the part of rendering every platform shares.

A post is assembled from field values (rich text) → bidi isolation → NFC of each styled run → the platform's
serialiser → the platform's measure (never NFC after serialising: it would merge a combining mark into the markup
before it). When it is too long, fields are shortened in the configured order (summary first, title last by
default; lists such as hashtags lose items from the end), each by a binary search over the places where it may be
cut, and every candidate is measured as the platform would measure the final text. The URL is never cut.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from syndicator.render import bidi
from syndicator.render import rich as rt
from syndicator.render.graphemes import graphemes
from syndicator.render.rich import Rich, Span
from syndicator.render.templates import Field, Template
from syndicator.render.text import ELLIPSIS, cut, cut_points

Serializer = Callable[[Rich], str]
Measure = Callable[[str], int]

_STYLE_MARKS = {"bold": rt.BOLD, "italic": rt.ITALIC}
MINOR_FIELDS = ("hashtags", "categories", "category", "author", "feed", "date")


def cut_order(cut_first: str) -> list[str]:
    """Which fields are shortened, in order: `cut_first`, then lists and small fields, then the other one."""
    last = "title" if cut_first == "summary" else "summary"
    return [cut_first, *MINOR_FIELDS, last]


WHOLE = -1  # a slot's index meaning "the whole value": most posts fit, and then nothing is measured for cutting


class Slot:
    """A field value that can be shortened: `at(i)` for i in range(size); the last (or WHOLE) is the whole value."""

    size: int = 1

    def at(self, index: int) -> Rich:
        raise NotImplementedError


class TextSlot(Slot):
    """Text cut at word (or grapheme) boundaries, with an ellipsis. The cut points are found only if needed."""

    def __init__(self, value: Rich) -> None:
        self.value = value
        self._cuts: list[int] | None = None
        self._cache: dict[int, Rich] = {}

    @property
    def cuts(self) -> list[int]:
        if self._cuts is None:
            self._cuts = cut_points(self.value)
        return self._cuts

    @property
    def size(self) -> int:  # type: ignore[override]  # computed on demand, where Slot's is a plain number
        return len(self.cuts)

    def at(self, index: int) -> Rich:
        if index == WHOLE:
            return self.value
        if index not in self._cache:
            self._cache[index] = cut(self.value, self.cuts[index])
        return self._cache[index]


class ListSlot(Slot):
    """Items (hashtags, categories) joined by a separator; shortened by dropping items from the end."""

    def __init__(self, items: Sequence[Rich], separator: str = " ") -> None:
        self.items = [item for item in items if rt.plain(item).strip()]
        self.separator = separator
        self.size = len(self.items) + 1

    def at(self, index: int) -> Rich:
        if index == WHOLE:
            index = self.size - 1
        out: list[Span] = []
        for j, item in enumerate(self.items[:index]):
            if j:
                out.append(Span(self.separator))
            out.extend(item)
        return tuple(out)


class FixedSlot(Slot):
    """Never shortened (the URL)."""

    def __init__(self, value: Rich) -> None:
        self.value = value

    def at(self, index: int) -> Rich:
        return self.value


def assemble(template: Template, values: Mapping[str, Rich], link: str | None) -> Rich:
    """The template filled in: lines whose fields are all empty are dropped, blank lines never repeat."""
    out: list[Rich] = []
    for line in template.lines:
        spans: list[Span] = []
        has_field = has_value = False
        for part in line:
            if isinstance(part, Field):
                has_field = True
                value = values.get(part.name, ())
                if rt.plain(value).strip():
                    has_value = True
                marks = frozenset(_STYLE_MARKS[s] for s in part.styles if s in _STYLE_MARKS)
                href = link if "link" in part.styles else None
                spans.extend(rt.with_style(value, marks, href))
            else:
                spans.append(Span(part))
        if has_field and not has_value:
            continue
        for piece in rt.lines(rt.merge(spans)):
            piece = rt.strip(piece)
            if piece or (out and out[-1]):
                out.append(piece)
    while out and not out[-1]:
        out.pop()
    return rt.join_lines(out)


@dataclass(frozen=True, slots=True)
class Composed:
    text: str
    length: int
    fields: Mapping[str, Rich]  # the values of the fields the template used, after shortening


@dataclass
class Composer:
    template: Template
    slots: Mapping[str, Slot]
    serialize: Serializer
    measure: Measure
    limit: int
    rtl: bool
    isolate: bool = True
    link: str | None = None

    def compose(self, state: Mapping[str, int]) -> Composed:
        values = {name: slot.at(state.get(name, WHOLE)) for name, slot in self.slots.items()}
        doc = assemble(self.template, values, self.link)
        if self.isolate:
            doc = bidi.isolate(doc, self.rtl)
        text = self.serialize(rt.normalize(doc)).strip()
        used = {name: value for name, value in values.items() if name in self.template.fields}
        return Composed(text, self.measure(text), used)

    def fit(self, order: Sequence[str]) -> Composed | None:
        """The longest version that fits, shortening fields in `order`; None when nothing visible fits."""
        state = dict.fromkeys(self.slots, WHOLE)
        best = self.compose(state)
        if best.length <= self.limit:
            return best if _visible(best.text) else None
        for name in order:
            slot = self.slots.get(name)
            if slot is None or name not in self.template.fields or state[name] == 0:
                continue
            known_bad = slot.size - 1 if state[name] == WHOLE else state[name]
            if known_bad == 0:
                continue
            state[name] = 0
            floor = self.compose(state)
            if floor.length > self.limit:
                continue  # even without this field it is too long: shorten the next one too
            good, best = 0, floor
            while known_bad - good > 1:
                middle = (good + known_bad) // 2
                state[name] = middle
                attempt = self.compose(state)
                if attempt.length <= self.limit:
                    good, best = middle, attempt
                else:
                    known_bad = middle
            state[name] = good
            return best if _visible(best.text) else None
        return None


def _visible(text: str) -> bool:
    return any(not ch.isspace() and ch not in bidi.BIDI_MARKS for ch in text)


def last_resort(title: str, serialize: Serializer, measure: Measure, limit: int) -> Composed:
    """When no template fits (an absurdly long URL): the title's first graphemes, hard cut, never empty."""
    clusters = graphemes(title.strip())
    low, high = 0, len(clusters)
    best = serialize((Span(ELLIPSIS),))
    while low < high:
        middle = (low + high + 1) // 2
        text = serialize(rt.normalize((Span("".join(clusters[:middle]).strip() + ELLIPSIS),)))
        if measure(text) <= limit:
            low, best = middle, text
        else:
            high = middle - 1
    return Composed(best, measure(best), {})
