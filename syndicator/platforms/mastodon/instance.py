"""What a Mastodon server allows, as it says in `GET /api/v2/instance`, kept per server for the renderer.

Limits are the instance's, not Mastodon's defaults: `configuration.statuses.max_characters` (500 on a stock
server, thousands on some) and `characters_reserved_per_url` (what every URL counts, whatever its length). The
publisher reads them at its first call and in `check`, again after a day, and records them here with `remember`;
the renderer (pure, no network) fits posts to `limits_for(target)`: the target's own `max_characters` /
`characters_reserved_per_url` when set, else what the server said, else the stock values until it has been asked.

`configuration.media_attachments` gives what an uploaded image may be: `image_size_limit` (bytes) and
`image_matrix_limit` (width x height). The stock values are Mastodon's own since 4.2: `MediaAttachment::IMAGE_LIMIT`
16 MB and `Attachmentable::MAX_MATRIX_LIMIT` 33,177,600 pixels (7680 x 4320); an older server reports less
(10 MB and 16,777,216 before 4.2), which is why its answer wins.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from syndicator.platforms.mastodon.settings import MastodonSettings

if TYPE_CHECKING:
    from syndicator.config import TargetSettings


@dataclass(frozen=True, slots=True)
class InstanceLimits:
    max_characters: int = 500
    characters_reserved_per_url: int = 23
    image_size_limit: int = 16 * 1024 * 1024  # bytes
    description_limit: int = 1500  # an attachment's alt text, characters
    image_matrix_limit: int = 33_177_600  # an image's width x height


STOCK = InstanceLimits()
_known: dict[str, InstanceLimits] = {}
_lock = threading.Lock()


def server_of(target: TargetSettings) -> str:
    """Where the target's API calls go: `api_base` (a proxy, a test double) or the instance itself."""
    settings = target.settings
    instance = settings.instance if isinstance(settings, MastodonSettings) else ""
    return (target.api_base or instance).strip().rstrip("/")


def from_instance(answer: Any) -> InstanceLimits:
    """The limits in a `/api/v2/instance` answer; stock values for what it leaves out."""
    configuration = _get(answer, "configuration") or {}
    statuses = _get(configuration, "statuses") or {}
    media = _get(configuration, "media_attachments") or {}
    return InstanceLimits(
        max_characters=_positive(_get(statuses, "max_characters"), STOCK.max_characters),
        characters_reserved_per_url=_positive(
            _get(statuses, "characters_reserved_per_url"), STOCK.characters_reserved_per_url, zero=True
        ),
        image_size_limit=_positive(_get(media, "image_size_limit"), STOCK.image_size_limit),
        description_limit=_positive(_get(media, "description_limit"), STOCK.description_limit),
        image_matrix_limit=_positive(_get(media, "image_matrix_limit"), STOCK.image_matrix_limit),
    )


def remember(server: str, limits: InstanceLimits) -> None:
    with _lock:
        _known[server.rstrip("/")] = limits


def known(server: str) -> InstanceLimits | None:
    with _lock:
        return _known.get(server.rstrip("/"))


def limits_for(target: TargetSettings) -> InstanceLimits:
    limits = known(server_of(target)) or STOCK
    settings = target.settings
    if isinstance(settings, MastodonSettings):
        if settings.max_characters:
            limits = replace(limits, max_characters=settings.max_characters)
        if settings.characters_reserved_per_url:
            limits = replace(limits, characters_reserved_per_url=settings.characters_reserved_per_url)
    return limits


def _get(mapping: Any, key: str) -> Any:
    return mapping.get(key) if isinstance(mapping, dict) else getattr(mapping, key, None)


def _positive(value: Any, default: int, *, zero: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        return default
    return value if value > 0 or (zero and value == 0) else default
