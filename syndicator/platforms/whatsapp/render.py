"""WhatsApp: `*bold*`/`_italic_` text ≤ 4096, a share link and a ready-to-paste Channel text for editors, and the
parameters of an approved message template (title, url) within the Cloud API's parameter rules."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit, urlunsplit

from syndicator.article import Post
from syndicator.platforms.whatsapp.settings import WhatsAppSettings
from syndicator.render import reads
from syndicator.render import rich as rt
from syndicator.render.compose import Composer, TextSlot
from syndicator.render.context import Prepared, common_extra, render_text
from syndicator.render.links import clean_url
from syndicator.render.measure import utf16_length
from syndicator.render.rich import Rich
from syndicator.render.templates import parse
from syndicator.render.text import ATOM, ELLIPSIS

if TYPE_CHECKING:
    from syndicator.config import TargetSettings

WHATSAPP_TEXT_LIMIT = 4096
WHATSAPP_PARAM_LIMIT = 1024
DEFAULT_TEMPLATE = "{title:bold}\n\n{summary}\n\n{url}"
SHARE_BASE = "https://wa.me/?text="
_MARKERS = ((rt.BOLD, "*"), (rt.ITALIC, "_"), (rt.STRIKE, "~"))
# WhatsApp has no escape character: the text's own markers become look-alikes that format nothing
_HARMLESS = str.maketrans({"*": "∗", "_": "＿", "~": "∼", "`": "ˋ"})


def _harmless(text: str) -> str:
    """The text's own markers made harmless — but not inside URLs and addresses, which must stay usable."""
    out: list[str] = []
    pos = 0
    for match in ATOM.finditer(text):
        out += [text[pos : match.start()].translate(_HARMLESS), match.group()]
        pos = match.end()
    out.append(text[pos:].translate(_HARMLESS))
    return "".join(out)


def to_whatsapp(value: Rich) -> str:
    """Rich text with WhatsApp's markers. Markers hug the text (no space inside) and never span a line break."""
    out: list[str] = []
    for span in rt.merge(value):
        text = span.text if span.atom else _harmless(span.text)
        if rt.CODE in span.marks or rt.PRE in span.marks:
            opening = closing = "```"
        else:
            opening = "".join(m for mark, m in _MARKERS if mark in span.marks)
            closing = opening[::-1]
        if not opening:
            out.append(text)
            continue
        pieces = []
        for line in text.split("\n"):
            core = line.strip()
            if not core:
                pieces.append(line)
                continue
            lead = line[: len(line) - len(line.lstrip())]
            trail = line[len(line.rstrip()) :]
            pieces.append(f"{lead}{opening}{core}{closing}{trail}")
        out.append("\n".join(pieces))
    return "".join(out)


def _param_text(value: Rich) -> str:
    """A template parameter: no newline or tab, never more than one space in a row, no markers."""
    return re.sub(r"\s+", " ", _harmless(rt.plain(value))).strip()


@reads("settings.mode", "settings.template", "settings.template_language")
def render_whatsapp(prep: Prepared, target: TargetSettings) -> Post:
    settings = target.settings
    template = prep.options.template_for(DEFAULT_TEMPLATE)
    result = render_text(prep, template, to_whatsapp, utf16_length, WHATSAPP_TEXT_LIMIT)
    extra: dict[str, Any] = common_extra(prep, result)
    extra["channel_text"] = result.text
    extra["share_url"] = SHARE_BASE + quote(result.text, safe="")
    if isinstance(settings, WhatsAppSettings):
        extra["mode"] = settings.mode
        if settings.mode == "template":
            language = settings.template_language or prep.article.language or "en"
            extra["template"] = {
                "name": settings.template,
                "language": language.strip().replace("-", "_"),
                "parameters": [_title_param(prep), _url_param(prep)],
            }
    return Post(
        platform=target.platform,
        text=result.text,
        length=result.length,
        limit=WHATSAPP_TEXT_LIMIT,
        link=prep.link,
        extra=extra,
    )


def _title_param(prep: Prepared) -> str:
    """The title (else the summary, else the site's host name) as a parameter, cut to the parameter limit."""
    slots = {"title": TextSlot(prep.title), "summary": TextSlot(prep.summary)}
    for source in ("{title}", "{summary}"):
        composer = Composer(
            parse(source), slots, _param_text, utf16_length, WHATSAPP_PARAM_LIMIT, prep.rtl, isolate=prep.options.bidi
        )
        result = composer.fit(["title", "summary"])
        if result is not None:
            return result.text
    host = urlsplit(prep.link).hostname if prep.link else None  # an article without title or summary
    return host if host and utf16_length(host) <= WHATSAPP_PARAM_LIMIT else ELLIPSIS


def _url_param(prep: Prepared) -> str:
    """The link; without UTM parameters, then the site's root, if it would break the parameter limit."""
    if not prep.link:
        return ELLIPSIS
    parts = urlsplit(prep.link)
    canonical = clean_url(prep.article.url)
    root = urlunsplit((parts.scheme, parts.netloc, "/", "", ""))
    for candidate in (prep.link, canonical, root):
        if utf16_length(candidate) <= WHATSAPP_PARAM_LIMIT:
            return candidate
    return ELLIPSIS
