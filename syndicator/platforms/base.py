"""The one interface every platform implements, and how a target becomes a publisher.

A publisher takes a rendered `Post` and returns a `Receipt`, or raises exactly one of the PublishError subclasses
(see `syndicator.errors`). Each platform package maps its library's exceptions and the platform's status codes onto
that closed set in one function. Publishers never touch the database and never sleep for rate limits: they report
what the platform said (`Receipt.rate`, `RetryLater.retry_at`) and the governor decides.

A post reaches `publish` with its delivery's id in `Post.extra[DELIVERY_KEY]` (`with_delivery_key`): the same on
every retry and every resend of that delivery, different for any other. A platform that deduplicates by a client
key (an idempotency-key header) sends it, so a resend after a lost answer returns the first post, not a second.
"""

from __future__ import annotations

import abc
from dataclasses import replace
from typing import TYPE_CHECKING, ClassVar, TypeVar

from syndicator.article import Identity, Post, Receipt
from syndicator.errors import ConfigError, Permanent

if TYPE_CHECKING:
    from syndicator.config import TargetSettings
    from syndicator.outbound import OutboundGuard

DELIVERY_KEY = "delivery_key"

SettingsT = TypeVar("SettingsT")


def with_delivery_key(post: Post, delivery_id: int) -> Post:
    """`post` as `publish` gets it: carrying its delivery's id (see the module's docstring)."""
    return replace(post, extra={**post.extra, DELIVERY_KEY: str(delivery_id)})


def delivery_key(post: Post) -> str:
    """The delivery id `publish` got with `post`; empty outside a delivery (a preview, a test)."""
    return str(post.extra.get(DELIVERY_KEY) or "")


class Publisher(abc.ABC):
    platform: ClassVar[str]
    supports_edit: ClassVar[bool] = False
    supports_delete: ClassVar[bool] = True

    def __init__(self, target: TargetSettings) -> None:
        self.target = target

    def configured(self, settings_type: type[SettingsT], *secrets: str) -> tuple[SettingsT, tuple[str, ...]]:
        """The target's settings, as this platform's `settings_type`, and the values of the named secrets, in order.
        ConfigError when the settings are another platform's, or when secrets are missing: the message names each
        one with the environment variable that should hold it (never a value), the key the first one's `*_env`."""
        where = f"targets.{self.target.name}"
        settings = self.target.settings
        if not isinstance(settings, settings_type):
            raise ConfigError(f"not a {self.platform} target", key=where)
        missing = [name for name in secrets if not self.target.secrets.get(name)]
        if missing:
            named = ", ".join(
                f"{name} (set {getattr(settings, f'{name}_env', '') or 'its variable'})" for name in missing
            )
            raise ConfigError(
                f"missing secret{'s' if len(missing) > 1 else ''}: {named}", key=f"{where}.{missing[0]}_env"
            )
        return settings, tuple(self.target.secrets[name] for name in secrets)

    @classmethod
    def create(cls, target: TargetSettings, *, outbound: OutboundGuard) -> Publisher:
        """How the app builds this publisher. One that downloads URLs from content (an article image it uploads)
        overrides this to take `outbound`, the guard every such download goes through; the others ignore it."""
        return cls(target)

    @abc.abstractmethod
    async def publish(self, post: Post) -> Receipt:
        """Post it. Raises RetryLater, Transient, Permanent or AuthError."""

    async def edit(self, receipt: Receipt, post: Post) -> Receipt:
        """Replace the text of an existing post (a correction)."""
        raise Permanent(f"{self.platform} posts cannot be edited")

    @abc.abstractmethod
    async def delete(self, receipt: Receipt) -> None:
        """Remove a post made earlier. A post that is already gone counts as deleted."""

    @abc.abstractmethod
    async def check(self) -> Identity:
        """The cheapest call that proves the credentials work; says who we post as."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""


def publisher_class(platform: str) -> type[Publisher]:
    """The platform's publisher class, named by its spec; importing it imports the client library."""
    from syndicator.platforms import registry

    return registry.get(platform).publisher_class()


def make_publisher(target: TargetSettings, *, outbound: OutboundGuard | None = None) -> Publisher:
    """The publisher for a target; client libraries are imported here, only when a target really posts.
    `outbound` carries the operator's `[outbound] allow` list; without it content may reach public addresses only."""
    if target.dry_run:
        from syndicator.platforms.dryrun import DryRunPublisher

        return DryRunPublisher(target)
    if outbound is None:
        from syndicator.outbound import OutboundGuard

        outbound = OutboundGuard()
    return publisher_class(target.platform).create(target, outbound=outbound)
