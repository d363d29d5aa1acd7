"""An article image made ready for a platform (`platforms.media`, `images.fit`): the limits besides bytes (the sum of
the sides, the shape, the formats taken), and the one fetch-and-fit every uploading publisher shares, over real
HTTP through the outbound guard."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from syndicator.images import JPEG, PNG, ImageLimits, ImageProblem, fit
from syndicator.outbound import OutboundGuard
from syndicator.platforms.media import ImageRules, NoImage, ready_image
from tests.fakes.images import ImageHost, dimensions, flat, noise
from tests.fakes.server import Response

# -- images.fit: the limits besides bytes ----------------------------------------------------------------------


def test_the_sum_of_the_sides_is_brought_under_its_limit_keeping_the_shape() -> None:
    got = fit(flat(1600, 500), PNG, ImageLimits(max_bytes=10_000_000, max_side_sum=1000))
    assert got.changed and got.width + got.height <= 1000
    assert got.width / got.height == pytest.approx(1600 / 500, rel=0.01)
    assert Image.open(io.BytesIO(got.data)).size == (got.width, got.height)


def test_rounding_never_puts_the_sides_a_pixel_over() -> None:
    got = fit(flat(601, 401), PNG, ImageLimits(max_bytes=10_000_000, max_side_sum=999, max_side=599))
    assert got.width + got.height <= 999 and max(got.width, got.height) <= 599


def test_a_shape_the_platform_refuses_cannot_be_fitted() -> None:
    with pytest.raises(ImageProblem, match="more than 20 times as long as wide"):
        fit(flat(4200, 200), PNG, ImageLimits(max_bytes=10_000_000, max_ratio=20))
    assert not fit(flat(4000, 200), PNG, ImageLimits(max_bytes=10_000_000, max_ratio=20)).changed  # 20:1 is fine


def test_a_format_the_platform_does_not_take_is_re_encoded() -> None:
    webp = flat(300, 200, fmt="WEBP")
    limits = ImageLimits(max_bytes=4_000_000, formats=frozenset({JPEG, PNG}))
    got = fit(webp, "image/webp", limits)
    assert got.changed and got.content_type == JPEG and (got.width, got.height) == (300, 200)
    png = flat(300, 200)
    same = fit(png, "application/octet-stream", limits)  # the bytes decide, not the server's label
    assert not same.changed and same.data == png and same.content_type == PNG


def test_transparency_is_flattened_where_png_is_not_taken() -> None:
    rgba = noise(120, 80, fmt="PNG", mode="RGBA")
    got = fit(rgba, PNG, ImageLimits(max_bytes=10_000_000, formats=frozenset({JPEG})))
    assert got.content_type == JPEG and dimensions(got.data) == ("JPEG", 120, 80)


# -- ready_image: fetched through the guard, then fitted -------------------------------------------------------


RULES = ImageRules(ImageLimits(max_bytes=60_000, max_side_sum=2000), "the test's 60 kB limit")


def test_an_image_over_the_limit_is_fetched_and_fitted(host: ImageHost) -> None:
    original = noise(800, 600)
    assert len(original) > 60_000
    url = host.add("/img/big.jpg", original)
    got = ready_image(OutboundGuard([host.netloc]), url, timeout=5, rules=RULES)
    assert len(got.data) <= 60_000 and got.content_type == JPEG and got.filename == "big.jpg"
    assert got.resized.startswith(f"{len(original):,} → {len(got.data):,} bytes")


def test_an_image_within_the_limits_goes_as_it_came(host: ImageHost) -> None:
    small = noise(40, 30)
    got = ready_image(OutboundGuard([host.netloc]), host.add("/a.jpg", small), timeout=5, rules=RULES)
    assert got.data == small and got.resized == ""


def test_as_it_came_within_bytes_skips_reading_it(host: ImageHost) -> None:
    odd = b"\xff\xd8 not really a jpeg"
    rules = ImageRules(ImageLimits(max_bytes=60_000), "x", as_it_came_within_bytes=True)
    got = ready_image(OutboundGuard([host.netloc]), host.add("/odd.jpg", odd), timeout=5, rules=rules)
    assert got.data == odd  # the platform judges it (X answers 400 and the post goes without)
    read = ImageRules(ImageLimits(max_bytes=60_000), "x")
    with pytest.raises(NoImage, match="cannot be made to fit x: not an image"):
        ready_image(OutboundGuard([host.netloc]), host.url + "/odd.jpg", timeout=5, rules=read)


@pytest.mark.parametrize(
    ("path", "script", "reason"),
    [
        ("/missing.jpg", None, "image download answered HTTP 404"),
        ("/a.jpg", Response(drop=True), "image download failed: no answer from 127.0.0.1"),
        ("/a.jpg", Response(200, b"<html>", headers={"Content-Type": "text/html"}), "did not serve an image"),
        ("/a.jpg", Response(200, b"", headers={"Content-Type": "image/jpeg"}), "image download returned no data"),
        ("/a.jpg", Response(200, b"\xff\xd8", headers={"Content-Type": "image/jpeg"}, delay=1.0), "longer than 0.3s"),
    ],
)
def test_what_cannot_be_fetched_says_why(host: ImageHost, path: str, script: Response | None, reason: str) -> None:
    host.add("/a.jpg", noise(40, 30))
    if script is not None:
        host.fail_next(script)
    with pytest.raises(NoImage, match=reason.replace(".", r"\.")):
        ready_image(OutboundGuard([host.netloc]), host.url + path, timeout=0.3, rules=RULES)


def test_a_private_address_is_refused_without_a_request(host: ImageHost) -> None:
    url = host.add("/a.jpg", noise(40, 30))
    with pytest.raises(NoImage, match=r"image URL refused: 127\.0\.0\.1 is a loopback address"):
        ready_image(OutboundGuard(), url, timeout=5, rules=RULES)  # no allowlist
    assert host.requests == []


def test_an_image_that_cannot_fit_says_which_limit(host: ImageHost) -> None:
    url = host.add("/strip.png", flat(4200, 200), PNG)
    rules = ImageRules(ImageLimits(max_bytes=60_000, max_ratio=20), "Telegram's photo limits")
    with pytest.raises(NoImage, match="cannot be made to fit Telegram's photo limits: a 4200x200 image"):
        ready_image(OutboundGuard([host.netloc]), url, timeout=5, rules=rules)
