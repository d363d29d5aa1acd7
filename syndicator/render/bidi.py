"""Right-to-left text that displays correctly.

In an Arabic or Farsi post every run of left-to-right text (Latin words, numbers attached to them, URLs, Latin
hashtags) is wrapped in LRI … PDI, so it keeps its inner order and cannot reorder the punctuation around it; every
line whose first letter is in such a run starts with an RLM. Left-to-right posts get the
mirror image (RLI … PDI around Arabic or Persian words, LRM). A run that touches a URL or a hashtag is widened to
contain all of it: no mark ever lands inside one. Text without any opposite-direction letter is left untouched.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from syndicator.render import rich as rt
from syndicator.render.graphemes import is_boundary, next_boundary
from syndicator.render.rich import Rich
from syndicator.render.text import protected_ranges

LRM, RLM = "\u200e", "\u200f"
LRI, RLI, FSI, PDI = "\u2066", "\u2067", "\u2068", "\u2069"
ISOLATES = frozenset((LRI, RLI, FSI))
BIDI_MARKS = frozenset((LRM, RLM, LRI, RLI, FSI, PDI, "\u061c"))

_RTL_CODES = "ar fa he iw ur ps ckb sd ug yi dv syr arc nqo ku-arab"
RTL_LANGUAGES = frozenset(_RTL_CODES.split())


@lru_cache(maxsize=8192)
def _strong(ch: str) -> str:
    """'L', 'R' or '' (numbers, neutrals, and symbols such as flag letters that are bidi-strong but not words)."""
    if unicodedata.category(ch)[0] != "L":
        return ""
    kind = unicodedata.bidirectional(ch)
    if kind == "L":
        return "L"
    if kind in ("R", "AL"):
        return "R"
    return ""


def is_rtl(language: str, sample: str) -> bool:
    """By the article's language code when it has one, else by which strong letters dominate `sample`."""
    code = language.strip().lower().replace("_", "-")
    if code:
        return code in RTL_LANGUAGES or code.split("-")[0] in RTL_LANGUAGES
    rtl = sum(1 for ch in sample if _strong(ch) == "R")
    ltr = sum(1 for ch in sample if _strong(ch) == "L")
    return rtl > ltr


def _first_strong(text: str) -> str:
    return next((strong for strong in map(_strong, text) if strong), "")


def _foreign_runs(text: str, rtl: bool, atoms: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans of text in the opposite direction: start at a foreign letter or a number, end at one, contain at
    least one foreign letter, never cross a line or a letter of the base direction. A URL or hashtag counts as
    one unit, of the direction of its first letter."""
    foreign, native = ("L", "R") if rtl else ("R", "L")
    atom_at = dict(atoms)
    runs: list[tuple[int, int]] = []
    start = last = -1
    has_foreign = False
    i = 0
    while i < len(text):
        ch = text[i]
        if i in atom_at:
            unit_end = atom_at[i]
            strong = _first_strong(text[i:unit_end])
            number = False
        else:
            unit_end = i + 1
            strong = _strong(ch)
            kind = unicodedata.bidirectional(ch)
            # Persian digits (U+06F0–U+06F9) are EN to Unicode, but in RTL text they belong to it like AN digits
            arabic_digit = kind == "AN" or "\u06f0" <= ch <= "\u06f9"
            number = (kind == "EN" and not (rtl and arabic_digit)) or (kind == "AN" and not rtl)
            if rtl and arabic_digit:
                strong = native  # Arabic-Indic and Persian digits belong to the Arabic-script text around them
        if strong == native or ch == "\n":
            if has_foreign:
                runs.append((start, last + 1))
            start, last, has_foreign = -1, -1, False
        elif strong == foreign or number:
            if start < 0:
                start = i
            last = unit_end - 1
            has_foreign = has_foreign or strong == foreign
        i = unit_end
    if has_foreign:
        runs.append((start, last + 1))
    return runs


def _widen(runs: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    """Never end a run inside a grapheme cluster (a run starts at a letter or digit: a cluster's start)."""
    out: list[tuple[int, int]] = []
    for start, run_end in runs:
        end = next_boundary(text, run_end)
        while not is_boundary(text, start):
            start -= 1
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def isolate(value: Rich, rtl: bool) -> Rich:
    """Wrap opposite-direction runs in isolates and fix each line's direction (see the module docstring)."""
    text = rt.plain(value)
    if not any(_strong(ch) == ("L" if rtl else "R") for ch in text):
        return value
    atoms = _disjoint(protected_ranges(value))
    runs = _widen(_foreign_runs(text, rtl, atoms), text)
    opening = LRI if rtl else RLI
    # (offset, rank, mark): at one offset a PDI closes first, then the line's direction mark, then an isolate opens
    inserts: list[tuple[int, int, str]] = []
    for start, end in runs:
        inserts.append((start, 2, opening))
        inserts.append((end, 0, PDI))
    # a line whose first letter is inside an isolate starts with a direction mark: renderers that ignore
    # isolates would otherwise take the line's direction from that foreign letter
    line_start = 0
    run_index = 0
    for line in text.split("\n"):
        line_end = line_start + len(line)
        for i in range(line_start, line_end):
            if not _strong(text[i]):
                continue
            while run_index < len(runs) and runs[run_index][1] <= i:
                run_index += 1
            if run_index < len(runs) and runs[run_index][0] <= i:
                inserts.append((line_start, 1, RLM if rtl else LRM))
            break
        line_start = line_end + 1
    inserts.sort()
    return rt.insert(value, [(offset, mark, rank == 0) for offset, rank, mark in inserts])


def _disjoint(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if out and start < out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out
