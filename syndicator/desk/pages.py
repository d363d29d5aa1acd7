"""Jinja2 for the desk: templates from the package, autoescaping always on (every feed-supplied string is text),
undefined names an error rather than an empty string."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from syndicator.desk import draw


def when(value: datetime | None, *, seconds: bool = False) -> str:
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC")


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("syndicator.desk", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(when=when, safe_url=draw.safe_url, host=draw.host)
    env.globals.update(draw=draw)
    return env


def page(name: str, **context: Any) -> str:
    return environment().get_template(name).render(**context)


__all__ = ["environment", "page", "when"]
