"""Desk tests hash with cheap Argon2 parameters: the production ones cost about half a second per login on a busy
machine, and the rate-limiting tests log in many times. The code paths are the same."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher

from syndicator.desk import passwords


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", cheap)
    monkeypatch.setattr(passwords, "_DUMMY", cheap.hash("not a password of anyone"))
    yield
