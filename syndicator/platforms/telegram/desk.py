"""How the editors' desk draws a Telegram message: its HTML parse mode with the same tags (the text escaped, only
http(s) links), bare URLs and #hashtags linked as the app links them, the link preview and the inline buttons."""

from __future__ import annotations

from html.parser import HTMLParser

from markupsafe import Markup, escape

from syndicator.article import Post
from syndicator.desk.draw import plain, safe_url
from syndicator.platforms.spec import DeskLook

_TAGS = {
    "b": "b", "strong": "b", "i": "i", "em": "i", "u": "u", "ins": "u", "s": "s", "strike": "s", "del": "s",
    "code": "code", "pre": "pre", "blockquote": "blockquote", "tg-spoiler": "span", "span": "span",
    "tg-emoji": "span", "a": "a",
}  # fmt: skip


class _ToHTML(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        ours = _TAGS.get(tag)
        if ours is None:
            self.out.append(str(escape(self.get_starttag_text() or "")))
            return
        if ours == "a":
            href = safe_url(dict(attrs).get("href"))
            opening = (
                str(Markup('<a class="link" dir="auto" href="{}" rel="noopener noreferrer nofollow">').format(href))
                if href
                else '<a class="link" dir="auto">'
            )  # a URL shown as the link's text runs left to right, a Persian label right to left
        elif ours == "span":
            opening = '<span class="spoiler">' if tag != "tg-emoji" else "<span>"
        else:
            opening = f"<{ours}>"
        self.out.append(opening)
        self.stack.append(ours)

    def handle_endtag(self, tag: str) -> None:
        ours = _TAGS.get(tag)
        if ours is None or ours not in self.stack:
            self.out.append(str(escape(f"</{tag}>")))
            return
        while self.stack:  # an unbalanced text (never rendered by us) is closed, not left open
            top = self.stack.pop()
            self.out.append(f"</{top}>")
            if top == ours:
                break

    def handle_data(self, data: str) -> None:
        # the app also makes bare URLs and #hashtags into links, except inside a link
        self.out.append(str(escape(data)) if "a" in self.stack else str(plain(data)))

    def close(self) -> None:
        super().close()
        while self.stack:
            self.out.append(f"</{self.stack.pop()}>")


def draw(post: Post) -> Markup:
    """The message's text: its HTML parse mode drawn with the same tags; a text without a parse mode as plain text."""
    if (post.parse_mode or "").upper() != "HTML":
        return plain(post.text)
    parser = _ToHTML()
    parser.feed(post.text)
    parser.close()
    return Markup("".join(parser.out))


LOOK = DeskLook(
    draw=draw,
    frame="syndicator.platforms.telegram:desk.html",
    stylesheet="syndicator.platforms.telegram:desk.css",
    hint='Telegram HTML: <b>, <i>, <a href="…"> and the like; write &lt; for <.',
)
