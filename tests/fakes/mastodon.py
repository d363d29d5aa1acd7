"""A fake Mastodon server on 127.0.0.1 that validates like a real instance: `/api/v2/instance` with its own limits
(`max_characters`, `characters_reserved_per_url`, configurable), statuses counted the instance's way (grapheme
clusters by the `regex` module's UAX #29 `\\X` — not by the code under test — with every `http(s)://` URL counting
`characters_reserved_per_url`), 422 over the limit, `Idempotency-Key` dedupe (the same key returns the first
status, never a second), media with descriptions (≤ `description_limit`, optionally processed asynchronously: 202,
then `GET /api/v1/media/:id`) checked like the instance checks them (a file Pillow cannot read, over
`image_size_limit` bytes or over `image_matrix_limit` pixels is a 422; the bytes kept in `uploads`), edits (PUT)
and deletes, the `X-RateLimit-*` headers on every answer, Bearer tokens. `fail_next` scripts failures.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import regex

from tests.fakes.images import Upload, dimensions, multipart_files
from tests.fakes.server import FakeServer, Request, Response

TOKEN = "TEST-not-real-mastodon-token"
_URL = regex.compile(r"https?://[^\s<>\"\u200e\u200f\u202a-\u202e\u2066-\u2069]+(?<![.,;:!?'\")])")


def instance_length(text: str, per_url: int) -> int:
    return len(regex.findall(r"\X", _URL.sub("x" * per_url, text)))


def error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(status, {"error": message}, headers=headers or {})


@dataclass
class FakeMastodon(FakeServer):
    max_characters: int = 500
    per_url: int = 23
    description_limit: int = 1500
    image_size_limit: int = 16 * 1024 * 1024
    image_matrix_limit: int = 33_177_600  # Attachmentable::MAX_MATRIX_LIMIT, 7680 x 4320
    process_async: bool = False  # media answers 202 without a URL; the first GET of it finds it processed
    statuses: dict[str, dict[str, Any]] = field(default_factory=dict)
    media: dict[str, dict[str, Any]] = field(default_factory=dict)
    uploads: dict[str, Upload] = field(default_factory=dict)  # media id → the file as uploaded
    keys: dict[str, str] = field(default_factory=dict)  # Idempotency-Key → status id
    created: int = 0  # statuses really created (a replayed key creates none)
    rate_remaining: int = 300

    def __post_init__(self) -> None:
        FakeServer.__init__(self)
        self._ids = itertools.count(110_000_000_000_000_001)

    def texts(self) -> list[str]:
        return [s["text"] for s in self.statuses.values()]

    def calls(self, method: str, path: str) -> list[Request]:
        return [r for r in self.requests if r.method == method and r.path.rstrip("/") == path]

    def reset_at(self) -> datetime:
        return datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=5)

    def _headers(self) -> dict[str, str]:
        self.rate_remaining = max(self.rate_remaining - 1, 0)
        reset = self.reset_at().isoformat().replace("+00:00", ".000Z")
        return {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": str(self.rate_remaining),
                "X-RateLimit-Reset": reset}  # fmt: skip

    def _ok(self, body: Any, status: int = 200) -> Response:
        return Response(status, body, headers=self._headers())

    def handle(self, request: Request) -> Response:
        path = request.path.rstrip("/")
        if path == "/api/v2/instance" and request.method == "GET":
            return self._ok(self.instance())
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return error(401, "The access token is invalid")
        if path == "/api/v1/accounts/verify_credentials":
            return self._ok({"id": "109000000000000001", "username": "newsroom", "acct": "newsroom",
                             "display_name": "Newsroom", "url": f"{self.url}/@newsroom"})  # fmt: skip
        if path == "/api/v2/media" and request.method == "POST":
            return self._upload(request)
        if path.startswith("/api/v1/media/") and request.method == "GET":
            attachment = self.media.get(path.rsplit("/", 1)[-1])
            if attachment is None:
                return error(404, "Record not found")
            attachment["url"] = attachment["url"] or f"{self.url}/media/{attachment['id']}.png"
            return self._ok(attachment)
        if path == "/api/v1/statuses" and request.method == "POST":
            return self._post(request)
        if path.startswith("/api/v1/statuses/"):
            status_id = path.rsplit("/", 1)[-1]
            if status_id not in self.statuses:
                return error(404, "Record not found")
            if request.method == "DELETE":
                return self._ok(self.statuses.pop(status_id))
            if request.method == "PUT":
                return self._edit(status_id, request)
        return error(404, "Not found")

    def instance(self) -> dict[str, Any]:
        return {
            "domain": "127.0.0.1",
            "version": "4.3.0",
            "configuration": {
                "statuses": {
                    "max_characters": self.max_characters,
                    "max_media_attachments": 4,
                    "characters_reserved_per_url": self.per_url,
                },
                "media_attachments": {
                    "image_size_limit": self.image_size_limit,
                    "image_matrix_limit": self.image_matrix_limit,
                    "description_limit": self.description_limit,
                    "supported_mime_types": ["image/png", "image/jpeg"],
                },
            },
        }

    def _fields(self, request: Request) -> dict[str, list[str]]:
        if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return parse_qs(request.body.decode(), keep_blank_values=True)
        return {k: [v] for k, v in request.form().items()}

    def _upload(self, request: Request) -> Response:
        file = multipart_files(request).get("file")
        description = request.form().get("description", "")
        if file is None or not file.data:
            return error(422, "Validation failed: File can't be blank")
        if len(file.data) > self.image_size_limit:
            return error(422, "Validation failed: File file size must be less than 16 MB")
        shape = dimensions(file.data)
        if shape is None:
            return error(422, "Validation failed: File could not be processed")
        _, width, height = shape
        if width * height > self.image_matrix_limit:
            return error(422, f"Validation failed: File {width}x{height} images are not supported")
        if len(description) > self.description_limit:
            return error(422, f"Validation failed: Description is too long (maximum is {self.description_limit})")
        media_id = str(next(self._ids))
        url = None if self.process_async else f"{self.url}/media/{media_id}.png"
        self.media[media_id] = {"id": media_id, "type": "image", "url": url, "description": description or None,
                                "meta": {"original": {"width": width, "height": height}}}  # fmt: skip
        self.uploads[media_id] = file
        return self._ok(self.media[media_id], 202 if self.process_async else 200)

    def _invalid_text(self, text: str, media_ids: list[str]) -> str:
        if not text.strip() and not media_ids:
            return "Validation failed: Text can't be blank"
        if instance_length(text, self.per_url) > self.max_characters:
            return f"Validation failed: Text character limit of {self.max_characters} exceeded"
        for media_id in media_ids:
            attachment = self.media.get(media_id)
            if attachment is None:
                return "Validation failed: Media attachments are invalid"
            if attachment["url"] is None:
                return "Cannot attach files that have not finished processing. Try again in a moment!"
        return ""

    def _post(self, request: Request) -> Response:
        fields = self._fields(request)
        key = request.headers.get("idempotency-key")
        if key and key in self.keys and self.keys[key] in self.statuses:
            return self._ok(self.statuses[self.keys[key]])  # the first status, not a second
        text = (fields.get("status") or [""])[-1]
        media_ids = fields.get("media_ids[]") or []
        problem = self._invalid_text(text, media_ids)
        if problem:
            return error(422, problem)
        status_id = str(next(self._ids))
        self.created += 1
        self.statuses[status_id] = {
            "id": status_id,
            "url": f"{self.url}/@newsroom/{status_id}",
            "text": text,
            "content": f"<p>{text}</p>",
            "language": (fields.get("language") or [""])[-1] or None,
            "visibility": (fields.get("visibility") or ["public"])[-1],
            "media_attachments": [self.media[m] for m in media_ids],
            "created_at": datetime.now(UTC).isoformat(),
            "edited_at": None,
        }
        if key:
            self.keys[key] = status_id
        return self._ok(self.statuses[status_id])

    def _edit(self, status_id: str, request: Request) -> Response:
        fields = self._fields(request)
        text = (fields.get("status") or [""])[-1]
        media_ids = fields.get("media_ids[]") or []
        problem = self._invalid_text(text, media_ids)
        if problem:
            return error(422, problem)
        status = self.statuses[status_id]
        status.update(text=text, content=f"<p>{text}</p>", edited_at=datetime.now(UTC).isoformat())
        if media_ids:
            status["media_attachments"] = [self.media[m] for m in media_ids]
        return self._ok(status)
