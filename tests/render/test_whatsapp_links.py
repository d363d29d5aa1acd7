"""WhatsApp has no escape character: the text's own `*` `_` `~` become look-alikes — but never inside a URL or an
e-mail address written in the text, which must stay usable."""

from __future__ import annotations

from datetime import UTC, datetime

from syndicator import config
from syndicator.article import Article
from syndicator.render import render

CONFIG = """
[[feeds]]
name = "en"
url = "https://example.org/feed/"
targets = ["wa"]

[targets.wa]
platform = "whatsapp"
phone_number_id = "106540352242922"
mode = "text"
recipients = ["15550000001"]
dry_run = true
"""


def test_urls_and_addresses_in_the_text_survive_but_markers_are_harmless() -> None:
    target = config.parse(CONFIG, environ={}).targets["wa"]
    article = Article(
        id="1",
        feed="en",
        url="https://example.org/story/",
        title="The *annual* report_2024",
        summary="Read https://example.org/docs/annual_report_2024.pdf or write to press_office@example.org today.",
        published=datetime(2026, 1, 1, tzinfo=UTC),
    )
    post = render(article, target)
    assert "https://example.org/docs/annual_report_2024.pdf" in post.text
    assert "press_office@example.org" in post.text
    assert "*annual*" not in post.text and "report_2024" not in post.text.split("https")[0]
