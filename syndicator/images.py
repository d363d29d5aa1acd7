"""An image made to fit a platform's limits: too many bytes or too many pixels → resized and recompressed (Pillow),
not dropped. Pure: bytes in, bytes out; the caller fetched them through the outbound guard.

An image already within the limits (bytes, longest side, sum of the sides, and a format the platform takes) is sent
as it came (no quality lost). Otherwise it is decoded once — never more than `MAX_DECODE_PIXELS`, so a small file
that claims to be a 100,000 x 100,000 image (a decompression bomb) is refused, not decoded — scaled to `max_side`
and `max_side_sum`, and encoded as JPEG at falling quality, then smaller, until it fits. Transparency is kept as
PNG when that fits (and the platform takes PNG), else flattened on white. Only the first frame of an animation is
kept (a still beats no image). Scaling keeps the shape, so a shape the platform refuses (`max_ratio`: a 30:1 strip)
cannot be fitted; neither can what is not an image. Both are refused with the reason.
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass

MAX_DECODE_PIXELS = 50_000_000  # ~ 8,000 x 6,000: every real photo; a decompression bomb is far above
QUALITIES = (85, 75, 65)
SHRINK = 0.75  # each round after the qualities: three quarters of the sides
ROUNDS = 8


JPEG = "image/jpeg"
PNG = "image/png"


@dataclass(frozen=True)
class ImageLimits:
    max_bytes: int
    max_side: int = 0  # the longest side in pixels; 0: any
    max_side_sum: int = 0  # width + height in pixels; 0: any
    max_ratio: float = 0  # the longest side over the shortest; 0: any
    max_pixels: int = 0  # width x height; 0: any
    formats: frozenset[str] = frozenset()  # media types taken as they are; empty: any. Others are re-encoded

    def takes(self, width: int, height: int, content_type: str) -> bool:
        """True when an image of this size and type needs no change (its bytes are checked apart)."""
        return (
            (not self.max_side or max(width, height) <= self.max_side)
            and (not self.max_side_sum or width + height <= self.max_side_sum)
            and (not self.max_pixels or width * height <= self.max_pixels)
            and (not self.formats or content_type in self.formats)
        )


@dataclass(frozen=True)
class Fitted:
    data: bytes
    content_type: str
    width: int
    height: int
    changed: bool  # resized or recompressed


class ImageProblem(ValueError):
    """The bytes cannot be made into an image within the limits; the message says why."""


def fit(data: bytes, content_type: str, limits: ImageLimits) -> Fitted:
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > MAX_DECODE_PIXELS:
                raise ImageProblem(f"image too large to decode ({width}x{height} pixels)")
            if limits.max_ratio and max(width, height) > limits.max_ratio * max(1, min(width, height)):
                raise ImageProblem(f"a {width}x{height} image is more than {limits.max_ratio:g} times as long as wide")
            actual = _media_type(image.format, content_type)
            if len(data) <= limits.max_bytes and limits.takes(width, height, actual):
                return Fitted(data, actual, width, height, changed=False)
            image.seek(0)
            image.load()
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageProblem(f"not an image that can be read: {exc.__class__.__name__}") from None
    except (OSError, SyntaxError, ValueError) as exc:  # truncated or corrupt files
        if isinstance(exc, ImageProblem):
            raise
        raise ImageProblem(f"image cannot be decoded: {exc.__class__.__name__}") from None
    return _shrink(image, limits)


def _shrink(image: object, limits: ImageLimits) -> Fitted:
    from PIL import Image

    assert isinstance(image, Image.Image)
    transparent = image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info)
    png_ok = not limits.formats or PNG in limits.formats
    scale = 1.0
    width, height = image.size
    if limits.max_side and max(width, height) > limits.max_side:
        scale = limits.max_side / max(width, height)
    if limits.max_side_sum and width + height > limits.max_side_sum:
        scale = min(scale, limits.max_side_sum / (width + height))
    if limits.max_pixels and width * height > limits.max_pixels:
        scale = min(scale, math.sqrt(limits.max_pixels / (width * height)))
    for _ in range(ROUNDS):
        size = _size(width, height, scale, limits)
        frame = image.resize(size, Image.Resampling.LANCZOS) if size != image.size else image
        if transparent and png_ok:
            png = _encode(frame.convert("RGBA"), "PNG")
            if len(png) <= limits.max_bytes:
                return Fitted(png, PNG, *size, changed=True)
        if transparent:
            flat = Image.new("RGB", frame.size, (255, 255, 255))
            flat.paste(frame.convert("RGBA"), mask=frame.convert("RGBA").getchannel("A"))
            frame = flat
        rgb = frame.convert("RGB")
        for quality in QUALITIES:
            jpeg = _encode(rgb, "JPEG", quality=quality)
            if len(jpeg) <= limits.max_bytes:
                return Fitted(jpeg, JPEG, *size, changed=True)
        scale *= SHRINK
    raise ImageProblem(f"image does not fit in {limits.max_bytes} bytes even at {size[0]}x{size[1]}")


def _size(width: int, height: int, scale: float, limits: ImageLimits) -> tuple[int, int]:
    """The sides at `scale`, rounded, and never a pixel over a limit because of the rounding."""
    w, h = max(1, round(width * scale)), max(1, round(height * scale))
    if limits.max_side:
        w, h = min(w, limits.max_side), min(h, limits.max_side)
    while limits.max_side_sum and w + h > limits.max_side_sum and max(w, h) > 1:  # a pixel or two at most
        w, h = (w - 1, h) if w >= h else (w, h - 1)
    while limits.max_pixels and w * h > limits.max_pixels and max(w, h) > 1:  # a row or column at most
        w, h = (w - 1, h) if w >= h else (w, h - 1)
    return w, h


def _media_type(pillow_format: str | None, given: str) -> str:
    """What the bytes are, not what the server said they are. A camera's multi-picture JPEG (MPO) is a JPEG to
    every platform."""
    from PIL import Image

    if pillow_format == "MPO":
        return JPEG
    return Image.MIME.get(pillow_format or "", given)


def _encode(image: object, fmt: str, **options: int) -> bytes:
    from PIL import Image

    assert isinstance(image, Image.Image)
    out = io.BytesIO()
    image.save(out, fmt, optimize=True, **options)
    return out.getvalue()
