"""An image made to fit a platform's limits: too many bytes or too many pixels → resized and recompressed (Pillow),
not dropped. Pure: bytes in, bytes out; the caller fetched them through the outbound guard.

An image already within the limits is sent as it came (no quality lost). Otherwise it is decoded once — never more
than `MAX_DECODE_PIXELS`, so a small file that claims to be a 100,000 x 100,000 image (a decompression bomb) is
refused, not decoded — scaled to `max_side`, and encoded as JPEG at falling quality, then smaller, until it fits.
Transparency is kept as PNG when that fits, else flattened on white. Only the first frame of an animation is kept
(a still beats no image). What cannot be read as an image is refused with the reason.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

MAX_DECODE_PIXELS = 50_000_000  # ~ 8,000 x 6,000: every real photo; a decompression bomb is far above
QUALITIES = (85, 75, 65)
SHRINK = 0.75  # each round after the qualities: three quarters of the sides
ROUNDS = 8


@dataclass(frozen=True)
class ImageLimits:
    max_bytes: int
    max_side: int = 0  # the longest side in pixels; 0: any


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
            side_ok = not limits.max_side or max(width, height) <= limits.max_side
            if len(data) <= limits.max_bytes and side_ok:
                return Fitted(data, content_type, width, height, changed=False)
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
    scale = 1.0
    width, height = image.size
    if limits.max_side and max(width, height) > limits.max_side:
        scale = limits.max_side / max(width, height)
    for _ in range(ROUNDS):
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        frame = image.resize(size, Image.Resampling.LANCZOS) if size != image.size else image
        if transparent:
            png = _encode(frame.convert("RGBA"), "PNG")
            if len(png) <= limits.max_bytes:
                return Fitted(png, "image/png", *size, changed=True)
            flat = Image.new("RGB", frame.size, (255, 255, 255))
            flat.paste(frame.convert("RGBA"), mask=frame.convert("RGBA").getchannel("A"))
            frame = flat
        rgb = frame.convert("RGB")
        for quality in QUALITIES:
            jpeg = _encode(rgb, "JPEG", quality=quality)
            if len(jpeg) <= limits.max_bytes:
                return Fitted(jpeg, "image/jpeg", *size, changed=True)
        scale *= SHRINK
    raise ImageProblem(f"image does not fit in {limits.max_bytes} bytes even at {size[0]}x{size[1]}")


def _encode(image: object, fmt: str, **options: int) -> bytes:
    from PIL import Image

    assert isinstance(image, Image.Image)
    out = io.BytesIO()
    image.save(out, fmt, optimize=True, **options)
    return out.getvalue()
