"""The configuration's tables that name other things, each parsed into its settings with its cross-checks:
`[targets.NAME]` (its platform from the registry, the platform's own keys, its secrets from the environment),
`[[feeds]]` (unique names, known targets, paths relative to the file), `[webhook]` (its secret) and
`[outbound]` (each allow rule). A missing secret is collected in `missing`, so config.py can name them all at once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from syndicator.errors import ConfigError
from syndicator.platforms import registry
from syndicator.platforms.settings import Secrets, secret_env_names
from syndicator.schema import build, shown
from syndicator.settings import (
    NAME,
    TARGET_COMMON,
    FeedSettings,
    OutboundSettings,
    TargetCommon,
    TargetSettings,
    WebhookSettings,
)

Missing = list[tuple[str, str, str]]  # (variable, what it holds, key)


def targets(
    raw: Any, *, source: str, environ: Mapping[str, str], dry_run: bool, base: Path, missing: Missing
) -> dict[str, TargetSettings]:
    if not isinstance(raw, dict):
        raise ConfigError("expected a table of targets", source=source, key="targets")
    return {
        name: target(name, table, source=source, environ=environ, dry_run=dry_run, base=base, missing=missing)
        for name, table in raw.items()
    }


def feeds(raw: Any, known: Mapping[str, TargetSettings], *, source: str, base: Path) -> list[FeedSettings]:
    if not isinstance(raw, list) or not raw:
        raise ConfigError("at least one [[feeds]] entry is required", source=source, key="feeds")
    out: list[FeedSettings] = []
    for i, table in enumerate(raw):
        where = f"feeds[{i}]"
        feed = build(FeedSettings, table, source=source, where=where)
        if any(f.name == feed.name for f in out):
            raise ConfigError(f"duplicate feed name {feed.name!r}", source=source, key=f"{where}.name")
        for t in feed.targets:
            if t not in known:
                raise ConfigError(
                    f"unknown target {t!r} (defined: {', '.join(known) or 'none'})",
                    source=source,
                    key=f"{where}.targets",
                )
        out.append(replace(feed, url=resolve_local(feed.url, base)))
    return out


def webhook(raw: Any, *, source: str, environ: Mapping[str, str], secrets: bool, missing: Missing) -> WebhookSettings:
    settings = build(WebhookSettings, raw, source=source, where="webhook")
    secret = environ.get(settings.secret_env, "")
    if not secret:
        missing.append((settings.secret_env, "the webhook's shared secret", "webhook.secret_env"))
    elif len(secret) < 16 and secrets:
        raise ConfigError(
            f"the secret in {settings.secret_env} is too short (use at least 16 random characters)",
            source=source,
            key="webhook.secret_env",
        )
    return replace(settings, secret=secret)


def outbound(table: Any, *, source: str) -> OutboundSettings:
    from syndicator.outbound import parse_rule

    settings = build(OutboundSettings, table, source=source, where="outbound")
    for i, entry in enumerate(settings.allow):
        try:
            parse_rule(entry)
        except ValueError as exc:
            raise ConfigError(str(exc), source=source, key=f"outbound.allow[{i}]") from None
    return settings


def target(
    name: str,
    table: Any,
    *,
    source: str,
    environ: Mapping[str, str],
    dry_run: bool,
    base: Path,
    missing: Missing,
) -> TargetSettings:
    where = f"targets.{name}"
    if not NAME.match(name):
        raise ConfigError("target names may use letters, digits, '_', '-' and '.' only", source=source, key=where)
    if not isinstance(table, dict):
        raise ConfigError("expected a table", source=source, key=where)
    platforms = registry.names()
    if "platform" not in table:
        raise ConfigError(
            f"missing required key (one of: {', '.join(platforms)})", source=source, key=f"{where}.platform"
        )
    platform = table["platform"]
    if platform not in platforms:
        choices = ", ".join(repr(p) for p in platforms)
        raise ConfigError(f"must be one of {choices}, got {shown(platform)}", source=source, key=f"{where}.platform")
    common = build(TargetCommon, {k: v for k, v in table.items() if k in TARGET_COMMON}, source=source, where=where)
    spec = registry.get(common.platform)
    platform_keys = {k: v for k, v in table.items() if k not in TARGET_COMMON}
    settings = build(spec.settings, platform_keys, source=source, where=where)
    if spec.validate is not None:
        settings = _validated(spec.validate, settings, base, source=source, where=where)
    is_dry = dry_run or common.dry_run
    secret_values: dict[str, str] = {}
    for secret, var in secret_env_names(settings).items():
        value = environ.get(var, "")
        if not value and not is_dry and secret not in spec.optional_secrets:
            missing.append((var, f"this target's {secret}", f"{where}.{secret}_env"))
        if value:
            secret_values[secret] = value
    if common.api_base and not re.match(r"^https?://", common.api_base):
        raise ConfigError("must be an http(s) URL", source=source, key=f"{where}.api_base")
    values = {f.name: getattr(common, f.name) for f in fields(TargetCommon)}
    values.update(dry_run=is_dry, api_base=common.api_base.rstrip("/"))
    return TargetSettings(name=name, settings=settings, secrets=Secrets(secret_values), **values)


def _validated(check: Any, settings: Any, base: Path, *, source: str, where: str) -> Any:
    """A platform's config-time hook. Its ConfigError names a key relative to the target (or none: the target),
    or a file of its own and a line there, which is passed on as it is."""
    try:
        return check(settings, base)
    except ConfigError as exc:
        if exc.source and exc.source != source and exc.key:
            raise
        key = f"{where}.{exc.key}" if exc.key else where
        raise ConfigError(exc.reason, source=source, key=key) from None
    except ValueError as exc:
        raise ConfigError(str(exc), source=source, key=where) from None


def resolve_local(url: str, base: Path) -> str:
    """Relative paths in the file are relative to the file, so the config works from any directory."""
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", url) or url.startswith("file:"):
        return url
    path = Path(url)
    return str(path if path.is_absolute() else (base / path).resolve())
