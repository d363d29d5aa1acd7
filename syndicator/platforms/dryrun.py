"""A publisher that sends nothing: the post is printed by the dispatcher's log and recorded as sent.

It claims exactly what its target's platform can do (the spec's capabilities): a dry run of a platform that cannot
delete does not pretend to delete, and one that cannot edit is never asked to.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, ClassVar

from syndicator.article import Identity, Post, Receipt
from syndicator.errors import Permanent
from syndicator.platforms.base import Publisher

if TYPE_CHECKING:
    from syndicator.config import TargetSettings


class DryRunPublisher(Publisher):
    platform: ClassVar[str] = "dry-run"

    def __init__(self, target: TargetSettings) -> None:
        super().__init__(target)
        from syndicator.platforms import registry

        capabilities = registry.get(target.platform).capabilities
        self.supports_edit = capabilities.edit  # type: ignore[misc]
        self.supports_delete = capabilities.delete  # type: ignore[misc]

    async def publish(self, post: Post) -> Receipt:
        digest = hashlib.sha1(f"{post.recipient}\n{post.text}".encode()).hexdigest()[:12]
        return Receipt(remote_id=f"dry-run-{digest}", url=None, extra={"dry_run": True})

    async def edit(self, receipt: Receipt, post: Post) -> Receipt:
        if not self.supports_edit:
            raise Permanent(f"{self.target.platform} posts cannot be edited")
        return receipt

    async def delete(self, receipt: Receipt) -> None:
        if not self.supports_delete:
            raise Permanent(f"{self.target.platform} posts cannot be deleted through the API")
        return None

    async def check(self) -> Identity:
        return Identity(name=f"{self.target.name} (dry run: nothing is sent)")
