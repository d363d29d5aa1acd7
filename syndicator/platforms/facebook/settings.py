"""The Facebook Page keys of a `[targets.NAME]` table. Pure data: no client library is imported here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class FacebookSettings:
    page_id: str = ""
    token_env: str = "FACEBOOK_PAGE_TOKEN"
    graph_version: str = "v26.0"
    post_as: Literal["link", "photo"] = "link"
    app_id_env: str = ""  # with app_secret_env: lets `check` call debug_token for the token's expiry
    app_secret_env: str = ""

    def __post_init__(self) -> None:
        if not self.page_id:
            raise ValueError("facebook target needs 'page_id'")
