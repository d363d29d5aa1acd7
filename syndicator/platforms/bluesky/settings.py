"""The Bluesky keys of a `[targets.NAME]` table. Pure data: no client library is imported here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BlueskySettings:
    handle: str = ""  # the account's handle (newsroom.bsky.social) or DID: the createSession identifier
    app_password_env: str = "BLUESKY_APP_PASSWORD"  # an app password (Settings → App passwords), never the account's
    link_card: bool = True  # attach the article as an app.bsky.embed.external card, its image as the thumb

    def __post_init__(self) -> None:
        if not self.handle.strip():
            raise ValueError("bluesky target needs 'handle' (e.g. newsroom.bsky.social, or the account's DID)")
