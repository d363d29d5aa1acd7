"""How the editors' desk draws a Page post: the Page's name, plain text with links and hashtags marked, then the
photo (a photo post) or the link card."""

from __future__ import annotations

from syndicator.platforms.spec import DeskLook

LOOK = DeskLook(
    frame="syndicator.platforms.facebook:desk.html",
    stylesheet="syndicator.platforms.facebook:desk.css",
)
