"""Dates: RFC 822 in its many real-world shapes, ISO 8601 / RFC 3339 / W3C-DTF. Always timezone-aware UTC."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10,
    "nov": 11, "dec": 12, "sept": 9, "janv": 1, "févr": 2, "fevr": 2, "fév": 2, "fev": 2, "mars": 3, "avr": 4,
    "mai": 5, "juin": 6, "juil": 7, "août": 8, "aout": 8, "déc": 12, "mär": 3, "mrz": 3, "okt": 10, "dez": 12,
    "ene": 1, "abr": 4, "ago": 8, "dic": 12, "gen": 1, "giu": 6, "lug": 7, "set": 9, "ott": 10, "maj": 5,
    "mei": 5, "janar": 1, "shkurt": 2, "prill": 4, "qershor": 6, "korrik": 7, "gusht": 8, "shtator": 9,
    "tetor": 10, "nëntor": 11, "nentor": 11, "dhjetor": 12,
}  # fmt: skip
# weekday names whose first letters look like a month ("mardi" → "mar"): never read as the month
_WEEKDAYS = frozenset(
    [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "lundi",
        "mardi",
        "mercredi",
        "jeudi",
        "vendredi",
        "samedi",
        "dimanche",
        "lunes",
        "martes",
        "miércoles",
        "miercoles",
        "jueves",
        "viernes",
        "sábado",
        "sabado",
        "domingo",
        "lunedì",
        "lunedi",
        "martedì",
        "martedi",
        "mercoledì",
        "mercoledi",
        "giovedì",
        "giovedi",
        "venerdì",
        "venerdi",
        "sabato",
        "domenica",
        "montag",
        "dienstag",
        "mittwoch",
        "donnerstag",
        "freitag",
        "samstag",
        "sonntag",
        "hënë",
        "hene",
        "martë",
        "marte",
        "mërkurë",
        "merkure",
        "enjte",
        "premte",
        "shtunë",
        "shtune",
        "diel",
    ]
)
_ZONES = {
    "ut": 0, "utc": 0, "gmt": 0, "z": 0, "est": -300, "edt": -240, "cst": -360, "cdt": -300, "mst": -420,
    "mdt": -360, "pst": -480, "pdt": -420, "akst": -540, "akdt": -480, "hst": -600, "adt": -180, "nst": -210,
    "ndt": -150, "brt": -180, "art": -180, "wet": 0, "west": 60, "bst": 60, "ist": 330, "cet": 60, "cest": 120,
    "met": 60, "mest": 120, "eet": 120, "eest": 180, "msk": 180, "trt": 180, "irst": 210, "irdt": 270,
    "gst": 240, "pkt": 300, "npt": 345, "ict": 420, "wib": 420, "hkt": 480, "sgt": 480, "pht": 480,
    "awst": 480, "jst": 540, "kst": 540, "acst": 570, "acdt": 630, "aest": 600, "aedt": 660, "nzst": 720,
    "nzdt": 780, "sast": 120, "cat": 120, "eat": 180, "wat": 60,
}  # fmt: skip
_RFC822_FAST = re.compile(
    r"(?:[A-Za-z]{3},\s*)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4})\s+(\d{2}):(\d{2})(?::(\d{2}))?\s*([+-]\d{4}|GMT|UTC|UT|Z)?"
)
_TIME = re.compile(r"(?<![\d:])(\d{1,2})[:.](\d{2})(?:[:.](\d{2})(?:[.,]\d+)?)?(?:\s*([AaPp])\.?[Mm]\.?(?![A-Za-z]))?")
_OFFSET = re.compile(r"(?:GMT|UTC|UT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?(?!\d)")
_WORDS = re.compile(r"[^\W\d_]+")
_NUMBERS = re.compile(r"\d+")
_ISO = re.compile(
    r"(\d{4})(?:-?(\d{2})(?:-?(\d{2}))?)?"
    r"(?:(?:T|\s+)(\d{2})(?::?(\d{2})(?::?(\d{2})(?:[.,]\d+)?)?)?)?"
    r"\s*(Z|[+-]\d{2}(?::?\d{2})?|UTC|GMT)?",
    re.I,
)


def parse_date(value: str) -> datetime | None:
    """A feed date → aware UTC datetime, or None when it cannot be read (never raises)."""
    text = value.strip()
    if not text or len(text) > 120:
        return None
    try:
        if text[:4].isdigit():
            return _iso_date(text) or _rfc822_date(text)
        return _rfc822_date(text) or _iso_date(text)
    except (ValueError, OverflowError):
        return None


def _aware(year: int, month: int, day: int, hour: int, minute: int, second: int, offset: int) -> datetime | None:
    if year < 100:
        year += 2000 if year < 50 else 1900
    extra = timedelta(0)
    if hour == 24 and minute == 0 and second == 0:
        hour, extra = 0, timedelta(days=1)
    second = min(second, 59)  # leap seconds
    try:
        local = datetime(year, month, day, hour, minute, second, tzinfo=timezone(timedelta(minutes=offset)))
        return (local + extra).astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _iso_date(text: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        pass
    else:
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    match = _ISO.fullmatch(text)
    if not match:
        return None
    y, mo, d, h, mi, s, zone = match.groups()
    return _aware(int(y), int(mo or 1), int(d or 1), int(h or 0), int(mi or 0), int(s or 0), _zone_minutes(zone or ""))


def _zone_minutes(zone: str) -> int:
    zone = zone.strip()
    if not zone or zone.lower() in _ZONES:
        return _ZONES.get(zone.lower(), 0)
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    hours = int(digits[:2] or 0) if len(digits) != 1 else int(digits)
    minutes = int(digits[2:4] or 0) if len(digits) > 2 else 0
    return sign * (hours * 60 + minutes)


def _rfc822_date(text: str) -> datetime | None:
    fast = _RFC822_FAST.fullmatch(text)
    if fast:
        d, mon, y, h, mi, s, zone = fast.groups()
        month = _MONTHS.get(mon.lower())
        if month:
            return _aware(int(y), month, int(d), int(h), int(mi), int(s or 0), _zone_minutes(zone or ""))
    hour = minute = second = 0
    offset: int | None = None
    date_part = text
    time = _TIME.search(text)
    if time:
        hour, minute = int(time.group(1)), int(time.group(2))
        second = int(time.group(3) or 0)
        meridiem = (time.group(4) or "").lower()
        if meridiem == "p" and hour < 12:
            hour += 12
        elif meridiem == "a" and hour == 12:
            hour = 0
        after = text[time.end() :]
        zone = _OFFSET.match(after.lstrip())
        if zone and (zone.group(0).strip()[:1] in "+-" or zone.group(0).strip()[:1].isalpha()):
            sign = -1 if zone.group(1) == "-" else 1
            digits = zone.group(2)
            hours, minutes = int(digits), int(zone.group(3) or 0)
            if zone.group(3) is None and len(digits) > 2:
                hours, minutes = int(digits[:-2]), int(digits[-2:])
            offset = sign * (hours * 60 + minutes)
            after = after.lstrip()[zone.end() :]
        date_part = text[: time.start()] + " " + after
    month = 0
    for word in _WORDS.findall(date_part.lower()):
        if not month and word not in _WEEKDAYS:
            month = _MONTHS.get(word) or _MONTHS.get(word[:4]) or _MONTHS.get(word[:3]) or 0
            if month:
                continue
        if offset is None and word in _ZONES:
            offset = _ZONES[word]
    numbers = _NUMBERS.findall(date_part)
    if month:
        years = [n for n in numbers if len(n) == 4]
        days = [n for n in numbers if len(n) <= 2]
        if not days:
            return None
        if years:
            year = int(years[0])
            day = int(days[0])
        elif len(days) >= 2:
            day, year = int(days[0]), int(days[1])
        else:
            return None
    elif len(numbers) >= 3 and len(numbers[0]) == 4:
        year, month, day = int(numbers[0]), int(numbers[1]), int(numbers[2])
    else:
        return None
    return _aware(year, month, day, hour, minute, second, offset or 0)
