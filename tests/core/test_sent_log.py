"""Many sends, one line (issue 14): a dry run's deliveries and a fan-out's messages are told in one
`delivery.sent_batch` line per lane, each still a `DeliverySent` event (metrics and alerts count every one) logged
at debug; a real post keeps its own `delivery.sent` line with its URL."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest

from syndicator import config, logs, sent_summary
from syndicator import events as ev
from syndicator.app import App
from syndicator.article import Article, Identity, Post, Receipt
from syndicator.platforms.base import Publisher
from syndicator.polling import ingest
from syndicator.store import Store

NOW = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
NUMBERS = ["15550000001", "15550000002", "15550000003"]

CONFIG = """
[store]
url = "{db}"

[[feeds]]
name = "f"
url = "https://example.org/feed/"
max_age = "0s"
first_run = "all"
targets = ["dry", "tg", "wa"]

[targets.dry]
platform = "telegram"
chat = "@d"
token_env = "TOK"
dry_run = true

[targets.tg]
platform = "telegram"
chat = "@c"
token_env = "TOK"
[targets.tg.limits]
min_spacing = "0s"

[targets.wa]
platform = "whatsapp"
phone_number_id = "100"
token_env = "WA_TOK"
mode = "text"
pace = "0s"
recipients = {numbers}
[targets.wa.limits]
min_spacing = "0s"
"""


class Answering(Publisher):
    """A platform that takes every post: a Telegram channel's message URL, a WhatsApp message id."""

    platform: ClassVar[str] = "telegram"
    calls = 0

    async def publish(self, post: Post) -> Receipt:
        type(self).calls += 1
        n = type(self).calls
        if self.target.platform == "whatsapp":
            return Receipt(remote_id=f"wamid.{n}", url=None)
        return Receipt(remote_id=str(n), url=f"https://t.me/c/{n}")

    async def delete(self, receipt: Receipt) -> None:
        return None

    async def check(self) -> Identity:
        return Identity(name="answering")


@pytest.fixture
def app(store_url: str) -> Iterator[App]:
    text = CONFIG.format(db=store_url, numbers=json.dumps(NUMBERS))
    cfg = config.parse(text, environ={"TOK": "000000:TEST-not-real-token", "WA_TOK": "TEST-not-real-wa"})
    built = App(cfg, Store(cfg.store.url), clock=lambda: NOW)
    for name in ("tg", "wa"):
        built._publishers[name] = Answering(cfg.targets[name])
    articles = [
        Article(
            id=f"https://example.org/?p={i}", feed="f", url=f"https://example.org/{i}/", title=f"T{i}", published=NOW
        )
        for i in range(3)
    ]
    ingest(built, cfg.feeds[0], articles, now=NOW)
    yield built
    built.store.close()


@pytest.fixture
def json_log() -> Iterator[Any]:
    """The process's production logging (JSON lines) into a buffer, at the level the test sets."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    out = io.StringIO()

    def at(level: str) -> io.StringIO:
        logs.setup("json", level, stream=out)
        return out

    try:
        yield at
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


def lines(out: io.StringIO, event: str) -> list[dict[str, Any]]:
    return [doc for doc in map(json.loads, out.getvalue().splitlines()) if doc["event"] == event]


def send_all(app: App) -> list[ev.Event]:
    with ev.captured() as seen:
        while asyncio.run(app.dispatcher(rng=random.Random(7)).run_once()):
            pass
    return seen


@pytest.fixture
def all_summed(monkeypatch: pytest.MonkeyPatch) -> None:
    """No dry-run send shown alone: every one goes into its lane's line."""
    monkeypatch.setattr(sent_summary, "DRY_RUN_SHOWN", 0)


@pytest.mark.usefixtures("all_summed")
def test_a_real_post_has_its_own_line_dry_runs_and_fan_out_one_line_per_lane(app: App, json_log: Any) -> None:
    out = json_log("info")
    seen = send_all(app)
    sent = lines(out, "delivery.sent")
    assert sorted(d["target"] for d in sent) == ["tg"] * 3  # each real post: its line, its URL
    assert all(d["url"].startswith("https://t.me/c/") and d["remote_id"] for d in sent)
    summary = {d["target"]: d for d in lines(out, "delivery.sent_batch")}
    assert sorted(summary) == ["dry", "wa"] and len(lines(out, "delivery.sent_batch")) == 2
    dry, wa = summary["dry"], summary["wa"]
    assert dry["sent"] == 3 and dry["dry_run"] is True and dry["platform"] == "telegram"
    assert wa["sent"] == 9 and wa["recipients"] == 3 and "dry_run" not in wa and wa["platform"] == "whatsapp"
    sends = [e for e in seen if isinstance(e, ev.DeliverySent)]
    by_target = {t: sorted(e.delivery for e in sends if e.target == t) for t in summary}
    assert dry["deliveries"] == sent_summary.spans(by_target["dry"])
    assert wa["deliveries"] == sent_summary.spans(by_target["wa"])
    assert dry["articles"] == wa["articles"] == sent_summary.spans(e.article for e in sends if e.target == "dry")
    # metrics and alerts still see every send, one event each; the log names no recipient's number
    assert len({e.delivery for e in sends}) == len(sends) == 3 + 3 + 9
    assert not any(number in out.getvalue() for number in NUMBERS)
    assert "text" not in out.getvalue()  # no post text at info: the dry-run texts are debug lines


@pytest.mark.usefixtures("all_summed")
def test_at_debug_each_batched_send_has_its_line_too_with_the_dry_run_text(app: App, json_log: Any) -> None:
    out = json_log("debug")
    send_all(app)
    sent = lines(out, "delivery.sent")
    assert sorted(d["target"] for d in sent) == ["dry"] * 3 + ["tg"] * 3 + ["wa"] * 9
    dry = [d for d in sent if d["target"] == "dry"]
    assert all(d["level"] == "debug" and d["dry_run"] is True and d["text"] for d in dry)
    assert {d["level"] for d in sent if d["target"] == "tg"} == {"info"}
    assert sorted(d["recipient"] for d in sent if d["target"] == "wa") == sorted(NUMBERS * 3)
    assert sum(d["sent"] for d in lines(out, "delivery.sent_batch")) == 12


@pytest.mark.usefixtures("all_summed")
def test_a_long_lane_writes_its_line_as_it_goes(app: App, json_log: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sent_summary, "MAX_SENDS", 2)
    out = json_log("info")
    send_all(app)
    wa = [d["sent"] for d in lines(out, "delivery.sent_batch") if d["target"] == "wa"]
    assert wa == [8, 1]  # a fan-out wave of 8 (FANOUT_WAVE), then the last message when the lane ends
    assert [d["sent"] for d in lines(out, "delivery.sent_batch") if d["target"] == "dry"] == [3]  # one wave


def test_a_dry_runs_first_posts_are_shown_each_with_its_text_the_rest_summed(
    app: App, json_log: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dry run is for reading what would be posted: a lane's first DRY_RUN_SHOWN sends keep their own info line
    with the text (a newcomer's first poll shows every post); beyond them, the lane's line sums them up."""
    out = json_log("info")
    send_all(app)
    dry = [d for d in lines(out, "delivery.sent") if d["target"] == "dry"]
    assert len(dry) == 3 and all(d["level"] == "info" and d["dry_run"] is True and d["text"] for d in dry)
    assert "dry" not in {d["target"] for d in lines(out, "delivery.sent_batch")}


def test_beyond_the_shown_ones_a_dry_run_is_summed(app: App, json_log: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sent_summary, "DRY_RUN_SHOWN", 2)
    out = json_log("info")
    send_all(app)
    assert len([d for d in lines(out, "delivery.sent") if d["target"] == "dry"]) == 2
    assert [d["sent"] for d in lines(out, "delivery.sent_batch") if d["target"] == "dry"] == [1]


def test_spans_are_sorted_ranges_and_capped() -> None:
    assert sent_summary.spans([10, 2, 3, 1, 7, 9, 3]) == "1-3,7,9-10"
    assert sent_summary.spans([]) == ""
    assert sent_summary.spans([5]) == "5"
    many = sent_summary.spans(range(0, 2 * (sent_summary.MAX_SPANS + 5), 2))
    assert many.endswith(",… +5 more") and many.count(",") == sent_summary.MAX_SPANS
