"""Pure rendering: (Article, target settings) → Post. No network, no database.

`render` is the only entry point the pipeline needs: it prepares what every platform shares (`context.prepare`)
and hands it to the renderer the target's platform spec names (`syndicator.platforms.<name>`). This package holds
only platform-neutral machinery: text, rich text, templates, hashtags, bidi, links, graphemes, composing.

`Renderings` renders one article for many targets, once per distinct input: targets whose platform, `[render]`
options, resolved UTM parameters and what their platform's renderer declares it reads of a target (`@reads`)
are equal get the same Post, rendered once.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, TypeVar

from syndicator.article import Article, Post
from syndicator.render.context import Prepared, prepare
from syndicator.render.measure import utf16_length

if TYPE_CHECKING:
    from syndicator.config import TargetSettings
    from syndicator.platforms.spec import PlatformSpec

__all__ = ["Renderings", "reads", "render", "utf16_length"]

_READS = "__render_reads__"
F = TypeVar("F", bound=Callable[..., Any])


def reads(*paths: str) -> Callable[[F], F]:
    """Declares what a platform's renderer reads of its target besides `platform`, `render` and the settings'
    class, as attribute paths ("settings.post_as", "api_base"). A renderer without it is rendered per target."""

    def mark(renderer: F) -> F:
        setattr(renderer, _READS, tuple(paths))
        return renderer

    return mark


def render(article: Article, target: TargetSettings) -> Post:
    """The post `target` would publish for `article`: final text escaped for its markup, measured by the
    platform's own rule and within its limit. Never raises for any article content."""
    return _spec(target).render(prepare(article, target), target)


class Renderings:
    """The posts of one moment's rendering (one article's targets, say), each distinct one rendered once.

    Keyed by the article object itself (held here, so its id stays its own) and by what the renderer reads of the
    target. A renderer that does not declare what it reads (`@reads`) renders every target alone;
    `prepare` is shared whenever the options and the resolved UTM parameters are equal, since that is all of the
    target it reads. Short-lived by design: a renderer may read process state (a server's limits, as read), which
    does not change within one article's rendering.
    """

    def __init__(self) -> None:
        self._articles: dict[int, Article] = {}
        self._prepared: dict[Hashable, Prepared] = {}
        self._posts: dict[Hashable, Post] = {}
        self.rendered = 0  # renderer calls made (the rest were shared)

    def render(self, article: Article, target: TargetSettings) -> Post:
        spec = _spec(target)
        self._articles.setdefault(id(article), article)  # keeps the object alive: its id cannot be reused
        base = (id(article), target.render.cache_key, _utm_key(article, target))
        prep = self._prepared.get(base)
        if prep is None:
            prep = self._prepared[base] = prepare(article, target)
        paths: tuple[str, ...] | None = getattr(spec.render, _READS, None)
        if paths is None:
            self.rendered += 1
            return spec.render(prep, target)
        key = (base, target.platform, type(target.settings), tuple(_freeze(_read(target, path)) for path in paths))
        post = self._posts.get(key)
        if post is None:
            self.rendered += 1
            post = self._posts[key] = spec.render(prep, target)
        return post


def _spec(target: TargetSettings) -> PlatformSpec:
    from syndicator.platforms import registry

    spec = registry.find(target.platform)
    if spec is None:
        raise ValueError(f"no renderer for platform {target.platform!r}")  # config validation prevents this
    return spec


def _utm_key(article: Article, target: TargetSettings) -> tuple[tuple[str, str], ...]:
    """The UTM parameters `prepare` adds to this target's link: the one way it reads the target's name."""
    from syndicator.render.links import utm_params

    options = target.render
    if not (options.utm_source or options.utm_medium or options.utm_campaign):
        return ()
    values = {"feed": article.feed, "target": target.name, "platform": target.platform, "language": article.language}
    return tuple(utm_params(options.utm_source, options.utm_medium, options.utm_campaign, values).items())


def _read(target: TargetSettings, path: str) -> Any:
    value: Any = target
    for part in path.split("."):
        value = getattr(value, part, None)
    return value


def _freeze(value: Any) -> Hashable:
    """A setting's value as part of a key: equal values, equal keys."""
    if isinstance(value, dict):
        return ("dict", tuple(sorted((repr(k), _freeze(v)) for k, v in value.items())))
    if isinstance(value, set | frozenset):
        return ("set", tuple(sorted(repr(v) for v in value)))
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(_freeze(v) for v in value))
    try:
        hash(value)
    except TypeError:  # a dataclass holding a list, say: its repr shows every field
        return ("repr", type(value).__qualname__, repr(value))
    frozen: Hashable = value
    return frozen
