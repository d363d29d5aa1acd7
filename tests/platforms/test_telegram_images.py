"""Telegram's article images (issue 16, point 5): fetched through the outbound guard, fitted to the Bot API's photo
limits, uploaded as a file with sendPhoto — or, when the image cannot be used, the same text as a message with the
reason. Real python-telegram-bot against FakeTelegram, the images on an ImageHost, both on 127.0.0.1."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from syndicator.errors import Transient
from syndicator.images import ImageLimits
from syndicator.outbound import OutboundGuard
from syndicator.platforms.media import ImageRules
from syndicator.platforms.telegram import publisher as telegram_publisher
from syndicator.platforms.telegram.publisher import TelegramPublisher
from tests.fakes.images import ImageHost, dimensions, flat, noise
from tests.fakes.server import Response
from tests.fakes.telegram import FakeTelegram
from tests.platforms.test_telegram import PUBLIC, post, target

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

MakePublisher = Callable[..., TelegramPublisher]


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


@pytest.fixture
async def make(fake: FakeTelegram, host: ImageHost) -> AsyncIterator[MakePublisher]:
    made: list[TelegramPublisher] = []

    def build(*, allow: bool = True, **kw: Any) -> TelegramPublisher:
        outbound = OutboundGuard([host.netloc] if allow else [])  # the documented way to reach 127.0.0.1
        publisher = TelegramPublisher(target(fake.url, **kw), outbound=outbound)
        made.append(publisher)
        return publisher

    yield build
    for publisher in made:
        await publisher.aclose()


def dropped(records: list[logging.LogRecord]) -> list[str]:
    return [str(getattr(r, "image_error", "")) for r in records if r.getMessage() == "telegram image dropped"]


async def test_an_image_over_the_byte_limit_is_resized_under_it_and_posted(
    fake: FakeTelegram, host: ImageHost, make: MakePublisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Telegram's 10 MB, scaled down with the test image (the fake holds the publisher to the same limit)
    limits = ImageLimits(max_bytes=60_000, max_side_sum=10_000, max_ratio=20)
    monkeypatch.setattr(telegram_publisher, "PHOTO", ImageRules(limits, "the test's 60 kB limit"))
    fake.photo_max_bytes = 60_000
    original = noise(800, 600)
    assert len(original) > 60_000

    receipt = await make().publish(post(image_url=host.add("/img/camera.jpg", original)))

    sent = fake.messages[(PUBLIC.id, int(receipt.remote_id))]
    assert sent.kind == "photo" and sent.photo is not None and len(sent.photo) <= 60_000
    assert sent.photo_size is not None and sent.photo_size[0] == "JPEG"
    _, width, height = sent.photo_size
    assert width / height == pytest.approx(800 / 600, rel=0.02)
    assert receipt.extra["kind"] == "photo" and "image_error" not in receipt.extra
    assert receipt.extra["image_resized"].startswith(f"{len(original):,} → {len(sent.photo):,} bytes")


async def test_sides_over_telegrams_sum_are_scaled_to_fit(
    fake: FakeTelegram, host: ImageHost, make: MakePublisher
) -> None:
    wide = flat(9500, 600)  # 10,100 pixels of sides: Telegram would answer PHOTO_INVALID_DIMENSIONS
    receipt = await make().publish(post(image_url=host.add("/img/panorama.png", wide, "image/png")))

    sent = fake.messages[(PUBLIC.id, int(receipt.remote_id))]
    assert sent.photo_size is not None
    _, width, height = sent.photo_size
    assert width + height <= 10_000 and width > 9000
    assert receipt.extra["kind"] == "photo"


async def test_a_shape_no_scaling_fixes_goes_as_text_with_the_reason(
    fake: FakeTelegram, host: ImageHost, make: MakePublisher, caplog: pytest.LogCaptureFixture
) -> None:
    strip = host.add("/img/strip.png", flat(4200, 200), "image/png")
    with caplog.at_level(logging.WARNING):
        receipt = await make().publish(post(image_url=strip))

    assert fake.calls("sendPhoto") == []
    (message,) = fake.calls("sendMessage")
    assert message["text"] == "<b>Breaking</b>: something happened"
    assert receipt.extra["kind"] == "text"
    assert "a 4200x200 image is more than 20 times as long as wide" in receipt.extra["image_error"]
    assert dropped(caplog.records) == [receipt.extra["image_error"]]


async def test_an_image_on_a_private_address_is_refused_and_the_text_goes(
    fake: FakeTelegram, host: ImageHost, make: MakePublisher, caplog: pytest.LogCaptureFixture
) -> None:
    image = host.add("/img/lead.jpg", noise(64, 48))
    with caplog.at_level(logging.WARNING):
        receipt = await make(allow=False).publish(post(image_url=image))  # no allowlist: public addresses only

    assert host.requests == []  # neither we nor Telegram fetched it
    assert fake.calls("sendPhoto") == [] and len(fake.calls("sendMessage")) == 1
    assert receipt.extra["image_error"] == "image URL refused: 127.0.0.1 is a loopback address"
    assert dropped(caplog.records) == [receipt.extra["image_error"]]


@pytest.mark.parametrize(
    ("script", "reason"),
    [
        (Response(200, noise(64, 48), headers={"Content-Type": "image/jpeg"}, delay=1.0), "longer than 0.3s"),
        (Response(drop=True), "image download failed"),
        (Response(404, "gone"), "image download answered HTTP 404"),
    ],
)
async def test_a_slow_or_failed_download_posts_the_text(
    fake: FakeTelegram, host: ImageHost, make: MakePublisher, script: Response, reason: str
) -> None:
    image = host.add("/img/lead.jpg", noise(64, 48))
    host.fail_next(script)
    receipt = await make(timeout=0.3).publish(post(image_url=image))

    assert fake.calls("sendPhoto") == [] and len(fake.calls("sendMessage")) == 1
    assert receipt.extra["kind"] == "text" and reason in receipt.extra["image_error"]


async def test_a_connection_dropped_during_the_upload_is_maybe_sent_and_nothing_else_is_tried(
    fake: FakeTelegram, host: ImageHost, make: MakePublisher
) -> None:
    fake.fail_next(Response(drop=True))  # the whole upload arrived; the answer never came
    with pytest.raises(Transient) as info:
        await make().publish(post(image_url=host.add("/img/lead.jpg", noise(64, 48))))

    assert info.value.maybe_sent  # the photo may be in the channel: `unknown`, never resent blindly
    (upload,) = [r for r in fake.requests if r.path.endswith("/sendPhoto")]
    assert upload.headers["content-type"].startswith("multipart/form-data")
    assert fake.calls("sendMessage") == []  # no text fallback either: that would be a second post


async def test_an_upload_that_never_connected_is_not_maybe_sent(host: ImageHost) -> None:
    with FakeTelegram() as gone:
        url = gone.url  # a port nothing listens on once it stops
    publisher = TelegramPublisher(target(url), outbound=OutboundGuard([host.netloc]))
    try:
        with pytest.raises(Transient) as info:
            await publisher.publish(post(image_url=host.add("/img/lead.jpg", noise(64, 48))))
    finally:
        await publisher.aclose()
    assert not info.value.maybe_sent  # safe to retry: nothing reached Telegram


async def test_a_format_telegram_takes_goes_as_it_came(
    fake: FakeTelegram, host: ImageHost, make: MakePublisher
) -> None:
    png = flat(300, 200)
    receipt = await make().publish(post(image_url=host.add("/img/chart.png", png, "image/png")))

    sent = fake.messages[(PUBLIC.id, int(receipt.remote_id))]
    assert sent.photo == png and dimensions(png) == sent.photo_size == ("PNG", 300, 200)
    assert "image_resized" not in receipt.extra
