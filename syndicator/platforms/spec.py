"""What a platform package tells the rest of the program: one `PlatformSpec`, exported as `SPEC`.

Everything outside a platform's package learns about the platform from its spec, found by the registry
(`syndicator.platforms.registry`): config (the platform name, its settings class, its config-time checks), the
governor (default spacing and quotas), polling (one delivery per recipient), render (the renderer), `check` and
`preview` (the limit and how it is measured), dry runs (capabilities), logging (library loggers, secret shapes),
the editors' desk (how a post looks: `DeskLook`) and the docs. A spec is pure data plus pure functions: building
one imports no client library. The publisher class is named by its import path and loaded only when a target
really posts or checks.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from syndicator.limits import Quota

if TYPE_CHECKING:
    from markupsafe import Markup

    from syndicator.article import Post
    from syndicator.config import TargetSettings
    from syndicator.platforms.base import Publisher
    from syndicator.render.context import Prepared

Renderer = Callable[["Prepared", "TargetSettings"], "Post"]
Measure = Callable[[str], int]


@dataclass(frozen=True)
class Capabilities:
    """What the platform itself can do; a dry run of a target claims no more than its platform."""

    edit: bool = False  # correct a sent post in place
    delete: bool = True  # remove a sent post (retractions)
    fan_out: bool = False  # one delivery per recipient (`SPEC.recipients`), not one per target
    media: bool = False  # posts can carry the article's image


@dataclass(frozen=True)
class SecretPattern:
    """A credential's shape, redacted wherever it appears: `pattern` → `replacement`, tried only over a text that
    holds one of `guards` (lower-cased literal parts; most log values hold none)."""

    pattern: re.Pattern[str]
    replacement: str
    guards: tuple[str, ...]


@dataclass(frozen=True)
class AlertChannelSpec:
    """The platform as a channel for ops alerts (`syndicator.alerts`).

    Its `[alerts]` keys are the fields of `settings`, a frozen dataclass (built by syndicator.schema) whose every
    field is named `<platform>_...` and has a default: `alerts.settings` routes the table's keys to it by that
    prefix. `secrets` names its `*_env` keys (variable → what it holds, for the error when it is unset); their
    values reach the channel as `secrets["<key without _env>"]`. `validate(settings)` raises ConfigError with the
    key as written in `[alerts]`. `channel` is a class ("package.module:Class", imported only when the alert
    service starts) with `configure(settings, secrets, timeout) -> channel | None` (None: not configured); the
    channel's `name` is the platform's name, the `channel` label of the alert metrics and log events.
    """

    channel: str
    settings: type[Any]
    secrets: Mapping[str, str] = field(default_factory=dict)
    validate: Callable[[Any], None] | None = None

    def channel_class(self) -> Any:
        module_name, _, class_name = self.channel.partition(":")
        return getattr(importlib.import_module(module_name), class_name)


@dataclass(frozen=True)
class DeskLook:
    """How the editors' desk (`syndicator.desk`) draws the platform's posts; all of it lives in the platform's package.

    `draw(post)` is the post's text as HTML the way the platform shows it: `Markup` in which every character of the
    post is escaped and only tags `draw` writes itself appear (built from `syndicator.desk.draw`'s helpers: `link`,
    `plain`, `split_urls`, `safe_url`); None draws plain text with its links and hashtags marked. `frame` names a
    Jinja template ("package:file.html") whose macro `frame(a, p)` draws what is around the text (name, avatar,
    media, link card, buttons; `a` is the article's row, `p` a `desk.views.PostPreview`); it may import the desk's
    `parts.html` (`text(p)`, `card(a, p, style)`, `media(p)`), and None is the desk's plain frame (the text, then the
    link card). `stylesheet` ("package:file.css") is served after the desk's own stylesheet: its rules stay within
    the frame's own classes. `hint` is the edit page's line on how the text is written.
    """

    draw: Callable[[Post], Markup] | None = None
    frame: str | None = None
    stylesheet: str | None = None
    hint: str = "Plain text."


PLAIN_LOOK = DeskLook()


@dataclass(frozen=True)
class PlatformSpec:
    name: str  # the `platform = "..."` value; a stable interface
    title: str  # how the docs and `--help` name what it posts to ("a ... Page")
    settings: type[Any]  # a frozen dataclass of the platform's `[targets.NAME]` keys (built by syndicator.schema)
    render: Renderer  # (Prepared, target) → Post, measured and within `limits`
    default_template: str  # the post template when a target sets none (the renderer may pick among `templates`)
    limits: Mapping[str, int]  # named limits, e.g. {"text": 4096, "caption": 1024}
    measure: Measure  # length as the platform counts it (a rendered Post also carries its own length and limit)
    counting: str  # the measuring rule in words, for docs and previews
    spacing: timedelta  # default minimum time between two posts of one target
    quotas: tuple[Quota, ...]  # default windowed quotas
    capabilities: Capabilities
    publisher: str  # "package.module:Class", imported by `publisher_class()` only
    templates: Mapping[str, str] = field(default_factory=dict)  # other named default templates ("photo": ...)
    loggers: tuple[str, ...] = ()  # the client libraries' loggers: kept at WARNING and redacted
    secret_patterns: tuple[SecretPattern, ...] = ()
    optional_secrets: frozenset[str] = frozenset()  # `*_env` secrets a target may leave unset
    # config-time hook: (settings, directory of the config file) → settings (paths resolved); raises ValueError
    # or syndicator.errors.ConfigError (with a key relative to the target) for what is wrong
    validate: Callable[[Any, Path], Any] | None = None
    # fan-out hook: settings → the recipients a delivery is made for (capabilities.fan_out)
    recipients: Callable[[Any], list[str]] | None = None
    order: int = 100  # where it is listed (docs, `--help`, error messages); then by name
    aliases: tuple[str, ...] = ()  # what editors also call it, e.g. in `social-skip-NAME` tags (a short name)
    alert_channel: AlertChannelSpec | None = None  # the platform can carry ops alerts (`[alerts]` keys)
    # `Post.extra` keys a dry run's log line and a preview show besides the text (what a send carries that the
    # text does not: a template and its parameters, a share link)
    preview_fields: tuple[str, ...] = ()
    desk: DeskLook = PLAIN_LOOK  # how the editors' desk draws a post
    # an editor's new text (the desk): (Post.extra, text) → `extra` with what the renderer derived from the text made
    # anew (a copy of it, a link holding it); None: nothing in `extra` depends on the text
    edited_extra: Callable[[Mapping[str, Any], str], dict[str, Any]] | None = None
    # why a post's text cannot be edited at all (what is sent is not this text), in words for the editor; None:
    # every post's text can be
    not_editable: Callable[[Post], str | None] | None = None

    def publisher_class(self) -> type[Publisher]:
        """The publisher class; this is where the client library is imported."""
        module_name, _, class_name = self.publisher.partition(":")
        cls: type[Publisher] = getattr(importlib.import_module(module_name), class_name)
        return cls

    def recipients_of(self, settings: Any) -> list[str]:
        """One entry per delivery: the recipients of a fan-out platform, else one empty recipient."""
        if self.recipients is None:
            return [""]
        return self.recipients(settings) or [""]
