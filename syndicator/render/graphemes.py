"""Extended grapheme clusters (UAX #29), approximated in pure Python.

Python's `unicodedata` has no Grapheme_Cluster_Break or Extended_Pictographic property, so the classes below are
derived from general categories plus small range tables. The rules implemented: CR LF, controls, combining marks
and other extenders (variation selectors, ZWNJ, emoji modifiers, tags), ZWJ emoji sequences, regional-indicator
pairs, spacing marks, prepended concatenation marks, Hangul syllable sequences and Indic conjuncts (GB9c) for the
main Brahmic scripts. Good enough to never cut a user-perceived character in two; not a full UCD implementation.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_right
from functools import lru_cache

# Grapheme break classes
_OTHER, _CR, _LF, _CONTROL, _EXTEND, _ZWJ, _SPACING, _PREPEND, _RI = range(9)
_L, _V, _T, _LV, _LVT = range(9, 14)

_PREPEND_CPS = frozenset(
    [*range(0x0600, 0x0606), 0x06DD, 0x070F, 0x0890, 0x0891, 0x08E2, 0x0D4E, 0x110BD, 0x110CD, 0x111C2, 0x111C3]
)
_CF_NOT_CONTROL = frozenset([0x200C, 0x200D, *_PREPEND_CPS])

# Extended_Pictographic, coarsely (emoji-data.txt lists these blocks almost entirely).
_PICTOGRAPHIC = (
    (0x00A9, 0x00A9), (0x00AE, 0x00AE), (0x203C, 0x203C), (0x2049, 0x2049), (0x2122, 0x2122),
    (0x2139, 0x2139), (0x2194, 0x2199), (0x21A9, 0x21AA), (0x231A, 0x231B), (0x2328, 0x2328),
    (0x2388, 0x2388), (0x23CF, 0x23CF), (0x23E9, 0x23F3), (0x23F8, 0x23FA), (0x24C2, 0x24C2),
    (0x25AA, 0x25AB), (0x25B6, 0x25B6), (0x25C0, 0x25C0), (0x25FB, 0x25FE), (0x2600, 0x27BF),
    (0x2934, 0x2935), (0x2B05, 0x2B07), (0x2B1B, 0x2B1C), (0x2B50, 0x2B50), (0x2B55, 0x2B55),
    (0x3030, 0x3030), (0x303D, 0x303D), (0x3297, 0x3297), (0x3299, 0x3299),
    (0x1F000, 0x1F0FF), (0x1F10D, 0x1F10F), (0x1F12F, 0x1F12F), (0x1F16C, 0x1F171), (0x1F17E, 0x1F17F),
    (0x1F18E, 0x1F18E), (0x1F191, 0x1F19A), (0x1F1AD, 0x1F1E5), (0x1F201, 0x1F20F), (0x1F21A, 0x1F21A),
    (0x1F22F, 0x1F22F), (0x1F232, 0x1F23A), (0x1F23C, 0x1F23F), (0x1F249, 0x1F3FA), (0x1F400, 0x1F53D),
    (0x1F546, 0x1F64F), (0x1F680, 0x1F6FF), (0x1F774, 0x1F77F), (0x1F7D5, 0x1F7FF), (0x1F80C, 0x1F80F),
    (0x1F848, 0x1F84F), (0x1F85A, 0x1F85F), (0x1F888, 0x1F88F), (0x1F8AE, 0x1F8FF), (0x1F90C, 0x1F93A),
    (0x1F93C, 0x1F945), (0x1F947, 0x1FAFF), (0x1FC00, 0x1FFFD),
)  # fmt: skip

# Indic conjuncts (GB9c): consonant [extend|linker]* linker [extend|linker]* × consonant
_LINKERS = frozenset([0x094D, 0x09CD, 0x0ACD, 0x0B4D, 0x0C4D, 0x0D4D])
_INDIC_BLOCKS = ((0x0900, 0x097F), (0x0980, 0x09FF), (0x0A80, 0x0AFF), (0x0B00, 0x0B7F), (0x0C00, 0x0C7F),
                 (0x0D00, 0x0D7F))  # fmt: skip


class RangeSet:
    """Membership in sorted, disjoint, inclusive code point ranges, by binary search."""

    def __init__(self, ranges: tuple[tuple[int, int], ...]) -> None:
        ordered = sorted(ranges)
        self._starts = [lo for lo, _ in ordered]
        self._ends = [hi for _, hi in ordered]

    def __contains__(self, cp: int) -> bool:
        i = bisect_right(self._starts, cp) - 1
        return i >= 0 and cp <= self._ends[i]


_PICTOGRAPHIC_SET = RangeSet(_PICTOGRAPHIC)
_INDIC_SET = RangeSet(_INDIC_BLOCKS)


def is_pictographic(cp: int) -> bool:
    return cp in _PICTOGRAPHIC_SET and not (0x1F1E6 <= cp <= 0x1F1FF or 0x1F3FB <= cp <= 0x1F3FF)


def _is_indic_consonant(ch: str) -> bool:
    return ord(ch) in _INDIC_SET and unicodedata.category(ch) == "Lo"


@lru_cache(maxsize=4096)
def break_class(ch: str) -> int:
    cp = ord(ch)
    if cp == 0x0D:
        return _CR
    if cp == 0x0A:
        return _LF
    if cp == 0x200D:
        return _ZWJ
    if 0x1F1E6 <= cp <= 0x1F1FF:
        return _RI
    if cp in _PREPEND_CPS:
        return _PREPEND
    if 0x1F3FB <= cp <= 0x1F3FF or 0xE0020 <= cp <= 0xE007F or cp in (0x200C, 0xFF9E, 0xFF9F):
        return _EXTEND
    if 0x1100 <= cp <= 0x115F or 0xA960 <= cp <= 0xA97C:
        return _L
    if 0x1160 <= cp <= 0x11A7 or 0xD7B0 <= cp <= 0xD7C6:
        return _V
    if 0x11A8 <= cp <= 0x11FF or 0xD7CB <= cp <= 0xD7FB:
        return _T
    if 0xAC00 <= cp <= 0xD7A3:
        return _LV if (cp - 0xAC00) % 28 == 0 else _LVT
    cat = unicodedata.category(ch)
    if cat in ("Mn", "Me"):
        return _EXTEND
    if cat == "Mc":
        return _SPACING
    if cat in ("Cc", "Zl", "Zp", "Cs") or (cat == "Cf" and cp not in _CF_NOT_CONTROL):
        return _CONTROL
    return _OTHER


def boundaries(text: str) -> list[int]:
    """Offsets (in code points) where a grapheme cluster starts, plus len(text). Always starts with 0."""
    n = len(text)
    if n == 0:
        return [0]
    out = [0]
    prev = break_class(text[0])
    ri_count = 1 if prev == _RI else 0
    # GB11: inside "ExtPict Extend* ZWJ" (state 2 after the ZWJ), or after "ExtPict Extend*" (state 1)
    emoji_state = 1 if is_pictographic(ord(text[0])) else 0
    # GB9c: 0 nothing, 1 after consonant [extend]*, 2 after consonant ... linker
    indic_state = 1 if _is_indic_consonant(text[0]) else 0
    for i in range(1, n):
        ch = text[i]
        cls = break_class(ch)
        pict = is_pictographic(ord(ch))
        consonant = _is_indic_consonant(ch)
        if prev == _CR and cls == _LF:
            join = True
        elif prev in (_CR, _LF, _CONTROL) or cls in (_CR, _LF, _CONTROL):
            join = False
        elif (
            (prev == _L and cls in (_L, _V, _LV, _LVT))  # GB6-8: Hangul syllables
            or (prev in (_LV, _V) and cls in (_V, _T))
            or (prev in (_LVT, _T) and cls == _T)
            or cls in (_EXTEND, _ZWJ, _SPACING)  # GB9, GB9a
            or prev == _PREPEND  # GB9b
            or (indic_state == 2 and consonant)  # GB9c
            or (prev == _ZWJ and emoji_state == 2 and pict)  # GB11
        ):
            join = True
        elif prev == _RI and cls == _RI:
            join = ri_count % 2 == 1
        else:
            join = False
        if not join:
            out.append(i)
        # update states
        ri_count = ri_count + 1 if cls == _RI else 0
        if pict or (emoji_state == 1 and cls == _EXTEND):
            emoji_state = 1
        elif emoji_state == 1 and cls == _ZWJ:
            emoji_state = 2
        else:
            emoji_state = 0
        if consonant:
            indic_state = 1
        elif indic_state and ord(ch) in _LINKERS:
            indic_state = 2
        elif indic_state and cls in (_EXTEND, _ZWJ):
            pass
        else:
            indic_state = 0
        prev = cls
    out.append(n)
    return out


def graphemes(text: str) -> list[str]:
    """The grapheme clusters of `text`, in order; "".join(graphemes(t)) == t."""
    b = boundaries(text)
    return [text[b[i] : b[i + 1]] for i in range(len(b) - 1)]


def is_boundary(text: str, offset: int, context: int = 32) -> bool:
    """Whether a cluster starts at `offset`, judged from the surrounding `context` code points (enough for any
    cluster but absurdly long ones; regional-indicator parity is judged within the window too)."""
    if offset <= 0 or offset >= len(text):
        return True
    before, here = break_class(text[offset - 1]), break_class(text[offset])
    if here in (_EXTEND, _ZWJ, _SPACING) and before not in (_CR, _LF, _CONTROL):
        return False  # GB9, GB9a: the common case, decided locally
    if here == _OTHER and before in (_OTHER, _SPACING, _CONTROL, _CR, _LF) and not _is_indic_consonant(text[offset]):
        return True
    start = max(0, offset - context)
    return (offset - start) in boundaries(text[start : offset + context])


def next_boundary(text: str, offset: int) -> int:
    """The first cluster boundary at or after `offset`."""
    while not is_boundary(text, offset):
        offset += 1
    return offset
