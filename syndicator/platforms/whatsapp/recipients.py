"""Who a WhatsApp target sends to: its opted-in numbers, read and checked when the configuration is loaded.
Pure (no client library): config validation and polling's fan-out use it through the spec."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from syndicator.errors import ConfigError
from syndicator.files import read_text_file
from syndicator.platforms.whatsapp.settings import WhatsAppSettings

__all__ = ["RECIPIENTS_FILE_CAP", "normalise_number", "recipients"]


def normalise_number(raw: str) -> str:
    """'+98 912-345 6789' → '989123456789' (E.164 digits, no '+'; Persian/Arabic digits are read as digits).
    A leading international '00' is dropped.
    Raises ValueError for anything that cannot be a full international number. The message never quotes `raw`
    (it may come from a file: the caller says which entry or line)."""
    digits = "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in re.sub(r"[\s().+\-/]", "", raw))
    if not digits or not digits.isascii() or not digits.isdigit():
        raise ValueError("not a phone number in E.164 form (+ country code and number, e.g. +44 7700 900123)")
    if digits.startswith("00"):
        digits = digits[2:]
    if digits.startswith("0"):
        raise ValueError("a number in national format; write it with the country code (e.g. +98 912…)")
    if not 8 <= len(digits) <= 15:
        raise ValueError(f"has {len(digits)} digits; an international number has 8 to 15")
    return digits


RECIPIENTS_FILE_CAP = 4 * 1024 * 1024  # ~200,000 numbers


def recipients(settings: WhatsAppSettings) -> list[str]:
    """The opted-in numbers of a target: `recipients`, then the lines of `recipients_file` (relative to the current
    directory; '#' starts a comment), normalised to digits, deduplicated, first occurrence first.

    The file must be a regular UTF-8 file of at most RECIPIENTS_FILE_CAP bytes (`syndicator.files`). Raises
    ConfigError naming the entry (`recipients` entry N) or the file and line that is wrong, never its content."""
    entries: list[tuple[str, str | None, str]] = [
        (n, None, f"entry {i}") for i, n in enumerate(settings.recipients, start=1)
    ]
    if settings.recipients_file:
        path = str(Path(settings.recipients_file))
        text = read_text_file(path, max_bytes=RECIPIENTS_FILE_CAP, what="recipients file")
        # split on \n only: str.splitlines() also breaks at \x0c, \x1c, U+2028…, and the line numbers would
        # not be an editor's
        for number, line in enumerate(text.split("\n"), start=1):
            entry = line.split("#", 1)[0].strip()
            if entry:
                entries.append((entry, path, f"line {number}"))
    seen: dict[str, None] = {}
    for raw, source, where in entries:
        try:
            seen.setdefault(normalise_number(raw), None)
        except ValueError as exc:
            if source is None:
                raise ConfigError(f"{where}: {exc}", key="recipients") from None
            raise ConfigError(str(exc), source=source, key=where) from None
    return list(seen)
