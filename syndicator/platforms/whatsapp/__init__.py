"""WhatsApp Cloud API messages (plain `requests`; errors classified by `syndicator.platforms.graph`): one message
per opted-in recipient — the only fan-out platform — as an approved template or as free text. No edits, no
deletes through the API; pacing between recipients is `pace`."""

from __future__ import annotations

import os
import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from syndicator.errors import ConfigError
from syndicator.platforms.spec import Capabilities, PlatformSpec, SecretPattern
from syndicator.platforms.whatsapp.desk import LOOK, edited_extra, not_editable
from syndicator.platforms.whatsapp.recipients import recipients
from syndicator.platforms.whatsapp.render import (
    DEFAULT_TEMPLATE,
    WHATSAPP_PARAM_LIMIT,
    WHATSAPP_TEXT_LIMIT,
    render_whatsapp,
)
from syndicator.platforms.whatsapp.settings import WhatsAppSettings
from syndicator.redaction import MARK
from syndicator.render.measure import utf16_length

__all__ = ["SPEC", "WhatsAppSettings"]


def validate(settings: WhatsAppSettings, base: Path) -> WhatsAppSettings:
    """Config time: `recipients_file` made absolute (relative to the configuration file, but not resolved: an
    error names the file the configuration names, not a symlink's target), and every recipient read and checked."""
    if settings.recipients_file:
        settings = replace(settings, recipients_file=os.path.abspath(base / settings.recipients_file))
    try:
        found = recipients(settings)
    except ConfigError as exc:
        if exc.source and exc.key:
            raise  # names the recipients file and line
        if exc.source:  # the file itself: missing, not a regular file, too large
            raise ConfigError(f"{exc.source}: {exc.reason}", key="recipients_file") from None
        raise ConfigError(exc.reason, key="recipients") from None
    if not found:
        raise ConfigError("no recipients: set 'recipients' or 'recipients_file'")
    return settings


SPEC = PlatformSpec(
    name="whatsapp",
    title="WhatsApp",
    order=40,
    preview_fields=("template", "share_url"),  # what a template send carries; the wa.me draft link
    settings=WhatsAppSettings,
    render=render_whatsapp,
    default_template=DEFAULT_TEMPLATE,
    limits={"text": WHATSAPP_TEXT_LIMIT, "parameter": WHATSAPP_PARAM_LIMIT},
    measure=utf16_length,
    counting="UTF-16 code units",
    spacing=timedelta(0),  # per-recipient pacing is `pace`
    quotas=(),
    capabilities=Capabilities(edit=False, delete=False, fan_out=True, media=False),
    publisher="syndicator.platforms.whatsapp.publisher:WhatsAppPublisher",
    desk=LOOK,
    edited_extra=edited_extra,
    not_editable=not_editable,
    secret_patterns=(SecretPattern(re.compile(r"\bEAA[A-Za-z0-9]{40,}"), MARK, ("eaa",)),),  # Graph access tokens
    validate=validate,
    recipients=recipients,
)
