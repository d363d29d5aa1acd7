"""The Bluesky keys of a `[targets.NAME]` table. Pure data: no client library is imported here."""

from __future__ import annotations

import re
from dataclasses import dataclass

# the shapes of its secrets, redacted wherever they appear: session JWTs (access and refresh), app passwords
JWT_PATTERN = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")
APP_PASSWORD_PATTERN = re.compile(r"(?<![A-Za-z0-9-])[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}(?![A-Za-z0-9-])")


@dataclass(frozen=True)
class BlueskySettings:
    handle: str = ""  # the account's handle (newsroom.bsky.social) or DID: the createSession identifier
    app_password_env: str = "BLUESKY_APP_PASSWORD"  # an app password (Settings → App passwords), never the account's
    link_card: bool = True  # attach the article as an app.bsky.embed.external card, its image as the thumb

    def __post_init__(self) -> None:
        if not self.handle.strip():
            raise ValueError("bluesky target needs 'handle' (e.g. newsroom.bsky.social, or the account's DID)")
