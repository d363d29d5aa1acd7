"""The emoji twitter-text v3 counts as one (weight 2), as the official library (twitter-text 3.1.0, through
twemoji-parser 11.0.2) finds them: a matcher built once, at import, from the `emoji` package's data
(`emoji.EMOJI_DATA`, Unicode's emoji-test.txt), cut down to what that library knows (Emoji 11.0) and bent to its
quirks.

It is compiled for UTF-16 code units, as the library's JavaScript expression (no `u` flag) matches: apply it to
`utf16_units(text)`, a str in which every astral code point is written as its two surrogates. It covers ZWJ
sequences (families, professions), keycaps, flags, tag sequences (England), skin tones — and, like the library,
a lone U+FE0F. What it takes from twemoji-parser 11.0.2, besides the data:

- only fully-qualified sequences (and components), not minimally qualified or unqualified ones, except keycaps
  without U+FE0F (`#⃣`);
- a character with an emoji variation sequence matches with U+FE0F or alone, but not before U+FE0E; modifier
  bases among them (`☝`) also with U+FE0F before the skin tone; `©`, `®`, `™` and `♟` only with U+FE0F (alone X
  weighs them as text), and `♾` only alone (U+FE0F after it is a character of its own);
- emoji-presentation characters had variation sequences in Unicode 12 only if they were encoded before Unicode 6.0
  (the list below; `emoji` marks the ones added later too);
- twemoji's extras: `⛷` with a skin tone, `🕴` with a gender like `🕵`, `🤵` with a gender (Emoji 13.0), and
  `👁‍🗨` without U+FE0F.

Checked against the expression it replaces (twemoji-parser's, run as JavaScript does): the same weighted length for
every key of `emoji.EMOJI_DATA` (alone, doubled, and with U+FE0F, U+FE0E, ZWJ, a skin tone or U+20E3 after it) and
for random strings of them. It matches a few lone characters the library also matched (single regional indicators,
U+E50A); they weigh 2 either way.
"""

import re
from functools import reduce

import emoji

_EMOJI_VERSION = 11.0  # twemoji-parser 11.0.2 / twitter-text 3.1.0
_FULLY_QUALIFIED = (emoji.STATUS["fully_qualified"], emoji.STATUS["component"])
_UNQUALIFIED = emoji.STATUS["unqualified"]
_VS16 = "\ufe0f"
_VS15 = "\ufe0e"
_ZWJ = "\u200d"
_KEYCAP = "\u20e3"
_SKIN_TONES = tuple(chr(cp) for cp in range(0x1F3FB, 0x1F400))
# Emoji-presentation characters with an emoji variation sequence in Unicode 12 (emoji-variation-sequences.txt).
_EMOJI_PRESENTATION_VS = frozenset(
    "\u231a\u231b\u25fd\u25fe\u2614\u2615\u2648\u2649\u264a\u264b\u264c\u264d\u264e\u264f\u2650\u2651\u2652\u2653"
    "\u267f\u2693\u26a1\u26aa\u26ab\u26bd\u26be\u26c4\u26c5\u26d4\u26ea\u26f2\u26f3\u26f5\u26fa\u26fd\u2757\u2b1b"
    "\u2b1c\u2b50\u2b55\U0001f004\U0001f21a\U0001f22f"
)
_VS16_REQUIRED = frozenset("\u00a9\u00ae\u2122\u265f")  # ©, ®, ™, ♟: not matched without U+FE0F
_NO_VS = frozenset("\u267e")  # ♾: matched alone only
_EXTRA_MODIFIER_BASES = frozenset("\u26f7")  # ⛷: twemoji has it with skin tones
_EARLY_BASES = ("\U0001f935",)  # 🤵 with a gender: Emoji 13.0, drawn by twemoji already
_RENAMED = {"\U0001f441\ufe0f\u200d\U0001f5e8\ufe0f": "\U0001f441\u200d\U0001f5e8"}  # 👁‍🗨 without U+FE0F
_NOT_FE0E = "\x00"  # in a sequence below: "not followed by U+FE0E" (zero width)


def _fq() -> set[str]:
    return {seq for seq, meta in emoji.EMOJI_DATA.items() if meta["status"] == emoji.STATUS["fully_qualified"]}


def _sequences() -> set[str]:
    """Every sequence the library matches, in code points; `_NOT_FE0E` marks a lookahead."""
    data = {seq: meta for seq, meta in emoji.EMOJI_DATA.items() if meta["E"] <= _EMOJI_VERSION}
    seqs = {seq for seq, meta in data.items() if meta["status"] in _FULLY_QUALIFIED}
    seqs |= {seq for seq, meta in data.items() if meta["status"] == _UNQUALIFIED and seq.endswith(_KEYCAP)}
    variation = {
        seq
        for seq, meta in data.items()
        if len(seq) == 1
        and meta.get("variant")
        and (meta["status"] == _UNQUALIFIED or seq in _EMOJI_PRESENTATION_VS)
        and seq not in _VS16_REQUIRED
    }
    seqs -= variation
    for base in variation:
        seqs |= {base + _VS16, base + _NOT_FE0E}
        if base + _SKIN_TONES[0] in seqs or base in _EXTRA_MODIFIER_BASES:
            seqs |= {base + tone for tone in _SKIN_TONES} | {base + _VS16 + tone for tone in _SKIN_TONES}
    seqs -= {base + _VS16 for base in _NO_VS}
    seqs |= {seq for seq in emoji.EMOJI_DATA if seq.startswith(_EARLY_BASES) and _ZWJ in seq and seq in _fq()}
    seqs = {_RENAMED.get(seq, seq) for seq in seqs}
    seqs |= {"\U0001f574" + seq[1:] for seq in seqs if seq.startswith("\U0001f575") and _ZWJ in seq}  # 🕴 like 🕵
    seqs.add(_VS16)
    return seqs


def utf16_units(text: str) -> str:
    """`text` with each code point above U+FFFF as two surrogate code points (JavaScript's view of a string)."""
    if text.isascii() or all(ord(ch) <= 0xFFFF for ch in text):
        return text
    out: list[str] = []
    for ch in text:
        cp = ord(ch)
        if cp > 0xFFFF:
            cp -= 0x10000
            out.append(chr(0xD800 + (cp >> 10)))
            out.append(chr(0xDC00 + (cp & 0x3FF)))
        else:
            out.append(ch)
    return "".join(out)


_Trie = dict[str, "_Trie"]


def _pattern(node: _Trie) -> str:
    """A regular expression for the trie under `node` that takes the longest sequence it can."""
    ends = "" in node
    lookahead = _NOT_FE0E in node
    branches = [
        re.escape(unit) + _pattern(child) for unit, child in sorted(node.items()) if unit not in ("", _NOT_FE0E)
    ]
    if lookahead and not ends:
        branches.append(f"(?!{_VS15})")
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 and len(branches[0]) <= 1 else f"(?:{'|'.join(branches)})"
    if lookahead and len(branches) == 1 and branches[0].startswith("(?!"):
        return body
    return f"{body}?" if ends else body


def _compile() -> re.Pattern[str]:
    trie: _Trie = {}
    for seq in _sequences():
        node = reduce(lambda n, unit: n.setdefault(unit, {}), utf16_units(seq.removesuffix(_NOT_FE0E)), trie)
        node.setdefault(_NOT_FE0E if seq.endswith(_NOT_FE0E) else "", {})
    return re.compile(_pattern(trie))


EMOJI_UTF16 = _compile()
