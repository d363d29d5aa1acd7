"""Nothing outside a platform's package names the platform (issue 13, point 1): config, the governor, render, the
desk and the rest learn about platforms from the registry, so adding one touches its package, its fake, its tests,
the example config and the README, and nothing else.

The program (every text file under syndicator/, templates and stylesheets included) is searched for each
registered platform's name, aliases and title, outside syndicator/platforms/<its package>/. Tests, bench/, docs and
config/ may name platforms (they drive and describe them); so may what `ALLOWED_FILES` and `ALLOWED_PHRASES` list,
each with its reason.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from syndicator.platforms import registry
from syndicator.platforms.spec import PlatformSpec

PROGRAM = Path(__file__).resolve().parents[2] / "syndicator"
PLATFORMS = PROGRAM / "platforms"
# whole files that may name platforms: what they are is a list of platforms
ALLOWED_FILES = {
    "data/default.toml": "the built-in starter configuration: an example config, one target per platform",
}
# phrases that contain a platform's name without meaning the platform
ALLOWED_PHRASES = {
    "twitter-text": "a library (URL extraction, weighted length, hashtag rules) X, Mastodon and render/ share",
    "graph.facebook.com": "the Graph API's host, in platforms/graph.py, the client the two Meta platforms share",
    "post X": 'X a placeholder: WordPress\'s "The post X appeared first on Y.", "post X went out at URL"',
}
_LIBRARY = re.compile("(?:" + "|".join(re.escape(p) for p in ALLOWED_PHRASES) + r")[\w.-]*")
_SKIPPED_DIRS = {"__pycache__"}


def _package_of(spec: PlatformSpec) -> Path:
    """The directory of the package the spec's publisher lives in: the platform's own package."""
    module = spec.publisher.partition(":")[0].rpartition(".")[0]
    return PROGRAM.parent.joinpath(*module.split("."))


def _term(word: str) -> re.Pattern[str]:
    if len(word) <= 2:
        # a one-letter name is a capital standing alone: not a header's (X-Forwarded-For), not (X)HTML, not x_name
        return re.compile(rf"(?<![\w/.-]){re.escape(word.upper())}(?![\w)-])")
    return re.compile(rf"(?<![a-z]){re.escape(word)}(?![a-z])", re.IGNORECASE)


def _terms(spec: PlatformSpec) -> list[re.Pattern[str]]:
    title = re.sub(r"^(?:an?|the)\s+", "", spec.title)
    return [_term(w) for w in dict.fromkeys([spec.name, *spec.aliases, title])]


def _program_files() -> list[Path]:
    found = []
    for path in sorted(PROGRAM.rglob("*")):
        if path.is_file() and not _SKIPPED_DIRS.intersection(path.parts) and path.suffix not in (".pyc", ".png"):
            found.append(path)
    return found


def _naming(spec: PlatformSpec) -> list[str]:
    own = _package_of(spec)
    terms = _terms(spec)
    hits = []
    for path in _program_files():
        relative = path.relative_to(PROGRAM).as_posix()
        if own in path.parents or relative in ALLOWED_FILES:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # not text
        for number, line in enumerate(text.splitlines(), start=1):
            searched = _LIBRARY.sub("", line)
            if any(term.search(searched) for term in terms):
                hits.append(f"syndicator/{relative}:{number}: {line.strip()[:140]}")
    return hits


SPECS = registry.specs()


def test_every_platform_has_a_package_of_its_own() -> None:
    assert len(SPECS) >= 6
    for spec in SPECS:
        own = _package_of(spec)
        assert own.parent == PLATFORMS and (own / "__init__.py").is_file(), spec.name


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_nothing_outside_its_package_names_a_platform(spec: PlatformSpec) -> None:
    hits = "\n".join(_naming(spec))
    assert not hits, f"{spec.name} is named outside {_package_of(spec).relative_to(PROGRAM.parent)}:\n{hits}"


def test_the_search_finds_a_name_where_there_is_one() -> None:
    # the patterns themselves: a name in any case and inside identifiers, a one-letter name only standing alone
    found = _terms(registry.get("twitter"))
    assert any(t.search("render_twitter(") for t in found) and any(t.search("posts on X.") for t in found)
    assert not any(t.search("X-Forwarded-For, (X)HTML, x_weighted_length, _X_SPECIALS") for t in found)
    assert any(_term("telegram").search(s) for s in ("Telegram's limit", "TELEGRAM_TOKEN", "render_telegram"))
    assert _LIBRARY.sub("", "twitter-text's rule, twitter-text-parser 3.0") == "'s rule,  3.0"
