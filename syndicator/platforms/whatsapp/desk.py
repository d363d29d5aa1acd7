"""How the editors' desk draws a WhatsApp message: a free-text message's `*bold*`, `_italic_`, `~strike~` and
```mono``` markers as the app draws them (URLs never styled), or a template message as the template's name and
parameters (what is sent; the approved template's own words are on Meta's side). An editor's text also makes the
message's Channel text and share link anew (`edited_extra`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from markupsafe import Markup, escape

from syndicator.article import Post
from syndicator.desk.draw import link, split_urls
from syndicator.platforms.spec import DeskLook

_MARKS = (
    (re.compile(r"```(.+?)```", re.DOTALL), "code"),
    (re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])"), "b"),
    (re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])"), "i"),
    (re.compile(r"(?<![\w~])~(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])"), "s"),
)


def markers(text: str) -> Markup:
    """The app's markers drawn as it draws them; URLs become links and are never styled."""
    out = []
    for piece, is_url in split_urls(text):
        if is_url:
            out.append(str(link(piece)))
            continue
        escaped = str(escape(piece))
        for pattern, tag in _MARKS:
            escaped = pattern.sub(rf"<{tag}>\1</{tag}>", escaped)
        out.append(escaped)
    return Markup("".join(out))


def draw(post: Post) -> Markup:
    return markers(post.text)


def edited_extra(extra: Mapping[str, Any], text: str) -> dict[str, Any]:
    """An editor's text in what the renderer derived from it: the Channel text and the wa.me draft link."""
    out = dict(extra)
    if "channel_text" in out:
        out["channel_text"] = text
    if "share_url" in out:
        out["share_url"] = str(out["share_url"]).split("?text=", 1)[0] + "?text=" + quote(text, safe="")
    return out


LOOK = DeskLook(
    draw=draw,
    frame="syndicator.platforms.whatsapp:desk.html",
    stylesheet="syndicator.platforms.whatsapp:desk.css",
    hint="WhatsApp markers: *bold*, _italic_, ~strike~.",
)


def not_editable(post: Post) -> str | None:
    """A template message sends Meta's approved template with its parameters, not the text the desk shows."""
    if post.extra.get("mode") == "template":
        return "a template message sends the platform's approved template, not this text: edit the template instead"
    return None
