"""`Publisher.configured`: every publisher checks its target the same way — its own settings type, then every secret
it needs — and says what to set, never a secret's value."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from syndicator.config import TargetSettings
from syndicator.errors import ConfigError
from syndicator.platforms.base import Publisher, publisher_class
from syndicator.platforms.bluesky.settings import BlueskySettings
from syndicator.platforms.facebook.settings import FacebookSettings
from syndicator.platforms.mastodon.settings import MastodonSettings
from syndicator.platforms.settings import Secrets
from syndicator.platforms.telegram.settings import TelegramSettings
from syndicator.platforms.twitter.settings import TwitterSettings
from syndicator.platforms.whatsapp.settings import WhatsAppSettings

X_SECRETS = ("api_key", "api_secret", "access_token", "access_token_secret")
# platform → (its settings, the secrets its publisher needs)
PLATFORMS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "twitter": (TwitterSettings(), X_SECRETS),
    "telegram": (TelegramSettings(chat="@example_news"), ("token",)),
    "facebook": (FacebookSettings(page_id="1234567890"), ("token",)),
    "whatsapp": (WhatsAppSettings(phone_number_id="106540352242922", template="new_article"), ("token",)),
    "bluesky": (BlueskySettings(handle="newsroom.example"), ("app_password",)),
    "mastodon": (MastodonSettings(instance="https://mastodon.example"), ("token",)),
}


def target(platform: str, settings: Any, secrets: dict[str, str]) -> TargetSettings:
    return TargetSettings(
        name=f"{platform}_en",
        platform=platform,
        settings=settings,
        secrets=Secrets(secrets),
        api_base="http://127.0.0.1:9",
        timeout=timedelta(seconds=1),
    )


def build(platform: str, settings: Any, secrets: dict[str, str]) -> Publisher:
    return publisher_class(platform)(target(platform, settings, secrets))


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
async def test_settings_of_another_platform_are_refused(platform: str) -> None:
    others = next(settings for name, (settings, _) in PLATFORMS.items() if name != platform)
    with pytest.raises(ConfigError, match=f"not a {platform} target$") as caught:
        build(platform, others, dict.fromkeys(PLATFORMS[platform][1], "TEST-not-real-secret"))
    assert caught.value.key == f"targets.{platform}_en"


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
async def test_a_missing_secret_names_its_variable_and_never_a_value(platform: str) -> None:
    settings, needed = PLATFORMS[platform]
    given = {name: "TEST-not-real-secret" for name in needed[:-1]}  # all but the last
    with pytest.raises(ConfigError) as caught:
        build(platform, settings, given)
    last = needed[-1]
    assert caught.value.reason == f"missing secret: {last} (set {getattr(settings, f'{last}_env')})"
    assert caught.value.key == f"targets.{platform}_en.{last}_env"
    assert "TEST-not-real" not in str(caught.value)


async def test_every_missing_secret_is_named_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        build("twitter", TwitterSettings(), {"api_key": "TEST-not-real-key"})
    assert caught.value.reason == (
        "missing secrets: api_secret (set X_API_SECRET), access_token (set X_ACCESS_TOKEN), "
        "access_token_secret (set X_ACCESS_TOKEN_SECRET)"
    )
    assert caught.value.key == "targets.twitter_en.api_secret_env"


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
async def test_a_complete_target_builds(platform: str) -> None:
    settings, needed = PLATFORMS[platform]
    publisher = build(platform, settings, dict.fromkeys(needed, "TEST-not-real-secret"))
    try:
        assert publisher.settings == settings  # type: ignore[attr-defined]
    finally:
        await publisher.aclose()
