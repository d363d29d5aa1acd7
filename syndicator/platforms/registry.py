"""The platforms this program knows: every subpackage of `syndicator.platforms` that exports `SPEC`.

Adding a platform is adding its package; nothing here or elsewhere lists platforms by name. Discovery imports the
packages (pure: settings, renderer, spec), never their publishers.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from typing import TYPE_CHECKING, Any

import syndicator.platforms as _package
from syndicator.platforms.spec import PlatformSpec

if TYPE_CHECKING:
    from syndicator.article import Post


@cache
def _specs() -> dict[str, PlatformSpec]:
    found: dict[str, PlatformSpec] = {}
    for info in sorted(pkgutil.iter_modules(_package.__path__), key=lambda i: i.name):
        if not info.ispkg:
            continue
        module = importlib.import_module(f"{_package.__name__}.{info.name}")
        spec = getattr(module, "SPEC", None)
        if isinstance(spec, PlatformSpec):
            if spec.name in found:
                raise RuntimeError(f"two platform packages are called {spec.name!r}")
            found[spec.name] = spec
    return dict(sorted(found.items(), key=lambda kv: (kv[1].order, kv[0])))


def specs() -> tuple[PlatformSpec, ...]:
    return tuple(_specs().values())


def names() -> tuple[str, ...]:
    return tuple(_specs())


def get(name: str) -> PlatformSpec:
    """The spec of `name`; KeyError for a platform no package provides (config validation prevents that)."""
    return _specs()[name]


def find(name: str) -> PlatformSpec | None:
    return _specs().get(name)


def preview_extra(post: Post) -> dict[str, Any]:
    """What a dry run's line and a preview show of `post.extra` besides the text: its platform's `preview_fields`
    that the post has."""
    spec = find(post.platform)
    fields = spec.preview_fields if spec else ()
    return {key: post.extra[key] for key in fields if post.extra.get(key)}
