from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from syndicator.render import rich as rt
from syndicator.render.bidi import BIDI_MARKS, LRI, LRM, PDI, RLI, RLM, is_rtl, isolate
from syndicator.render.rich import Span


def _iso(text: str, rtl: bool) -> str:
    return rt.plain(isolate(rt.text_span(text), rtl))


def test_direction_from_language_or_text() -> None:
    assert is_rtl("fa", "")
    assert is_rtl("ar-EG", "")
    assert is_rtl("fa_IR", "")
    assert not is_rtl("sq", "سلام")
    assert is_rtl("", "گزارش BBC")
    assert not is_rtl("", "English گزارش words")


def test_latin_runs_in_arabic_are_isolated() -> None:
    assert _iso("شركة Apple تطلق iPhone 16 Pro في دبي", True) == (
        f"شركة {LRI}Apple{PDI} تطلق {LRI}iPhone 16 Pro{PDI} في دبي"
    )
    # numbers alone need no isolate; the line starts with Arabic, so no RLM either
    assert _iso("مقتل 3 في بغداد", True) == "مقتل 3 في بغداد"


def test_line_starting_with_latin_gets_rlm() -> None:
    assert _iso("BBC: تقرير", True) == f"{RLM}{LRI}BBC{PDI}: تقرير"


def test_url_line_and_hashtags_are_isolated_whole() -> None:
    value = (
        Span("عنوان\n"),
        Span("https://x.org/a_b/?q=1", atom=True),
        Span("\n"),
        Span("#حقوق_بشر", atom=True),
        Span(" "),
        Span("#MEK", atom=True),
        Span(" "),
        Span("#سازمان_MEK", atom=True),
    )
    assert rt.plain(isolate(value, True)) == (
        f"عنوان\n{RLM}{LRI}https://x.org/a_b/?q=1{PDI}\n#حقوق_بشر {LRI}#MEK{PDI} #سازمان_MEK"
    )


def test_persian_in_english_is_isolated_the_other_way() -> None:
    assert _iso("The word نیم‌فاصله means half-space", False) == (f"The word {RLI}نیم‌فاصله{PDI} means half-space")
    assert _iso("گزارش\nEnglish", False) == f"{LRM}{RLI}گزارش{PDI}\nEnglish"


def test_albanian_and_plain_english_are_untouched() -> None:
    for text in ("Çfarë ndodhi në Tiranë? Ëndrra 2024", "Plain English, 3 numbers & symbols: ©"):
        assert _iso(text, False) == text


@settings(max_examples=150, derandomize=True)
@given(
    words=st.lists(
        st.sampled_from(
            [
                "گزارش",
                "BBC",
                "iPhone",
                "15",
                "۱۴۰۲",
                "٣",
                "(",
                ")",
                ".",
                ":",
                "https://x.org/a/b",
                "#MEK",
                "#حقوق_بشر",
                "e\u0301",
                "👍🏽",
                "\n",
                "www.apple.com/ae",
                "info@x.org",
                "Tiranë",
            ]
        ),
        max_size=30,
    ),
    rtl=st.booleans(),
)
def test_marks_never_land_inside_urls_hashtags_or_clusters(words: list[str], rtl: bool) -> None:
    text = " ".join(words)
    out = _iso(text, rtl)
    assert "".join(ch for ch in out if ch not in BIDI_MARKS) == text
    for atom in ("https://x.org/a/b", "#MEK", "#حقوق_بشر", "www.apple.com/ae", "info@x.org"):
        assert out.count(atom) == text.count(atom)
    assert "e" + PDI + "\u0301" not in out and "👍" + PDI not in out
    assert out.count(PDI) == out.count(LRI) + out.count(RLI)


def test_persian_digits_stay_with_the_persian_text() -> None:
    """U+06F0–U+06F9 are EN to Unicode, but belong to the RTL text like Arabic-Indic digits (issue 15)."""
    assert _iso("گزارش MEK ۳ است", True) == f"گزارش {LRI}MEK{PDI} ۳ است"
    assert _iso("گزارش Human Rights Watch، ۱۲ مورد", True) == f"گزارش {LRI}Human Rights Watch{PDI}، ۱۲ مورد"
    assert _iso("گزارش MEK ٣ است", True) == f"گزارش {LRI}MEK{PDI} ٣ است"
    assert _iso("Report ۳ MEK", False) == "Report ۳ MEK"
