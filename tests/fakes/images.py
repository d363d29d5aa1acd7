"""A publisher's image server on 127.0.0.1, and what the fake platforms need to read uploaded images.

`ImageHost` serves `images[path] = (bytes, content type)` and 404 otherwise; its failures are scripted like every
fake's (`fail_next`: a delay, a dropped connection). Being on 127.0.0.1, its images reach a publisher only through
the outbound allowlist (`OutboundGuard([host.netloc])`), the documented way; without it the guard refuses them.

`multipart_files(request)` gives the file parts of a multipart/form-data body as bytes, exactly as sent;
`dimensions(data)` is what Pillow reads in them (the fakes check a platform's limits with it).
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP

from PIL import Image

from tests.fakes.server import FakeServer, Request, Response


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str
    data: bytes


def multipart_files(request: Request) -> dict[str, Upload]:
    """The parts of a multipart/form-data body that carry a file name, by field name."""
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith("multipart/form-data"):
        return {}
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + request.body)
    files = {}
    for part in message.iter_parts():
        filename = part.get_filename()
        if filename is None:
            continue
        payload = part.get_payload(decode=True)
        name = str(part.get_param("name", header="content-disposition"))
        files[name] = Upload(filename, part.get_content_type(), payload if isinstance(payload, bytes) else b"")
    return files


def dimensions(data: bytes) -> tuple[str, int, int] | None:
    """(Pillow's format name, width, height), or None for what is not an image."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return str(image.format), image.width, image.height
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


def noise(width: int, height: int, *, fmt: str = "JPEG", mode: str = "RGB") -> bytes:
    """Noise compresses badly: a small picture with a big file, like a camera's."""
    # seeded by the size: the same bytes every run, so a test's file sizes (and what fitting does) never vary
    pixels = random.Random(width * 7919 + height).randbytes(width * height * 3)
    image = Image.frombytes("RGB", (width, height), pixels)
    if mode != "RGB":
        image = image.convert(mode)
    out = io.BytesIO()
    image.save(out, fmt, **({"quality": 95} if fmt == "JPEG" else {}))
    return out.getvalue()


def flat(width: int, height: int, *, fmt: str = "PNG", color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """One colour: many pixels in few bytes (sides over a limit without a big file)."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, fmt)
    return out.getvalue()


class ImageHost(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.images: dict[str, tuple[bytes, str]] = {}

    @property
    def netloc(self) -> str:
        """host:port, as an `[outbound] allow` entry names it."""
        return self.url.removeprefix("http://")

    def add(self, path: str, data: bytes, content_type: str = "image/jpeg") -> str:
        """Serve `data` at `path`; returns its URL."""
        self.images[path] = (data, content_type)
        return self.url + path

    def handle(self, request: Request) -> Response:
        if request.method == "GET" and request.path in self.images:
            data, ctype = self.images[request.path]
            return Response(200, data, headers={"Content-Type": ctype})
        return Response(404, "not found")
