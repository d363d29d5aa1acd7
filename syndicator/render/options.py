"""The `[targets.NAME.render]` table: how a target's posts are written."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class RenderOptions:
    template: str = ""  # empty: the platform's default template
    cut_first: Literal["summary", "title"] = "summary"
    hashtags: bool = True
    max_hashtags: int = 3
    hashtag_style: Literal["underscore", "camel"] = "underscore"
    hashtag_map: dict[str, str] = field(default_factory=dict)
    hashtag_stoplist: list[str] = field(default_factory=list)
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    image: bool = True
