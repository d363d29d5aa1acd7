"""Shared renderings (issue 14): targets that read the same inputs get one rendering, and it is the very post each
of them would have rendered alone."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from syndicator import config
from syndicator.article import Article
from syndicator.config import TargetSettings
from syndicator.render import Renderings, render
from tests.render.helpers import GOLDEN_TARGETS, feed_articles, target, world_articles

EXAMPLE = Path(__file__).parents[2] / "config" / "example.toml"


def example_targets() -> dict[str, TargetSettings]:
    return dict(config.load(EXAMPLE, environ={}, dry_run=True).targets)


def articles() -> list[Article]:
    return feed_articles() + world_articles()


@pytest.mark.parametrize("source", ["example", "golden"])
def test_a_shared_rendering_is_the_post_each_target_renders_alone(source: str) -> None:
    targets = example_targets() if source == "example" else GOLDEN_TARGETS
    for article in articles():
        renderings = Renderings()
        for t in targets.values():
            assert renderings.render(article, t) == render(article, t), (t.name, article.id)
        assert renderings.rendered <= len(targets)


def test_example_targets_share_where_nothing_they_read_differs() -> None:
    targets = example_targets()
    renderings = Renderings()
    article = feed_articles()[0]
    posts = {name: renderings.render(article, t) for name, t in targets.items()}
    x = [posts[n] for n in targets if targets[n].platform == "twitter"]
    assert len(x) == 4 and all(p is x[0] for p in x)  # four X accounts, one rendering
    telegram = [posts[n] for n in targets if targets[n].platform == "telegram"]
    assert len({p.buttons for p in telegram}) == 4  # each its own read_more_button label
    whatsapp = [posts[n] for n in targets if targets[n].platform == "whatsapp"]
    assert len({p.extra["template"]["name"] for p in whatsapp}) == 4  # each its own approved template
    # x 1, facebook 1, telegram 4, whatsapp 4, bluesky 1, mastodon 1
    assert renderings.rendered == 12


def test_what_a_renderer_reads_keeps_targets_apart() -> None:
    article = feed_articles()[0]
    renderings = Renderings()
    link = renderings.render(article, target("facebook", name="a"))
    photo = renderings.render(article, target("facebook", {"post_as": "photo"}, name="b"))
    assert link.extra["post_as"] == "link" and photo == render(article, target("facebook", {"post_as": "photo"}))
    # a UTM template naming the target: each target's own link
    a = renderings.render(article, target("twitter", name="a", utm_source="{target}"))
    b = renderings.render(article, target("twitter", name="b", utm_source="{target}"))
    assert a.link != b.link and "utm_source=a" in (a.link or "") and "utm_source=b" in (b.link or "")
    # other options: other posts
    plain = renderings.render(article, target("twitter", name="c"))
    camel = renderings.render(article, target("twitter", name="d", hashtag_style="camel", max_hashtags=5))
    assert plain == render(article, target("twitter", name="c"))
    assert camel == render(article, target("twitter", name="d", hashtag_style="camel", max_hashtags=5))


def test_an_article_with_its_own_text_for_a_target_is_rendered_for_it() -> None:
    article = feed_articles()[0]
    custom = replace(article, social_text="The newsroom's own words for X")
    renderings = Renderings()
    first = renderings.render(article, target("twitter", name="x1"))
    own = renderings.render(custom, target("twitter", name="x2"))
    assert own.text != first.text and "own words" in own.text
    assert own == render(custom, target("twitter", name="x2"))


def test_an_undeclared_renderer_renders_every_target_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    from syndicator.platforms import registry

    spec = registry.get("twitter")
    undeclared = replace(spec, render=lambda prep, t: spec.render(prep, t))  # the same renderer, undeclared
    monkeypatch.setattr(registry, "find", lambda name: undeclared if name == "twitter" else None)
    renderings = Renderings()
    article = feed_articles()[0]
    renderings.render(article, target("twitter", name="a"))
    renderings.render(article, target("twitter", name="b"))
    assert renderings.rendered == 2
