"""Feed HTML → text: the one parse of an HTML fragment, for posts (styled spans) and for stored plain text.

The stdlib `HTMLParser` tokenises (quoted attributes, comments, script and style bodies, every HTML5 entity); the
reducer keeps what a reader sees. A block element is a paragraph break, `<br>` a line break, an inline element
nothing (`a<b>b</b>c` is one word, as a browser shows it). Skipped: what is not text for the reader — scripts and
styles, `<head>`, forms, pictures and players (`<svg>` titles, `<iframe>` and `<video>` fallbacks, which no browser
shows); kept: `<object>` fallback content (it is what shows where the object cannot) and MathML (a formula is part
of the sentence; its tokens are kept apart: "a + b").

Time is linear in the input, whatever it is. The reducer costs the same per piece of text however deep the markup
(see `_Reducer`), and a construct the input never completes is settled here, not by `HTMLParser.close()`: that
re-parses the rest of the input from each following "<", quadratic in the length of the tail (CPython 3.11: 34 s
for 40 kB of "<a "). What is left open at the end is read as a browser would, where that serves a reader: an
unterminated comment hides the rest; a broken tag is dropped up to its ">"; a "<" that no ">" follows is text
("Why a<b matters").
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from html.parser import HTMLParser

from syndicator.render import rich as rt
from syndicator.render.rich import Span

PARAGRAPH = "\x1d"  # placeholder for a block boundary in the reduced spans
LINE = "\x1e"  # placeholder for <br> (and a newline inside <pre>)

_INLINE_MARKS = {
    "b": rt.BOLD, "strong": rt.BOLD, "i": rt.ITALIC, "em": rt.ITALIC, "cite": rt.ITALIC, "dfn": rt.ITALIC,
    "var": rt.ITALIC, "u": rt.UNDERLINE, "ins": rt.UNDERLINE, "s": rt.STRIKE, "strike": rt.STRIKE,
    "del": rt.STRIKE, "code": rt.CODE, "kbd": rt.CODE, "samp": rt.CODE, "tt": rt.CODE, "pre": rt.PRE,
}  # fmt: skip
_BLOCK_TAGS = (
    "p div section article header footer aside nav main h1 h2 h3 h4 h5 h6 ul ol li dl dt dd table thead tbody "
    "tfoot tr blockquote figure hr address details summary form fieldset legend pre caption center menu dir hgroup"
)
_SKIP_TAGS = (  # their content is not text a reader of the post wants
    "script style template noscript iframe embed svg head title figcaption select textarea button audio video "
    "canvas noembed noframes"
)
_VOID_TAGS = "area base br col embed hr img input link meta param source track wbr"
_SPACED_TAGS = "td th mi mn mo ms mtext"  # table cells and MathML tokens: words of their own
_BLOCKS, _SKIP, _VOID, _SPACED = (frozenset(t.split()) for t in (_BLOCK_TAGS, _SKIP_TAGS, _VOID_TAGS, _SPACED_TAGS))

COMMON_TAG = re.compile(
    r"</?(?:a|abbr|b|blockquote|br|cite|code|div|em|figure|font|h[1-6]|i|img|li|ol|p|pre|q|s|small|span|strike"
    r"|strong|sub|sup|u|ul)\b[^<>]*>",
    re.IGNORECASE,
)
"""A tag of the kinds articles are written with: text holding one is markup (a feed's "plain" title, a field
escaped twice), not prose that happens to contain "<"."""

_RESUMES = 16  # broken constructs re-parsed past, at most (each costs a scan of the rest)
_COMMENT = re.compile(r"<!--.*?(?:--!?>|\Z)", re.S)  # HTML5 ends a comment at --> or --!>


class _Reducer(HTMLParser):
    """The open elements are a stack; what it implies (marks, innermost link, open tags) is kept up to date as it
    changes, so each piece of text costs the same however deep the markup: never-closed tags (`<p>a<p>b…`) made
    every piece cost the depth, quadratic in a hostile or careless body."""

    def __init__(self, resolve_href: Callable[[str], str | None] | None) -> None:
        """`resolve_href`: a link's target from its href (None: not a link); without it, only text is kept."""
        super().__init__(convert_charrefs=True)
        self.resolve_href = resolve_href
        self.stack: list[tuple[str, str | None, str | None]] = []  # tag, mark, href
        self.skip = 0
        self.texts: list[str] = []  # the text pieces, and each one's style: Spans are made only if wanted
        self.styles: list[tuple[frozenset[str], str | None]] = []
        self._marks: dict[str, int] = {}  # mark → open elements carrying it
        self._open: dict[str, int] = {}  # tag → open elements of it
        self._links: list[tuple[int, str]] = []  # (stack index, href) of open links, innermost last
        self._style_now: tuple[frozenset[str], str | None] | None = None

    def _style(self) -> tuple[frozenset[str], str | None]:
        if self._style_now is None:
            marks = frozenset(m for m, n in self._marks.items() if n)
            self._style_now = (marks, self._links[-1][1] if self._links else None)
        return self._style_now

    def _push(self, tag: str, mark: str | None, href: str | None) -> None:
        self.stack.append((tag, mark, href))
        self._open[tag] = self._open.get(tag, 0) + 1
        if mark:
            self._marks[mark] = self._marks.get(mark, 0) + 1
        if href:
            self._links.append((len(self.stack) - 1, href))
        self._style_now = None

    def _pop_to(self, index: int) -> None:
        for tag, mark, _ in self.stack[index:]:
            self._open[tag] -= 1
            if mark:
                self._marks[mark] -= 1
        del self.stack[index:]
        while self._links and self._links[-1][0] >= index:
            self._links.pop()
        self._style_now = None

    def _emit(self, text: str) -> None:
        self.texts.append(text)
        if self.resolve_href is not None:  # styled spans wanted
            self.styles.append(self._style_now or self._style())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            if tag not in _VOID:
                self.skip += 1
            return
        if tag == "br":
            self._emit(LINE)
            return
        if tag in _BLOCKS:
            self._emit(PARAGRAPH)
        if tag in _SPACED:
            self._emit(" ")
        if tag in _VOID:
            return
        href = None
        if tag == "a" and self.resolve_href is not None:
            href = self.resolve_href(dict(attrs).get("href") or "")
        self._push(tag, _INLINE_MARKS.get(tag), href)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self._emit(LINE)
        elif tag in _BLOCKS:
            self._emit(PARAGRAPH)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            if tag not in _VOID:
                self.skip = max(0, self.skip - 1)
            return
        if tag in _BLOCKS:
            self._emit(PARAGRAPH)
        if tag in _SPACED:
            self._emit(" ")
        if not self._open.get(tag):
            return
        for i in range(len(self.stack) - 1, -1, -1):  # down to the element it closes, all of which are popped
            if self.stack[i][0] == tag:
                self._pop_to(i)
                break

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self._open.get("pre"):
            data = data.replace("\n", LINE)
        self._emit(data)

    def parse_marked_section(self, i: int, report: bool = True) -> int:
        # "<![foo …": HTMLParser (3.11) raises on a keyword other than CDATA/IF/…; HTML5 reads a bogus comment
        try:
            return super().parse_marked_section(i, report)
        except AssertionError:
            end = self.rawdata.find(">", i)
            return -1 if end < 0 else end + 1

    def finish(self) -> None:
        """Settle what the input left open, in linear time (instead of `close()`, see the module docstring)."""
        for _ in range(_RESUMES):
            rest = self.rawdata
            if not rest.startswith("<") or self.cdata_elem:
                # text without "<" (an entity cut at the end, say), or an unclosed <script>/<style> body (dropped)
                if rest:
                    super().close()
                return
            self.rawdata = ""
            if rest.startswith("<!--"):
                close = rest.find("--!>", 4)  # HTML5 ends a comment there too; HTMLParser (3.11) does not
                if close < 0:
                    return  # an unterminated comment: everything after it is inside
                self.feed(rest[close + 4 :])
                continue
            end = rest.find(">")
            if end < 0:  # nothing after it can be a tag: text, less any unterminated comment
                self.handle_data(html.unescape(_COMMENT.sub("", rest)))
                return
            self.feed(rest[end + 1 :])  # a tag broken by an unmatched quote, a bogus "<![…": dropped to its ">"
        self.rawdata = ""  # a hostile run of broken constructs: the rest is dropped


def _reduce(markup: str, resolve_href: Callable[[str], str | None] | None) -> _Reducer | str:
    parser = _Reducer(resolve_href)
    try:
        parser.feed(markup)
        parser.finish()
    except Exception:  # the stdlib parser is lenient, but never let odd markup stop a post
        return html.unescape(re.sub(r"<[^>]*>?", " ", markup))
    return parser


def reduce_html(markup: str, resolve_href: Callable[[str], str | None] | None = None) -> list[Span]:
    """Spans of the text a reader sees, with PARAGRAPH and LINE placeholders and raw whitespace; not cleaned.
    Links carry `resolve_href(href)` (None: no link); without `resolve_href`, no span has a link."""
    reduced = _reduce(markup, resolve_href or _no_link)
    if isinstance(reduced, str):
        return [Span(reduced)]
    return [Span(text, marks, href) for text, (marks, href) in zip(reduced.texts, reduced.styles, strict=True)]


def _no_link(href: str) -> None:
    return None


def html_to_plain(markup: str) -> str:
    """The text of an HTML fragment on one line: blocks and line breaks become spaces, whitespace runs (no-break
    spaces too) one space, entities decoded. Not cleaned or normalised: each caller does that its own way."""
    if "<" not in markup:
        text = html.unescape(markup) if "&" in markup else markup
    else:
        reduced = _reduce(markup, None)
        text = reduced if isinstance(reduced, str) else "".join(reduced.texts)
    return " ".join(text.split())  # PARAGRAPH and LINE are whitespace to str.split
