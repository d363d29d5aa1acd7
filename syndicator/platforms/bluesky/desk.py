"""How the editors' desk draws a Bluesky post: the text with exactly the links and hashtags the post declares as
facets (`facets.py`: Bluesky links nothing else, mentions included), then the article's link card with its thumb."""

from __future__ import annotations

from markupsafe import Markup, escape

from syndicator.article import Post
from syndicator.desk.draw import link
from syndicator.platforms.bluesky.facets import find_facets
from syndicator.platforms.spec import DeskLook


def draw(post: Post) -> Markup:
    """The text with its facets marked: the facets' own byte ranges, so the page shows what the app will link."""
    data = post.text.encode("utf-8", "surrogatepass")
    out: list[str] = []
    pos = 0
    for facet in find_facets(post.text):
        out.append(str(escape(data[pos : facet.byte_start].decode("utf-8", "surrogatepass"))))
        shown = data[facet.byte_start : facet.byte_end].decode("utf-8", "surrogatepass")
        if facet.kind == "link":
            out.append(str(link(facet.value, shown)))
        else:
            out.append(str(Markup('<span class="tag">{}</span>').format(shown)))
        pos = facet.byte_end
    out.append(str(escape(data[pos:].decode("utf-8", "surrogatepass"))))
    return Markup("".join(out))


LOOK = DeskLook(
    draw=draw,
    frame="syndicator.platforms.bluesky:desk.html",
    stylesheet="syndicator.platforms.bluesky:desk.css",
    hint="Plain text: links and #hashtags are linked, nothing else (an @mention stays text).",
)
