"""Each platform's desk look (`PlatformSpec.desk`) comes from its package: its frame template, its stylesheet and how
its text is drawn; the desk draws every registered platform, and a platform without a look as plain text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from markupsafe import Markup

from syndicator.article import Button, Post
from syndicator.desk import pages
from syndicator.desk.views import PostPreview
from syndicator.platforms import registry
from syndicator.platforms.spec import PLAIN_LOOK, DeskLook, PlatformSpec
from syndicator.store import manage
from tests.desk.support import FARSI_TITLE, HOSTILE_TITLE, MORE_TARGETS, make_desk
from tests.desk.test_http import client, csrf_of, login

SPECS = registry.specs()
ROW = {"url": "https://news.example.org/en/council", "title": HOSTILE_TITLE, "image_url": None}


def drawn(post: Post, row: dict[str, Any] | None = None) -> str:
    posts = pages.environment().get_template("posts.html").module
    preview = PostPreview("desk_target", post.platform, "title", post, None)
    return str(posts.drawn(row or ROW, preview))  # type: ignore[attr-defined]


def hostile_post(spec: PlatformSpec, **changes: Any) -> Post:
    text = f"{HOSTILE_TITLE} #council https://news.example.org/en/council?a=1&b=<2>"
    fields: dict[str, Any] = {"platform": spec.name, "text": text, "length": 1, "limit": 100,
                              "link": "https://news.example.org/en/council", "extra": {"direction": "ltr"}}  # fmt: skip
    fields.update(changes)
    return Post(**fields)


def test_the_desk_draws_every_registered_platform() -> None:
    assert len(SPECS) >= 6
    assert all(isinstance(s.desk, DeskLook) for s in SPECS)


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_every_platform_has_its_own_look_shipped_in_its_package(spec: PlatformSpec) -> None:
    look = spec.desk
    assert look is not PLAIN_LOOK and look.frame and look.stylesheet and look.hint
    package = spec.publisher.partition(":")[0].rpartition(".")[0]  # the package the spec's publisher is in
    for ref in (look.frame, look.stylesheet):
        assert ref.partition(":")[0] == package, ref
        assert pages.resource(ref).strip()
    module = pages.environment().get_template(look.frame).module
    assert callable(getattr(module, "frame", None)), f"{look.frame} has no frame(a, p) macro"
    assert pages.resource(look.stylesheet) in pages.stylesheet()


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_every_look_draws_feed_markup_as_text(spec: PlatformSpec) -> None:
    html = drawn(hostile_post(spec, image_url="javascript:alert(1)", buttons=(Button("Go", "javascript:x()"),)))
    assert "<script" not in html and "<img src=x" not in html and "javascript:" not in html
    assert "&lt;script&gt;" in html
    assert 'href="https://news.example.org/en/council?a=1&amp;b=' in html  # the URL a link, its '&' escaped
    text = pages.drawn_text(hostile_post(spec))
    assert isinstance(text, Markup) and "&lt;b&gt;mayor&lt;/b&gt;" in text


def test_telegram_html_is_drawn_with_its_own_tags_only() -> None:
    text = '<b>خبر</b> <tg-spoiler>x</tg-spoiler> <a href="javascript:alert(1)">bad</a> <img src=x onerror=y> #tag'
    html = str(pages.drawn_text(Post("telegram", text, 1, 4096, parse_mode="HTML")))
    assert "<b>خبر</b>" in html and '<span class="spoiler">x</span>' in html
    assert '<a class="link" dir="auto">bad</a>' in html and "&lt;img src=x onerror=y&gt;" in html
    assert '<span class="tag">#tag</span>' in html


def test_whatsapp_markers_are_drawn_and_urls_never_styled() -> None:
    text = "*خبر* _فوری_ ~old~ https://news.example.org/a_b_c *"
    html = str(pages.drawn_text(Post("whatsapp", text, 1, 4096)))
    assert "<b>خبر</b> <i>فوری</i> <s>old</s>" in html and ">https://news.example.org/a_b_c</a>" in html


def test_a_platform_without_a_look_of_its_own_is_drawn_plain() -> None:
    post = Post("nowhere", "Plain #text https://news.example.org/x <b>", 1, 100, link="https://news.example.org/x")
    html = drawn(post)
    assert 'class="generic-post"' in html and 'class="card card-generic"' in html
    assert '<span class="tag">#text</span>' in html and "&lt;b&gt;" in html
    assert pages.look("nowhere") is PLAIN_LOOK and PLAIN_LOOK.hint == "Plain text."


def test_a_look_may_name_only_a_platform_packages_files() -> None:
    for ref in ("os:__init__.py", "syndicator.desk:pages.py", "syndicator.platforms.twitter:../spec.py", "desk.css"):
        with pytest.raises(ValueError):
            pages.resource(ref)


def test_bluesky_marks_exactly_its_facets_at_their_byte_offsets() -> None:
    # Persian letters are two bytes each, an emoji four: a facet drawn by character offsets would be off
    text = "خبر 🔥 #بازار_تهران ببینید https://news.example.org/fa/a. @someone.bsky.social #"
    html = str(pages.drawn_text(Post("bluesky", text, 1, 300)))
    assert '<span class="tag">#بازار_تهران</span>' in html
    assert ">https://news.example.org/fa/a</a>. " in html
    assert "@someone.bsky.social" in html and "mention" not in html  # Bluesky links no mention it is not told of
    assert html.count("<a ") == 1 and html.count('class="tag"') == 1


def test_mastodon_marks_mentions_and_not_addresses() -> None:
    text = "با @newsroom@social.example.org و @ed — write to desk@news.example.org #خبر"
    html = str(pages.drawn_text(Post("mastodon", text, 1, 500)))
    assert '<span class="mention">@newsroom@social.example.org</span>' in html
    assert '<span class="mention">@ed</span>' in html
    assert "desk@news.example.org" in html and html.count('class="mention"') == 2
    assert '<span class="tag">#خبر</span>' in html


def test_bluesky_and_mastodon_posts_on_the_article_and_edit_pages(tmp_path: Path) -> None:
    desk = make_desk(tmp_path, targets=MORE_TARGETS)
    desk.add_user("ed")
    c = client(desk)
    login(c)
    article = desk.article_id("تهران")
    page = c.get(f"/desk/articles/{article}")
    assert page.status_code == 200
    html = page.text
    bsky = html.split('id="target-bluesky"', 1)[1].split("</figure>", 1)[0]
    masto = html.split('id="target-mastodon"', 1)[1].split("</figure>", 1)[0]
    assert 'class="bsky-post"' in bsky and 'class="card card-bsky"' in bsky  # the record's link card
    assert 'class="card-image" src="https://news.example.org/img/dollar.jpg"' in bsky  # its thumb
    assert FARSI_TITLE in bsky and '<div class="text" dir="rtl">' in bsky
    assert 'class="masto-post"' in masto and 'class="media" src="https://news.example.org/img/dollar.jpg"' in masto
    assert f'alt="{FARSI_TITLE}"' in masto  # the image's description, as it is sent
    assert "card-masto" not in masto  # a status with media shows no preview card
    for name, hint in (("bluesky", "an @mention stays text"), ("mastodon", "@user@server mentions")):
        d = next(x for x in manage.latest_deliveries(desk.app.store, article) if x.target == name)
        edit = c.get(f"/desk/deliveries/{d.id}/edit")
        assert edit.status_code == 200 and hint in edit.text
        token = csrf_of(c, f"/desk/deliveries/{d.id}/edit")
        typed = {"csrf": token, "text": "خبر #فوری https://news.example.org/fa", "check": "1"}
        checked = c.post(f"/desk/deliveries/{d.id}/edit", data=typed)
        assert checked.status_code == 200 and "not saved yet" in checked.text
        assert '<span class="tag">#فوری</span>' in checked.text
    css = c.get("/desk/static/desk.css").text
    assert ".bsky-post" in css and ".masto-post" in css and css.index(".bsky-post") > css.index(".card {")


def test_an_edited_whatsapp_text_makes_its_channel_text_and_share_link_anew(tmp_path: Path) -> None:
    from urllib.parse import unquote

    from syndicator.desk import edits as desk_edits

    desk = make_desk(tmp_path)
    desk.add_user("ed")
    c = client(desk)
    login(c)
    article = desk.article_id("تهران")
    wa = next(d for d in manage.latest_deliveries(desk.app.store, article) if d.target == "whatsapp")
    assert wa.post.extra["channel_text"] == wa.post.text  # as rendered
    token = csrf_of(c, f"/desk/deliveries/{wa.id}/edit")
    text = "*دلار* ۶۰ هزار تومان & more https://news.example.org/fa/markets/dollar"
    assert c.post(f"/desk/deliveries/{wa.id}/edit", data={"csrf": token, "text": text}).status_code == 303
    sent = desk_edits.applied(desk.app.store, [wa])[0].post  # as the dispatcher claims it
    assert sent.text == text and sent.extra["channel_text"] == text
    base, _, query = sent.extra["share_url"].partition("?text=")
    assert base == wa.post.extra["share_url"].partition("?text=")[0] and unquote(query) == text
    tg = next(d for d in manage.latest_deliveries(desk.app.store, article) if d.target == "telegram")
    edited = desk_edits.with_text(tg.post, "<b>خبر</b>", 4)  # a platform without derived fields: extra as it was
    assert edited.extra == tg.post.extra and edited.text == "<b>خبر</b>"
