"""The X keys of a `[targets.NAME]` table. Pure data: no client library is imported here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TwitterSettings:
    api_key_env: str = "X_API_KEY"
    api_secret_env: str = "X_API_SECRET"
    access_token_env: str = "X_ACCESS_TOKEN"
    access_token_secret_env: str = "X_ACCESS_TOKEN_SECRET"
    handle: str = ""  # for public post URLs; looked up with get_me when empty
    upload_base: str | None = None  # v2 media upload host; defaults to api_base or https://api.x.com
