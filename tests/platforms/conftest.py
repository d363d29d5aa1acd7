"""What the platform tests share: an image server on 127.0.0.1 (the publishers' images), reachable only through
the outbound allowlist."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.images import ImageHost


@pytest.fixture
def host() -> Iterator[ImageHost]:
    with ImageHost() as server:
        yield server
