"""How the editors' desk draws a Mastodon status: plain text with the links, hashtags and @mentions the server links,
then the image with the alt text it is sent with, or else the article's preview card (the server shows a card
only for a status without media)."""

from __future__ import annotations

from markupsafe import Markup

from syndicator.article import Post
from syndicator.desk.draw import plain
from syndicator.platforms.spec import DeskLook


def draw(post: Post) -> Markup:
    return plain(post.text, mentions=True)


LOOK = DeskLook(
    draw=draw,
    frame="syndicator.platforms.mastodon:desk.html",
    stylesheet="syndicator.platforms.mastodon:desk.css",
    hint="Plain text: the server links URLs, #hashtags and @user@server mentions.",
)
