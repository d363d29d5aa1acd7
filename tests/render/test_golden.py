"""Golden files: what every target posts for the sample feed and for Arabic, Farsi, Albanian and awkward articles.

A change to the output shows up as a diff of tests/render/golden/*.json. After checking that diff by eye,
regenerate with:  UPDATE_GOLDEN=1 .venv/bin/pytest tests/render/test_golden.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from syndicator.article import Article, Post
from syndicator.platforms.twitter.measure import x_parse
from syndicator.render import render
from tests.render import oracle
from tests.render.helpers import GOLDEN_TARGETS, feed_articles, telegram_problems, utf16, world_articles

GOLDEN = Path(__file__).parent / "golden"


def _groups() -> dict[str, list[Article]]:
    world = world_articles()
    return {
        "en-feed": feed_articles(),
        "en-edge": [a for a in world if a.language == "en"],
        "ar": [a for a in world if a.language == "ar"],
        "fa": [a for a in world if a.language == "fa"],
        "sq": [a for a in world if a.language == "sq"],
    }


def _post_dict(post: Post) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(post.to_json())
    data["text_lines"] = post.text.split("\n")  # readable diffs
    del data["text"]
    data["extra"].pop("share_url", None)  # the channel text, URL-encoded: no new information
    data["extra"].pop("channel_text", None)
    return data


@pytest.mark.parametrize("group", sorted(_groups()))
def test_golden(group: str) -> None:
    articles = _groups()[group]
    actual = {
        name: {article.id: _post_dict(render(article, target)) for article in articles}
        for name, target in GOLDEN_TARGETS.items()
    }
    path = GOLDEN / f"{group}.json"
    rendered = json.dumps(actual, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(rendered, encoding="utf-8")
    assert path.exists(), f"no golden file {path.name}: run with UPDATE_GOLDEN=1"
    expected = json.loads(path.read_text(encoding="utf-8"))
    for name in GOLDEN_TARGETS:
        for article in articles:
            assert actual[name][article.id] == expected[name][article.id], f"{group}: {name} / {article.id}"


@pytest.mark.parametrize("group", sorted(_groups()))
def test_every_golden_post_is_acceptable(group: str) -> None:
    """Whatever the golden files say, each post must be one the platform accepts."""
    x_texts: list[tuple[str, str, int]] = []
    for article in _groups()[group]:
        for name, target in GOLDEN_TARGETS.items():
            post = render(article, target)
            where = f"{name} / {article.id}"
            assert post.text.strip(), where
            assert post.length <= post.limit, where
            if post.platform == "twitter":
                parsed = x_parse(post.text)
                assert parsed.valid, (where, parsed)
                assert parsed.weighted_length == post.length, (where, parsed)
                x_texts.append((where, post.text, post.length))
            elif post.platform == "telegram":
                problems, shown = telegram_problems(post.text)
                assert not problems, (where, problems)
                assert utf16(shown) == post.length, where
            else:
                assert utf16(post.text) == post.length, where
            if post.link and "{url}" in (target.render.template or "{url}") and post.platform != "facebook":
                shown = telegram_problems(post.text)[1] if post.platform == "telegram" else post.text
                assert post.link in shown, where
    if oracle.available():  # the official library agrees
        for (where, _, length), official in zip(x_texts, oracle.run([t for _, t, _ in x_texts]), strict=True):
            assert official["parse"]["valid"], where
            assert official["parse"]["weightedLength"] == length, where
