"""Images fitted to a platform's limits with Pillow (issue 16, point 5): resized and recompressed, not dropped."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import timedelta

import pytest
from PIL import Image

from syndicator import config
from syndicator.app import App
from syndicator.article import Post
from syndicator.images import ImageLimits, ImageProblem, fit
from syndicator.platforms.twitter import publisher as x_publisher
from syndicator.polling import poll_feed
from tests.fakes.images import noise as photo
from tests.fakes.twitter import FakeX
from tests.wordpress.fake import FakeWordPress
from tests.wordpress.helpers import NOW, Clock, posts


def test_an_image_within_the_limits_is_sent_as_it_came() -> None:
    data = photo(64, 48)
    got = fit(data, "image/jpeg", ImageLimits(max_bytes=len(data)))
    assert got.data == data and not got.changed and (got.width, got.height) == (64, 48)


def test_too_many_bytes_is_recompressed_and_resized_until_it_fits() -> None:
    data = photo(1200, 900)
    limit = len(data) // 6
    got = fit(data, "image/jpeg", ImageLimits(max_bytes=limit))
    assert got.changed and len(got.data) <= limit and got.content_type == "image/jpeg"
    assert Image.open(io.BytesIO(got.data)).size == (got.width, got.height)
    assert got.width / got.height == pytest.approx(1200 / 900, rel=0.01)


def test_too_many_pixels_is_scaled_to_the_longest_side() -> None:
    data = photo(3000, 1000)
    got = fit(data, "image/jpeg", ImageLimits(max_bytes=50_000_000, max_side=1500))
    assert (got.width, got.height) == (1500, 500)


def test_transparency_stays_png_when_it_fits_else_is_flattened() -> None:
    data = photo(400, 300, mode="RGBA", fmt="PNG")
    roomy = fit(data, "image/png", ImageLimits(max_bytes=len(data) * 2, max_side=200))
    assert roomy.content_type == "image/png" and Image.open(io.BytesIO(roomy.data)).mode == "RGBA"
    tight = fit(data, "image/png", ImageLimits(max_bytes=len(data) // 10))
    assert tight.content_type == "image/jpeg" and len(tight.data) <= len(data) // 10


def test_what_is_not_an_image_or_a_decompression_bomb_is_refused() -> None:
    with pytest.raises(ImageProblem, match="not an image"):
        fit(b"<html>not an image</html>" * 100, "image/jpeg", ImageLimits(max_bytes=10))
    bomb = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(bomb, "PNG")  # 400 M pixels in a few tens of kilobytes
    with pytest.raises(ImageProblem, match=r"too large to decode|not an image"):
        fit(bomb.getvalue(), "image/png", ImageLimits(max_bytes=10))
    with pytest.raises(ImageProblem):
        fit(photo(100, 100)[:200], "image/jpeg", ImageLimits(max_bytes=10))  # truncated


# ── end to end: WordPress's featured image and its alt text, through the outbox, to the fake X ─────────────────

X_ENV = {
    "X_API_KEY": "X-API-KEY-not-real",  # what FakeX expects
    "X_API_SECRET": "X-TEST-consumer-secret-not-real",
    "X_ACCESS_TOKEN": "1-X-ACCESS-TOKEN-not-real",
    "X_ACCESS_TOKEN_SECRET": "X-TEST-access-token-secret-not-real",
}


def test_a_big_featured_image_is_resized_for_x_and_carries_its_alt_text(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(x_publisher, "MAX_IMAGE_BYTES", 60_000)  # X's 5 MB, scaled down with the test image
    original = photo(800, 600)
    assert len(original) > 60_000
    with FakeWordPress() as wp, FakeX() as x:
        wp.publish(2, now=NOW - timedelta(hours=1))
        clock = Clock()
        host = wp.url.split("//", 1)[1]
        target = (
            f'[targets.x]\nplatform = "twitter"\napi_base = "{x.url}"\nhandle = "example"\n\n'
            f'[outbound]\nallow = ["{host}"]\n'
        )
        text = (
            f'[store]\nurl = "{store_url}"\n\n[[feeds]]\nname = "en"\nurl = "{wp.url}/feed/"\nlanguage = "en"\n'
            f'first_run = "skip"\ntargets = ["x"]\nwordpress = "{wp.url}"\n\n{target}'
        )
        app = App.open(config.parse(text, environ=X_ENV), clock=clock)
        poll_feed(app, app.config.feed("en"))
        wp.publish(1, start=10, now=NOW)
        wp.posts[10].image = original
        wp.posts[10].alt_text = "Members of parliament raise their hands in a vote"
        # the feed carries the image; its alt text only the REST API knows (asked by the poll, no webhook here)
        poll_feed(app, app.config.feed("en"))
        queued = posts(app)[(wp.guid(10), "x")]
        assert queued["image_url"] == f"{wp.url}/media/10.jpg"
        post = Post.from_json(json.dumps({k: v for k, v in queued.items() if k != "state"}))
        assert post.extra["image_alt"] == "Members of parliament raise their hands in a vote"
        receipt = asyncio.run(app.publisher(app.config.targets["x"]).publish(post))
        assert "image_error" not in receipt.extra and "alt_error" not in receipt.extra
        (media_id,) = receipt.extra["media_ids"]
        uploaded = x.media[media_id]
        assert len(uploaded) <= 60_000 and Image.open(io.BytesIO(uploaded)).format == "JPEG"
        assert x.alt_texts == {media_id: "Members of parliament raise their hands in a vote"}
        asyncio.run(app.aclose())
