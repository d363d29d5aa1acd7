"""The `[targets.NAME.render]` table: how a target's posts are written.

Every value is checked here, when the configuration is loaded: a bad template, placeholder or hashtag mapping is
a configuration error (exit 2), never a failure at posting time.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Literal

from syndicator.render import templates
from syndicator.render.hashtags import make_hashtag

MAX_HASHTAGS = 30


@dataclass(frozen=True)
class RenderOptions:
    template: str = ""  # empty: the platform's default template (see render/defaults in the README)
    cut_first: Literal["summary", "title"] = "summary"  # what is shortened first when a post is too long
    hashtags: bool = True  # make hashtags from the article's categories and tags
    max_hashtags: int = 3
    hashtag_style: Literal["underscore", "camel"] = "underscore"  # "#Word_Word" or "#WordWord"
    hashtag_map: dict[str, str] = field(default_factory=dict)  # category → hashtag ("" drops the category)
    hashtag_stoplist: list[str] = field(default_factory=list)  # categories / hashtags never used
    utm_source: str = ""  # UTM parameters added to the link; may use {feed} {target} {platform} {language}
    utm_medium: str = ""
    utm_campaign: str = ""
    image: bool = True  # attach the article's image where the platform shows one
    summary_max_chars: int = 0  # cap the summary (characters); 0: only the platform's limit
    summary_from_content: bool = True  # no summary in the feed: use the opening of the article's content
    bidi: bool = True  # isolate embedded opposite-direction text with Unicode bidi marks

    def __post_init__(self) -> None:
        if self.template:
            templates.parse(self.template)  # raises ValueError naming the problem
        if self.cut_first not in ("summary", "title"):
            raise ValueError(f"cut_first must be 'summary' or 'title', got {self.cut_first!r}")
        if self.hashtag_style not in ("underscore", "camel"):
            raise ValueError(f"hashtag_style must be 'underscore' or 'camel', got {self.hashtag_style!r}")
        if not 0 <= self.max_hashtags <= MAX_HASHTAGS:
            raise ValueError(f"max_hashtags must be between 0 and {MAX_HASHTAGS}, got {self.max_hashtags}")
        if self.summary_max_chars < 0:
            raise ValueError(f"summary_max_chars must be 0 (no cap) or positive, got {self.summary_max_chars}")
        for key in ("utm_source", "utm_medium", "utm_campaign"):
            templates.check_utm(getattr(self, key), key)
        for name, tag in self.hashtag_map.items():
            if tag.strip() and make_hashtag(tag.strip().lstrip("#＃"), self.hashtag_style) is None:
                raise ValueError(f"hashtag_map: {name!r} = {tag!r} cannot be made a valid hashtag")

    @cached_property
    def cache_key(self) -> tuple[object, ...]:
        """Every option as a hashable value: equal options, equal keys (what a shared rendering is keyed by)."""
        out: list[object] = []
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, dict):
                value = tuple(value.items())  # order kept: a mapping's order is how the operator wrote it
            elif isinstance(value, list):
                value = tuple(value)
            out.append(value)
        return tuple(out)

    def template_for(self, default: str) -> templates.Template:
        return templates.parse(self.template or default)
