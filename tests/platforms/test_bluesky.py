"""The Bluesky publisher: the real `atproto` SDK (AsyncClient over httpx) against FakeBluesky on 127.0.0.1."""

from __future__ import annotations

import io
import logging
import random
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from syndicator.article import Article, Post, Receipt
from syndicator.config import TargetSettings
from syndicator.errors import AuthError, Permanent, RetryLater, Transient
from syndicator.outbound import OutboundGuard
from syndicator.platforms import registry
from syndicator.platforms.base import make_publisher
from syndicator.platforms.bluesky.publisher import BlueskyPublisher, rate_info
from syndicator.platforms.bluesky.settings import BlueskySettings
from syndicator.platforms.settings import Secrets
from syndicator.render.context import prepare
from tests.conftest import RealNetworkAccess
from tests.fakes.bluesky import DID, HANDLE, PASSWORD, FakeBluesky, error
from tests.fakes.server import Request, Response

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _noise_png(side: int) -> bytes:
    """A real PNG that does not compress (noise): ~3 bytes a pixel, so 1,000 px a side is ~3 MB."""
    from PIL import Image

    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), random.Random(side).randbytes(side * side * 3)).save(out, "PNG")
    return out.getvalue()


BIG_PNG = _noise_png(1000)

MakePublisher = Callable[..., BlueskyPublisher]


class ImageHost(FakeBluesky):
    """The PDS, which also serves the article images (on 127.0.0.1: allowed by the outbound allowlist)."""

    def handle(self, request: Request) -> Response:
        if request.path == "/img/small.png":
            return Response(200, PNG, headers={"Content-Type": "image/png"})
        if request.path == "/img/huge.png":  # says PNG, is not one: nothing to resize
            return Response(200, b"\x89PNG" + b"\x00" * 1_000_001, headers={"Content-Type": "image/png"})
        if request.path == "/img/photo.png":
            return Response(200, BIG_PNG, headers={"Content-Type": "image/png"})
        return super().handle(request)


def target(api_base: str, *, timeout: float = 2.0, password: str = PASSWORD, **settings: Any) -> TargetSettings:
    return TargetSettings(
        name="bluesky_fa",
        platform="bluesky",
        settings=BlueskySettings(handle=HANDLE, **settings),
        secrets=Secrets({"app_password": password}),
        api_base=api_base,
        timeout=timedelta(seconds=timeout),
    )


def post(text: str = "خبر فوری: توافق تازه https://example.org/fa/a #حقوق_بشر", **kw: Any) -> Post:
    return Post(platform="bluesky", text=text, length=len(text), limit=300, link="https://example.org/fa/a", **kw)


@pytest.fixture
def fake() -> Iterator[ImageHost]:
    with ImageHost() as server:
        yield server


@pytest.fixture
async def make(fake: ImageHost) -> AsyncIterator[MakePublisher]:
    made: list[BlueskyPublisher] = []

    def build(api_base: str | None = None, **kw: Any) -> BlueskyPublisher:
        outbound = OutboundGuard([fake.url.removeprefix("http://")])
        publisher = BlueskyPublisher(target(fake.url if api_base is None else api_base, **kw), now=lambda: NOW,
                                     outbound=outbound)  # fmt: skip
        made.append(publisher)
        return publisher

    yield build
    for publisher in made:
        await publisher.aclose()


async def test_publish_writes_a_post_record_with_byte_offset_facets(fake: ImageHost, make: MakePublisher) -> None:
    text = "خبر فوری 👨‍👩‍👧: توافق تازه https://example.org/fa/a #حقوق_بشر"
    receipt = await make().publish(post(text, extra={"langs": ["fa"]}))
    stored = next(iter(fake.posts.values()))
    assert receipt.remote_id == f"at://{DID}/app.bsky.feed.post/{stored.rkey}"
    assert receipt.url == f"https://bsky.app/profile/{HANDLE}/post/{stored.rkey}"
    record = stored.record
    assert record["text"] == text and record["langs"] == ["fa"] and record["createdAt"].startswith("2026-05-01T12:00")
    data = text.encode()
    covered = [data[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode() for f in record["facets"]]
    assert covered == ["https://example.org/fa/a", "#حقوق_بشر"]
    assert record["facets"][1]["features"][0] == {"$type": "app.bsky.richtext.facet#tag", "tag": "حقوق_بشر"}
    assert receipt.rate is not None and receipt.rate.limit == 5000 and receipt.rate.remaining is not None


async def test_link_card_carries_the_article_image_as_thumb(fake: ImageHost, make: MakePublisher) -> None:
    card = {"uri": "https://example.org/fa/a", "title": "عنوان", "description": "خلاصه"}
    receipt = await make().publish(post(image_url=f"{fake.url}/img/small.png", extra={"card": card}))
    external = next(iter(fake.posts.values())).record["embed"]["external"]
    assert external["uri"] == card["uri"] and external["title"] == "عنوان" and external["description"] == "خلاصه"
    assert external["thumb"]["mimeType"] == "image/png" and external["thumb"]["size"] == len(PNG)
    assert "image_error" not in receipt.extra


async def test_a_photo_over_one_megabyte_is_resized_into_the_thumb(fake: ImageHost, make: MakePublisher) -> None:
    assert len(BIG_PNG) > 1_000_000
    card = {"uri": "https://example.org/fa/a", "title": "t", "description": ""}
    receipt = await make().publish(post(image_url=f"{fake.url}/img/photo.png", extra={"card": card}))
    thumb = next(iter(fake.posts.values())).record["embed"]["external"]["thumb"]
    assert thumb["mimeType"] == "image/jpeg" and 0 < thumb["size"] <= 1_000_000
    assert "image_error" not in receipt.extra and "bytes" in receipt.extra["image_resized"]


async def test_what_cannot_be_made_to_fit_leaves_the_card_without_thumb(fake: ImageHost, make: MakePublisher) -> None:
    card = {"uri": "https://example.org/fa/a", "title": "t", "description": ""}
    receipt = await make().publish(post(image_url=f"{fake.url}/img/huge.png", extra={"card": card}))
    external = next(iter(fake.posts.values())).record["embed"]["external"]
    assert "thumb" not in external or external["thumb"] is None
    assert "1,000,000" in receipt.extra["image_error"] and "not an image" in receipt.extra["image_error"]
    assert not fake.calls("com.atproto.repo.uploadBlob")


async def test_an_image_on_a_private_address_is_refused_by_the_guard(fake: ImageHost) -> None:
    publisher = BlueskyPublisher(target(fake.url), now=lambda: NOW)  # no allowlist: 127.0.0.1 is refused
    try:
        card = {"uri": "https://example.org/a", "title": "t", "description": ""}
        receipt = await publisher.publish(post(image_url=f"{fake.url}/img/small.png", extra={"card": card}))
    finally:
        await publisher.aclose()
    assert "refused" in receipt.extra["image_error"]
    assert not [r for r in fake.requests if r.path.startswith("/img/")]


async def test_one_session_for_many_posts(fake: ImageHost, make: MakePublisher) -> None:
    publisher = make()
    for i in range(5):
        await publisher.publish(post(f"خبر {i} https://example.org/{i}"))
    await publisher.check()
    assert fake.logins == 1 and publisher.logins == 1 and len(fake.posts) == 5


async def test_an_expiring_access_token_is_refreshed_not_logged_in_again(fake: ImageHost, make: MakePublisher) -> None:
    fake.access_ttl = -60  # every access token is born expired: the SDK refreshes before each call
    publisher = make()
    await publisher.publish(post("one"))
    await publisher.publish(post("two"))
    assert fake.logins == 1 and fake.refreshes >= 2 and fake.texts() == ["one", "two"]


async def test_a_session_the_pds_dropped_logs_in_once_again(fake: ImageHost, make: MakePublisher) -> None:
    publisher = make()
    await publisher.publish(post("one"))
    fake.expire_sessions()
    await publisher.publish(post("two"))
    assert fake.logins == 2 and fake.texts() == ["one", "two"]


async def test_delete_removes_the_record_and_again_is_fine(fake: ImageHost, make: MakePublisher) -> None:
    publisher = make()
    receipt = await publisher.publish(post())
    await publisher.delete(receipt)
    assert fake.posts == {}
    await publisher.delete(Receipt.from_json(receipt.to_json()))
    assert len(fake.calls("com.atproto.repo.deleteRecord")) == 2


async def test_edit_is_not_supported(make: MakePublisher) -> None:
    publisher = make()
    assert publisher.supports_edit is False and registry.get("bluesky").capabilities.edit is False
    with pytest.raises(Permanent):
        await publisher.edit(Receipt("at://x/app.bsky.feed.post/1"), post())


async def test_check_says_who_we_post_as(fake: ImageHost, make: MakePublisher) -> None:
    identity = await make().check()
    assert identity.name == f"@{HANDLE}" and identity.id == DID
    assert identity.details["pds"].startswith(fake.url)


async def test_the_wrong_app_password_is_an_auth_error_without_the_password(make: MakePublisher) -> None:
    with pytest.raises(AuthError) as err:
        await make(password="TEST-not-real-wrong-one").publish(post())
    assert "TEST-not-real" not in str(err.value)


async def test_rate_limit_is_retry_later_at_the_reset(fake: ImageHost, make: MakePublisher) -> None:
    publisher = make()
    await publisher.check()
    reset = int((NOW + timedelta(minutes=20)).timestamp())
    fake.fail_next(error(429, "RateLimitExceeded", "Rate Limit Exceeded", {"RateLimit-Reset": str(reset)}))
    with pytest.raises(RetryLater) as err:
        await publisher.publish(post())
    assert err.value.retry_at == NOW + timedelta(minutes=20)
    fake.fail_next(error(429, "RateLimitExceeded", "Rate Limit Exceeded", {"Retry-After": "90"}))
    with pytest.raises(RetryLater) as err:
        await publisher.publish(post())
    assert err.value.retry_at == NOW + timedelta(seconds=90)


async def test_the_pds_refuses_what_is_too_long_and_that_is_permanent(fake: ImageHost, make: MakePublisher) -> None:
    with pytest.raises(Permanent) as err:
        await make().publish(post("ب" * 301))
    assert "300 graphemes" in str(err.value) and err.value.code == 400


@pytest.mark.parametrize(
    ("answer", "kind", "maybe_sent"),
    [
        (Response(500, {"error": "InternalServerError", "message": "Internal Server Error"}), Transient, False),
        (Response(503, "upstream down"), Transient, False),
        (Response(502, "Bad Gateway"), Transient, True),
        (Response(504, "Gateway Timeout"), Transient, True),
        (Response(drop=True), Transient, True),
        (error(400, "DuplicateRecord", "Record already exists"), Permanent, None),
        (error(400, "AccountTakedown", "Account has been taken down"), AuthError, None),
        (error(403, "Forbidden", "no"), AuthError, None),
    ],
)
async def test_failures_are_mapped(
    fake: ImageHost, make: MakePublisher, answer: Response, kind: type[Exception], maybe_sent: bool | None
) -> None:
    publisher = make()
    await publisher.check()
    fake.fail_next(answer)
    with pytest.raises(kind) as err:
        await publisher.publish(post())
    if maybe_sent is not None:
        assert isinstance(err.value, Transient) and err.value.maybe_sent is maybe_sent
    if answer.body and "Duplicate" in str(answer.body):
        assert isinstance(err.value, Permanent) and err.value.code == "duplicate"


async def test_a_timeout_is_maybe_sent_and_an_unreachable_pds_is_not(fake: ImageHost, make: MakePublisher) -> None:
    publisher = make(timeout=0.3)
    await publisher.check()
    fake.fail_next(Response(200, {}, delay=0.8))
    with pytest.raises(Transient) as err:
        await publisher.publish(post())
    assert err.value.code == "timeout" and err.value.maybe_sent
    with pytest.raises(Transient) as err:
        await make("http://127.0.0.1:9").publish(post())
    assert err.value.code == "connection" and not err.value.maybe_sent


async def test_a_failed_thumb_upload_is_never_maybe_sent(fake: ImageHost, make: MakePublisher) -> None:
    publisher = make()
    await publisher.check()
    card = {"uri": "https://example.org/a", "title": "t", "description": ""}
    fake.fail_next(Response(200, PNG, headers={"Content-Type": "image/png"}), Response(drop=True))
    with pytest.raises(Transient) as err:
        await publisher.publish(post(image_url=f"{fake.url}/img/small.png", extra={"card": card}))
    assert not err.value.maybe_sent and fake.posts == {}


async def test_the_default_service_is_bsky_social_and_never_reached_in_tests() -> None:
    publisher = BlueskyPublisher(target(""), now=lambda: NOW)
    try:
        assert publisher.service == "https://bsky.social"
        with pytest.raises(RealNetworkAccess, match=r"bsky\.social"):  # the guard's failure is not mapped away
            await publisher.check()
    finally:
        await publisher.aclose()


def test_make_publisher_and_the_registry_build_it(fake: ImageHost) -> None:
    assert isinstance(make_publisher(target(fake.url)), BlueskyPublisher)
    assert "bluesky" in registry.names()


def test_rate_info_reads_the_pds_headers() -> None:
    rate = rate_info({"ratelimit-limit": "5000", "ratelimit-remaining": "0", "ratelimit-reset": "1777636800"})
    assert rate is not None and rate.remaining == 0 and rate.reset_at == datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    assert rate_info({}) is None


def test_render_sets_langs_card_and_fits_both_limits() -> None:
    spec = registry.get("bluesky")
    t = target("http://127.0.0.1:1")
    article = Article(
        id="1", feed="fa", url="https://example.org/fa/news/1", title="👨‍👩‍👧‍👦" * 200, summary="خلاصه",
        language="fa", categories=("حقوق بشر",), image_url="https://example.org/i.jpg",
    )  # fmt: skip
    rendered = spec.render(prepare(article, t), t)
    data = rendered.text.encode()
    assert rendered.length <= 300 and len(data) <= 3000 and "https://example.org/fa/news/1" in rendered.text
    assert rendered.extra["langs"] == ["fa"] and rendered.extra["card"]["uri"].startswith("https://example.org/fa/")
    assert rendered.image_url == "https://example.org/i.jpg"
    no_card = TargetSettings(name="b", platform="bluesky", settings=BlueskySettings(handle="a.b", link_card=False))
    assert "card" not in spec.render(prepare(article, no_card), no_card).extra


async def test_no_secret_reaches_any_log_record(
    fake: ImageHost, make: MakePublisher, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    publisher = make()
    await publisher.publish(post())
    fake.expire_sessions()
    await publisher.check()
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert PASSWORD not in text and "eyJ" not in text


async def test_a_failed_sign_in_is_never_maybe_sent(fake: ImageHost, make: MakePublisher) -> None:
    fake.fail_next(Response(drop=True))  # createSession's connection drops: no post can exist
    with pytest.raises(Transient) as err:
        await make().publish(post())
    assert not err.value.maybe_sent and "signing in" in str(err.value) and fake.posts == {}
