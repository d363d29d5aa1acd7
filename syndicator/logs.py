"""Structured logging: one event per line (JSON lines, or readable text on a terminal), secrets redacted from
every line of every logger — the libraries' own included (httpx logs request URLs carrying Telegram bot tokens).

Usage: `log = get_logger(); log.info("delivery.sent", target="x_en", delivery=12)` — the first argument is the
event name, keywords are its fields.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

_PATTERNS = [
    # Telegram bot tokens, in URLs (/bot123:ABC/sendMessage) or anywhere
    (re.compile(r"(?<![A-Za-z0-9])(bot)?\d{5,12}:[A-Za-z0-9_-]{20,}"), r"\1[REDACTED]"),
    # query/form parameters carrying credentials
    (
        re.compile(
            r"((?:access_token|input_token|client_secret|appsecret_proof|oauth_signature|oauth_token|"
            r"oauth_consumer_key|api_key|token|password)=)[^&\s\"']+",
            re.I,
        ),
        r"\1[REDACTED]",
    ),
    # Authorization headers: Bearer / OAuth / Basic
    (re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=%-]+", re.I), r"\1[REDACTED]"),
    (re.compile(r"(OAuth\s+)[^\n]+", re.I), r"\1[REDACTED]"),
    (re.compile(r"(Basic\s+)[A-Za-z0-9+/=]+", re.I), r"\1[REDACTED]"),
    (re.compile(r"(['\"]?authorization['\"]?\s*[:=]\s*['\"]?)[^'\"\n,}]+", re.I), r"\1[REDACTED]"),
    # passwords in database URLs
    (re.compile(r"(://[^:/@\s]+):[^@\s]+@"), r"\1:[REDACTED]@"),
]


class Redactor:
    """Known secret values (from the environment) plus patterns that look like credentials."""

    def __init__(self) -> None:
        self._values: set[str] = set()

    def add(self, values: Iterable[str]) -> None:
        self._values.update(v for v in values if v and len(v) >= 4)

    def __call__(self, text: str) -> str:
        for value in sorted(self._values, key=len, reverse=True):
            if value in text:
                text = text.replace(value, "[REDACTED]")
        for pattern, repl in _PATTERNS:
            text = pattern.sub(repl, text)
        return text


redactor = Redactor()
_RESERVED = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


Observer = Callable[[str, dict[str, Any]], None]
_observers: list[Observer] = []


def observe(observer: Observer) -> Callable[[], None]:
    """Call `observer(event, fields)` for every event, whatever the log level (metrics, alerts). Returns an undo."""
    _observers.append(observer)
    return lambda: _observers.remove(observer) if observer in _observers else None


class EventLogger:
    """A thin wrapper over a stdlib logger: event names plus structured fields."""

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger

    def _log(self, level: int, event: str, fields: dict[str, Any]) -> None:
        for observer in list(_observers):
            try:
                observer(event, fields)
            except Exception:  # an observer's bug must never break the pipeline
                logging.getLogger("syndicator.logs").exception("observer failed on %s", event)
        if self._logger.isEnabledFor(level):
            self._logger.log(level, event, extra={"fields": fields}, stacklevel=3)

    def debug(self, event: str, **fields: Any) -> None:
        self._log(logging.DEBUG, event, fields)

    def info(self, event: str, **fields: Any) -> None:
        self._log(logging.INFO, event, fields)

    def warning(self, event: str, **fields: Any) -> None:
        self._log(logging.WARNING, event, fields)

    def error(self, event: str, **fields: Any) -> None:
        self._log(logging.ERROR, event, fields)


def get_logger(name: str = "syndicator") -> EventLogger:
    return EventLogger(logging.getLogger(name))


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    fields = dict(getattr(record, "fields", {}) or {})
    for key, value in record.__dict__.items():  # `extra=` from other code
        if key not in _RESERVED and key != "fields":
            fields.setdefault(key, value)
    return fields


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        is_event = hasattr(record, "fields")
        doc: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "event": record.getMessage() if is_event else f"log.{record.name}",
        }
        if not is_event:
            doc["message"] = record.getMessage()
        doc.update({k: _plain(v) for k, v in _fields(record).items() if k not in doc})
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return redactor(json.dumps(doc, ensure_ascii=False))


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        is_event = hasattr(record, "fields")
        head = record.getMessage() if is_event else f"{record.name}: {record.getMessage()}"
        parts = []
        text_block = None
        for key, value in _fields(record).items():
            if key == "text" and isinstance(value, str) and "\n" in value:
                text_block = value
                continue
            parts.append(f"{key}={_plain(value)}")
        line = f"{ts} {record.levelname.lower():7} {head} {' '.join(parts)}".rstrip()
        if text_block:
            line += "\n" + "\n".join("    │ " + ln for ln in text_block.splitlines())
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return redactor(line)


def setup(fmt: str = "auto", level: str = "info", stream: TextIO | None = None) -> None:
    """Route every logger through one redacting handler. `auto`: text on a terminal, JSON lines elsewhere."""
    out = stream or sys.stderr
    if fmt == "auto":
        fmt = "text" if out.isatty() else "json"
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # the libraries' chatter: request URLs (with tokens) at INFO/DEBUG; keep them quiet, and redacted anyway
    for name in (
        "httpx",
        "httpcore",
        "urllib3",
        "telegram",
        "tweepy",
        "apscheduler",
        "alembic",
        "requests_oauthlib",
        "oauthlib",
        "facebook",
    ):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
