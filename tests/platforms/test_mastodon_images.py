"""The Mastodon publisher's article image: made ready by `platforms.media.ready_image` (the outbound guard, then
fitted to the instance's `image_size_limit` and `image_matrix_limit`), uploaded with its alt text, or left out with
the reason — against FakeMastodon, which checks an upload the way the instance does, and an image host on
127.0.0.1."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from syndicator.images import ImageLimits, fit
from syndicator.outbound import OutboundGuard
from syndicator.platforms.mastodon import instance
from syndicator.platforms.mastodon.publisher import MastodonPublisher, image_rules
from syndicator.platforms.media import DOWNLOAD_MAX_BYTES, MB
from tests.fakes.images import ImageHost, dimensions, flat, noise
from tests.fakes.mastodon import FakeMastodon
from tests.platforms.test_mastodon import Clock, post, target

MakePublisher = Callable[..., MastodonPublisher]


@pytest.fixture
def fake() -> Iterator[FakeMastodon]:
    with FakeMastodon() as server:
        yield server


@pytest.fixture
async def make(fake: FakeMastodon, host: ImageHost) -> AsyncIterator[MakePublisher]:
    made: list[MastodonPublisher] = []

    async def no_sleep(seconds: float) -> None:
        return None

    def build(*, allow: tuple[str, ...] | None = None) -> MastodonPublisher:
        outbound = OutboundGuard(list(allow if allow is not None else (host.netloc,)))
        publisher = MastodonPublisher(target(fake.url), now=Clock(), outbound=outbound, sleep=no_sleep)
        made.append(publisher)
        return publisher

    yield build
    for publisher in made:
        await publisher.aclose()


def the_attachment(fake: FakeMastodon) -> dict[str, Any]:
    (status,) = fake.statuses.values()
    (attachment,) = status["media_attachments"]
    return dict(attachment)


def test_without_media_limits_in_the_answer_mastodons_own_apply() -> None:
    limits = instance.from_instance({"configuration": {"statuses": {"max_characters": 500}}})
    assert (limits.image_size_limit, limits.image_matrix_limit) == (16 * 1024 * 1024, 33_177_600)
    rules = image_rules(limits)
    assert rules.limits == ImageLimits(max_bytes=16 * 1024 * 1024, max_pixels=33_177_600)
    assert rules.download_max_bytes == DOWNLOAD_MAX_BYTES  # a bigger original is fetched, then fitted
    older = instance.from_instance({"configuration": {"media_attachments": {
        "image_size_limit": 10 * 1024 * 1024, "image_matrix_limit": 16_777_216}}})  # fmt: skip
    assert image_rules(older).limits == ImageLimits(max_bytes=10 * 1024 * 1024, max_pixels=16_777_216)
    roomy = instance.InstanceLimits(image_size_limit=40 * MB)
    assert image_rules(roomy).download_max_bytes == 40 * MB


async def test_an_image_over_the_instances_bytes_is_resized_before_upload(
    fake: FakeMastodon, host: ImageHost, make: MakePublisher
) -> None:
    fake.image_size_limit = 150_000
    photo = noise(800, 600)
    assert len(photo) > fake.image_size_limit
    url = host.add("/wp-content/uploads/camera.jpg", photo)
    receipt = await make().publish(post(image_url=url, extra={"image_alt": "زنی در حال خواندن روزنامه"}))
    attachment = the_attachment(fake)
    upload = fake.uploads[attachment["id"]]
    assert len(upload.data) <= fake.image_size_limit and dimensions(upload.data) is not None
    assert upload.content_type == "image/jpeg" and upload.filename == "camera.jpg"
    assert attachment["description"] == "زنی در حال خواندن روزنامه"
    assert receipt.extra["media_ids"] == [attachment["id"]] and "image_error" not in receipt.extra
    assert receipt.extra["image_resized"].startswith(f"{len(photo):,} → {len(upload.data):,} bytes")


async def test_an_image_over_the_instances_pixels_is_resized_before_upload(
    fake: FakeMastodon, host: ImageHost, make: MakePublisher
) -> None:
    fake.image_matrix_limit = 200_000
    url = host.add("/wp-content/uploads/wide.png", flat(1000, 800), "image/png")  # 800,000 pixels, few bytes
    receipt = await make().publish(post(image_url=url, extra={"image_alt": "نقشه"}))
    attachment = the_attachment(fake)
    shape = dimensions(fake.uploads[attachment["id"]].data)
    assert shape is not None
    _, width, height = shape
    assert width * height <= 200_000 and abs(width / height - 1000 / 800) < 0.01
    assert attachment["meta"]["original"] == {"width": width, "height": height}
    assert attachment["description"] == "نقشه" and "image_error" not in receipt.extra


async def test_an_image_within_the_limits_goes_as_it_came(
    fake: FakeMastodon, host: ImageHost, make: MakePublisher
) -> None:
    photo = noise(64, 48)
    receipt = await make().publish(post(image_url=host.add("/a.jpg", photo), extra={"image_alt": "x"}))
    assert fake.uploads[the_attachment(fake)["id"]].data == photo and "image_resized" not in receipt.extra


@pytest.mark.parametrize(
    ("path", "served", "allowed", "reason"),
    [
        ("/not-a-picture.jpg", (b"<html>a page</html>", "image/jpeg"), True, "image cannot be made to fit"),
        ("/page.jpg", (b"<html>a page</html>", "text/html"), True, "did not serve an image"),
        ("/gone.jpg", None, True, "image download answered HTTP 404"),
        ("/private.jpg", (flat(8, 8, fmt="JPEG"), "image/jpeg"), False, "image URL refused"),
    ],
)
async def test_an_image_that_cannot_be_used_is_left_out_and_the_post_goes_without_it(
    fake: FakeMastodon, host: ImageHost, make: MakePublisher, caplog: pytest.LogCaptureFixture,
    path: str, served: tuple[bytes, str] | None, allowed: bool, reason: str,
) -> None:  # fmt: skip
    if served is not None:
        host.add(path, *served)
    publisher = make(allow=None if allowed else ())  # not allowed: 127.0.0.1 is not public, the guard refuses it
    with caplog.at_level(logging.WARNING, logger="syndicator.platforms.mastodon.publisher"):
        receipt = await publisher.publish(post(image_url=host.url + path, extra={"image_alt": "x"}))
    assert reason in receipt.extra["image_error"]
    (status,) = fake.statuses.values()
    assert status["media_attachments"] == [] and receipt.extra["media_ids"] == [] and fake.created == 1
    assert fake.calls("POST", "/api/v2/media") == []
    (record,) = [r for r in caplog.records if r.getMessage() == "mastodon image dropped"]
    assert reason in str(getattr(record, "image_error", ""))


async def test_an_image_the_instance_refuses_is_left_out_and_the_post_goes_without_it(
    fake: FakeMastodon, host: ImageHost, make: MakePublisher, caplog: pytest.LogCaptureFixture
) -> None:
    publisher = make()
    await publisher.limits()  # read now; the instance's limit is lowered after: the publisher fits to the old one
    fake.image_size_limit = 100_000
    photo = noise(400, 300)
    assert len(photo) > fake.image_size_limit
    with caplog.at_level(logging.WARNING, logger="syndicator.platforms.mastodon.publisher"):
        receipt = await publisher.publish(post(image_url=host.add("/big.jpg", photo), extra={"image_alt": "x"}))
    assert "Mastodon refused the image" in receipt.extra["image_error"] and "422" in receipt.extra["image_error"]
    (status,) = fake.statuses.values()
    assert status["media_attachments"] == [] and fake.created == 1 and fake.uploads == {}
    assert len(fake.calls("POST", "/api/v2/media")) == 1
    assert any(r.getMessage() == "mastodon image dropped" for r in caplog.records)


@pytest.mark.parametrize(
    ("width", "height", "max_pixels"), [(1001, 999, 123_457), (3000, 70, 49_999), (640, 480, 307_199)]
)
def test_fitting_to_a_pixel_count_keeps_the_shape_and_never_goes_over(width: int, height: int, max_pixels: int) -> None:
    fitted = fit(flat(width, height), "image/png", ImageLimits(max_bytes=10 * MB, max_pixels=max_pixels))
    assert fitted.changed and fitted.width * fitted.height <= max_pixels
    assert fitted.width * fitted.height > max_pixels * 0.97  # as big as fits, a row or column of rounding aside
    assert abs(fitted.width / fitted.height - width / height) < 0.02 * width / height + 1 / fitted.height
