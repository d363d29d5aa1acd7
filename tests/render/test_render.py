"""Behaviour of `render` per platform: limits, images, buttons, links, templates and cutting order."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any
from urllib.parse import unquote

from syndicator.article import Article, Post
from syndicator.platforms.twitter.measure import x_parse
from syndicator.render import render
from syndicator.render.bidi import LRI, PDI, RLM
from syndicator.render.text import ELLIPSIS
from tests.render.helpers import feed_articles, target, telegram_problems

BASE = Article(
    id="1",
    feed="en",
    url="https://www.nejatngo.org/en/some-story/",
    title="A title",
    summary="A summary sentence.",
    categories=("Albania", "Human Rights"),
    language="en",
    author="Nejat Society",
    image_url="https://www.nejatngo.org/en/wp-content/uploads/a.jpg",
)


def _json_roundtrip(post: Post) -> None:
    assert Post.from_json(post.to_json()) == post
    json.dumps(dict(post.extra))


def test_x_default_post() -> None:
    post = render(BASE, target("twitter"))
    assert post.text == "A title\n\nhttps://www.nejatngo.org/en/some-story/\n\n#Albania #Human_Rights"
    assert post.length == x_parse(post.text).weighted_length == 7 + 4 + 23 + 22
    assert post.limit == 280 and post.parse_mode is None
    assert post.image_url == BASE.image_url
    assert post.link == BASE.url
    _json_roundtrip(post)


def test_x_long_title_is_cut_hashtags_first_url_never() -> None:
    article = replace(BASE, title=" ".join(["word"] * 100))
    post = render(article, target("twitter"))
    assert post.length <= 280 and x_parse(post.text).valid
    assert post.text.endswith(BASE.url)  # the hashtags went first
    assert post.text.split("\n")[0].endswith("word" + ELLIPSIS)
    assert post.extra["hashtags"] == []


def test_image_can_be_disabled_and_is_optional() -> None:
    assert render(BASE, target("twitter", image=False)).image_url is None
    assert render(replace(BASE, image_url=None), target("twitter")).image_url is None
    assert render(replace(BASE, image_url="/relative.png"), target("twitter")).image_url == (
        "https://www.nejatngo.org/relative.png"
    )
    assert render(replace(BASE, image_url="data:image/png;base64,xx"), target("telegram")).image_url is None


def test_telegram_caption_or_text_limit() -> None:
    long = replace(BASE, summary=" ".join(["lorem"] * 2000))
    with_photo = render(long, target("telegram"))
    assert with_photo.image_url and with_photo.limit == 1024 and with_photo.length <= 1024
    text_only = render(long, target("telegram", image=False))
    assert text_only.image_url is None and text_only.limit == 4096 and 4000 < text_only.length <= 4096
    for post in (with_photo, text_only):
        problems, shown = telegram_problems(post.text)
        assert not problems and BASE.url in shown
        assert post.parse_mode == "HTML"


def test_telegram_escapes_and_links() -> None:
    article = replace(BASE, title="Tom & Jerry <3", summary="a < b & c > d")
    post = render(article, target("telegram", {"read_more_button": "Read more"}))
    assert post.text.startswith("<b>Tom &amp; Jerry &lt;3</b>\n\na &lt; b &amp; c &gt; d\n\n")
    assert f'<a href="{BASE.url}">{BASE.url}</a>' in post.text
    assert [(b.text, b.url) for b in post.buttons] == [("Read more", BASE.url)]
    assert not render(article, target("telegram")).buttons


def test_telegram_title_as_link() -> None:
    post = render(BASE, target("telegram", template="{title:bold,link}\n{summary:italic}"))
    assert post.text == f'<a href="{BASE.url}"><b>A title</b></a>\n<i>A summary sentence.</i>'


def test_facebook_link_post_and_photo_post() -> None:
    link_post = render(BASE, target("facebook"))
    assert link_post.image_url is None and link_post.link == BASE.url
    assert BASE.url not in link_post.text  # Facebook makes the link card from `link`
    assert link_post.extra["post_as"] == "link"
    photo = render(BASE, target("facebook", {"post_as": "photo"}))
    assert photo.image_url == BASE.image_url and BASE.url in photo.text and photo.extra["post_as"] == "photo"
    no_image = render(replace(BASE, image_url=None), target("facebook", {"post_as": "photo"}))
    assert no_image.image_url is None and no_image.extra["post_as"] == "link"


def test_whatsapp_text_share_link_and_template() -> None:
    article = replace(BASE, title="5 * 3 = 15_000 ~ `code`", language="sq")
    post = render(article, target("whatsapp", utm_source="wa"))
    link = BASE.url + "?utm_source=wa"
    assert post.text == f"*5 ∗ 3 = 15＿000 ∼ ˋcodeˋ*\n\nA summary sentence.\n\n{link}"
    assert post.image_url is None and post.link == link
    assert unquote(post.extra["share_url"].removeprefix("https://wa.me/?text=")) == post.text
    assert post.extra["channel_text"] == post.text
    assert post.extra["template"] == {
        "name": "new_article",
        "language": "sq",
        "parameters": ["5 ∗ 3 = 15＿000 ∼ ˋcodeˋ", link],
    }
    _json_roundtrip(post)


def test_whatsapp_template_language() -> None:
    assert render(replace(BASE, language="en-US"), target("whatsapp")).extra["template"]["language"] == "en_US"
    assert render(replace(BASE, language=""), target("whatsapp")).extra["template"]["language"] == "en"
    configured = target("whatsapp", {"template_language": "fa"})
    assert render(BASE, configured).extra["template"]["language"] == "fa"
    assert "template" not in render(BASE, target("whatsapp", {"mode": "text"})).extra


def test_whatsapp_title_parameter_is_one_line_within_1024() -> None:
    article = replace(BASE, title="line one\nline two\t\t" + "word " * 400)
    title = render(article, target("whatsapp")).extra["template"]["parameters"][0]
    assert "\n" not in title and "\t" not in title and "  " not in title
    assert len(title) <= 1024 and title.endswith(ELLIPSIS)


def test_utm_parameters_and_existing_query() -> None:
    article = replace(BASE, url="https://www.nejatngo.org/en/?p=1#c")
    options: dict[str, Any] = {"utm_source": "x", "utm_medium": "social", "utm_campaign": "{feed}-{platform}"}
    post = render(article, target("twitter", **options))
    expected = "https://www.nejatngo.org/en/?p=1&utm_source=x&utm_medium=social&utm_campaign=en-twitter#c"
    assert post.link == expected and expected in post.text


def test_lines_without_values_disappear() -> None:
    template = "{title}\nBy {author}\n\n\n{summary}\nFiled under {categories}\n{url}"
    post = render(replace(BASE, author="", categories=()), target("twitter", template=template))
    assert post.text == f"A title\n\nA summary sentence.\n{BASE.url}"


def test_cut_first_title() -> None:
    article = replace(BASE, title=" ".join(["title"] * 60), summary=" ".join(["summary"] * 60))
    template = "{title}\n{summary}\n{url}"
    summary_first = render(article, target("twitter", template=template))
    assert "summary" not in summary_first.text or summary_first.text.count("title") == 60
    title_first = render(article, target("twitter", template=template, cut_first="title"))
    assert "title" not in title_first.text.split("\n")[0] or ELLIPSIS in title_first.text
    assert title_first.text.count("summary") > summary_first.text.count("summary")


def test_hashtags_off_and_limits() -> None:
    assert render(BASE, target("twitter", hashtags=False)).extra["hashtags"] == []
    assert render(BASE, target("twitter", max_hashtags=1)).extra["hashtags"] == ["#Albania"]
    camel = render(BASE, target("twitter", hashtag_style="camel"))
    assert camel.extra["hashtags"] == ["#Albania", "#HumanRights"]


def test_rtl_post_isolates_url_and_latin() -> None:
    article = replace(BASE, title="گزارش BBC درباره MEK", summary="", categories=("MEK",), language="fa")
    post = render(article, target("twitter"))
    assert post.text == (
        f"گزارش {LRI}BBC{PDI} درباره {LRI}MEK{PDI}\n\n{RLM}{LRI}{BASE.url}{PDI}\n\n{RLM}{LRI}#MEK{PDI}"
    )
    assert x_parse(post.text).valid
    no_bidi = render(article, target("twitter", bidi=False))
    assert LRI not in no_bidi.text and RLM not in no_bidi.text


def test_albanian_survives_unchanged() -> None:
    title = "Çfarë ndodhi në Tiranë? Ëndrra e një familjeje"
    article = replace(BASE, title=title, summary="Përçarja vazhdon.", categories=("Shqipëri",), language="sq")
    for platform in ("twitter", "telegram", "facebook"):
        post = render(article, target(platform))
        assert title in post.text and "#Shqipëri" in post.text
    assert "Përçarja vazhdon." in render(article, target("whatsapp")).text


def test_odd_articles_never_raise() -> None:
    odd = [
        replace(BASE, url="", title="", summary="", image_url=None, categories=()),
        replace(BASE, url="not a url", title="\x00\ud800\ufeff"),
        replace(BASE, url="https://x.org/" + "a" * 5000, title="t"),
        replace(BASE, title="<" * 3000, summary="&" * 5000, content_html="<" * 100),
    ]
    for article in odd:
        for platform in ("twitter", "telegram", "facebook", "whatsapp"):
            post = render(article, target(platform))
            assert post.text.strip() and post.length <= post.limit, (platform, article.url[:30])
            if platform == "telegram":
                assert not telegram_problems(post.text)[0]


def test_sample_feed_renders_for_every_platform() -> None:
    for article in feed_articles():
        for platform in ("twitter", "telegram", "facebook", "whatsapp"):
            post = render(article, target(platform))
            shown = telegram_problems(post.text)[1] if platform == "telegram" else post.text
            assert post.length <= post.limit
            assert article.title in shown, (platform, article.title)  # short titles are never cut
