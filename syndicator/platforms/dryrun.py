"""A publisher that sends nothing: the post is printed by the dispatcher's log and recorded as sent."""

from __future__ import annotations

import hashlib
from typing import ClassVar

from syndicator.article import Identity, Post, Receipt
from syndicator.platforms.base import Publisher


class DryRunPublisher(Publisher):
    platform: ClassVar[str] = "dry-run"
    supports_edit: ClassVar[bool] = True

    async def publish(self, post: Post) -> Receipt:
        digest = hashlib.sha1(f"{post.recipient}\n{post.text}".encode()).hexdigest()[:12]
        return Receipt(remote_id=f"dry-run-{digest}", url=None, extra={"dry_run": True})

    async def edit(self, receipt: Receipt, post: Post) -> Receipt:
        return receipt

    async def delete(self, receipt: Receipt) -> None:
        return None

    async def check(self) -> Identity:
        return Identity(name=f"{self.target.name} (dry run: nothing is sent)")
