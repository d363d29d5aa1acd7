"""Length helpers the platforms share. A platform's own counting rule lives in its package
(`syndicator.platforms.<name>`), named by its spec's `measure`."""

from __future__ import annotations


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
