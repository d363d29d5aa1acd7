"""Post templates: plain text with `{placeholder}` or `{placeholder:style,style}` fields.

    "{title:bold}\\n\\n{summary}\\n\\n{url}\\n\\n{hashtags}"

- Placeholders: see PLACEHOLDERS. `{{` and `}}` are literal braces.
- Styles: bold, italic (each platform's own markup, ignored where it has none) and link (where a platform has links:
  the field becomes a link to the article).
- Literal text is plain text on every platform: it is escaped for the platform's markup like the article's text.
- A line whose placeholders are all empty is left out, and so is its literal text ("By {author}" disappears when
  there is no author). Blank lines never repeat.

Templates are checked when the configuration is loaded (`parse` raises ValueError); rendering never fails on one.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import lru_cache

PLACEHOLDERS: dict[str, str] = {
    "title": "the article's title",
    "summary": "its summary (or the opening of its content when the feed gives none)",
    "url": "the article's link, with this target's UTM parameters",
    "hashtags": "hashtags made from its categories and tags",
    "author": "its author",
    "category": "its first category",
    "categories": "all its categories, comma-separated",
    "feed": "the name of the feed it came from",
    "date": "its publication date, YYYY-MM-DD",
}
STYLES = frozenset({"bold", "italic", "link"})
UTM_PLACEHOLDERS = frozenset({"feed", "target", "platform", "language"})


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    styles: frozenset[str] = frozenset()


Part = str | Field
Line = tuple[Part, ...]


@dataclass(frozen=True, slots=True)
class Template:
    source: str
    lines: tuple[Line, ...]

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(p.name for line in self.lines for p in line if isinstance(p, Field))


def _pieces(source: str) -> list[tuple[str, str | None, str, str | None]]:
    try:
        return [(lit, name, spec or "", conv) for lit, name, spec, conv in string.Formatter().parse(source)]
    except ValueError as exc:
        raise ValueError(f"template syntax error: {exc} (write {{{{ and }}}} for literal braces)") from None


def _field(name: str, spec: str, conversion: str | None, allowed: frozenset[str] | dict[str, str]) -> Field:
    if name == "":
        raise ValueError("template has an empty placeholder {} (placeholders: " + ", ".join(allowed) + ")")
    if name not in allowed:
        raise ValueError(f"unknown placeholder {{{name}}} in template (placeholders: {', '.join(allowed)})")
    if conversion is not None:
        raise ValueError(f"placeholder {{{name}!{conversion}}}: conversions are not supported")
    styles = frozenset(s.strip() for s in spec.split(",") if s.strip())
    unknown = styles - STYLES
    if unknown or "{" in spec or "}" in spec:
        named = ", ".join(sorted(unknown)) if unknown else repr(spec)
        raise ValueError(f"placeholder {{{name}:{spec}}}: unknown style {named} (styles: {', '.join(sorted(STYLES))})")
    return Field(name, styles)


_NO_POST_CHARACTERS = re.compile("[\ufffe\ufeff\uffff]")


@lru_cache(maxsize=256)
def parse(source: str) -> Template:
    """Parse and check a post template; raises ValueError with a readable message."""
    flat: list[Part] = []
    for literal, name, spec, conversion in _pieces(source):
        literal = _NO_POST_CHARACTERS.sub("", literal or "")  # platforms refuse a post holding one; fields are cleaned
        if literal:
            flat.append(literal)
        if name is not None:
            flat.append(_field(name, spec, conversion, PLACEHOLDERS))
    lines: list[list[Part]] = [[]]
    for part in flat:
        if isinstance(part, Field):
            lines[-1].append(part)
            continue
        for j, piece in enumerate(part.split("\n")):
            if j:
                lines.append([])
            if piece and lines[-1] and isinstance(lines[-1][-1], str):
                lines[-1][-1] += piece  # "{{" and "}}" arrive as separate literal pieces
            elif piece:
                lines[-1].append(piece)
    template = Template(source, tuple(tuple(line) for line in lines))
    if not template.fields:
        raise ValueError("template has no placeholder (use at least one of {title}, {summary}, {url})")
    return template


def check_utm(value: str, key: str) -> None:
    """UTM values may use {feed}, {target}, {platform} and {language}."""
    try:
        pieces = _pieces(value)
    except ValueError as exc:
        raise ValueError(f"{key}: {exc}") from None
    for _literal, name, spec, conversion in pieces:
        if name is None:
            continue
        if name not in UTM_PLACEHOLDERS or spec or conversion:
            raise ValueError(
                f"{key}: unknown placeholder {{{name}}} (placeholders: {', '.join(sorted(UTM_PLACEHOLDERS))})"
            )
