"""Files a configuration names, through the real command (`syndicator check --offline --config FILE`, in-process):
only regular files are read, never a pseudo-filesystem, never past a cap; a configuration error is one line on
stderr, exit code 2, naming the file (and the line) and what is wrong, and never quoting the file's content or an
environment variable's value.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from syndicator.cli import main
from syndicator.platforms.whatsapp.recipients import RECIPIENTS_FILE_CAP
from tests.e2e.helpers import preserved_logging

SAMPLE = Path(__file__).resolve().parents[2] / "syndicator" / "data" / "sample-feed.rss"
# in the environment of the command: /proc/self/environ would show it, so would a careless message
SECRET_ENV = {"SYNDICATOR_TEST_API_TOKEN": "env-Secret-value-7f3a9c", "HARMLESS_LOOKING": "quiet-Value-41d8e2"}


def config_text(whatsapp: str) -> str:
    return f"""
[store]
url = "sqlite:///s.db"

[[feeds]]
name = "sample"
url = "{SAMPLE}"
targets = ["whatsapp"]

[targets.whatsapp]
platform = "whatsapp"
phone_number_id = "100000000000001"
mode = "text"
dry_run = true
{whatsapp}
"""


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SYNDICATOR_CONFIG", raising=False)
    for name, value in SECRET_ENV.items():
        monkeypatch.setenv(name, value)


def check(capsys: pytest.CaptureFixture[str], config: str | Path) -> tuple[int, str, str]:
    code = main(["check", "--offline", "--config", str(config)])
    out = capsys.readouterr()
    return code, out.out, out.err


def assert_one_clean_line(out: str, err: str, *must: str, never: tuple[str, ...] = ()) -> str:
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    (line,) = lines
    assert line.startswith("syndicator: configuration error: ")
    for part in must:
        assert part in line, line
    leaked = [s for s in (*SECRET_ENV.values(), *never) if s in err]
    assert not leaked, f"{leaked} in {line}"
    assert "PATH=" not in err and "HOME=" not in err  # nothing of an environment block
    return line


def recipients_file(tmp_path: Path, path: str | Path) -> Path:
    config = tmp_path / "s.toml"
    config.write_text(config_text(f'recipients_file = "{path}"'), encoding="utf-8")
    return config


# ── recipients_file ─────────────────────────────────────────────────────────────────────────────────────────


def test_proc_self_environ_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = check(capsys, recipients_file(tmp_path, "/proc/self/environ"))
    assert code == 2
    assert_one_clean_line(out, err, "s.toml", "recipients_file", "/proc/self/environ", "pseudo-filesystem")


def test_a_symlink_to_proc_self_environ_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "subscribers.txt").symlink_to("/proc/self/environ")
    code, out, err = check(capsys, recipients_file(tmp_path, "subscribers.txt"))
    assert code == 2
    assert_one_clean_line(out, err, "subscribers.txt", "pseudo-filesystem")


def test_a_symlink_to_a_regular_file_is_fine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "real.txt").write_text("+44 7700 900123\n", encoding="utf-8")
    (tmp_path / "subscribers.txt").symlink_to(tmp_path / "real.txt")  # ConfigMap mounts are symlinks
    with preserved_logging():
        code, out, err = check(capsys, recipients_file(tmp_path, "subscribers.txt"))
    assert code == 0, err
    assert "configuration: ok" in out


def test_a_fifo_is_refused_without_blocking(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    os.mkfifo(tmp_path / "subscribers.fifo")  # nobody writes: opening it for reading would block
    code, out, err = check(capsys, recipients_file(tmp_path, "subscribers.fifo"))
    assert code == 2
    assert_one_clean_line(out, err, "subscribers.fifo", "not a regular file", "FIFO")


def test_a_directory_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "subscribers").mkdir()
    code, out, err = check(capsys, recipients_file(tmp_path, "subscribers"))
    assert code == 2
    assert_one_clean_line(out, err, "subscribers", "directory")


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/stdin"])
def test_devices_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], device: str) -> None:
    code, out, err = check(capsys, recipients_file(tmp_path, device))
    assert code == 2
    assert_one_clean_line(out, err, "recipients_file")


def test_a_huge_file_is_refused_unread(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    huge = tmp_path / "subscribers.txt"
    with huge.open("wb") as f:
        f.truncate(RECIPIENTS_FILE_CAP + 1)  # sparse: the size alone refuses it
    code, out, err = check(capsys, recipients_file(tmp_path, "subscribers.txt"))
    assert code == 2
    assert_one_clean_line(out, err, "subscribers.txt", "larger than")


def test_a_bad_line_is_named_not_quoted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    listing = "# opted in\n+44 7711 900999\nsecret-looking garbage 123\n"
    (tmp_path / "subscribers.txt").write_text(listing, encoding="utf-8")
    code, out, err = check(capsys, recipients_file(tmp_path, "subscribers.txt"))
    assert code == 2
    line = assert_one_clean_line(out, err, "subscribers.txt: line 3: ", "E.164", never=("garbage", "7711", "900999"))
    assert line.endswith("not a phone number in E.164 form (+ country code and number, e.g. +44 7700 900123)")


def test_a_national_number_is_named_not_quoted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "subscribers.txt").write_text("447700900123\n\n0912 555 0143\n", encoding="utf-8")
    code, out, err = check(capsys, recipients_file(tmp_path, "subscribers.txt"))
    assert code == 2
    assert_one_clean_line(out, err, "subscribers.txt: line 3: ", "country code", never=("0912", "555"))


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"447700900123\n\xff\xfe payload\n", "line 2: the recipients file is not UTF-8"),
        (b"447700900123\n447700900124\npay\x00load\n", "line 3: the recipients file contains a NUL byte"),
    ],
)
def test_binary_files_are_named_not_quoted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, problem: str
) -> None:
    (tmp_path / "subscribers.txt").write_bytes(content)
    code, out, err = check(capsys, recipients_file(tmp_path, "subscribers.txt"))
    assert code == 2
    assert_one_clean_line(out, err, "subscribers.txt", problem, never=("payload", "pay", "load", "447700900124"))


def test_a_missing_file_names_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = check(capsys, recipients_file(tmp_path, "nowhere.txt"))
    assert code == 2
    assert_one_clean_line(out, err, "s.toml: targets.whatsapp.recipients_file: ", "nowhere.txt", "not found")


def test_an_inline_recipient_is_named_by_its_position(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "s.toml"
    config.write_text(config_text('recipients = ["447700900123", "12"]'), encoding="utf-8")
    code, out, err = check(capsys, config)
    assert code == 2
    assert_one_clean_line(out, err, "targets.whatsapp.recipients: entry 2: has 2 digits")


# ── the configuration file itself ───────────────────────────────────────────────────────────────────────────


def test_the_configuration_file_cannot_be_proc_self_environ(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = check(capsys, "/proc/self/environ")
    assert code == 2
    assert_one_clean_line(out, err, "/proc/self/environ", "pseudo-filesystem")


def test_the_configuration_file_cannot_be_a_fifo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    os.mkfifo(tmp_path / "s.toml")
    code, out, err = check(capsys, tmp_path / "s.toml")
    assert code == 2
    assert_one_clean_line(out, err, "s.toml", "FIFO")


def test_toml_errors_say_where_not_what(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "s.toml"
    env_file_by_mistake = 'SOME_TOKEN = "tok-in-a-file-9a8b"\n[store]\n[store]\n'
    config.write_text(env_file_by_mistake, encoding="utf-8")
    code, out, err = check(capsys, config)
    assert code == 2
    assert_one_clean_line(out, err, "s.toml: not valid TOML: ", "line 3", never=("tok-in-a-file", "'store'"))


def test_a_wrong_value_is_described_not_repeated(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "s.toml"
    pasted = "x" * 5_000
    config.write_text(config_text("").replace('url = "sqlite:///s.db"', f'url = ["{pasted}"]'), encoding="utf-8")
    code, out, err = check(capsys, config)
    assert code == 2
    assert_one_clean_line(out, err, "store.url: expected a string, got a list of 1 item", never=(pasted[:100],))


def test_a_password_or_an_env_secret_in_an_echoed_value_is_redacted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "s.toml"
    secret = SECRET_ENV["SYNDICATOR_TEST_API_TOKEN"]
    bad_url = f"ftp://reader:pw-{secret}@example.org/feed"
    config.write_text(config_text('recipients = ["447700900123"]').replace(str(SAMPLE), bad_url), encoding="utf-8")
    code, out, err = check(capsys, config)
    assert code == 2
    assert_one_clean_line(out, err, "feeds[0]", "url must be http(s)://", "ftp://reader:***@", never=("pw-",))


def test_a_configuration_file_over_the_cap_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "s.toml"
    with config.open("wb") as f:
        f.truncate(1024 * 1024 + 1)
    code, out, err = check(capsys, config)
    assert code == 2
    assert_one_clean_line(out, err, "s.toml", "larger than 1,048,576 bytes")
