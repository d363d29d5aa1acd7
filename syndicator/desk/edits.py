"""Editors' texts for posts that have not gone out: checked by the platform's own rules before they are kept, and
put into the delivery's `Post` when it is claimed for sending (the dispatcher calls `applied`), so an article
re-rendered by a later poll does not undo an editor's words."""

from __future__ import annotations

import unicodedata
from dataclasses import replace

from syndicator.article import Post
from syndicator.platforms import registry
from syndicator.store import desk as desk_store
from syndicator.store.deliveries import Delivery
from syndicator.store.engine import Store

MAX_EDIT_CHARS = 100_000  # far above every platform's limit; a bigger form is refused before it is measured


class EditRefused(ValueError):
    """The text cannot be posted as it is: the reason, in words, for the editor."""


def editable(post: Post) -> str | None:
    """Why this post's text cannot be edited at all (its platform's `not_editable`), or None."""
    spec = registry.find(post.platform)
    return spec.not_editable(post) if spec and spec.not_editable else None


def checked(post: Post, text: str) -> tuple[str, int]:
    """`text` as it would be kept (line breaks as \\n, NFC, trimmed) and its length as `post`'s platform counts it;
    raises EditRefused when the platform would refuse it."""
    why = editable(post)
    if why:
        raise EditRefused(why)
    text = normalised(text)
    if not text:
        raise EditRefused("the text is empty")
    if len(text) > MAX_EDIT_CHARS:
        raise EditRefused(f"the text is {len(text)} characters long; the limit is {post.limit}")
    spec = registry.find(post.platform)
    if spec is None:
        raise EditRefused(f"no rules known for platform {post.platform!r}")
    try:
        length = spec.measure(text)
    except ValueError as exc:  # e.g. markup the platform would refuse ("can't parse entities")
        raise EditRefused(f"{spec.title} would refuse this text: {exc}") from None
    if length > post.limit:
        raise EditRefused(f"too long: {length} of at most {post.limit} ({spec.counting})")
    return text, length


def normalised(text: str) -> str:
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n")).strip()


def with_text(post: Post, text: str, length: int) -> Post:
    """The post with an editor's text, and what its renderer derived from the text made anew (the platform's
    `edited_extra`)."""
    spec = registry.find(post.platform)
    extra = spec.edited_extra(post.extra, text) if spec and spec.edited_extra else dict(post.extra)
    return replace(post, text=text, length=length, extra=extra)


def applied(store: Store, deliveries: list[Delivery]) -> list[Delivery]:
    """The deliveries with their editors' texts in their posts (one query for the batch)."""
    if not deliveries:
        return deliveries
    edits = desk_store.edits_for(store, (d.id for d in deliveries))
    if not edits:
        return deliveries
    return [
        replace(d, post=with_text(d.post, edits[d.id].text, edits[d.id].length)) if d.id in edits else d
        for d in deliveries
    ]


__all__ = ["EditRefused", "applied", "checked", "editable", "normalised", "with_text"]
