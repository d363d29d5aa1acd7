"""How the editors' desk draws a post on X: plain text with links and hashtags marked, under the account's name,
with the image, or else the article's link card."""

from __future__ import annotations

from syndicator.platforms.spec import DeskLook

LOOK = DeskLook(
    frame="syndicator.platforms.twitter:desk.html",
    stylesheet="syndicator.platforms.twitter:desk.css",
)
