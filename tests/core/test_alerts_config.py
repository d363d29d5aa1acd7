"""`[alerts]` is a config section like the others: checked at load, a mistake is exit code 2 naming the key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from syndicator import config
from syndicator.alerts import AlertSettings, load_settings
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


def test_alerts_is_a_typed_section_and_secrets_wait_for_the_service() -> None:
    assert config.parse(MINIMAL, environ=ENV).alerts is None
    text = MINIMAL + '\n[alerts]\ntelegram_chat = "@ops"\ntelegram_token_env = "OPS_TOKEN"\n'
    cfg = config.parse(text, environ=ENV)  # the token's variable is not set: config still loads
    assert isinstance(cfg.alerts, AlertSettings) and cfg.alerts.telegram_chat == "@ops"
    with pytest.raises(ConfigError) as caught:
        load_settings(cfg, ENV)
    assert caught.value.key == "alerts.telegram_token_env"
    loaded = load_settings(cfg, {**ENV, "OPS_TOKEN": "999:ops-token-not-real"})
    assert loaded is not None and loaded.telegram_token == "999:ops-token-not-real"


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ("pager = true", "alerts.pager"),
        ("token_expiry_days = -1", "alerts.token_expiry_days"),
        ('timeout = "soon"', "alerts.timeout"),
        ('webhook_url = "ftp://example.org/hook"', "alerts.webhook_url"),
    ],
)
def test_a_bad_alerts_key_is_exit_2_naming_it(
    table: str, key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TEST_TG_TOKEN", ENV["TEST_TG_TOKEN"])
    bad = tmp_path / "bad.toml"
    bad.write_text(MINIMAL + f"\n[store]\nurl = 'sqlite:///{tmp_path / 's.db'}'\n\n[alerts]\n{table}\n")
    with pytest.raises(ConfigError) as caught:
        config.load(bad)
    assert caught.value.key == key
    assert main(["--config", str(bad), "status"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and key in err[0] and str(bad) in err[0]


def test_loading_config_does_not_import_the_http_client() -> None:
    code = "import syndicator.config, sys; print('requests' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "False"
