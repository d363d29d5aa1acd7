"""Structured logging: one event per line (JSON lines, or readable text on a terminal), secrets redacted from
every line of every logger — the libraries' own included (httpx logs request URLs, which may carry bot tokens).

Usage: `log = get_logger(); log.info("delivery.sent", target="x_en", delivery=12)` — the first argument is the
event name, keywords are its fields.

Every value is cleaned, redacted and capped *before* it is serialised (`syndicator.redaction`), so a JSON line
always parses, whatever a feed put in a title: a field is at most FIELD_CAP characters (a post's `text`
TEXT_CAP, a traceback EXCEPTION_CAP, keeping its end), and a whole JSON line at most LINE_CAP bytes of UTF-8;
a line that would be longer is written again with smaller caps, and at worst as its `ts`, `level`, `event` and
ids with `"truncated"`.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

from syndicator.redaction import (
    EXCEPTION_CAP,
    FIELD_CAP,
    KEY_CAP,
    MARK,
    MAX_NODES,
    TEXT_CAP,
    Redactor,
    is_secret_key,
    redactor,
)

__all__ = ["LINE_CAP", "Redactor", "get_logger", "observe", "redactor", "setup"]

LINE_CAP = 16_000  # bytes: Docker's json-file driver splits longer lines, and a split JSON line parses no more
MESSAGE_CAP = 2_000  # a library record's formatted message
IDS = ("feed", "article", "target", "delivery")

_RESERVED = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


Observer = Callable[[str, dict[str, Any]], None]
_observers: list[Observer] = []


def observe(observer: Observer) -> Callable[[], None]:
    """Call `observer(event, fields)` for every log event, whatever the log level. Returns an undo.

    For tests and tools that look at log lines. Code that acts on what happened (metrics, alerts, store health)
    subscribes to the typed events instead (`syndicator.events.subscribe`), never to log lines."""
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

    def wants(self, level: int) -> bool:
        """Whether an event at `level` goes anywhere: to an observer, or through the logger's level."""
        return bool(_observers) or self._logger.isEnabledFor(level)

    def log(self, level: int, event: str, fields: dict[str, Any]) -> None:
        """An event whose fields are already a dict (`syndicator.events` logs every typed event through this)."""
        self._log(level, event, fields)

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


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:  # arguments that do not fit the format: the template alone, never the arguments
        return f"{record.msg} (log arguments did not match the format)"


def _exception(formatter: logging.Formatter, record: logging.LogRecord) -> str:
    if record.exc_text:  # already formatted (and redacted) by the library loggers' filter
        return record.exc_text
    return formatter.formatException(record.exc_info) if record.exc_info else ""


def _cap(key: str) -> int:
    return TEXT_CAP if key == "text" else MESSAGE_CAP if key == "message" else FIELD_CAP


def _scrubbed(fields: Mapping[str, Any], taken: Mapping[str, Any], scale: int) -> dict[str, Any]:
    """Each field cleaned, redacted and capped (caps divided by `scale`); keys redacted too."""
    budget = [MAX_NODES // scale]
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if budget[0] <= 0:
            out["…"] = f"{len(fields) - len(out)} more fields"
            break
        name = redactor.scrub_key(key)
        if name in taken or name in out:
            continue
        secret = is_secret_key(key) and value
        out[name] = MARK if secret else redactor.scrub_value(value, _cap(name) // scale, budget=budget)
    return out


def _dumps(doc: Mapping[str, Any]) -> str:
    # U+2028/U+2029 are line breaks to many readers (Python's str.splitlines among them): escape them
    line = json.dumps(doc, ensure_ascii=False, allow_nan=False)
    return line.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _fits(line: str) -> bool:
    return len(line) * 4 <= LINE_CAP or len(line.encode("utf-8")) <= LINE_CAP


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        try:
            return self._format(record)
        except Exception:  # whatever happened, the stream gets one line that parses
            doc = {"ts": _ts(record), "level": str(record.levelname).lower(), "event": "log.unformattable"}
            return _dumps({**doc, "logger": redactor.scrub(str(record.name), KEY_CAP)})

    def _format(self, record: logging.LogRecord) -> str:
        is_event = hasattr(record, "fields")
        message = _message(record)
        head: dict[str, Any] = {
            "ts": _ts(record),
            "level": record.levelname.lower(),
            "event": redactor.scrub(message if is_event else f"log.{record.name}", KEY_CAP),
        }
        fields = _fields(record)
        if not is_event:
            fields = {"message": message, **fields}
        trace = _exception(self, record)
        for scale in (1, 8):  # a line too long is written again with caps an eighth as large
            doc = {**head, **_scrubbed(fields, head, scale)}
            if trace:
                doc["exception"] = redactor.scrub(trace, EXCEPTION_CAP // scale, tail=True)
            line = _dumps(doc)
            if _fits(line):
                return line
        ids = {k: redactor.scrub_value(fields[k], KEY_CAP) for k in IDS if k in fields}
        return _dumps({**head, **ids, "truncated": f"{len(line.encode('utf-8')):,} bytes"})


def _ts(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _shown(value: Any) -> str:
    """A text-format value on one line: strings as they are (line breaks escaped), containers as their repr."""
    if isinstance(value, str):
        return value.replace("\n", "\\n").replace("\t", "\\t").replace("\u2028", " ").replace("\u2029", " ")
    return repr(value) if isinstance(value, (dict, list)) else str(value)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        is_event = hasattr(record, "fields")
        message = _message(record)
        head = redactor.scrub(message if is_event else f"{record.name}: {message}", MESSAGE_CAP)
        parts = []
        text_block = None
        fields = _fields(record)
        for key, value in fields.items():
            if key == "text" and isinstance(value, str) and "\n" in value:
                text_block = redactor.scrub(value, TEXT_CAP)
                continue
            shown = MARK if is_secret_key(key) and value else _shown(redactor.scrub_value(value, _cap(key)))
            parts.append(f"{redactor.scrub_key(key)}={shown}")
        line = f"{ts} {record.levelname.lower():7} {_shown(head)} {' '.join(parts)}".rstrip()
        if text_block:
            line += "\n" + "\n".join("    │ " + ln for ln in text_block.splitlines())
        trace = _exception(self, record)
        if trace:
            line += "\n" + redactor.scrub(trace, EXCEPTION_CAP, tail=True)
        return line


def setup(fmt: str = "auto", level: str = "info", stream: TextIO | None = None) -> None:
    """Route every logger through one redacting handler. `auto`: text on a terminal, JSON lines elsewhere."""
    out = stream or sys.stderr
    redactor.add_environment(os.environ)  # a token in a variable the configuration does not name is still one
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
    from syndicator.platforms import registry

    platform_loggers = [name for spec in registry.specs() for name in spec.loggers]
    for name in ("httpx", "httpcore", "urllib3", "apscheduler", "alembic", "uvicorn", *platform_loggers):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
