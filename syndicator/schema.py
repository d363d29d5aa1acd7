"""Validate plain TOML tables into typed, frozen dataclasses.

One small mechanism instead of hand-written checks per section: a dataclass declares the keys it accepts (its
fields), their types and defaults; `build()` rejects unknown keys, missing keys and wrong types with a
ConfigError naming the file and the dotted key. Durations ("90s", "2m", "1h30m", "2d") become `timedelta`.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

from syndicator.errors import ConfigError

T = TypeVar("T")

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """'90s', '2m', '1h30m', '2d', '500ms' → timedelta. Raises ValueError with a readable message."""
    cleaned = text.strip().lower().replace(" ", "")
    if not cleaned:
        raise ValueError("empty duration")
    pos, seconds = 0, 0.0
    for match in _DURATION.finditer(cleaned):
        if match.start() != pos:
            break
        seconds += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos != len(cleaned):
        raise ValueError(f"bad duration {text!r} (use e.g. 90s, 2m, 1h30m, 2d)")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    out = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            out.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(out) or "0s"


def build(cls: type[T], table: Mapping[str, Any], *, source: str, where: str) -> T:
    """Build dataclass `cls` from `table`; `where` is the dotted key of the table, for messages."""
    if not isinstance(table, Mapping):
        raise ConfigError(f"expected a table, got {type(table).__name__}", source=source, key=where)
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    accepted = {name for name, f in fields.items() if f.init and not f.metadata.get("internal")}
    for key in table:
        if key not in accepted:
            known = ", ".join(sorted(accepted))
            raise ConfigError(f"unknown key (known keys: {known})", source=source, key=_join(where, key))
    values: dict[str, Any] = {}
    for name in accepted:
        f = fields[name]
        key = _join(where, name)
        if name in table:
            values[name] = convert(hints[name], table[name], source=source, key=key)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError("missing required key", source=source, key=key)
    try:
        return cls(**values)
    except ValueError as exc:  # __post_init__ checks that span several keys
        raise ConfigError(str(exc), source=source, key=where) from None


def shown(value: Any) -> str:
    """A wrong value as a message shows it: a short scalar's repr, else only its kind and size (a table or a long
    string pasted into the wrong key is not repeated on the terminal, nor its secrets if it had any)."""
    if isinstance(value, Mapping):
        return f"a table of {len(value)} key{'' if len(value) == 1 else 's'}"
    if isinstance(value, list):
        return f"a list of {len(value)} item{'' if len(value) == 1 else 's'}"
    text = repr(value)
    return text if len(text) <= 60 else f"a {type(value).__name__} of {len(str(value)):,} characters"


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def convert(hint: Any, value: Any, *, source: str, key: str) -> Any:
    origin = get_origin(hint)
    args = get_args(hint)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        errors = []
        for candidate in inner:
            try:
                return convert(candidate, value, source=source, key=key)
            except ConfigError as exc:
                errors.append(exc.reason)
        raise ConfigError(errors[0] if len(errors) == 1 else "; or ".join(errors), source=source, key=key)
    if origin is Literal:
        if value not in args:
            choices = ", ".join(repr(a) for a in args)
            raise ConfigError(f"must be one of {choices}, got {shown(value)}", source=source, key=key)
        return value
    if hint is timedelta:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return timedelta(seconds=value)
        if not isinstance(value, str):
            raise ConfigError(f"expected a duration like '2m', got {shown(value)}", source=source, key=key)
        try:
            return parse_duration(value)
        except ValueError as exc:
            raise ConfigError(str(exc), source=source, key=key) from None
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"expected true or false, got {shown(value)}", source=source, key=key)
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"expected an integer, got {shown(value)}", source=source, key=key)
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"expected a number, got {shown(value)}", source=source, key=key)
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"expected a string, got {shown(value)}", source=source, key=key)
        return value
    if origin in (tuple, list):
        if not isinstance(value, list):
            raise ConfigError(f"expected a list, got {shown(value)}", source=source, key=key)
        item = args[0] if args else Any
        items = [convert(item, v, source=source, key=f"{key}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin in (dict, Mapping) or hint is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"expected a table, got {shown(value)}", source=source, key=key)
        vtype = args[1] if len(args) == 2 else Any
        return {str(k): convert(vtype, v, source=source, key=_join(key, str(k))) for k, v in value.items()}
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return build(hint, value, source=source, where=key)
    if hint is Any:
        return value
    raise TypeError(f"schema: unsupported type {hint!r} for {key}")  # a bug in a settings class
