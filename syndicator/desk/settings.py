"""The `[desk]` table. Its presence turns the desk on (served on the [http] listener, or $PORT)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from syndicator.errors import ConfigError
from syndicator.schema import build


@dataclass(frozen=True)
class DeskSettings:
    # the session cookie's Secure flag: "auto" sets it when the request came over HTTPS (the scheme, or a proxy's
    # X-Forwarded-Proto) or public_url is https
    secure_cookies: Literal["auto", "always", "never"] = "auto"
    # behind a reverse proxy you run: the client's address is the last X-Forwarded-For entry (the one the proxy
    # added), for the per-address login limit and the audit trail; otherwise every login would share the proxy's
    proxy_headers: bool = False
    public_url: str = ""  # how editors reach the desk, e.g. "https://desk.example.org" (links in `preview --png`)
    session_idle: timedelta = timedelta(hours=12)  # a session unused this long ends
    session_max: timedelta = timedelta(days=7)  # and every session ends this long after its login
    login_attempts: int = 5  # failed logins per user name within login_window before logins are refused
    login_attempts_per_address: int = 20  # failed logins from one address within login_window
    login_window: timedelta = timedelta(minutes=15)
    chromium: str = ""  # the Chromium binary for `preview --png`; empty: `chromium` (or chromium-browser) on PATH
    page_size: int = 50  # articles per page


def parse_settings(raw: object, *, source: str) -> DeskSettings:
    settings = build(DeskSettings, raw, source=source, where="desk")  # type: ignore[arg-type]
    for key in ("login_attempts", "login_attempts_per_address", "page_size"):
        if getattr(settings, key) < 1:
            raise ConfigError("must be at least 1", source=source, key=f"desk.{key}")
    for key in ("session_idle", "session_max", "login_window"):
        if getattr(settings, key) <= timedelta(0):
            raise ConfigError("must be a positive duration", source=source, key=f"desk.{key}")
    if settings.public_url and not settings.public_url.startswith(("https://", "http://")):
        raise ConfigError("must be an http:// or https:// URL", source=source, key="desk.public_url")
    return settings


__all__ = ["DeskSettings", "parse_settings"]
