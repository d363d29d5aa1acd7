"""Jinja2 for the desk: templates from the package, autoescaping always on (every feed-supplied string is text),
undefined names an error rather than an empty string.

How a post looks is its platform's (`PlatformSpec.desk`, a `DeskLook`): its frame template and stylesheet live in
the platform's package and are named "package:file"; a platform without a look of its own is drawn plain.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any

from jinja2 import ChoiceLoader, Environment, FunctionLoader, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from syndicator.article import Post
from syndicator.desk import draw
from syndicator.platforms import registry
from syndicator.platforms.spec import PLAIN_LOOK, DeskLook

_PACKAGE_PREFIX = "syndicator.platforms."  # where a "package:file" may point: the platform packages only


def when(value: datetime | None, *, seconds: bool = False) -> str:
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC")


def look(platform: str) -> DeskLook:
    spec = registry.find(platform)
    return spec.desk if spec else PLAIN_LOOK


def drawn_text(post: Post) -> Markup:
    """The post's text as its platform shows it (escaped; only the look's own tags)."""
    how = look(post.platform).draw
    return how(post) if how else draw.plain(post.text)


def resource(ref: str) -> str:
    """The text of a look's "package:file" (a file shipped in a platform's package)."""
    package, sep, name = ref.partition(":")
    if not sep or not package.startswith(_PACKAGE_PREFIX) or not name or "/" in name or name.startswith("."):
        raise ValueError(f"not a platform package's file: {ref!r}")
    return (resources.files(package) / name).read_text(encoding="utf-8")


def _platform_template(name: str) -> tuple[str, None, Any] | None:
    if ":" not in name:
        return None  # the desk's own templates are PackageLoader's
    return resource(name), None, lambda: True  # package files do not change under a running worker


@cache
def stylesheet() -> str:
    """The desk's stylesheet, then each platform's look's (in the registry's order)."""
    parts = [(resources.files("syndicator.desk") / "static" / "desk.css").read_text(encoding="utf-8")]
    for spec in registry.specs():
        if spec.desk.stylesheet:
            parts.append(f"/* {spec.desk.stylesheet} */\n{resource(spec.desk.stylesheet)}")
    return "\n".join(parts)


@cache
def environment() -> Environment:
    env = Environment(
        loader=ChoiceLoader([PackageLoader("syndicator.desk", "templates"), FunctionLoader(_platform_template)]),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(when=when, safe_url=draw.safe_url, host=draw.host)
    env.globals.update(draw=draw, look=look, drawn_text=drawn_text)
    return env


def page(name: str, **context: Any) -> str:
    return environment().get_template(name).render(**context)


__all__ = ["drawn_text", "environment", "look", "page", "resource", "stylesheet", "when"]
