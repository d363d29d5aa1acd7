"""What every platform's `[targets.NAME]` keys share: secrets named by `*_env` keys. Pure data.

Keys ending in `_env` name the environment variable that holds a secret; the secret itself never appears in the
configuration file. `Secrets` keeps resolved values out of every repr.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

# A platform's settings class lives in its package (`syndicator.platforms.<name>.settings`) and is named by its
# spec; to the rest of the program a target's settings are that package's business.
PlatformSettings = Any


def secret_env_names(settings: PlatformSettings) -> dict[str, str]:
    """Field name → environment variable name, for every secret this platform needs."""
    names = {}
    for f in fields(settings):
        if f.name.endswith("_env"):
            value = getattr(settings, f.name)
            if value:
                names[f.name.removesuffix("_env")] = value
    return names


class Secrets:
    """Resolved secret values; never printed."""

    __slots__ = ("_values",)

    def __init__(self, values: dict[str, str]) -> None:
        self._values = dict(values)

    def __getitem__(self, name: str) -> str:
        return self._values[name]

    def get(self, name: str, default: str = "") -> str:
        return self._values.get(name, default)

    def values(self) -> list[str]:
        return list(self._values.values())

    def __repr__(self) -> str:
        return f"Secrets({', '.join(sorted(self._values))}: ***)"
