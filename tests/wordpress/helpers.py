"""One feed on the fake WordPress site, dry-run targets (their rendered posts are in the outbox), a clock the test
moves, and what the outbox holds."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from syndicator import config
from syndicator.app import App
from syndicator.events import Event, subscribe
from syndicator.store import tables as t
from tests.wordpress.fake import FakeWordPress

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
TARGETS = ("x", "telegram")


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def config_text(
    wp: FakeWordPress,
    db: str,
    *,
    wordpress: bool = False,
    feed_extra: str = "",
    targets: Sequence[str] = TARGETS,
    sections: str = "",
) -> str:
    site = f'wordpress = "{wp.url}"\n' if wordpress else ""
    blocks = {
        "x": '[targets.x]\nplatform = "twitter"\ndry_run = true\n',
        "telegram": '[targets.telegram]\nplatform = "telegram"\nchat = "@example"\ndry_run = true\n',
    }
    return (
        f'[store]\nurl = "{db}"\n\n[[feeds]]\nname = "en"\nurl = "{wp.url}/feed/"\nlanguage = "en"\n'
        f'max_age = "2d"\nfirst_run = "skip"\ntargets = {json.dumps(list(targets))}\n{site}{feed_extra}\n'
        + "\n".join(blocks[n] for n in targets)
        + sections
    )


def make_app(
    wp: FakeWordPress,
    db: str,
    clock: Clock,
    *,
    wordpress: bool = False,
    feed_extra: str = "",
    targets: Sequence[str] = TARGETS,
    sections: str = "",
    environ: dict[str, str] | None = None,
) -> App:
    text = config_text(wp, db, wordpress=wordpress, feed_extra=feed_extra, targets=targets, sections=sections)
    return App.open(config.parse(text, environ=environ or {}), clock=clock)


def posts(app: App) -> dict[tuple[str, str], dict[str, Any]]:
    """(article guid, target) → the rendered post JSON, for every delivery of kind post."""
    a, d = t.articles, t.deliveries
    with app.store.engine.connect() as conn:
        query = select(a.c.guid, d.c.target, d.c.post, d.c.state).join(d, d.c.article_id == a.c.id)
        rows = conn.execute(query.where(d.c.kind == "post")).all()
    return {(r.guid, r.target): {**json.loads(r.post), "state": r.state} for r in rows}


def article_rows(app: App) -> dict[str, Any]:
    with app.store.engine.connect() as conn:
        return {r.guid: r for r in conn.execute(select(t.articles)).all()}


@contextmanager
def events() -> Iterator[list[Event]]:
    got: list[Event] = []
    undo = subscribe(got.append)
    try:
        yield got
    finally:
        undo()
