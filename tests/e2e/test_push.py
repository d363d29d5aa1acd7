"""On publish, not on the next poll: the signed webhook, WebSub, the cancel window, corrections and withdrawals —
the real worker (scheduler, HTTP listener, dispatcher) against a fake WordPress site and fake platforms."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest
import requests
from sqlalchemy import select

from syndicator import config
from syndicator.app import App
from syndicator.cli import main
from syndicator.sources.webhook import sign
from syndicator.store import Store
from syndicator.store import tables as t
from syndicator.worker import Worker
from tests.fakes.facebook import FakeFacebook
from tests.fakes.feeds import FeedSite, fixture, refresh_dates
from tests.fakes.server import FakeServer, Request, Response
from tests.fakes.telegram import FakeTelegram
from tests.fakes.twitter import FakeX

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

SECRET = "webhook-secret-TEST-not-real-0123456789"
ENV = {
    "TG_TOKEN": "123456:TEST-token-not-real",
    "FB_TOKEN": "EAA-TEST-not-a-real-token",
    "X_KEY": "X-API-KEY-not-real",
    "X_SECRET": "X-API-SECRET-not-real",
    "X_TOKEN": "1-X-ACCESS-TOKEN-not-real",
    "X_TOKEN_SECRET": "X-ACCESS-SECRET-not-real",
    "HOOK_SECRET": SECRET,
}


class FakeWordPress(FeedSite):
    """The feed plus `/wp-json/wp/v2/posts/{id}`; `rest[id]` is a post document, an HTTP status (answered with
    WordPress's own error document for it) or a whole Response (what a CDN or a security plugin might say)."""

    ERRORS: ClassVar[dict[int, tuple[str, str]]] = {
        401: ("rest_forbidden", "Sorry, you are not allowed to do that."),
        403: ("rest_forbidden", "Sorry, you are not allowed to do that."),
        404: ("rest_post_invalid_id", "Invalid post ID."),
    }

    def __init__(self) -> None:
        super().__init__()
        self.rest: dict[int, dict[str, Any] | int | Response] = {}

    def handle(self, request: Request) -> Response:
        match = re.fullmatch(r"(?:/[^/]+)*/wp-json/wp/v2/posts/(\d+)", request.path)  # the site may be /en
        if match:
            doc = self.rest.get(int(match.group(1)), 404)
            if isinstance(doc, Response):
                return doc
            if isinstance(doc, int):
                code, message = self.ERRORS.get(doc, ("rest_error", "Error."))
                return Response(doc, {"code": code, "message": message, "data": {"status": doc}})
            return Response(200, doc)
        return super().handle(request)


class FakeHub(FakeServer):
    """A WebSub hub: accepts a subscription, then verifies the subscriber's intent with a challenge."""

    def __init__(self) -> None:
        super().__init__()
        self.subscriptions: list[dict[str, str]] = []
        self.verifications: list[tuple[int, str]] = []

    def handle(self, request: Request) -> Response:
        form = request.form()
        self.subscriptions.append(form)
        threading.Thread(target=self._verify, args=(form,), daemon=True).start()
        return Response(202, "")

    def _verify(self, form: dict[str, str]) -> None:
        # at once, in its own thread: the verification may reach the subscriber before the hub's 202 does (the
        # subscriber stores its secret and token before it asks, so it must know the request either way)
        params = {
            "hub.mode": form["hub.mode"],
            "hub.topic": form["hub.topic"],
            "hub.challenge": f"challenge-{len(self.subscriptions)}",
            "hub.lease_seconds": form["hub.lease_seconds"],
        }
        answer = requests.get(form["hub.callback"], params=params, timeout=5)
        self.verifications.append((answer.status_code, answer.text))

    def publish(self, callback: str, secret: str, body: bytes, *, good: bool = True) -> int:
        import hashlib
        import hmac

        key = secret if good else "wrong-secret"
        signature = "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
        answer = requests.post(
            callback,
            data=body,
            headers={"X-Hub-Signature": signature, "Content-Type": "application/rss+xml"},
            timeout=5,
        )
        return answer.status_code


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Setup:
    worker: Worker
    site: FakeWordPress
    tg: FakeTelegram
    fb: FakeFacebook
    x: FakeX
    port: int
    config_file: Path
    rounds: Rounds

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def hook(self, payload: dict[str, Any], *, secret: str = SECRET, ts: int | None = None, **kw: Any) -> int:
        # a unique nonce, as the WordPress snippet sends: two calls in one second are not a replay
        body = json.dumps({"nonce": uuid.uuid4().hex, **payload}).encode()
        stamp = int(time.time()) if ts is None else ts
        headers = {
            "Content-Type": "application/json",
            "X-Syndicator-Timestamp": str(stamp),
            "X-Syndicator-Signature": sign(secret, stamp, body),
        }
        headers.update(kw.pop("headers", {}))
        return requests.post(self.base + "/hooks/publish", data=body, headers=headers, timeout=10).status_code

    def posts(self) -> dict[str, int]:
        return {
            "telegram": len(self.tg.calls("sendMessage")) + len(self.tg.calls("sendPhoto")),
            "facebook": len(self.fb.calls("POST", "/feed")) + len(self.fb.calls("POST", "/photos")),
            "x": len(self.x.calls("POST", "/2/tweets")),
        }

    def cli(self, *args: str) -> int:
        return main(["--config", str(self.config_file), *args])

    async def quiet(self, timeout: float = 10.0) -> None:
        """Wait until nothing more can happen now: every push handler in flight has finished (what it queued is
        in the outbox), then the delivery loop ran a whole round, begun after that, with no lane running before
        or after and nothing due to claim. Posts come only from lanes, so what the fakes hold now is final until
        a later due time (a cancel window, a backoff) or a new call. No wall-clock guess: a positive signal."""
        await asyncio.wait_for(self.worker.pushes.drain(), timeout)
        mark = self.rounds.begun
        self.worker.wake.set()  # the loop runs a round at once instead of at its idle timeout
        await wait_for(lambda: any(seq >= mark for seq in self.rounds.quiet), timeout)


class Rounds:
    """Counts the delivery loop's rounds (`Dispatcher.start_lanes` calls): `quiet` holds the sequence numbers of
    the rounds that found no lane running, started none and left none running."""

    def __init__(self, worker: Worker) -> None:
        self.begun = 0
        self.quiet: list[int] = []
        dispatcher = worker.dispatcher
        start_lanes = dispatcher.start_lanes

        async def counted() -> int:
            seq, idle_before = self.begun, not dispatcher.lanes
            self.begun += 1
            started = await start_lanes()
            if idle_before and started == 0 and not dispatcher.lanes:
                self.quiet.append(seq)
            return started

        dispatcher.start_lanes = counted  # type: ignore[method-assign]


CONFIG = """
[store]
url = "sqlite:///{db}"

[http]
listen = "127.0.0.1:{port}"

[webhook]
secret_env = "HOOK_SECRET"
public_url = "http://127.0.0.1:{port}"

# the fake WebSub hub is on 127.0.0.1 (its port is chosen later): the documented way to let a hub URL reach it
[outbound]
allow = ["127.0.0.1"]

[[feeds]]
name = "en"
url = "{site}/en/feed/"
every = "1h"
max_age = "0s"
wordpress = "{site}/en"
on_withdraw = "retract"
hold_for = "{hold}"
targets = ["tg", "fb", "x"]

[targets.tg]
platform = "telegram"
chat = "@example_news"
token_env = "TG_TOKEN"
api_base = "{tg}"
[targets.tg.limits]
min_spacing = "0s"

[targets.fb]
platform = "facebook"
page_id = "1234567890"
token_env = "FB_TOKEN"
api_base = "{fb}"
[targets.fb.limits]
min_spacing = "0s"

[targets.x]
platform = "twitter"
api_key_env = "X_KEY"
api_secret_env = "X_SECRET"
access_token_env = "X_TOKEN"
access_token_secret_env = "X_TOKEN_SECRET"
api_base = "{x}"
[targets.x.limits]
min_spacing = "0s"
quotas = ["1000/1h"]
"""


async def wait_for(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(check):  # a check may call the worker's own listener
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


@pytest.fixture
def fakes() -> Iterator[tuple[FakeWordPress, FakeTelegram, FakeFacebook, FakeX]]:
    with FakeWordPress() as site, FakeTelegram() as tg, FakeFacebook() as fb, FakeX() as x:
        yield site, tg, fb, x


async def start(
    fakes: tuple[FakeWordPress, FakeTelegram, FakeFacebook, FakeX],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    hold: str = "0s",
) -> AsyncIterator[Setup]:
    site, tg, fb, x = fakes
    now = datetime.now(UTC)
    site.feeds["/en/feed/"] = refresh_dates(fixture("front-page.rss"), now=now)
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    from syndicator.http import serve_http

    # The public URL names the port, so it is chosen before the worker binds it; on a busy machine another process
    # can take it in between (the worker then stops with `service.failed`): then a new port and a new store.
    for attempt in range(3):
        port = free_port()
        db = tmp_path / f"s{attempt}.db"
        text = CONFIG.format(db=db, port=port, site=site.url, tg=tg.url, fb=fb.url, x=x.url, hold=hold)
        file = tmp_path / "syndicator.toml"
        file.write_text(text)
        cfg = config.load(file)
        app = App(cfg, Store(cfg.store.url))
        app.prepare_publishers()
        worker = Worker(app)
        rounds = Rounds(worker)  # before `run`: the loop calls the counted start_lanes
        worker.extra_services.append(serve_http)
        task = asyncio.ensure_future(worker.run(handle_signals=False))
        # first poll done (recorded as seen) and the listener up, or the worker stopped
        await wait_for(lambda: task.done() or (_initialized(app) and _listening(port)))  # noqa: B023
        if not task.done():
            break
        await task
        assert worker.exit_code == 1, "the worker stopped by itself, not for a taken port"
    else:
        raise AssertionError("three ports in a row were taken before the worker could listen on them")
    setup = Setup(worker, site, tg, fb, x, port, file, rounds)
    try:
        yield setup
    finally:
        worker.stop()
        await asyncio.wait_for(task, 30)


def _initialized(app: App) -> bool:
    with app.store.engine.connect() as conn:
        return bool(conn.execute(select(t.feeds.c.initialized).where(t.feeds.c.name == "en")).scalar())


def _listening(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def states(app: App) -> list[tuple[str, str, str]]:
    with app.store.engine.connect() as conn:
        return [
            (r.target, r.kind, r.state)
            for r in conn.execute(
                select(t.deliveries.c.target, t.deliveries.c.kind, t.deliveries.c.state).order_by(t.deliveries.c.id)
            )
        ]


@pytest.fixture
async def running(
    fakes: tuple[FakeWordPress, FakeTelegram, FakeFacebook, FakeX], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Setup]:
    async for setup in start(fakes, tmp_path, monkeypatch):
        yield setup


async def test_signed_webhook_posts_at_once_and_the_next_poll_adds_nothing(running: Setup) -> None:
    s = running
    assert s.posts() == {"telegram": 0, "facebook": 0, "x": 0}
    s.site.feeds["/en/feed/"] = refresh_dates(fixture("front-page-later.rss"), now=datetime.now(UTC))
    started = time.monotonic()
    status = await asyncio.to_thread(s.hook, {"feed": "en", "url": "https://www.nejatngo.org/en/2025/12/mek-news-one/"})
    assert status == 202
    await wait_for(lambda: s.posts() == {"telegram": 5, "facebook": 5, "x": 5})
    elapsed = time.monotonic() - started
    assert elapsed < 10  # measured properly in bench/; here: it did not wait for the hourly poll
    report = await s.worker.poll(s.worker.app.config.feed("en"))
    assert report.status in ("not_modified", "ok") and report.new == 0
    await s.quiet()
    assert s.posts() == {"telegram": 5, "facebook": 5, "x": 5}
    assert [state for *_, state in states(s.worker.app)] == ["sent"] * 15


async def test_bad_webhook_calls_are_refused_and_change_nothing(running: Setup) -> None:
    s = running
    s.site.feeds["/en/feed/"] = refresh_dates(fixture("front-page-later.rss"), now=datetime.now(UTC))
    good = {"feed": "en", "url": "https://www.nejatngo.org/en/x/"}
    body = json.dumps({"nonce": "fixed", **good}).encode()
    now = int(time.time())

    def call(**kw: Any) -> int:
        return s.hook(good, **kw)

    assert await asyncio.to_thread(call, headers={"X-Syndicator-Signature": ""}) == 401  # unsigned
    assert await asyncio.to_thread(call, secret="not-the-secret-at-all-000000") == 401  # badly signed
    assert await asyncio.to_thread(call, ts=now - 600) == 401  # stale
    assert await asyncio.to_thread(call, ts=now + 600) == 401  # from the future
    assert await asyncio.to_thread(call, headers={"Content-Type": "text/plain"}) == 415
    assert await asyncio.to_thread(lambda: s.hook({"feed": "nope", "url": "https://e.org/a"})) == 404
    assert await asyncio.to_thread(lambda: s.hook({"feed": "en"})) == 400
    bad_json = b"{not json"
    stamp = int(time.time())
    status = await asyncio.to_thread(
        requests.post,
        s.base + "/hooks/publish",
        data=bad_json,
        headers={
            "Content-Type": "application/json",
            "X-Syndicator-Timestamp": str(stamp),
            "X-Syndicator-Signature": sign(SECRET, stamp, bad_json),
        },
    )
    assert status.status_code == 400
    assert await asyncio.to_thread(_oversized, s.port) == 413
    # a replay of a valid request: the first is accepted, the copy refused
    stamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "X-Syndicator-Timestamp": str(stamp),
        "X-Syndicator-Signature": sign(SECRET, stamp, body),
    }
    statuses = [
        (await asyncio.to_thread(requests.post, s.base + "/hooks/publish", data=body, headers=headers)).status_code
        for _ in range(2)
    ]
    assert statuses == [202, 409]
    await wait_for(lambda: s.posts()["telegram"] == 5)
    await s.quiet()
    assert s.posts() == {"telegram": 5, "facebook": 5, "x": 5}  # only the one valid call had an effect
    assert len(states(s.worker.app)) == 15


def x_deletes(s: Setup) -> int:
    return sum(1 for r in s.x.requests if r.method == "DELETE")


def _oversized(port: int) -> int:
    """10 MB announced: the answer comes before the body is read."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(
            b"POST /hooks/publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 10485760\r\n\r\n" + b"{" * 1024
        )
        answer = sock.recv(200).decode("latin-1")
    return int(answer.split(" ", 2)[1])


async def test_corrections_edit_telegram_and_facebook_not_x(running: Setup) -> None:
    s = running
    later = refresh_dates(fixture("front-page-later.rss"), now=datetime.now(UTC))
    s.site.feeds["/en/feed/"] = later
    await asyncio.to_thread(s.hook, {"feed": "en", "url": "https://www.nejatngo.org/en/"})
    await wait_for(lambda: s.posts() == {"telegram": 5, "facebook": 5, "x": 5})
    first_title = re.search(rb"<item>\s*<title>([^<]+)</title>", later)
    assert first_title
    corrected = later.replace(first_title.group(1), first_title.group(1) + b" (corrected)", 1)
    s.site.feeds["/en/feed/"] = corrected
    await asyncio.to_thread(s.hook, {"feed": "en", "url": "https://www.nejatngo.org/en/"})
    edits = lambda: len(s.tg.calls("editMessageText")) + len(s.tg.calls("editMessageCaption"))  # noqa: E731
    await wait_for(lambda: edits() == 1 and len(s.fb.calls("POST")) == 6)
    edited = (s.tg.calls("editMessageText") + s.tg.calls("editMessageCaption"))[0]
    assert "(corrected)" in (edited.get("text") or edited.get("caption") or "")
    fb_edit = [r for r in s.fb.calls("POST") if not r.path.endswith(("/feed", "/photos"))]
    assert len(fb_edit) == 1 and "(corrected)" in fb_edit[0].params()["message"]
    await s.quiet()
    assert s.posts() == {"telegram": 5, "facebook": 5, "x": 5}  # never a second post
    await wait_for(
        lambda: (
            sorted((t, k, st) for t, k, st in states(s.worker.app) if k == "edit")
            == [("fb", "edit", "sent"), ("tg", "edit", "sent")]
        )
    )


async def test_withdrawal_by_status_and_by_wordpress_404_deletes_the_posts(running: Setup) -> None:
    s = running
    later = refresh_dates(fixture("front-page-later.rss"), now=datetime.now(UTC))
    s.site.feeds["/en/feed/"] = later
    await asyncio.to_thread(s.hook, {"feed": "en", "url": "https://www.nejatngo.org/en/"})
    await wait_for(lambda: s.posts() == {"telegram": 5, "facebook": 5, "x": 5})
    ids = [int(m) for m in re.findall(rb"\?p=(\d+)</guid>", later)][:2]
    # 1: WordPress says the post went to the trash
    assert await asyncio.to_thread(s.hook, {"feed": "en", "post_id": ids[0], "status": "trash"}) == 202
    await wait_for(lambda: len(s.tg.calls("deleteMessage")) == 1 and x_deletes(s) == 1)
    # 2: the hook only names the post; the WordPress API answers 404
    s.site.rest[ids[1]] = 404
    assert await asyncio.to_thread(s.hook, {"feed": "en", "post_id": ids[1]}) == 202
    await wait_for(lambda: len(s.tg.calls("deleteMessage")) == 2 and len(s.fb.calls("DELETE")) == 2)
    await wait_for(lambda: x_deletes(s) == 2)
    expected = sorted([(n, "post") for n in ("tg", "fb", "x")] * 2)
    await wait_for(
        lambda: sorted((tg, kind) for tg, kind, state in states(s.worker.app) if state == "retracted") == expected
    )
    deletes = [(target, state) for target, kind, state in states(s.worker.app) if kind == "delete"]
    assert sorted(deletes) == sorted([(n, "sent") for n in ("tg", "fb", "x")] * 2)


async def test_a_401_403_404_that_is_not_wordpress_withdraws_nothing(running: Setup) -> None:
    s = running
    later = refresh_dates(fixture("front-page-later.rss"), now=datetime.now(UTC))
    s.site.feeds["/en/feed/"] = later
    await asyncio.to_thread(s.hook, {"feed": "en", "url": "https://www.nejatngo.org/en/"})
    await wait_for(lambda: s.posts() == {"telegram": 5, "facebook": 5, "x": 5})
    ids = [int(m) for m in re.findall(rb"\?p=(\d+)</guid>", later)]
    html = {"Content-Type": "text/html"}
    answers: list[Response | int] = [
        Response(403, b"<html><body>Access denied (WAF)</body></html>", html),  # a CDN refusing python-requests
        Response(404, b"<html><body>Not Found</body></html>", html),  # a wrong base URL
        Response(401, {"code": "rest_not_logged_in", "message": "REST API restricted.", "data": {"status": 401}}),
        Response(404, {"code": "rest_no_route", "message": "No route.", "data": {"status": 404}}),
        Response(410, b"Gone", {"Content-Type": "text/plain"}),
    ]
    rest_calls = lambda: sum(1 for r in s.site.requests if "/wp-json/" in r.path)  # noqa: E731
    for post_id, answer in zip(ids, answers, strict=False):
        s.site.rest[post_id] = answer
        before = rest_calls()
        assert await asyncio.to_thread(s.hook, {"feed": "en", "post_id": post_id}) == 202
        await wait_for(lambda before=before: rest_calls() == before + 1)  # type: ignore[misc]
    await s.quiet()  # every hook's handler has finished: what it would withdraw is queued, and went out
    assert {state for *_, state in states(s.worker.app)} == {"sent"}  # nothing cancelled, nothing deleted
    assert not s.tg.calls("deleteMessage") and not s.fb.calls("DELETE") and x_deletes(s) == 0
    # WordPress's own answer for a post that is no longer public does withdraw it
    s.site.rest[ids[0]] = 401
    assert await asyncio.to_thread(s.hook, {"feed": "en", "post_id": ids[0]}) == 202
    await wait_for(lambda: len(s.tg.calls("deleteMessage")) == 1 and x_deletes(s) == 1)


async def test_websub_subscribe_verify_notify_renew_and_bad_signature(running: Setup) -> None:
    s = running
    from syndicator.store.feeds import set_subscription, subscription

    with FakeHub() as hub:
        self_link = b'<atom:link href="https://www.nejatngo.org/en/feed/" rel="self"'
        hub_link = f'<atom:link href="{hub.url}/" rel="hub" />\n    '.encode()
        feed = refresh_dates(fixture("front-page.rss"), now=datetime.now(UTC)).replace(self_link, hub_link + self_link)
        s.site.feeds["/en/feed/"] = feed
        await s.worker.poll(s.worker.app.config.feed("en"))
        await s.worker.pushes.renew_due()
        await wait_for(lambda: len(hub.verifications) == 1)
        assert hub.verifications[0] == (200, "challenge-1")
        form = hub.subscriptions[0]
        assert form["hub.mode"] == "subscribe" and form["hub.topic"] == "https://www.nejatngo.org/en/feed/"
        sub = subscription(s.worker.app.store, "en")
        assert sub is not None and sub.state == "active" and sub.expires_at is not None
        callback = form["hub.callback"]
        assert "token=" in callback  # the callback carries this subscription's own token
        # the callback without its token: a stranger's notification (even signed with the secret) is refused
        tokenless = re.sub(r"&token=[^&]+", "", callback)
        assert await asyncio.to_thread(hub.publish, tokenless, form["hub.secret"], b"<rss/>") == 404
        # a forged verification for another topic is refused
        forged = await asyncio.to_thread(
            requests.get,
            callback,
            params={"hub.mode": "subscribe", "hub.topic": "https://evil.example/", "hub.challenge": "x"},
            timeout=5,
        )
        assert forged.status_code == 404
        # a notification with a bad signature is acknowledged and ignored
        s.site.feeds["/en/feed/"] = refresh_dates(fixture("front-page-later.rss"), now=datetime.now(UTC))
        feed_fetches = len(s.site.requests)
        assert await asyncio.to_thread(hub.publish, callback, form["hub.secret"], b"<rss/>", good=False) == 202
        await s.quiet()
        assert s.posts()["telegram"] == 0
        assert len(s.site.requests) == feed_fetches  # ignored: not even a poll
        # a good one makes the worker poll at once
        assert await asyncio.to_thread(hub.publish, callback, form["hub.secret"], b"<rss/>") == 202
        await wait_for(lambda: s.posts() == {"telegram": 5, "facebook": 5, "x": 5})
        # renewal before the lease runs out
        set_subscription(s.worker.app.store, "en", sub_expires_at=datetime.now(UTC), sub_requested_at=None)
        await s.worker.pushes.renew_due()
        await wait_for(lambda: len(hub.verifications) == 2)
        assert hub.verifications[1][0] == 200 and len(hub.subscriptions) == 2


async def test_cancel_window_hold_release_and_unpublished_in_time(
    fakes: tuple[FakeWordPress, FakeTelegram, FakeFacebook, FakeX], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async for s in start(fakes, tmp_path, monkeypatch, hold="1h"):
        await _hold_release_and_withdraw(s)


async def _hold_release_and_withdraw(s: Setup) -> None:
    later = refresh_dates(fixture("front-page-later.rss"), now=datetime.now(UTC))
    s.site.feeds["/en/feed/"] = later
    await asyncio.to_thread(s.hook, {"feed": "en", "url": "https://www.nejatngo.org/en/"})
    app = s.worker.app
    await wait_for(lambda: len(states(app)) == 15)
    await s.quiet()
    assert s.posts() == {"telegram": 0, "facebook": 0, "x": 0}  # inside the window
    ids = [m.decode() for m in re.findall(rb"<guid[^>]*>([^<]+)</guid>", later)]
    # an editor holds one, releases another; a third is unpublished within the window
    assert await asyncio.to_thread(s.cli, "hold", ids[0]) == 0
    assert await asyncio.to_thread(s.cli, "release", ids[0], "--yes") == 0
    s.worker.wake.set()
    await wait_for(lambda: s.posts() == {"telegram": 1, "facebook": 1, "x": 1})
    post_id = int(ids[1].rsplit("=", 1)[1])
    assert await asyncio.to_thread(s.hook, {"feed": "en", "post_id": post_id, "status": "draft"}) == 202
    await wait_for(lambda: sum(1 for *_, st in states(app) if st == "retracted") == 3)
    assert await asyncio.to_thread(s.cli, "release", ids[1]) == 0  # nothing held: it stays withdrawn
    await s.quiet()
    assert s.posts() == {"telegram": 1, "facebook": 1, "x": 1}


async def test_unpublished_then_published_again_is_posted_again(running: Setup) -> None:
    s = running
    later = refresh_dates(fixture("front-page-later.rss"), now=datetime.now(UTC))
    s.site.feeds["/en/feed/"] = later
    await asyncio.to_thread(s.hook, {"feed": "en", "url": "https://www.nejatngo.org/en/"})
    await wait_for(lambda: s.posts()["telegram"] == 5 and s.posts()["facebook"] == 5)
    post_id = int(re.findall(rb"\?p=(\d+)</guid>", later)[0])
    assert await asyncio.to_thread(s.hook, {"feed": "en", "post_id": post_id, "status": "draft"}) == 202
    await wait_for(lambda: len(s.tg.calls("deleteMessage")) == 1 and len(s.fb.calls("DELETE")) == 1)
    # a poll that still lists it (a cached feed) does not bring it back by itself
    await s.worker.poll(s.worker.app.config.feed("en"))
    await s.quiet()
    assert s.posts()["telegram"] == 5
    # the editor publishes it again
    assert await asyncio.to_thread(s.hook, {"feed": "en", "post_id": post_id, "status": "publish"}) == 202
    await wait_for(lambda: s.posts()["telegram"] == 6 and s.posts()["facebook"] == 6)

    def tg_states() -> list[str]:
        return sorted(state for target, kind, state in states(s.worker.app) if target == "tg" and kind == "post")

    await wait_for(lambda: tg_states() == ["retracted"] + ["sent"] * 5)  # the receipt is stored after the call
