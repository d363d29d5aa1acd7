"""twitter-text's official conformance suite (tests/data/twitter-text-conformance/, copied unchanged from
twitter/twitter-text, Apache-2.0) against our X counting: every section that applies to what the project uses.

- validate.yml `WeightedTweetsWithDiscountedEmojiCounterTest`, `UnicodeDirectionalMarkerCounterTest` (config v3,
  the one X uses): weighted length, validity, permillage, ranges.
- validate.yml `WeightedTweetsCounterTest` is config v2 (no emoji parsing): run with v3, except the cases listed
  in `SKIPPED` whose emoji v3 counts differently; `tweets` (validity): all.
- extract.yml `urls`, `urls_with_indices`, `urls_with_directional_markers`, `tco_urls_with_params`: our extractor.
- validate.yml `hashtags`, extract.yml `hashtags*`: the hashtag rule our generated hashtags obey.
- tlds.yml: every listed TLD recognised.
Sections for features the project does not have (mentions, lists, replies, cashtags, usernames, `isValidUrl`)
are listed in `NOT_USED` and not run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from syndicator.platforms.twitter._emoji import utf16_units
from syndicator.platforms.twitter.measure import x_parse
from syndicator.render.hashtags import is_valid_hashtag
from syndicator.render.url_extract import extract_urls

DATA = Path(__file__).resolve().parents[1] / "data" / "twitter-text-conformance"

NOT_USED = {
    ("validate.yml", "usernames"): "the project does not validate usernames",
    ("validate.yml", "lists"): "the project does not validate lists",
    ("validate.yml", "urls"): "isValidUrl (RFC 3986 validation) is not used; URL extraction is tested instead",
    ("validate.yml", "urls_without_protocol"): "isValidUrl is not used; URL extraction is tested instead",
    ("extract.yml", "mentions"): "the project does not extract mentions",
    ("extract.yml", "mentions_with_indices"): "the project does not extract mentions",
    ("extract.yml", "mentions_or_lists_with_indices"): "the project does not extract mentions",
    ("extract.yml", "replies"): "the project does not extract replies",
    ("extract.yml", "cashtags"): "the project does not extract cashtags",
    ("extract.yml", "cashtags_with_indices"): "the project does not extract cashtags",
}

# (file, section, description): why the case does not apply
_V2 = (
    "config v2 (no emoji parsing); X and the project use v3, where emoji sequences weigh 2"
    " (the official library gives 7 and 4 under v3, as we do)"
)
_140 = "from the 140-character era: the official library (3.1.0, config v3) accepts these 141 characters too"
SKIPPED: dict[tuple[str, str, str], str] = {
    (
        "validate.yml",
        "WeightedTweetsCounterTest",
        "Count a mix of single byte single word, and double word unicode characters",
    ): _V2,
    (
        "validate.yml",
        "WeightedTweetsCounterTest",
        "Count unicode emoji chars outside the basic multilingual plane with skin tone modifiers",
    ): _V2,
    ("validate.yml", "tweets", "Invalid Tweet: 141 characters"): _140,
    ("validate.yml", "tweets", "Invalid Tweet: 141 characters (due to newline)"): _140,
}


def _load(name: str) -> dict[str, list[dict[str, Any]]]:
    with (DATA / name).open(encoding="utf-8") as f:
        tests: dict[str, list[dict[str, Any]]] = yaml.safe_load(f)["tests"]
    return tests


VALIDATE = _load("validate.yml")
EXTRACT = _load("extract.yml")
TLDS = _load("tlds.yml")


def test_every_section_is_run_or_listed() -> None:
    run = {
        ("validate.yml", s)
        for s in (
            "tweets",
            "hashtags",
            "WeightedTweetsCounterTest",
            "WeightedTweetsWithDiscountedEmojiCounterTest",
            "UnicodeDirectionalMarkerCounterTest",
        )
    } | {
        ("extract.yml", s)
        for s in (
            "urls",
            "urls_with_indices",
            "urls_with_directional_markers",
            "tco_urls_with_params",
            "hashtags",
            "hashtags_from_astral",
            "hashtags_with_indices",
        )
    }
    sections = {("validate.yml", s) for s in VALIDATE} | {("extract.yml", s) for s in EXTRACT}
    assert sections == run | set(NOT_USED)
    assert set(TLDS) == {"country", "generic"}


def _cases(file: str, tests: dict[str, list[dict[str, Any]]], *sections: str) -> list[Any]:
    params = []
    for section in sections:
        for case in tests[section]:
            reason = SKIPPED.get((file, section, case["description"]))
            marks = [pytest.mark.skip(reason=reason)] if reason else []
            params.append(pytest.param(case, id=f"{section}: {case['description']}", marks=marks))
    return params


def _units(text: str, start: int, end: int) -> str:
    """text[start:end] in UTF-16 code units (the suite's indices)."""
    units = utf16_units(text)[start:end]
    return units.encode("utf-16-le", "surrogatepass").decode("utf-16-le")


@pytest.mark.parametrize(
    "case",
    _cases(
        "validate.yml",
        VALIDATE,
        "WeightedTweetsCounterTest",
        "WeightedTweetsWithDiscountedEmojiCounterTest",
        "UnicodeDirectionalMarkerCounterTest",
    ),
)
def test_weighted_length(case: dict[str, Any]) -> None:
    got = x_parse(case["text"])
    expected = case["expected"]
    assert (got.weighted_length, got.valid, got.permillage) == (
        expected["weightedLength"],
        expected["valid"],
        expected["permillage"],
    )
    assert (0, got.valid_range_end, 0, got.display_range_end) == (
        expected["validRangeStart"],
        expected["validRangeEnd"],
        expected["displayRangeStart"],
        expected["displayRangeEnd"],
    )


@pytest.mark.parametrize("case", _cases("validate.yml", VALIDATE, "tweets"))
def test_tweet_validity(case: dict[str, Any]) -> None:
    assert x_parse(case["text"]).valid is case["expected"]


@pytest.mark.parametrize("case", _cases("extract.yml", EXTRACT, "urls", "tco_urls_with_params"))
def test_extract_urls(case: dict[str, Any]) -> None:
    assert [span.url for span in extract_urls(case["text"])] == case["expected"]


@pytest.mark.parametrize("case", _cases("extract.yml", EXTRACT, "urls_with_indices", "urls_with_directional_markers"))
def test_extract_urls_with_indices(case: dict[str, Any]) -> None:
    text = case["text"]
    got = [(span.url, text[span.start : span.end]) for span in extract_urls(text)]
    expected = [(e["url"], _units(text, *e["indices"])) for e in case["expected"]]
    assert got == expected


@pytest.mark.parametrize("case", _cases("validate.yml", VALIDATE, "hashtags"))
def test_hashtag_validity(case: dict[str, Any]) -> None:
    assert is_valid_hashtag(case["text"]) is case["expected"]


@pytest.mark.parametrize("case", _cases("extract.yml", EXTRACT, "hashtags", "hashtags_from_astral"))
def test_extracted_hashtags_are_valid(case: dict[str, Any]) -> None:
    for tag in case["expected"]:
        assert is_valid_hashtag("#" + tag), tag


@pytest.mark.parametrize("case", _cases("extract.yml", EXTRACT, "hashtags_with_indices"))
def test_extracted_hashtags_with_indices_are_valid(case: dict[str, Any]) -> None:
    for entity in case["expected"]:
        assert _units(case["text"], *entity["indices"]) in ("#" + entity["hashtag"], "＃" + entity["hashtag"])
        assert is_valid_hashtag("#" + entity["hashtag"]), entity["hashtag"]


@pytest.mark.parametrize("case", _cases("tlds.yml", TLDS, "country", "generic"))
def test_tld_recognised(case: dict[str, Any]) -> None:
    assert [span.url for span in extract_urls(case["text"])] == case["expected"]
