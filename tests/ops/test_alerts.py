"""Alerts on the running worker: each condition is announced once on every channel (a fake Telegram Bot API, a
webhook sink, SMTP on loopback with aiosmtpd) and recovers once. Time moves on an injected clock."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes
from email.message import Message
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from sqlalchemy import select

from syndicator import events as ev
from syndicator.alerts import AlertService, Conditions, StoreSnapshot, load_settings, ops_services
from syndicator.app import App
from syndicator.article import Identity
from syndicator.errors import AuthError, ConfigError, Permanent
from syndicator.gaps import FeedGap
from syndicator.limits import WaitKind
from syndicator.status import collect_status
from syndicator.store import deliveries as outbox
from syndicator.store import gaps as gap_store
from syndicator.store import manage
from syndicator.store import tables as t
from tests.fakes.server import Response
from tests.ops.support import (
    ALERT_TOKEN,
    Clock,
    FakeBotApi,
    FeedSite,
    Running,
    WebhookSink,
    make_app,
    make_config,
    running_worker,
    wait_until,
)

SMTP_USER, SMTP_PASSWORD = "alerts", "smtp-secret-password-123"
ENV = {
    "TG_A_TOKEN": "111111:token-a-not-real-aaaaaaaaaaaa",
    "TG_B_TOKEN": "222222:token-b-not-real-bbbbbbbbbbbb",
    "FB_TOKEN": "EAAB-facebook-page-token-not-real",
    "ALERT_BOT_TOKEN": ALERT_TOKEN,
    "SMTP_USER": SMTP_USER,
    "SMTP_PASSWORD": SMTP_PASSWORD,
}
CONFIG = """
[store]
url = "sqlite:///{db}"

[[feeds]]
name = "en"
url = "{feed}"
every = "1h"
max_age = "0s"
targets = ["tg_a", "tg_b", "fb", "x_dry"]

[targets.tg_a]
platform = "telegram"
chat = "@a"
token_env = "TG_A_TOKEN"
limits = {{ min_spacing = "0s", quotas = ["1/1h"] }}

[targets.tg_b]
platform = "telegram"
chat = "@b"
token_env = "TG_B_TOKEN"
limits = {{ min_spacing = "0s", max_posts_per_day = 1 }}

[targets.fb]
platform = "facebook"
page_id = "1000"
token_env = "FB_TOKEN"
limits = {{ min_spacing = "0s" }}

[targets.x_dry]
platform = "twitter"
dry_run = true

[alerts]
telegram_chat = "@ops"
telegram_token_env = "ALERT_BOT_TOKEN"
telegram_api_base = "{bot}"
webhook_url = "{hook}"
smtp_host = "127.0.0.1"
smtp_port = {smtp_port}
smtp_from = "syndicator@news.example.org"
smtp_to = ["desk@news.example.org", "oncall@news.example.org"]
smtp_user_env = "SMTP_USER"
smtp_password_env = "SMTP_PASSWORD"
smtp_starttls = false
feed_failing_after = "30m"
token_expiry_days = 7
"""


# ── SMTP on loopback ─────────────────────────────────────────────────────────────────────────────────────────


@dataclass
class MailSink:
    messages: list[Message] = field(default_factory=list)
    logins: list[tuple[str, bool]] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        self.messages.append(message_from_bytes(envelope.content, policy=default_policy))
        return "250 OK"

    def authenticate(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            SMTP_USER.encode(),
            SMTP_PASSWORD.encode(),
        )
        self.logins.append((data.login.decode() if isinstance(data, LoginPassword) else "?", ok))
        return AuthResult(success=ok, handled=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[tuple[Controller, MailSink]]:
    sink = MailSink()
    controller = Controller(
        sink, hostname="127.0.0.1", port=_free_port(), authenticator=sink.authenticate, auth_require_tls=False
    )
    controller.start()
    try:
        yield controller, sink
    finally:
        controller.stop()


@pytest.fixture
def mail(smtp_server: tuple[Controller, MailSink]) -> tuple[int, MailSink]:
    controller, sink = smtp_server
    sink.messages.clear()
    sink.logins.clear()
    return int(controller.port), sink


@pytest.fixture
def site() -> Iterator[FeedSite]:
    with FeedSite() as s:
        yield s


@pytest.fixture
def bot() -> Iterator[FakeBotApi]:
    with FakeBotApi() as b:
        yield b


@pytest.fixture
def hook() -> Iterator[WebhookSink]:
    with WebhookSink() as h:
        yield h


# ── the harness ──────────────────────────────────────────────────────────────────────────────────────────────


@dataclass
class Ops:
    tmp: Path
    site: FeedSite
    bot: FakeBotApi
    hook: WebhookSink
    mail: MailSink
    smtp_port: int
    clock: Clock = field(default_factory=Clock)
    service: AlertService = field(init=False)

    def __post_init__(self) -> None:
        self.site.publish(1, self.clock.now - timedelta(hours=2))
        self.site.publish(2, self.clock.now - timedelta(hours=1))
        self.story = 2

    def config_text(self, **overrides: str) -> str:
        text = CONFIG.format(
            db=self.tmp / "s.db",
            feed=self.site.url + "/en/feed/",
            bot=self.bot.url,
            hook=self.hook.url + WebhookSink.path,
            smtp_port=self.smtp_port,
        )
        for old, new in overrides.items():
            text = text.replace(old, new)
        return text

    def app(self) -> tuple[App, dict[str, Any]]:
        cfg = make_config(self.config_text(), ENV)
        return make_app(cfg, self.clock)

    def start(self, app: App, *, first_polls: bool = True) -> Any:
        settings = load_settings(app.config, ENV)
        assert settings is not None
        service = AlertService(app, settings, tick=0.02)
        self.service = service
        return running_worker(app, [lambda _worker: service.run()], http=False, first_polls=first_polls)

    async def new_story(self, run: Running) -> None:
        self.story += 1
        self.site.publish(self.story, self.clock.now - timedelta(minutes=1))
        await run.worker.poll(run.worker.app.config.feed("en"))

    # what each channel received for one condition
    def webhook(self, condition: str) -> list[str]:
        return [d["status"] for d in self.hook.documents if d["condition"] == condition]

    def telegram(self, title: str) -> list[str]:
        return [m.split(":", 1)[0] for m in self.bot.texts() if title in m.split("\n", 1)[0]]

    def mails(self, title: str) -> list[str]:
        return [str(m["Subject"]) for m in self.mail.messages if title in str(m["Subject"])]

    async def expect(self, condition: str, title: str, states: list[str]) -> None:
        """Every channel got exactly these messages for the condition (firing, resolved, ...)."""
        await wait_until(lambda: self.webhook(condition) == states, what=f"{condition} {states} on the webhook")
        icons = {"firing": "🔴 ALERT", "resolved": "✅ RESOLVED"}
        await wait_until(
            lambda: self.telegram(title) == [icons[s] for s in states], what=f"{condition} {states} on Telegram"
        )
        await wait_until(lambda: len(self.mails(title)) == len(states), what=f"{condition} {states} by mail")
        for subject, state in zip(self.mails(title), states, strict=True):
            assert subject.startswith(f"[syndicator] {'ALERT' if state == 'firing' else 'RESOLVED'}: ")

    async def quiet(self) -> None:
        """Three more store views applied by the alert service (and what they raised sent): a duplicate would have
        shown up by then. Counted in ticks, not seconds, so a slow machine waits longer instead of failing."""
        seen = self.service.store_views
        await wait_until(lambda: self.service.store_views >= seen + 3, what="three alert-service ticks")
        await wait_until(lambda: self.service.unsent == 0, what="the alert outbox to drain")


@pytest.fixture
def ops(tmp_path: Path, site: FeedSite, bot: FakeBotApi, hook: WebhookSink, mail: tuple[int, MailSink]) -> Ops:
    return Ops(tmp_path, site, bot, hook, mail[1], mail[0])


def unknown_ids(app: App, target: str) -> list[int]:
    d = t.deliveries
    with app.store.engine.connect() as conn:
        return [r[0] for r in conn.execute(select(d.c.id).where(d.c.target == target, d.c.state == "unknown"))]


# ── one test per condition ───────────────────────────────────────────────────────────────────────────────────


async def test_authorization_pause_alerts_once_and_recovers_when_the_pause_is_lifted(ops: Ops) -> None:
    app, pubs = ops.app()
    pubs["tg_a"].outcomes.append(AuthError("401 Unauthorized: the bot token was revoked"))
    async with ops.start(app) as run:
        # the start-up credential check passes (and a passing check resumes a paused target): it is done and
        # applied before the post that fails, so that it cannot lift this test's pause at a random moment
        await wait_until(lambda: pubs["tg_a"].checks >= 1, what="the start-up credential check")
        await ops.quiet()
        await ops.new_story(run)
        await ops.expect("auth:tg_a", "tg_a: authorization failed", ["firing"])
        await ops.new_story(run)  # held back by the pause: no second alert
        await wait_until(lambda: any(e["target"] == "tg_a" for e in run.events.named("ratelimit.wait")))
        await ops.quiet()
        await ops.expect("auth:tg_a", "tg_a: authorization failed", ["firing"])
        assert ops.webhook("failed:tg_a") == []  # the auth alert says it, with what to do
        outbox.clear_auth_pause(app.store, "tg_a", now=ops.clock())  # what `syndicator check` does
        await ops.expect("auth:tg_a", "tg_a: authorization", ["firing", "resolved"])
    text = ops.bot.texts()[0]
    assert "revoked" in text and "syndicator check" in text
    assert all(m["chat_id"] == "@ops" for m in ops.bot.messages)
    assert ops.mail.logins and all(ok for _, ok in ops.mail.logins)
    assert ops.mail.messages[0]["To"] == "desk@news.example.org, oncall@news.example.org"


async def test_failed_deliveries_alert_once_and_recover_when_a_post_goes_out(ops: Ops) -> None:
    app, pubs = ops.app()
    pubs["fb"].outcomes.extend([Permanent("(#100) the link is invalid"), Permanent("(#100) the link is invalid")])
    async with ops.start(app) as run:
        await ops.new_story(run)
        await ops.expect("failed:fb", "fb: a delivery failed", ["firing"])
        await ops.new_story(run)  # fails too: the same condition, no second message
        await wait_until(lambda: len([e for e in run.events.named("delivery.failed") if e["target"] == "fb"]) == 2)
        await ops.quiet()
        await ops.expect("failed:fb", "fb: a delivery failed", ["firing"])
        await ops.new_story(run)  # posted
        await ops.expect("failed:fb", "fb: ", ["firing", "resolved"])
    assert "the link is invalid" in ops.hook.documents[0]["text"]


async def test_unknown_outcome_alerts_once_and_recovers_when_every_unknown_is_settled(ops: Ops) -> None:
    app, pubs = ops.app()
    pubs["fb"].outcomes.extend([ConnectionResetError("reset mid-call"), ConnectionResetError("reset mid-call")])
    async with ops.start(app) as run:
        await ops.new_story(run)
        await ops.expect("unknown:fb", "fb: a delivery's outcome is unknown", ["firing"])
        await ops.new_story(run)
        await wait_until(lambda: len(unknown_ids(app, "fb")) == 2)
        await ops.quiet()
        await ops.expect("unknown:fb", "fb: a delivery's outcome is unknown", ["firing"])
        first, second = unknown_ids(app, "fb")
        manage.requeue(app.store, first, now=ops.clock())  # `resend --yes`, for one of the two
        run.worker.wake.set()
        await wait_until(lambda: len([e for e in run.events.named("delivery.sent") if e["target"] == "fb"]) == 1)
        await ops.quiet()  # one is still unknown: nothing to say yet
        await ops.expect("unknown:fb", "fb: a delivery's outcome is unknown", ["firing"])
        manage.requeue(app.store, second, now=ops.clock())
        await ops.expect("unknown:fb", "fb: ", ["firing", "resolved"])
    assert "syndicator resend" in ops.hook.documents[0]["text"]


async def test_feed_failing_longer_than_the_threshold_alerts_once_and_recovers_on_a_good_poll(ops: Ops) -> None:
    app, _ = ops.app()
    async with ops.start(app) as run:
        feed = app.config.feed("en")
        ops.site.fail_next(Response(500, "upstream down"))
        await run.worker.poll(feed)
        ops.clock.advance(minutes=29)
        await ops.quiet()
        assert ops.webhook("feed:en") == []  # failing, but not for long enough
        ops.clock.advance(minutes=2)
        await ops.expect("feed:en", "feed en: failing for 31m", ["firing"])
        ops.site.fail_next(Response(500, "upstream down"))
        await run.worker.poll(feed)
        ops.clock.advance(minutes=30)
        await ops.quiet()
        await ops.expect("feed:en", "feed en: failing", ["firing"])
        await run.worker.poll(feed)
        await ops.expect("feed:en", "feed en: ", ["firing", "resolved"])
    assert "500" in ops.hook.documents[0]["text"]


async def test_quota_and_cost_cap_alert_once_and_recover_when_posting_resumes(ops: Ops) -> None:
    app, _ = ops.app()
    async with ops.start(app) as run:
        await ops.new_story(run)  # tg_a (1 per hour) and tg_b (1 per day) post it
        await ops.new_story(run)  # both must wait
        await ops.expect("limit:tg_a", "tg_a: quota 1/1h reached", ["firing"])
        await ops.expect("limit:tg_b", "tg_b: cost cap: 1 posts/day reached", ["firing"])
        # the governor says it again on the next claim: still one message
        ev.emit(ev.RateLimitWait(target="tg_a", until=ops.clock.now, reason="quota 1/1h reached", kind=WaitKind.QUOTA))
        await ops.quiet()
        await ops.expect("limit:tg_a", "tg_a: quota", ["firing"])
        ops.clock.advance(hours=25)
        run.worker.wake.set()
        await ops.expect("limit:tg_a", "tg_a: ", ["firing", "resolved"])
        await ops.expect("limit:tg_b", "tg_b: ", ["firing", "resolved"])


async def test_token_expiry_and_credential_check_from_the_daily_check(ops: Ops) -> None:
    app, pubs = ops.app()
    pubs["fb"].identity = Identity("News Page", "1000", expires_at=ops.clock.now + timedelta(days=3))
    pubs["tg_a"].identity = AuthError("401 Unauthorized")
    async with ops.start(app) as run:
        await ops.expect("expiry:fb", "fb: access token expires", ["firing"])
        await ops.expect("auth:tg_a", "tg_a: credential check failed", ["firing"])
        ops.clock.advance(days=1, minutes=1)  # the next daily check: nothing new
        await wait_until(lambda: pubs["fb"].checks == 2 and pubs["tg_a"].checks == 2)
        await ops.quiet()
        await ops.expect("expiry:fb", "fb: access token expires", ["firing"])
        await ops.expect("auth:tg_a", "tg_a: credential check failed", ["firing"])
        pubs["fb"].identity = Identity("News Page", "1000", expires_at=ops.clock.now + timedelta(days=60))
        pubs["tg_a"].identity = Identity("@alerts_bot")
        ops.clock.advance(days=1, minutes=1)
        await ops.expect("expiry:fb", "fb: access token", ["firing", "resolved"])
        await ops.expect("auth:tg_a", "tg_a: ", ["firing", "resolved"])
    expiry = next(d for d in ops.hook.documents if d["condition"] == "expiry:fb")
    assert "(in 3.0 days)" in expiry["text"]
    assert {e["target"] for e in run.events.named("alert.check")} == {"tg_a", "tg_b", "fb"}  # never the dry run


async def test_a_restart_adopts_what_the_store_shows_and_still_sends_the_recovery(ops: Ops) -> None:
    app, pubs = ops.app()
    pubs["tg_a"].outcomes.append(AuthError("401 Unauthorized"))
    pubs["tg_a"].identity = AuthError("401 Unauthorized")  # its check fails too (a passing one resumes it)
    pubs["tg_b"].outcomes.append(ConnectionResetError("reset mid-call"))
    async with ops.start(app) as run:
        await ops.new_story(run)
        ops.site.fail_next(Response(500, "down"))
        await run.worker.poll(app.config.feed("en"))
        ops.clock.advance(minutes=31)
        await ops.expect("auth:tg_a", "tg_a: ", ["firing"])  # the failed post or the failed check, first
        await ops.expect("unknown:tg_b", "tg_b: a delivery", ["firing"])
        await ops.expect("feed:en", "feed en: failing", ["firing"])
    assert len(ops.hook.documents) == 3

    # the same database, a new process: nothing is announced again
    app2, _ = ops.app()
    async with ops.start(app2, first_polls=False) as run:  # the clock is ahead: the scheduler's poll is not due
        # the restart's credential check passes: tg_a resumes by itself (issue 15), its recovery is announced
        await ops.expect("auth:tg_a", "tg_a: ", ["firing", "resolved"])
        await ops.quiet()
        assert len(ops.hook.documents) == 4  # nothing that was firing is announced again
        assert {e["condition"] for e in run.events.named("alert.adopted")} == {"auth:tg_a", "unknown:tg_b", "feed:en"}
        for delivery in unknown_ids(app2, "tg_b"):
            manage.requeue(app2.store, delivery, now=ops.clock())
        run.worker.wake.set()
        await run.worker.poll(app2.config.feed("en"))
        await ops.expect("unknown:tg_b", "tg_b: ", ["firing", "resolved"])
        await ops.expect("feed:en", "feed en: ", ["firing", "resolved"])


async def test_a_feed_gap_alerts_from_the_store_is_adopted_after_a_restart_and_clears_when_closed(ops: Ops) -> None:
    app, _ = ops.app()
    async with ops.start(app) as run:
        # a burst the feed window cannot show: every item is new, and this site answers every ?paged=N with the
        # same window, so paging back never meets a known item
        ops.site.items = [(100 + n, ops.clock.now - timedelta(minutes=n + 1)) for n in range(3)]
        await run.worker.poll(app.config.feed("en"))
        await ops.expect("gap:en", "feed en: ", ["firing"])
        assert [e["closed"] for e in run.events.named("feed.gap")] == [False]
    status = collect_status(app)
    assert status["feeds"][0]["gap"].startswith("gap at ") and "no known item within" in status["feeds"][0]["gap"]

    # the same database, a new process: the open gap is the store's, so it is adopted, not forgotten
    ops.clock.advance(minutes=5)  # ahead of the real clock: the scheduler's first poll (which would close it) waits
    app2, _ = ops.app()
    async with ops.start(app2, first_polls=False) as run:
        await ops.quiet()
        assert "gap:en" in {e["condition"] for e in run.events.named("alert.adopted")}
        assert ops.webhook("gap:en") == ["firing"]  # not announced twice
        # another worker's poll meets known items again: this process saw no event, its store view clears it
        gap_store.close_gap(app2.store, "en", now=ops.clock())
        await ops.expect("gap:en", "feed en: ", ["firing", "resolved"])
    line = collect_status(app2)["feeds"][0]["gap"]
    assert "(closed " in line  # shown for a day, marked closed


async def test_channel_failures_are_logged_without_secrets_and_never_stop_the_worker(ops: Ops) -> None:
    with WebhookSink() as gone:
        closed = gone.url  # a port nobody listens on once the sink stops
    text = ops.config_text(**{ops.hook.url + WebhookSink.path: closed + WebhookSink.path})
    env = dict(ENV, SMTP_PASSWORD="a-wrong-password-456")
    cfg = make_config(text, env)
    app, pubs = make_app(cfg, ops.clock)
    pubs["fb"].outcomes.append(Permanent("rejected"))
    settings = load_settings(cfg, env)
    assert settings is not None
    ops.bot.fail_next(Response(500, {"ok": False, "error_code": 500, "description": "Internal Server Error"}))
    async with running_worker(app, [lambda _w: AlertService(app, settings, tick=0.02).run()], http=False) as run:
        await ops.new_story(run)
        await wait_until(lambda: len(run.events.named("alert.failed")) == 3, what="three failed channels")
        failures = {e["channel"]: e["error"] for e in run.events.named("alert.failed")}
        assert failures["telegram"] == "Telegram answered 500: Internal Server Error"
        assert failures["webhook"].startswith("ConnectionError (webhook at 127.0.0.1:")
        assert failures["smtp"].startswith("SMTP 127.0.0.1:") and "535" in failures["smtp"]
        await ops.new_story(run)  # the pipeline goes on: the next post to fb is sent
        await wait_until(lambda: any(e["target"] == "fb" for e in run.events.named("delivery.sent")))
    logged = repr(run.events.seen)
    for secret in (ALERT_TOKEN, "a-wrong-password-456", WebhookSink.path):
        assert secret not in logged


# ── pieces ───────────────────────────────────────────────────────────────────────────────────────────────────


def test_gap_conditions_follow_the_store_and_its_events() -> None:
    clock = Clock()
    conditions = Conditions(
        targets={}, feeds=["en"], feed_failing_after=timedelta(minutes=30), expiry_window=None, clock=clock
    )
    gap = {"en": (clock.now, "feed page ?paged=3 could not be read: 404")}
    empty = StoreSnapshot(started=1.0, now=clock.now, auth_failed={}, unknown={}, feeds={})
    snap = StoreSnapshot(started=1.0, now=clock.now, auth_failed={}, unknown={}, feeds={}, gaps=gap)
    raised = conditions.on_store(snap, adopt=False)
    assert [(a.condition, a.resolved) for a in raised] == [("gap:en", False)]
    assert "?paged=3 could not be read" in raised[0].text
    assert conditions.on_store(snap, adopt=False) == []  # once
    closed = FeedGap(feed="en", closed=True, pages=0, found=0, reason="the feed overlaps known items again")
    assert [(a.condition, a.resolved) for a in conditions.on_event(closed, 5.0)] == [("gap:en", True)]
    stale = StoreSnapshot(started=4.0, now=clock.now, auth_failed={}, unknown={}, feeds={}, gaps=gap)
    assert conditions.on_store(stale, adopt=False) == []  # read before the gap was closed: not raised again
    assert [a.condition for a in conditions.on_store(
        StoreSnapshot(started=6.0, now=clock.now, auth_failed={}, unknown={}, feeds={}, gaps=gap), adopt=False
    )] == ["gap:en"]  # fmt: skip
    assert [(a.condition, a.resolved) for a in conditions.on_store(
        StoreSnapshot(started=7.0, now=clock.now, auth_failed={}, unknown={}, feeds={}), adopt=False
    )] == [("gap:en", True)]  # fmt: skip
    assert empty.gaps == {}


def test_a_store_view_older_than_an_event_does_not_undo_it(ops: Ops) -> None:
    app, _ = ops.app()
    conditions = Conditions(
        targets=app.config.targets,
        feeds=["en"],
        feed_failing_after=timedelta(minutes=30),
        expiry_window=None,
        clock=ops.clock,
    )
    raised = conditions.on_event(ev.TargetPaused(target="tg_a", reason="authorization"), received=10.0)
    assert [a.condition for a in raised] == ["auth:tg_a"]
    stale = StoreSnapshot(started=9.0, now=ops.clock(), auth_failed={}, unknown={}, feeds={})
    assert conditions.on_store(stale, adopt=False) == []  # read before the pause was committed
    current = StoreSnapshot(started=11.0, now=ops.clock(), auth_failed={}, unknown={}, feeds={})
    assert [(a.condition, a.resolved) for a in conditions.on_store(current, adopt=False)] == [("auth:tg_a", True)]


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({'telegram_token_env = "ALERT_BOT_TOKEN"': ""}, "alerts.telegram_token_env"),
        ({'"ALERT_BOT_TOKEN"': '"NOT_SET_ANYWHERE"'}, "alerts.telegram_token_env"),
        ({'webhook_url = "': 'webhook_url = "ftp://'}, "alerts.webhook_url"),
        ({'smtp_from = "syndicator@news.example.org"': ""}, "alerts.smtp_from"),
        ({'smtp_to = ["desk@news.example.org", "oncall@news.example.org"]': 'smtp_to = "desk"'}, "alerts.smtp_to"),
        ({'smtp_user_env = "SMTP_USER"': ""}, "alerts.smtp_user_env"),
        ({"smtp_port = ": "smtp_port = 70000 #"}, "alerts.smtp_port"),
        ({"smtp_starttls = false": 'webhook_url_env = "HOOK_URL"'}, "alerts.webhook_url_env"),
        ({'feed_failing_after = "30m"': 'feed_failing_after = "soon"'}, "alerts.feed_failing_after"),
        ({"token_expiry_days = 7": "token_expiry_days = -1"}, "alerts.token_expiry_days"),
        ({"token_expiry_days = 7": 'token_expiry_days = "7"'}, "alerts.token_expiry_days"),
        ({"token_expiry_days = 7": "pager = true"}, "alerts.pager"),
    ],
)
def test_configuration_mistakes_name_the_key(ops: Ops, change: dict[str, str], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        ops_services(make_config(ops.config_text(**change), ENV), ENV)
    assert caught.value.key == key


def test_configuration_without_alerts_runs_metrics_only_and_keeps_secrets_out_of_reprs(ops: Ops) -> None:
    cfg = make_config(ops.config_text(), ENV)
    settings = load_settings(cfg, ENV)
    assert settings is not None
    assert settings.settings.feed_failing_after == timedelta(minutes=30)
    assert settings.settings.recipients == ["desk@news.example.org", "oncall@news.example.org"]
    assert ALERT_TOKEN not in repr(settings) and SMTP_PASSWORD not in repr(settings)
    assert [c.name for c in settings.channels()] == ["telegram", "webhook", "smtp"]
    assert len(ops_services(cfg, ENV)) == 2
    bare = make_config(ops.config_text().split("[alerts]")[0], ENV)
    assert load_settings(bare, ENV) is None and len(ops_services(bare, ENV)) == 1
    smtp_only = '[alerts]\nsmtp_host = "h"\nsmtp_from = "a@b"\nsmtp_to = "c@d"\nfeed_failing_after = "1h"\n'
    one = make_config(ops.config_text().split("[alerts]")[0] + smtp_only, ENV)
    single = load_settings(one, ENV)
    assert single is not None and single.settings.recipients == ["c@d"] and single.settings.smtp_starttls
