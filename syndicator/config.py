"""TOML + environment → validated, typed settings. Secrets come only from environment variables the file names.

Every mistake becomes one ConfigError naming the file, the dotted key and what is wrong; the CLI turns it into
exit code 2 with that one line. This module finds and reads the file and checks the whole; the settings values
are in settings.py (re-exported here, where the rest of the code imports them), the tables that name other
things (targets, feeds, webhook, outbound) are parsed in config_sections.py, store URLs checked in store_url.py.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

from syndicator import config_sections as sections
from syndicator.alerts.settings import AlertSettings, parse_settings
from syndicator.desk.settings import DeskSettings
from syndicator.desk.settings import parse_settings as parse_desk
from syndicator.errors import ConfigError
from syndicator.files import read_text_file
from syndicator.schema import build
from syndicator.settings import (
    FeedSettings,
    HttpSettings,
    LimitsSettings,
    LogSettings,
    OutboundSettings,
    RetrySettings,
    StoreSettings,
    TargetCommon,
    TargetSettings,
    WebhookSettings,
    check_listen,
    first_run_latest,
)
from syndicator.store_url import STORE_EXAMPLES, check_store_url, resolve_sqlite

__all__ = [
    "CONFIG_FILE_CAP",
    "DEFAULT_CONFIG_PATH",
    "EMBEDDED",
    "STORE_EXAMPLES",
    "Config",
    "FeedSettings",
    "HttpSettings",
    "LimitsSettings",
    "LogSettings",
    "OutboundSettings",
    "RetrySettings",
    "StoreSettings",
    "TargetCommon",
    "TargetSettings",
    "WebhookSettings",
    "check_listen",
    "check_store_url",
    "first_run_latest",
    "load",
    "parse",
]

DEFAULT_CONFIG_PATH = Path("config/syndicator.toml")
CONFIG_FILE_CAP = 1024 * 1024
EMBEDDED = "<embedded defaults>"


@dataclass(frozen=True)
class Config:
    source: str
    base_dir: Path
    store: StoreSettings
    http: HttpSettings
    log: LogSettings
    feeds: list[FeedSettings]
    targets: dict[str, TargetSettings]
    webhook: WebhookSettings | None = None  # None: no [webhook] section, the hook answers 404
    dry_run_all: bool = False  # --dry-run: show what would go out, record nothing as sent
    outbound: OutboundSettings = field(default_factory=OutboundSettings)
    alerts: AlertSettings | None = None  # None: no [alerts] section; secrets are read when the service starts
    desk: DeskSettings | None = None  # None: no [desk] section, /desk/ answers 404

    def feed(self, name: str) -> FeedSettings:
        for feed in self.feeds:
            if feed.name == name:
                return feed
        raise ConfigError(f"no feed named {name!r} (feeds: {', '.join(f.name for f in self.feeds)})")

    def target(self, name: str) -> TargetSettings:
        if name not in self.targets:
            raise ConfigError(f"no target named {name!r} (targets: {', '.join(self.targets)})")
        return self.targets[name]


def load(
    path: str | Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    dry_run: bool = False,
    secrets: bool = True,
) -> Config:
    """Load and validate the configuration.

    Which file: `path`, else $SYNDICATOR_CONFIG, else config/syndicator.toml if it exists, else the embedded
    defaults (bundled sample feed, dry-run targets). With `dry_run`, every target is dry-run and needs no secret.
    With `secrets=False` (read-only commands: status, history, preview) a missing secret is no error.
    """
    env = os.environ if environ is None else environ
    chosen = path or env.get("SYNDICATOR_CONFIG")
    if chosen:
        file = Path(chosen)
        text = read_text_file(file, max_bytes=CONFIG_FILE_CAP, what="configuration file")
        source, base_dir = str(file), file.resolve().parent
    elif DEFAULT_CONFIG_PATH.exists():
        source, base_dir = str(DEFAULT_CONFIG_PATH), DEFAULT_CONFIG_PATH.resolve().parent
        text = read_text_file(DEFAULT_CONFIG_PATH, max_bytes=CONFIG_FILE_CAP, what="configuration file")
    else:
        data_dir = resources.files("syndicator") / "data"
        text = (data_dir / "default.toml").read_text(encoding="utf-8")
        source, base_dir = EMBEDDED, Path(str(data_dir))
    return parse(text, source=source, base_dir=base_dir, environ=env, dry_run=dry_run, secrets=secrets)


def parse(
    text: str,
    *,
    source: str = "<string>",
    base_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
    dry_run: bool = False,
    secrets: bool = True,
) -> Config:
    env = os.environ if environ is None else environ
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {_toml_problem(exc)}", source=source) from None

    known = {"store", "http", "log", "feeds", "targets", "alerts", "webhook", "outbound", "desk"}
    for key in raw:
        if key not in known:
            raise ConfigError(f"unknown section (known: {', '.join(sorted(known))})", source=source, key=key)

    store = build(StoreSettings, raw.get("store", {}), source=source, where="store")
    if env.get("SYNDICATOR_DB_URL"):
        store = replace(store, url=env["SYNDICATOR_DB_URL"])
    base = base_dir or Path.cwd()
    store = replace(store, url=resolve_sqlite(store.url, base))
    try:
        check_store_url(store.url)
    except ValueError as exc:
        from_env = bool(env.get("SYNDICATOR_DB_URL"))
        where, key = ("environment", "SYNDICATOR_DB_URL") if from_env else (source, "store.url")
        raise ConfigError(str(exc), source=where, key=key) from None
    http = build(HttpSettings, raw.get("http", {}), source=source, where="http")
    if env.get("PORT") and not http.listen:  # a PaaS's port: the worker listens on it (syndicator.web)
        try:
            check_listen(f":{env['PORT']}", "$PORT")
        except ValueError as exc:
            raise ConfigError(str(exc), source="environment", key="PORT") from None
    log = build(LogSettings, raw.get("log", {}), source=source, where="log")

    missing: sections.Missing = []  # every secret not set, named at once
    targets = sections.targets(
        raw.get("targets", {}), source=source, environ=env, dry_run=dry_run, base=base, missing=missing
    )
    feeds = sections.feeds(raw.get("feeds", []), targets, source=source, base=base)
    webhook = None
    if "webhook" in raw:
        webhook = sections.webhook(raw["webhook"], source=source, environ=env, secrets=secrets, missing=missing)
    if missing and secrets:
        if len(missing) == 1:
            var, holds, key = missing[0]
            raise ConfigError(f"environment variable {var} is not set (it holds {holds})", source=source, key=key)
        listed = "; ".join(f"{var} ({key})" for var, _, key in missing)
        raise ConfigError(f"{len(missing)} environment variables are not set: {listed}", source=source)
    alerts = parse_settings(raw["alerts"], source=source) if "alerts" in raw else None
    outbound = sections.outbound(raw.get("outbound", {}), source=source)
    desk = parse_desk(raw["desk"], source=source) if "desk" in raw else None
    return Config(
        source, base, store, http, log, feeds, targets, webhook=webhook, dry_run_all=dry_run, outbound=outbound,
        alerts=alerts, desk=desk,
    )  # fmt: skip


def _toml_problem(exc: tomllib.TOMLDecodeError) -> str:
    """tomllib's message with what it quotes from the file (a key, a character) cut out: what and where only.
    'Cannot declare ('feeds', 'x') twice (at line 9, column 1)' → 'Cannot declare … twice (at line 9, column 1)'."""
    text = str(exc).splitlines()[0] if str(exc) else "parse error"
    match = re.match(r"^(.*?)(\s*\((?:at line \d+, column \d+|at end of document)\))?$", text)
    body, where = (match.group(1), match.group(2) or "") if match else (text, "")
    quoted = [i for i, c in enumerate(body) if c in "('\""]
    if quoted and not re.fullmatch(r"Expected '[=\]}\[,.]'.*", body):  # the parser's own '=', not the file's
        last = max((i for i, c in enumerate(body) if c in ")'\""), default=-1)
        body = body[: quoted[0]] + "…" + body[last + 1 :] if last > quoted[0] else body[: quoted[0]] + "…"
    return body.strip() + where
