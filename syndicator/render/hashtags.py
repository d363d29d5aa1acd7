"""Hashtags from an article's categories and tags, valid by twitter-text's hashtag rules (the strictest platform's).

A hashtag is `#` followed by letters and marks of any script, decimal digits, `_` and ZWNJ/ZWJ, with at least one
letter or mark. So words are joined with `_` (or in CamelCase), apostrophes dropped, hyphens and other punctuation
treated as word breaks, ZWNJ inside Persian words kept (`#نیم‌فاصله` is one hashtag), pure numbers dropped.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from typing import Literal

from syndicator.render.text import inline

ZWNJ = "\u200c"
ZWJ = "\u200d"
MAX_HASHTAG_LENGTH = 50  # code points after '#': longer names make poor hashtags
_APOSTROPHES = frozenset("'’ʼ`´ʻ")
# twitter-text's hashtag_alphanumeric specials besides letters, marks, digits and '_'
_X_SPECIALS = frozenset(
    "\u200c\u200d\ua67e\u05be\u05f3\u05f4\uff5e\u301c\u309b\u309c\u30a0\u30fb\u3003\u0f0b\u0f0c\u00b7"
)

Style = Literal["underscore", "camel"]


def _is_alpha(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LM"


def _is_word_char(ch: str) -> bool:
    return _is_alpha(ch) or unicodedata.category(ch) == "Nd"


def is_valid_hashtag(tag: str) -> bool:
    """twitter-text's rule: '#', then letters, marks, digits, '_' (and a few joiners), at least one letter/mark."""
    if len(tag) < 2 or tag[0] not in "#＃":
        return False
    body = tag[1:]
    if body[0] in ("\ufe0f", "\u20e3"):
        return False
    if not all(_is_word_char(ch) or ch == "_" or ch in _X_SPECIALS for ch in body):
        return False
    return any(_is_alpha(ch) for ch in body)


def _words(name: str) -> list[str]:
    """Split a category name into words of hashtag characters."""
    words: list[str] = []
    current: list[str] = []

    def flush() -> None:
        word = "".join(current).strip(ZWNJ + ZWJ)
        if word:
            words.append(word)
        current.clear()

    for i, ch in enumerate(name):
        if _is_word_char(ch):
            current.append(ch)
        elif ch in (ZWNJ, ZWJ):
            # kept only inside a word: between two word characters
            nxt = name[i + 1] if i + 1 < len(name) else ""
            if current and nxt and _is_word_char(nxt):
                current.append(ch)
        elif ch in _APOSTROPHES:
            continue  # MEK's -> MEKs
        else:
            flush()  # space, '_', hyphen, punctuation, symbols, emoji
    flush()
    return words


def _needs_separator(left: str, right: str) -> bool:
    """CamelCase shows a word break by a capital; between letters of uncased scripts (Arabic, Persian, ...), or
    where the text changes direction, nothing would show it: keep '_' there."""
    if unicodedata.category(left) == "Lo" and unicodedata.category(right) == "Lo":
        return True
    directions = {unicodedata.bidirectional(left), unicodedata.bidirectional(right)}
    return "L" in directions and bool(directions & {"R", "AL"})


def make_hashtag(name: str, style: Style = "underscore") -> str | None:
    """'#Word_Word' / '#WordWord' for a category name, or None when no valid hashtag can be made of it."""
    words = _words(unicodedata.normalize("NFC", name))
    if not words:
        return None
    if style == "camel":
        body = ""
        for j, word in enumerate(words):
            if word.islower():
                word = word[0].upper() + word[1:]
            if j and _needs_separator(words[j - 1][-1], word[0]):
                body += "_"
            body += word
    else:
        body = "_".join(words)
    if len(body) > MAX_HASHTAG_LENGTH:
        return None
    tag = "#" + body
    return tag if is_valid_hashtag(tag) else None


def _key(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold().strip()


def build_hashtags(
    categories: Iterable[str],
    *,
    limit: int,
    style: Style = "underscore",
    mapping: Mapping[str, str] | None = None,
    stoplist: Iterable[str] = (),
) -> list[str]:
    """Up to `limit` distinct hashtags, in the order of the categories.

    `mapping` (matched case-insensitively) replaces a category by the given name or hashtag; an empty value drops
    it. `stoplist` entries drop a category by its name or by its hashtag (with or without '#').
    """
    table = {_key(k): v for k, v in (mapping or {}).items()}
    stop = {_key(s).lstrip("#＃") for s in stoplist}
    out: list[str] = []
    seen: set[str] = set()
    for raw in categories:
        if len(out) >= limit:
            break
        name = inline(raw)
        if not name or _key(name) in stop:
            continue
        if _key(name) in table:
            name = table[_key(name)]
            if not name.strip():
                continue
        tag = make_hashtag(name.lstrip("#＃"), style)
        if tag is None:
            continue
        key = _key(tag[1:])
        if key in stop or key in seen:
            continue
        seen.add(key)
        out.append(tag)
    return out
