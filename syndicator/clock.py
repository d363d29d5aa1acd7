"""The one clock: `utcnow` is what every service calls unless it is handed a `Clock` (tests hand a fake one)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

__all__ = ["Clock", "utcnow"]

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """Now, as an aware UTC datetime."""
    return datetime.now(UTC)
