"""The WhatsApp Cloud API keys of a `[targets.NAME]` table. Pure data: no client library is imported here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal


@dataclass(frozen=True)
class WhatsAppSettings:
    phone_number_id: str = ""
    token_env: str = "WHATSAPP_TOKEN"
    graph_version: str = "v26.0"
    mode: Literal["template", "text"] = "template"
    template: str = ""  # approved template name (mode = "template")
    template_language: str = ""  # defaults to the article's language
    template_header: Literal["", "image"] = ""  # "image": the template has an image header, the article's image
    recipients: list[str] = field(default_factory=list)  # opted-in numbers, E.164 without '+'
    recipients_file: str = ""  # or one number per line
    pace: timedelta = timedelta(milliseconds=50)  # between recipients: ~20/s, well under 80/s per number

    def __post_init__(self) -> None:
        if not self.phone_number_id:
            raise ValueError("whatsapp target needs 'phone_number_id'")
        if self.mode == "template" and not self.template:
            raise ValueError("whatsapp target in template mode needs 'template' (an approved template name)")
