"""The X publisher: real tweepy + requests + requests_oauthlib against FakeX on 127.0.0.1."""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from syndicator.article import Post, Receipt
from syndicator.config import TargetSettings
from syndicator.errors import AuthError, Permanent, PublishError, RetryLater, Transient
from syndicator.outbound import OutboundGuard
from syndicator.platforms.base import make_publisher
from syndicator.platforms.http import SecretRedactor, rebase
from syndicator.platforms.media import ReadyImage
from syndicator.platforms.settings import Secrets
from syndicator.platforms.twitter.publisher import TwitterPublisher, rate_info, retry_at
from syndicator.platforms.twitter.settings import TwitterSettings
from tests.conftest import RealNetworkAccess
from tests.fakes.server import Response
from tests.fakes.twitter import TOO_MANY, FakeX

SECRETS = {
    "api_key": "X-API-KEY-not-real",
    "api_secret": "X-API-SECRET-not-real",
    "access_token": "1-X-ACCESS-TOKEN-not-real",
    "access_token_secret": "X-ACCESS-SECRET-not-real",
}
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)

MakePublisher = Callable[..., TwitterPublisher]


def target(api_base: str, *, handle: str = "example_news", timeout: float = 2.0, **settings: Any) -> TargetSettings:
    return TargetSettings(
        name="x_en",
        platform="twitter",
        settings=TwitterSettings(handle=handle, **settings),
        secrets=Secrets(dict(SECRETS)),
        api_base=api_base,
        timeout=timedelta(seconds=timeout),
    )


def post(text: str = "Breaking: something happened https://example.org/a", **kw: Any) -> Post:
    return Post(platform="twitter", text=text, length=len(text), limit=280, **kw)


@pytest.fixture
def fake() -> Iterator[FakeX]:
    with FakeX() as server:
        yield server


@pytest.fixture
async def make(fake: FakeX) -> AsyncIterator[MakePublisher]:
    made: list[TwitterPublisher] = []

    def build(api_base: str | None = None, **kw: Any) -> TwitterPublisher:
        now = kw.pop("now", None)
        # the fake serves the images too: on 127.0.0.1, so only the documented allowlist lets them through
        outbound = kw.pop("outbound", None) or OutboundGuard([fake.url.removeprefix("http://")])
        settings = target(fake.url if api_base is None else api_base, **kw)
        if now:
            publisher = TwitterPublisher(settings, now=now, outbound=outbound)
        else:
            publisher = TwitterPublisher(settings, outbound=outbound)
        made.append(publisher)
        return publisher

    yield build
    for publisher in made:
        await publisher.aclose()


def assert_no_secret(exc: BaseException) -> None:
    for secret in SECRETS.values():
        assert secret not in str(exc)


# -- success --------------------------------------------------------------------------------------------------


async def test_publish_text_returns_receipt_with_rate_info(fake: FakeX, make: MakePublisher) -> None:
    receipt = await make().publish(post("Hello, world"))

    assert receipt.remote_id in fake.tweets
    assert fake.tweets[receipt.remote_id].text == "Hello, world"
    assert receipt.url == f"https://x.com/example_news/status/{receipt.remote_id}"
    assert receipt.extra == {}
    assert receipt.rate is not None
    assert (receipt.rate.limit, receipt.rate.remaining) == (100, 99)
    assert receipt.rate.reset_at == datetime.fromtimestamp(fake.window_reset, tz=UTC)
    assert receipt.rate.pause_until is None
    (call,) = fake.calls("POST", "/2/tweets")
    assert call.json() == {"text": "Hello, world"}
    assert call.headers["authorization"].startswith("OAuth ")
    assert 'oauth_consumer_key="X-API-KEY-not-real"' in call.headers["authorization"]
    assert 'oauth_signature_method="HMAC-SHA1"' in call.headers["authorization"]


async def test_handle_comes_from_get_me_once_when_not_configured(fake: FakeX, make: MakePublisher) -> None:
    publisher = make(handle="")
    first = await publisher.publish(post("one"))
    second = await publisher.publish(post("two"))

    assert first.url == f"https://x.com/example_news/status/{first.remote_id}"
    assert second.url == f"https://x.com/example_news/status/{second.remote_id}"
    assert len(fake.calls("GET", "/2/users/me")) == 1


async def test_url_falls_back_to_web_status_when_get_me_fails(fake: FakeX, make: MakePublisher) -> None:
    fake.overrides[("GET", "/2/users/me")] = Response(503, {"title": "Service Unavailable"})
    receipt = await make(handle="").publish(post("posted anyway"))

    assert receipt.url == f"https://x.com/i/web/status/{receipt.remote_id}"
    assert receipt.remote_id in fake.tweets


async def test_publish_with_image_downloads_uploads_and_attaches(fake: FakeX, make: MakePublisher) -> None:
    receipt = await make().publish(post("with a picture", image_url=f"{fake.url}/image.jpg"))

    (upload,) = fake.calls("POST", "/2/media/upload")
    assert upload.headers["content-type"].startswith("multipart/form-data")
    assert upload.headers["authorization"].startswith("OAuth ")
    form = upload.form()
    assert form["media_category"] == "tweet_image"
    (media_id,) = fake.media
    assert fake.media[media_id].startswith(b"\xff\xd8")
    assert fake.tweet_bodies() == [{"text": "with a picture", "media": {"media_ids": [media_id]}}]
    assert receipt.extra == {"media_ids": [media_id]}


async def test_upload_goes_to_upload_base_when_configured(fake: FakeX, make: MakePublisher) -> None:
    with FakeX() as uploads:
        uploads.media = fake.media  # the same X behind two hosts
        await make(upload_base=uploads.url).publish(post("pic", image_url=f"{fake.url}/image.jpg"))

        assert len(uploads.calls("POST", "/2/media/upload")) == 1
        assert fake.calls("POST", "/2/media/upload") == []
        assert fake.tweet_bodies()[0]["media"]["media_ids"] == list(uploads.media)


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("/page.html", "did not serve an image"),
        ("/big.jpg", "over the 5 MB limit and cannot be resized"),  # not a real JPEG: nothing to resize
        ("/missing.jpg", "HTTP 404"),
        ("/fake.jpg", "X rejected the image"),
    ],
)
async def test_unusable_image_posts_without_it(fake: FakeX, make: MakePublisher, path: str, problem: str) -> None:
    receipt = await make().publish(post("text survives", image_url=f"{fake.url}{path}"))

    assert problem in receipt.extra["image_error"]
    assert fake.tweet_bodies() == [{"text": "text survives"}]
    assert receipt.remote_id in fake.tweets


async def test_image_download_dropped_or_slow_posts_without_it(fake: FakeX, make: MakePublisher) -> None:
    fake.fail_next(Response(drop=True))
    dropped = await make().publish(post("first", image_url=f"{fake.url}/image.jpg"))
    fake.fail_next(Response(200, b"\xff\xd8", headers={"Content-Type": "image/jpeg"}, delay=1.0))
    slow = await make(timeout=0.3).publish(post("second", image_url=f"{fake.url}/image.jpg"))

    assert "image download failed: no answer from 127.0.0.1" in dropped.extra["image_error"]
    assert slow.extra["image_error"] == "image download took longer than 0.3s"
    assert [b["text"] for b in fake.tweet_bodies()] == ["first", "second"]


async def test_upload_server_error_fails_before_posting(fake: FakeX, make: MakePublisher) -> None:
    fake.overrides[("POST", "/2/media/upload")] = Response(503, {"title": "Service Unavailable"})
    with pytest.raises(Transient):
        await make().publish(post("not yet", image_url=f"{fake.url}/image.jpg"))
    assert fake.calls("POST", "/2/tweets") == []


async def test_delete_removes_and_is_idempotent(fake: FakeX, make: MakePublisher) -> None:
    publisher = make()
    receipt = await publisher.publish(post("to be retracted"))
    await publisher.delete(receipt)
    assert receipt.remote_id not in fake.tweets
    await publisher.delete(receipt)  # 404: already gone counts as deleted
    assert len(fake.calls("DELETE", f"/2/tweets/{receipt.remote_id}")) == 2


async def test_check_returns_identity(make: MakePublisher) -> None:
    identity = await make(handle="").check()
    assert identity.name == "@example_news"
    assert identity.id == "1500000000000000001"
    assert identity.details["display_name"] == "Example News"


async def test_edit_is_not_supported(make: MakePublisher) -> None:
    publisher = make()
    assert publisher.supports_edit is False
    with pytest.raises(Permanent):
        await publisher.edit(Receipt(remote_id="1"), post())


def test_make_publisher_builds_the_twitter_publisher(fake: FakeX) -> None:
    assert isinstance(make_publisher(target(fake.url)), TwitterPublisher)


async def test_empty_api_base_means_the_real_hosts(make: MakePublisher) -> None:
    publisher = make(api_base="")
    with pytest.raises(RealNetworkAccess, match=r"api\.twitter\.com"):
        await publisher.publish(post())
    with pytest.raises(RealNetworkAccess, match=r"api\.x\.com"):
        await publisher._call(publisher._upload_media, _image())


# -- errors ---------------------------------------------------------------------------------------------------


async def test_429_retries_at_the_window_reset_from_headers(make: MakePublisher) -> None:
    with FakeX(window_limit=1) as fake:
        publisher = make(api_base=fake.url)
        await publisher.publish(post("one"))
        with pytest.raises(RetryLater) as info:
            await publisher.publish(post("two"))
    assert info.value.retry_at == datetime.fromtimestamp(fake.window_reset, tz=UTC)
    assert info.value.code == 429
    assert fake.texts == ["one"]


async def test_429_retries_at_the_24_hour_reset_when_that_window_is_spent(make: MakePublisher) -> None:
    with FakeX(user_day_limit=1, app_day_limit=10) as fake:
        publisher = make(api_base=fake.url)
        first = await publisher.publish(post("one"))
        assert first.rate is not None
        assert first.rate.remaining == 0 and first.rate.limit == 1
        assert first.rate.pause_until == datetime.fromtimestamp(fake.day_reset, tz=UTC)
        with pytest.raises(RetryLater) as info:
            await publisher.publish(post("two"))
    assert info.value.retry_at == datetime.fromtimestamp(fake.day_reset, tz=UTC)


async def test_429_without_headers_waits_fifteen_minutes(fake: FakeX, make: MakePublisher) -> None:
    fake.fail_next(Response(429, TOO_MANY))
    with pytest.raises(RetryLater) as info:
        await make(now=lambda: NOW).publish(post())
    assert info.value.retry_at == NOW + timedelta(minutes=15)


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_transient(fake: FakeX, make: MakePublisher, status: int) -> None:
    fake.fail_next(Response(status, {"title": "Service Unavailable", "status": status}))
    with pytest.raises(Transient) as info:
        await make().publish(post())
    assert info.value.code == status


async def test_timeout_is_transient(fake: FakeX, make: MakePublisher) -> None:
    fake.fail_next(Response(201, {"data": {"id": "1"}}, delay=1.0))
    with pytest.raises(Transient) as info:
        await make(timeout=0.3).publish(post())
    assert info.value.code == "timeout"


async def test_dropped_connection_is_transient(fake: FakeX, make: MakePublisher) -> None:
    fake.fail_next(Response(drop=True))
    with pytest.raises(Transient) as info:
        await make().publish(post())
    assert info.value.code == "dropped" and info.value.maybe_sent  # the request went out: maybe posted


async def test_duplicate_is_permanent(fake: FakeX, make: MakePublisher) -> None:
    publisher = make()
    await publisher.publish(post("same words"))
    with pytest.raises(Permanent) as info:
        await publisher.publish(post("same words"))
    assert info.value.code == "duplicate"
    assert len(fake.tweets) == 1


async def test_wrong_credentials_are_auth_errors(make: MakePublisher) -> None:
    with FakeX(consumer_key="another-key") as fake:
        with pytest.raises(AuthError) as info:
            await make(api_base=fake.url).publish(post())
        assert info.value.code == 401
        assert_no_secret(info.value)
        with pytest.raises(AuthError):
            await make(api_base=fake.url).check()


async def test_missing_oauth1_permission_is_an_auth_error(fake: FakeX, make: MakePublisher) -> None:
    fake.permissions_ok = False
    with pytest.raises(AuthError) as info:
        await make().publish(post())
    assert info.value.code == 403
    assert "oauth1 app permissions" in str(info.value)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, {"errors": [{"message": "Invalid Request"}], "title": "Invalid Request"}),
        (403, {"title": "Forbidden", "detail": "This post breaks the rules.", "type": "about:blank"}),
        (404, {"title": "Not Found Error", "detail": "nope"}),
        (413, "too big"),
    ],
)
async def test_other_client_errors_are_permanent(fake: FakeX, make: MakePublisher, status: int, body: Any) -> None:
    fake.fail_next(Response(status, body))
    with pytest.raises(Permanent) as info:
        await make().publish(post())
    assert info.value.code == status


async def test_delete_errors_are_mapped(fake: FakeX, make: MakePublisher) -> None:
    fake.fail_next(Response(503, {"title": "Service Unavailable"}))
    with pytest.raises(Transient):
        await make().delete(Receipt(remote_id="123"))


async def test_answer_without_an_id_is_maybe_sent_never_resent(fake: FakeX, make: MakePublisher) -> None:
    fake.fail_next(Response(201, "not json"))
    with pytest.raises(Transient) as info:
        await make().publish(post())
    assert info.value.code == "no_id" and info.value.maybe_sent


async def test_a_failed_image_upload_is_never_maybe_sent(fake: FakeX, make: MakePublisher) -> None:
    fake.fail_next(Response(200, b"\xff\xd8\xff" + b"0" * 100, {"Content-Type": "image/jpeg"}), Response(drop=True))
    with pytest.raises(Transient) as info:
        await make().publish(post(image_url=fake.url + "/image.jpg"))
    assert not info.value.maybe_sent and not fake.calls("POST", "/2/tweets")


# -- pure helpers ---------------------------------------------------------------------------------------------


def test_rate_info_prefers_an_exhausted_window_then_the_fewest_remaining() -> None:
    headers = {
        "x-rate-limit-limit": "100",
        "x-rate-limit-remaining": "40",
        "x-rate-limit-reset": "1800000000",
        "x-app-limit-24hour-limit": "10000",
        "x-app-limit-24hour-remaining": "5",
        "x-app-limit-24hour-reset": "1800050000",
    }
    info = rate_info(headers)
    assert info is not None
    assert (info.limit, info.remaining, info.pause_until) == (10000, 5, None)
    assert info.reset_at == datetime.fromtimestamp(1800050000, tz=UTC)

    spent = rate_info({**headers, "x-rate-limit-remaining": "0"})
    assert spent is not None
    assert spent.remaining == 0
    assert spent.pause_until == datetime.fromtimestamp(1800000000, tz=UTC)
    assert rate_info({}) is None


def test_retry_at_never_lies_in_the_past() -> None:
    past = int((NOW - timedelta(hours=1)).timestamp())
    assert retry_at({"x-rate-limit-reset": str(past)}, NOW) == NOW
    assert retry_at({"x-rate-limit-reset": "garbage"}, NOW) == NOW + timedelta(minutes=15)


# -- secrets --------------------------------------------------------------------------------------------------


@pytest.fixture
def debug_everything() -> Iterator[list[logging.LogRecord]]:
    """Every logger at DEBUG (including the ones the publishers quiet down), every record captured."""
    records: list[logging.LogRecord] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Capture(level=logging.DEBUG)
    root = logging.getLogger()
    saved = {name: logging.getLogger(name).level for name in list(logging.root.manager.loggerDict)}
    saved_root = root.level
    for name in saved:
        logging.getLogger(name).setLevel(logging.DEBUG)
    root.setLevel(logging.DEBUG)
    root.addHandler(handler)
    yield records
    root.removeHandler(handler)
    root.setLevel(saved_root)
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


def formatted(record: logging.LogRecord) -> str:
    return logging.Formatter("%(name)s %(message)s").format(record) + (record.exc_text or "")


async def test_no_secret_reaches_any_log_record(
    fake: FakeX, make: MakePublisher, debug_everything: list[logging.LogRecord]
) -> None:
    publisher = make(handle="")
    await publisher.publish(post("logged", image_url=f"{fake.url}/image.jpg"))
    await publisher.check()
    with pytest.raises(PublishError):
        await publisher.publish(post("logged"))  # duplicate

    names = {r.name for r in debug_everything}
    assert {"tweepy.client", "urllib3.connectionpool", "oauthlib.oauth1.rfc5849"} <= names
    text = "\n".join(formatted(r) for r in debug_everything)
    for secret in SECRETS.values():
        assert secret not in text
    assert "***" in text  # the OAuth parameters were there, redacted


def _image() -> ReadyImage:
    return ReadyImage(b"\xff\xd8\xff", "image/jpeg", "a.jpg")


def test_rebase_keeps_path_and_query_and_a_base_prefix() -> None:
    assert rebase("https://api.twitter.com/2/users/me?a=1", "http://127.0.0.1:9") == "http://127.0.0.1:9/2/users/me?a=1"
    assert rebase("https://api.twitter.com/2/tweets", "https://proxy.example/x/") == "https://proxy.example/x/2/tweets"


def test_redactor_cleans_messages_arguments_and_tracebacks() -> None:
    redactor = SecretRedactor()
    redactor.add(["S3CRET-value"])
    try:
        raise ValueError("boom S3CRET-value")
    except ValueError:
        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "key=%s", ("S3CRET-value",), sys.exc_info())
    assert redactor.filter(record)
    assert record.getMessage() == "key=***"
    assert record.exc_text is not None and "S3CRET" not in record.exc_text
