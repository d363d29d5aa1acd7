"""Facebook photo posts (issue 16, point 5): the article image fetched through the outbound guard, fitted to Graph's
4 MB JPEG/PNG limit and uploaded as the multipart `source` of POST /{page-id}/photos — or, when the image cannot be
used, a link post with the reason. facebook-sdk's session (adapter, hook) against FakeFacebook, the images on an
ImageHost, both on 127.0.0.1."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from syndicator.errors import Permanent, Transient
from syndicator.images import JPEG, PNG, ImageLimits
from syndicator.outbound import OutboundGuard
from syndicator.platforms.facebook import publisher as facebook_publisher
from syndicator.platforms.facebook.publisher import FacebookPublisher
from syndicator.platforms.media import ImageRules
from tests.fakes.facebook import FakeFacebook, graph_error
from tests.fakes.images import ImageHost, flat, noise
from tests.fakes.server import Response
from tests.platforms.test_facebook import APP_ID, APP_SECRET, ARTICLE, TOKEN, make_post, make_target

MakePublisher = Callable[..., FacebookPublisher]
CAPTION = f"Parliament passes the budget\n\n{ARTICLE}"  # a photo has no link card: the link goes in the caption


@pytest.fixture
def fake() -> Iterator[FakeFacebook]:
    with FakeFacebook(token=TOKEN, app_id=APP_ID, app_secret=APP_SECRET) as server:
        yield server


@pytest.fixture
def image(host: ImageHost) -> str:
    return host.add("/img/budget.jpg", noise(64, 48))


@pytest.fixture
async def make(fake: FakeFacebook, host: ImageHost) -> AsyncIterator[MakePublisher]:
    made: list[FacebookPublisher] = []

    def build(*, allow: bool = True, **kw: Any) -> FacebookPublisher:
        outbound = OutboundGuard([host.netloc] if allow else [])  # the documented way to reach 127.0.0.1
        publisher = FacebookPublisher(make_target(fake, post_as="photo", **kw), outbound=outbound)
        made.append(publisher)
        return publisher

    yield build
    for publisher in made:
        await publisher.aclose()


def paths(fake: FakeFacebook) -> list[str]:
    return [r.path.rsplit("/", 1)[-1] for r in fake.requests]


def dropped(records: list[logging.LogRecord]) -> list[str]:
    return [str(getattr(r, "image_error", "")) for r in records if r.getMessage() == "facebook image dropped"]


async def test_photo_post_uploads_the_image_with_its_caption(
    fake: FakeFacebook, host: ImageHost, make: MakePublisher, image: str
) -> None:
    receipt = await make().publish(make_post(image=image))

    (request,) = fake.requests
    assert request.path == f"/v26.0/{fake.page_id}/photos"
    assert request.headers["content-type"].startswith("multipart/form-data")
    # the token travels only in the Authorization header, never in the multipart body or the URL
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert TOKEN.encode() not in request.body and "access_token" not in request.query
    form = request.form()
    assert form["caption"] == CAPTION and "url" not in form  # Graph fetched nothing of ours
    photo = fake.photos[receipt.extra["photo_id"]]
    assert photo["source"] == host.images["/img/budget.jpg"][0] and photo["size"] == ("JPEG", 64, 48)
    assert receipt.remote_id == photo["post_id"]  # post_id, not the photo's id
    assert receipt.url == f"https://www.facebook.com/{receipt.remote_id}"
    assert receipt.extra["kind"] == "photo" and "image_error" not in receipt.extra
    assert receipt.rate is not None and receipt.rate.usage_percent == 12  # the hook saw this call's headers too


async def test_an_image_over_the_limit_is_resized_under_it_and_posted(
    fake: FakeFacebook, host: ImageHost, make: MakePublisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Facebook's 4 MB, scaled down with the test image (the fake holds the publisher to the same limit)
    limits = ImageLimits(max_bytes=60_000, formats=frozenset({JPEG, PNG}))
    monkeypatch.setattr(facebook_publisher, "PHOTO", ImageRules(limits, "the test's 60 kB limit"))
    fake.photo_max_bytes = 60_000
    original = noise(800, 600)
    assert len(original) > 60_000

    receipt = await make().publish(make_post(image=host.add("/img/camera.jpg", original)))

    photo = fake.photos[receipt.extra["photo_id"]]
    assert len(photo["source"]) <= 60_000 and photo["size"][0] == "JPEG"
    assert photo["size"][1] / photo["size"][2] == pytest.approx(800 / 600, rel=0.02)
    assert receipt.extra["kind"] == "photo"
    assert receipt.extra["image_resized"].startswith(f"{len(original):,} → {len(photo['source']):,} bytes")


async def test_a_format_facebook_does_not_take_is_re_encoded(
    fake: FakeFacebook, host: ImageHost, make: MakePublisher
) -> None:
    webp = host.add("/img/chart.webp", flat(300, 200, fmt="WEBP"), "image/webp")
    receipt = await make().publish(make_post(image=webp))

    assert fake.photos[receipt.extra["photo_id"]]["size"] == ("JPEG", 300, 200)


async def test_an_image_on_a_private_address_is_refused_and_a_link_post_goes(
    fake: FakeFacebook, host: ImageHost, make: MakePublisher, image: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        receipt = await make(allow=False).publish(make_post(image=image))  # no allowlist: public addresses only

    assert host.requests == []  # neither we nor Graph fetched it
    assert paths(fake) == ["feed"]
    assert fake.posts[receipt.remote_id] == {"message": "Parliament passes the budget", "link": ARTICLE}
    assert receipt.extra["kind"] == "link"
    assert receipt.extra["image_error"] == "image URL refused: 127.0.0.1 is a loopback address"
    assert dropped(caplog.records) == [receipt.extra["image_error"]]


@pytest.mark.parametrize(
    ("script", "reason"),
    [
        (Response(200, noise(64, 48), headers={"Content-Type": "image/jpeg"}, delay=1.0), "longer than 0.3s"),
        (Response(drop=True), "image download failed"),
        (Response(200, b"\xff\xd8 not a picture", headers={"Content-Type": "image/jpeg"}), "not an image"),
    ],
)
async def test_a_slow_failed_or_unreadable_image_makes_a_link_post(
    fake: FakeFacebook, host: ImageHost, make: MakePublisher, image: str, script: Response, reason: str
) -> None:
    host.fail_next(script)
    receipt = await make(timeout=0.3).publish(make_post(image=image))

    assert paths(fake) == ["feed"]
    assert receipt.extra["kind"] == "link" and reason in receipt.extra["image_error"]


async def test_a_photo_graph_refuses_falls_back_to_a_link_post_once(
    fake: FakeFacebook, make: MakePublisher, image: str
) -> None:
    fake.fail_next(graph_error(324, "(#324) Missing or invalid image file"))
    receipt = await make().publish(make_post(image=image))

    assert paths(fake) == ["photos", "feed"]
    assert receipt.extra["kind"] == "link"
    assert receipt.extra["image_error"].startswith("Facebook refused the photo post: ") and "324" in str(receipt.extra)
    assert fake.posts[receipt.remote_id]["link"] == ARTICLE


async def test_photo_fallback_failing_too_raises_the_link_post_error(
    fake: FakeFacebook, make: MakePublisher, image: str
) -> None:
    fake.fail_next(graph_error(324, "(#324) Requires upload file"), graph_error(100, "(#100) Invalid parameter"))
    with pytest.raises(Permanent) as caught:
        await make().publish(make_post(image=image))
    assert caught.value.code == 100
    assert paths(fake) == ["photos", "feed"]  # once, not a loop


async def test_duplicate_photo_is_not_posted_again_as_a_link(
    fake: FakeFacebook, make: MakePublisher, image: str
) -> None:
    fake.duplicate()
    with pytest.raises(Permanent) as caught:
        await make().publish(make_post(image=image))
    assert caught.value.code == 506
    assert paths(fake) == ["photos"]


async def test_a_connection_dropped_during_the_upload_is_maybe_sent_and_nothing_else_is_tried(
    fake: FakeFacebook, make: MakePublisher, image: str
) -> None:
    fake.drop()  # the whole upload arrived; the answer never came
    with pytest.raises(Transient) as caught:
        await make().publish(make_post(image=image))

    assert caught.value.code == "dropped" and caught.value.maybe_sent  # the photo post may exist: `unknown`
    assert paths(fake) == ["photos"]  # no link post either: that would be a second post
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize(
    ("answer", "maybe_sent"),
    [
        (Response(502, "<html><body>Bad gateway</body></html>"), True),  # a gateway: Graph may have posted it
        (Response(200, "<html>not json</html>"), True),  # a 2xx we cannot read: it may be posted
        (graph_error(2, "An unexpected error has occurred.", status=500, is_transient=True), False),  # Graph's own
    ],
)
async def test_upload_answers_keep_the_maybe_sent_rule(
    fake: FakeFacebook, make: MakePublisher, image: str, answer: Response, maybe_sent: bool
) -> None:
    fake.fail_next(answer)
    with pytest.raises(Transient) as caught:
        await make().publish(make_post(image=image))
    assert caught.value.maybe_sent is maybe_sent
    assert paths(fake) == ["photos"]


async def test_an_upload_that_never_connected_is_not_maybe_sent(host: ImageHost, image: str) -> None:
    target = make_target(None, api_base="http://127.0.0.1:9", post_as="photo")
    publisher = FacebookPublisher(target, outbound=OutboundGuard([host.netloc]))
    try:
        with pytest.raises(Transient) as caught:
            await publisher.publish(make_post(image=image))
    finally:
        await publisher.aclose()
    assert caught.value.code == "connection" and not caught.value.maybe_sent


async def test_photo_mode_without_image_makes_a_link_post(fake: FakeFacebook, make: MakePublisher) -> None:
    await make().publish(make_post(image=None))
    assert paths(fake) == ["feed"]
