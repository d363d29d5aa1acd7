"""An article's image, made ready for one platform: fetched through the outbound guard, fitted to that platform's
limits (`syndicator.images.fit`), and handed to the publisher as bytes to upload. The one copy of this for every
publisher that uploads an image; nothing here knows a platform.

Never a reason to fail a post: whatever goes wrong — the URL refused by the guard (not public), the download failed,
answered other than 200, took longer than the target's timeout in all, was not an image or over the download cap,
or the image cannot be made to fit — `NoImage` says why in words for `Receipt.extra["image_error"]`, and the
publisher posts without the image. Nothing has been sent to the platform at that point, so no retry can double it.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from syndicator.images import JPEG, PNG, ImageLimits, ImageProblem, fit
from syndicator.outbound import OutboundError, OutboundGuard

MB = 1024 * 1024
DOWNLOAD_MAX_BYTES = 25 * MB  # a camera original is fetched, then fitted to the platform's limit


@dataclass(frozen=True)
class ImageRules:
    """What one platform takes, and how to say so in a reason."""

    limits: ImageLimits
    described: str  # completes "image is over …": "the 5 MB limit", "the 10 MB photo limit"
    # an image within `limits.max_bytes` goes as it came, never decoded here: the platform checks the rest itself
    # (and a file it refuses is its own answer). False: every image is read, so its sides and format are checked too
    as_it_came_within_bytes: bool = False
    download_max_bytes: int = DOWNLOAD_MAX_BYTES


@dataclass(frozen=True)
class ReadyImage:
    data: bytes
    content_type: str
    filename: str
    resized: str = ""  # "3,000,000 → 900,000 bytes, 2000x1500" when fitted; empty when sent as it came


class NoImage(Exception):
    """The image cannot be used; the message is the reason (no secret: URLs are shown by the guard's rule)."""


def ready_image(outbound: OutboundGuard, url: str, *, timeout: float, rules: ImageRules) -> ReadyImage:
    """The image at `url`, fitted to `rules`, or NoImage. Blocking (run it in a thread). `timeout` bounds the whole
    download (resolution, redirects, every read), not each read."""
    try:
        got = outbound.fetch(
            url, timeout=timeout, max_bytes=rules.download_max_bytes, content_types=("image/",), purpose="image"
        )
    except OutboundError as exc:
        raise NoImage(_fetch_problem(exc, timeout, rules.download_max_bytes)) from None
    if got.status != 200:
        raise NoImage(f"image download answered HTTP {got.status}")
    if not got.body:
        raise NoImage("image download returned no data")
    name = urlsplit(url).path.rsplit("/", 1)[-1] or "image"
    data, content_type = got.body, got.content_type
    if rules.as_it_came_within_bytes and len(data) <= rules.limits.max_bytes:
        return ReadyImage(data, content_type, name)
    try:
        fitted = fit(data, content_type, rules.limits)
    except ImageProblem as exc:
        if len(data) > rules.limits.max_bytes:
            raise NoImage(f"image is over {rules.described} and cannot be resized: {exc}") from None
        raise NoImage(f"image cannot be made to fit {rules.described}: {exc}") from None
    if not fitted.changed:
        return ReadyImage(data, fitted.content_type, name)
    suffix = {PNG: ".png", JPEG: ".jpg"}.get(fitted.content_type, "")
    resized = f"{len(data):,} → {len(fitted.data):,} bytes, {fitted.width}x{fitted.height}"
    return ReadyImage(fitted.data, fitted.content_type, name.rsplit(".", 1)[0] + suffix, resized)


def _fetch_problem(exc: OutboundError, timeout: float, max_bytes: int) -> str:
    if exc.reason == "refused":
        return f"image URL refused: {exc}"
    if exc.reason == "content_type":
        return f"image URL did not serve an image ({exc})"
    if exc.reason == "too_large":
        return f"image is over the {max_bytes // MB} MB download limit"
    if exc.reason == "timeout":
        return f"image download took longer than {timeout:g}s"
    return f"image download failed: {exc}"
