"""No secret in any log line: full end-to-end runs with the REAL clients, every logger at DEBUG (the libraries'
own included: httpx logs Telegram URLs with the bot token in them, oauthlib logs OAuth parameters, urllib3 logs
request lines), failures of every kind on every platform, `check` with good and with rejected credentials, and
`retract`. Searched for every secret used: the bot token, the four OAuth values, the Page token, the app secret and
the WhatsApp token.

What is searched: the project's own log output (JSON and text, as `logs.setup` writes it), what any other handler
attached to the root logger would receive (the records as they reach a handler, exceptions formatted), the CLI's
stdout, and the stderr of `syndicator` subprocesses. (The crash and worker tests check their processes' stderr too.)
"""

from __future__ import annotations

import io
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from syndicator import actions, config, logs
from syndicator.app import App
from syndicator.outbound import OutboundGuard
from syndicator.platforms.telegram.publisher import TelegramPublisher
from syndicator.platforms.twitter.publisher import TwitterPublisher
from syndicator.polling import poll_feed
from syndicator.store import Store
from tests.e2e.helpers import (
    ENV,
    TARGETS,
    FakeClock,
    Fakes,
    assert_no_secrets,
    config_text,
    deliveries,
    drive,
    make_feed,
    preserved_logging,
    started_fakes,
    subprocess_env,
    wall_now,
)
from tests.fakes.server import Response
from tests.fakes.twitter import TOO_MANY, UNAUTHORIZED

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

FEED = "/en/feed/"
LIBRARIES = (
    "httpx",
    "httpcore",
    "urllib3",
    "requests",
    "requests_oauthlib",
    "oauthlib",
    "tweepy",
    "telegram",
    "facebook",
    "apscheduler",
    "alembic",
    "sqlalchemy",
    "asyncio",
    "syndicator",
)


class Everything(logging.Handler):
    """What any handler on the root logger receives: each record's message and formatted exception."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.plain = logging.Formatter("%(name)s %(levelname)s %(message)s")

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.plain.format(record) + " " + repr(getattr(record, "fields", "")))


@pytest.fixture
def all_logs() -> Iterator[tuple[io.StringIO, io.StringIO, Everything]]:
    """The project's JSON and text output plus a raw handler, with every logger (libraries too) at DEBUG."""
    json_out, text_out, raw = io.StringIO(), io.StringIO(), Everything()
    with preserved_logging():
        logs.setup("json", "debug", stream=json_out)
        text_handler = logging.StreamHandler(text_out)
        text_handler.setFormatter(logs.TextFormatter())
        root = logging.getLogger()
        root.addHandler(text_handler)
        root.addHandler(raw)
        everything_at_debug()
        yield json_out, text_out, raw


def everything_at_debug() -> None:
    """logs.setup and the publishers quiet the libraries; this test wants every line they can produce."""
    names = set(LIBRARIES) | {n for n in logging.root.manager.loggerDict if isinstance(n, str)}
    for name in names:
        logging.getLogger(name).setLevel(logging.DEBUG)


def build_app(fakes: Fakes, db: str, clock: FakeClock, environ: dict[str, str]) -> App:
    text = config_text(
        fakes,
        db=db,
        feed_url=fakes.site.url_for(FEED),
        first_run="all",
        max_age="0s",
        whatsapp_mode="template",
        timeout="0.5s",
        retry={name: {"backoff": "1s", "on_unknown": "retry"} for name in TARGETS},
        extra={"telegram": {"read_more_button": "Read more"}},
    )
    cfg = config.parse(text, environ=environ)
    publishers: dict[str, Any] = {
        "x": TwitterPublisher(cfg.targets["x"], now=clock, outbound=OutboundGuard(cfg.outbound.allow)),
        "telegram": TelegramPublisher(cfg.targets["telegram"], now=clock),
    }
    return App(cfg, Store(cfg.store.url), clock=clock, _publishers=publishers)


def every_failure(fakes: Fakes) -> None:
    """The first post requests on each platform: a 5xx, a dropped connection, a timeout, a rate limit."""
    late = Response(503, {"detail": "slow"}, delay=0.8)
    fakes.x.inject(
        Response(503, {"title": "Service Unavailable", "status": 503}),
        Response(drop=True),
        late,
        Response(429, {**TOO_MANY, "errors": [{"code": 88}]}, headers={"x-rate-limit-reset": "0"}),
    )
    fakes.telegram.inject(
        Response(502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}),
        Response(drop=True),
        late,
        Response(
            429, {"ok": False, "error_code": 429, "description": "Too Many Requests", "parameters": {"retry_after": 1}}
        ),
    )
    fakes.facebook.inject(fakes.facebook.error_answer(), Response(drop=True), late, Response(500, "<html>oops</html>"))
    fakes.whatsapp.inject(fakes.whatsapp.error_answer(), Response(drop=True), late, Response(502, "bad gateway"))


async def test_no_secret_in_any_log_line_of_a_full_run(
    tmp_path: Path, all_logs: tuple[io.StringIO, io.StringIO, Everything]
) -> None:
    json_out, text_out, raw = all_logs
    clock = FakeClock(wall_now())
    with started_fakes(clock.seconds) as fakes:
        fakes.site.feeds[FEED] = make_feed(6, now=clock.now, image_base=fakes.site.url)
        every_failure(fakes)
        app = build_app(fakes, f"sqlite:///{tmp_path}/s.db", clock, ENV)
        try:
            poll_feed(app, app.config.feed("en"))
            everything_at_debug()  # the publishers set their libraries' levels when they were built
            await drive(app, clock)
            rows = deliveries(app.store)
            checked = await actions.check(app, offline=False)
        finally:
            await app.aclose()
        assert {r.state for r in rows} == {"sent"} and len(rows) == 6 * 5
        assert all(c["ok"] for c in checked), checked

        # the credentials rejected: every platform answers 401 / invalid token
        fakes.x.overrides[("GET", "/2/users/me")] = Response(401, UNAUTHORIZED)
        fakes.facebook.expire_token()
        fakes.whatsapp.expire_token()
        wrong = {**ENV, "TELEGRAM_BOT_TOKEN": "654321:TEST-rejected-token-not-real"}
        app = build_app(fakes, f"sqlite:///{tmp_path}/s.db", clock, wrong)
        try:
            everything_at_debug()
            checked = await actions.check(app, offline=False)
        finally:
            await app.aclose()
        assert [c["ok"] for c in checked] == [False] * 4, checked

        app = build_app(fakes, f"sqlite:///{tmp_path}/s.db", clock, ENV)
        fakes.facebook.token_valid = True
        try:
            report = await actions.retract(app, str(rows[0].article_id), None)
        finally:
            await app.aclose()
        assert report.done

    produced = "\n".join(raw.lines)
    assert "sendMessage" in produced or "sendPhoto" in produced, "the libraries' DEBUG lines were not captured"
    assert_no_secrets(json_out.getvalue(), "the JSON log")
    assert_no_secrets(text_out.getvalue(), "the text log")
    assert_no_secrets(produced, "records as any log handler receives them")


def test_no_secret_in_the_output_of_syndicator_commands(tmp_path: Path) -> None:
    """`syndicator poll` and `syndicator check` as real processes at --log-level debug: stdout and stderr."""
    with started_fakes() as fakes:
        fakes.site.feeds[FEED] = make_feed(3, now=wall_now(), image_base=fakes.site.url)
        every_failure(fakes)
        path = tmp_path / "syndicator.toml"
        text = config_text(
            fakes,
            db=f"sqlite:///{tmp_path}/s.db",
            feed_url=fakes.site.url_for(FEED),
            first_run="all",
            timeout="0.5s",
            # a real process on the wall clock: retries come soon (each failure's lines are what is searched)
            retry={name: {"backoff": "0.2s", "on_unknown": "retry"} for name in TARGETS},
        )
        path.write_text(text, encoding="utf-8")
        outputs: list[subprocess.CompletedProcess[str]] = []
        for args, env in (
            (["poll"], subprocess_env()),
            (["check"], subprocess_env()),
            (["check"], subprocess_env(TELEGRAM_BOT_TOKEN="654321:TEST-rejected-token-not-real")),
        ):
            if args == ["check"] and outputs:
                fakes.facebook.expire_token()
            done = subprocess.run(
                [sys.executable, "-m", "syndicator", *args, "--config", str(path), "--log-level", "debug"],
                capture_output=True,
                text=True,
                env=env,
                cwd=tmp_path,
                timeout=60,
            )
            outputs.append(done)
    assert outputs[0].returncode == 0, outputs[0].stderr[-2000:]
    assert outputs[1].returncode == 1 and "PROBLEM  facebook" in outputs[1].stdout, outputs[1].stdout
    assert "PROBLEM  telegram" in outputs[2].stdout
    for done in outputs:
        assert_no_secrets(done.stdout + done.stderr, f"`syndicator {' '.join(done.args[3:4])}` output")
        assert "rejected-token" not in done.stdout + done.stderr
