"""The Mastodon keys of a `[targets.NAME]` table. Pure data: no client library is imported here."""

from __future__ import annotations

import re
from dataclasses import dataclass

VISIBILITIES = ("public", "unlisted", "private")


@dataclass(frozen=True)
class MastodonSettings:
    instance: str = ""  # the account's server, e.g. https://mastodon.social
    token_env: str = "MASTODON_ACCESS_TOKEN"  # an access token with the write:statuses and write:media scopes
    visibility: str = "public"  # public | unlisted | private (followers only)
    # 0: the instance's own (GET /api/v2/instance, read at the first call and by `check`, kept a day)
    max_characters: int = 0
    characters_reserved_per_url: int = 0

    def __post_init__(self) -> None:
        if not re.match(r"^https?://[^/\s]+", self.instance.strip()):
            raise ValueError("mastodon target needs 'instance', the server's URL (e.g. https://mastodon.social)")
        if self.visibility not in VISIBILITIES:
            raise ValueError(f"visibility must be one of {', '.join(VISIBILITIES)}, got {self.visibility!r}")
        if self.max_characters < 0 or self.characters_reserved_per_url < 0:
            raise ValueError("max_characters and characters_reserved_per_url must not be negative")
