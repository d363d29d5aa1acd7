from __future__ import annotations

import pytest

from syndicator.render.hashtags import build_hashtags, is_valid_hashtag, make_hashtag


@pytest.mark.parametrize(
    ("name", "underscore", "camel"),
    [
        ("The cult of Rajavi", "#The_cult_of_Rajavi", "#TheCultOfRajavi"),
        ("Mujahedin Khalq Organization members' families", "#Mujahedin_Khalq_Organization_members_families", None),
        ("MEK’s camp", "#MEKs_camp", "#MEKsCamp"),
        ("Pro-Iran / anti-war", "#Pro_Iran_anti_war", "#ProIranAntiWar"),
        ("iPhone 15", "#iPhone_15", "#iPhone15"),
        ("نیم‌فاصله", "#نیم‌فاصله", "#نیم‌فاصله"),  # ZWNJ kept: one hashtag
        ("حقوق بشر", "#حقوق_بشر", "#حقوق_بشر"),  # no capitals in Persian: camel style keeps '_'
        ("Të drejtat e njeriut", "#Të_drejtat_e_njeriut", "#TëDrejtatENjeriut"),
        ("۱۴۰۲", None, None),  # digits only
        ("2024", None, None),
        ("2024 Elections", "#2024_Elections", "#2024Elections"),
        ("🔥 News!", "#News", "#News"),
        ("‌ZWNJ‌ at edges‌", "#ZWNJ_at_edges", "#ZWNJAtEdges"),
        ("!!!", None, None),
    ],
)
def test_make_hashtag(name: str, underscore: str | None, camel: str | None) -> None:
    assert make_hashtag(name, "underscore") == underscore
    if camel is not None or underscore is None:
        assert make_hashtag(name, "camel") == camel


def test_valid_hashtag_rule() -> None:
    assert is_valid_hashtag("#نیم\u200cفاصله")
    assert is_valid_hashtag("#a_1")
    assert not is_valid_hashtag("#123")
    assert not is_valid_hashtag("#a-b")
    assert not is_valid_hashtag("#")
    assert not is_valid_hashtag("tag")


def test_build_hashtags_limit_duplicates_map_and_stoplist() -> None:
    categories = ["Albania", "albania", "News", "The cult of Rajavi", "2022", "Human Rights", "Extra"]
    assert build_hashtags(categories, limit=3) == ["#Albania", "#News", "#The_cult_of_Rajavi"]
    assert build_hashtags(
        categories,
        limit=10,
        style="camel",
        mapping={"the cult of rajavi": "#MEK", "News": ""},
        stoplist=["#humanrights", "Human Rights", "extra"],
    ) == ["#Albania", "#MEK"]


def test_twenty_categories() -> None:
    categories = [f"Category number {i}" for i in range(20)]
    assert len(build_hashtags(categories, limit=30)) == 20
    assert len(build_hashtags(categories, limit=3)) == 3
