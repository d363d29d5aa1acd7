"""A fan-out wave's calls all run to their end and all their receipts are recorded, whatever one call's outcome
raises: a receipt left unrecorded would leave its row `sending`, turn it `unknown` and, on a target that retries
unknowns, send the message twice."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import select

from syndicator import config
from syndicator.app import App
from syndicator.article import Article, Identity, Post, Receipt
from syndicator.errors import Transient
from syndicator.platforms.base import Publisher
from syndicator.polling import ingest
from syndicator.store import Store
from syndicator.store import tables as t

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
targets = ["wa"]

[targets.wa]
platform = "whatsapp"
phone_number_id = "100"
token_env = "WA_TOK"
mode = "text"
pace = "0s"
recipients = {numbers}
[targets.wa.limits]
min_spacing = "0s"
[targets.wa.retry]
on_unknown = "retry"
"""


class OneRefused(Publisher):
    """Takes every message but the second recipient's, which the platform answers with a 503."""

    platform: ClassVar[str] = "whatsapp"

    async def publish(self, post: Post) -> Receipt:
        await asyncio.sleep(0)  # the wave's calls interleave, as real ones do
        if post.recipient == NUMBERS[1]:
            raise Transient("503 from the platform (test)", code=503, maybe_sent=False)
        await asyncio.sleep(0.01)  # the others answer after the refused one's outcome is being recorded
        return Receipt(remote_id=f"wamid.{post.recipient}", url=None)

    async def delete(self, receipt: Receipt) -> None:
        return None

    async def check(self) -> Identity:
        return Identity(name="one-refused")


def states(app: App) -> dict[str, tuple[str, str | None]]:
    with app.store.engine.connect() as conn:
        rows = conn.execute(select(t.deliveries)).mappings().all()
    return {r["recipient"]: (r["state"], r["remote_id"]) for r in rows}


def test_a_store_error_recording_one_failure_keeps_the_other_receipts_of_its_wave(store_url: str) -> None:
    cfg = config.parse(CONFIG.format(db=store_url, numbers=json.dumps(NUMBERS)), environ={"WA_TOK": "TEST-not-real"})
    app = App(cfg, Store(cfg.store.url), clock=lambda: NOW)
    app._publishers["wa"] = OneRefused(cfg.targets["wa"])
    article = Article(id="p1", feed="f", url="https://example.org/1/", title="T", published=NOW)
    ingest(app, cfg.feeds[0], [article], now=NOW)
    dispatcher = app.dispatcher(rng=random.Random(7))

    async def store_blip(*_: Any, **__: Any) -> None:
        raise RuntimeError("database is locked (test)")

    dispatcher.outcomes.failed = store_blip  # type: ignore[method-assign]
    with contextlib.suppress(RuntimeError):  # the lane may pass the store's error on; the receipts come first
        asyncio.run(dispatcher.run_once())
    got = states(app)
    assert got[NUMBERS[0]] == ("sent", f"wamid.{NUMBERS[0]}")
    assert got[NUMBERS[2]] == ("sent", f"wamid.{NUMBERS[2]}")
    assert got[NUMBERS[1]][0] == "sending"  # its failure was not recorded: its lease will expire, as a crash's
    app.store.close()


def test_a_publisher_that_cannot_be_made_leaves_its_deliveries_to_retry_not_unknown(store_url: str) -> None:
    """Nothing was sent when the publisher could not even be made: retried later, never `unknown`."""
    cfg = config.parse(CONFIG.format(db=store_url, numbers=json.dumps(NUMBERS)), environ={"WA_TOK": "TEST-not-real"})
    app = App(cfg, Store(cfg.store.url), clock=lambda: NOW)
    article = Article(id="p1", feed="f", url="https://example.org/1/", title="T", published=NOW)
    ingest(app, cfg.feeds[0], [article], now=NOW)
    dispatcher = app.dispatcher(rng=random.Random(7))

    def broken(_: object) -> Publisher:
        raise RuntimeError("cannot load the client library (test)")

    dispatcher.publisher = broken  # type: ignore[method-assign,assignment]
    asyncio.run(dispatcher.run_once())
    assert {state for state, _ in states(app).values()} == {"retry"}
    app.store.close()
