"""Configuration: typed settings, and one clear message (file, key, problem) with exit code 2 for every mistake."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from syndicator import config
from syndicator.cli import main
from syndicator.errors import ConfigError

MINIMAL = """
[[feeds]]
name = "en"
url = "https://example.org/en/feed/"
targets = ["tg"]

[targets.tg]
platform = "telegram"
chat = "@example_en"
token_env = "TEST_TG_TOKEN"
"""
ENV = {"TEST_TG_TOKEN": "123456:TEST-token-not-real"}


def test_minimal_config_has_sane_defaults() -> None:
    cfg = config.parse(MINIMAL, environ=ENV)
    feed = cfg.feeds[0]
    assert feed.every == timedelta(minutes=2)
    assert feed.first_run == "skip" and feed.latest_on_first_run == 0
    assert feed.max_age == timedelta(days=2)
    tg = cfg.targets["tg"]
    assert tg.platform == "telegram" and not tg.dry_run
    assert tg.secrets["token"] == "123456:TEST-token-not-real"
    assert "TEST-token" not in repr(tg) and "TEST-token" not in repr(cfg)


def test_embedded_defaults_and_repository_default_agree(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    repo_default = config.load(Path(__file__).parents[2] / "config" / "syndicator.toml", environ={})
    monkeypatch.chdir(tmp_path)  # no config/syndicator.toml here: the embedded defaults apply
    embedded = config.load(environ={})
    assert embedded.source == config.EMBEDDED
    assert Path(embedded.feeds[0].url).read_bytes() == Path(repo_default.feeds[0].url).read_bytes()
    assert [f.name for f in embedded.feeds] == [f.name for f in repo_default.feeds]
    assert embedded.targets.keys() == repo_default.targets.keys()
    assert all(t.dry_run for t in embedded.targets.values())


def test_example_config_is_valid_with_its_secrets() -> None:
    example = Path(__file__).parents[2] / "config" / "example.toml"
    with pytest.raises(ConfigError) as err:
        config.load(example, environ={})
    # every missing secret at once (issue 15), not one per run
    assert "environment variables are not set: X_EN_API_KEY (targets.x_en.api_key_env); " in str(err.value)
    assert "WHATSAPP_TOKEN (targets.whatsapp_sq.token_env)" in str(err.value)
    cfg = config.load(example, environ={}, dry_run=True)
    assert {f.language for f in cfg.feeds} == {"en", "ar", "fa", "sq"}
    platforms = {"twitter", "telegram", "facebook", "whatsapp", "bluesky", "mastodon"}
    assert {t.platform for t in cfg.targets.values()} == platforms


@pytest.mark.parametrize(
    ("change", "key", "words"),
    [
        (("[targets.tg]", "[targets.tg]\ncolour = 'red'"), "targets.tg.colour", "unknown key"),
        (('url = "https://example.org/en/feed/"\n', ""), "feeds[0].url", "missing required key"),
        (('targets = ["tg"]', 'targets = ["tg"]\nevery = "soon"'), "feeds[0].every", "bad duration"),
        (('targets = ["tg"]', 'targets = ["tg", "nope"]'), "feeds[0].targets", "unknown target 'nope'"),
        (('platform = "telegram"', 'platform = "myspace"'), "targets.tg.platform", "must be one of"),
        (('token_env = "TEST_TG_TOKEN"', 'token_env = "UNSET_VAR_X"'), "targets.tg.token_env", "UNSET_VAR_X"),
        (('chat = "@example_en"\n', ""), "targets.tg", "needs 'chat'"),
        (("[targets.tg]", "[bogus]\n[targets.tg]"), "bogus", "unknown section"),
        (("[targets.tg]", "[targets.tg.limits]\nquotas = ['lots']\n[targets.tg]"), "targets.tg.limits", "bad quota"),
        (('targets = ["tg"]', "targets = []"), "feeds[0]", "no targets"),
        (("https://example.org/en/feed/", "ftp://example.org/feed"), "feeds[0]", "http(s)://"),
    ],
)
def test_each_mistake_names_the_key(change: tuple[str, str], key: str, words: str) -> None:
    text = MINIMAL.replace(*change)
    with pytest.raises(ConfigError) as err:
        config.parse(text, source="site.toml", environ=ENV)
    message = str(err.value)
    assert message.startswith("site.toml: ")
    assert key in message and words in message


def test_cli_exit_code_2_and_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(MINIMAL.replace('every = "2m"', "") + "\n[store]\nurl = 5\n")
    assert main(["--config", str(bad), "status"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "store.url" in err[0] and str(bad) in err[0]
    assert main(["--config", str(tmp_path / "missing.toml"), "status"]) == 2
    assert "not found" in capsys.readouterr().err
    (tmp_path / "broken.toml").write_text("[[feeds]\n")
    assert main(["--config", str(tmp_path / "broken.toml"), "check", "--offline"]) == 2
    assert "not valid TOML" in capsys.readouterr().err


def test_dry_run_flag_needs_no_secrets() -> None:
    cfg = config.parse(MINIMAL, environ={}, dry_run=True)
    assert cfg.targets["tg"].dry_run


def test_database_url_from_environment() -> None:
    cfg = config.parse(MINIMAL, environ={**ENV, "SYNDICATOR_DB_URL": "postgresql://u:pw@127.0.0.1/db"})
    assert cfg.store.url == "postgresql://u:pw@127.0.0.1/db"
