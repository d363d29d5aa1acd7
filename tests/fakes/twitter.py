"""A fake X API v2, good enough for tweepy 4.17 and the v2 media upload.

Speaks `POST /2/tweets`, `DELETE /2/tweets/:id`, `GET /2/users/me` and `POST /2/media/upload` (multipart), checks
that each call carries an OAuth 1.0a `Authorization` header with the expected consumer key and access token (the
signature itself is not verified), answers 403 "duplicate content" for a text already posted, and sends X's
rate-limit headers. `window_limit` posts per window are allowed, then 429 with `x-rate-limit-reset`; optional
24-hour limits behave the same with the `x-user-limit-24hour-*` / `x-app-limit-24hour-*` headers. Time never
passes by itself: tests move `window_reset` / `day_reset` or call `reset_windows()`.
`POST /2/media/metadata` sets an uploaded image's alt text (kept in `alt_texts`).

It also serves images for upload tests: `GET /image.jpg` (a tiny JPEG), `/big.jpg` (over 5 MB), `/fake.jpg`
(labelled image/jpeg, rejected by the upload), `/page.html` (not an image). `overrides[(method, path)]` answers a
path the same way every time (e.g. a broken /2/users/me while posting still works).
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.server import FakeServer, Request, Response

JPEG = (
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    b"\xff\xdb\x00C\x00" + bytes(range(64)) + b"\xff\xd9"
)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
BIG_IMAGE_BYTES = 5 * 1024 * 1024 + 1

DUPLICATE = {
    "detail": "You are not allowed to create a Tweet with duplicate content.",
    "type": "about:blank",
    "title": "Forbidden",
    "status": 403,
}
UNAUTHORIZED = {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}
OAUTH1_PERMISSIONS = {
    "title": "Forbidden",
    "type": "https://api.twitter.com/2/problems/oauth1-permissions",
    "status": 403,
    "detail": "Your client app is not configured with the appropriate oauth1 app permissions for this endpoint.",
}
TOO_MANY = {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429}


@dataclass
class Tweet:
    id: str
    text: str
    media_ids: list[str] = field(default_factory=list)


class FakeX(FakeServer):
    def __init__(
        self,
        *,
        consumer_key: str = "X-API-KEY-not-real",
        access_token: str = "1-X-ACCESS-TOKEN-not-real",
        username: str = "example_news",
        user_id: str = "1500000000000000001",
        window_limit: int = 100,
        window_seconds: int = 15 * 60,
        user_day_limit: int | None = None,
        app_day_limit: int | None = None,
    ) -> None:
        super().__init__()
        self.consumer_key = consumer_key
        self.access_token = access_token
        self.username = username
        self.user_id = user_id
        self.window_limit = window_limit
        self.window_seconds = window_seconds
        self.user_day_limit = user_day_limit
        self.app_day_limit = app_day_limit
        self.tweets: dict[str, Tweet] = {}
        self.texts: list[str] = []  # every text accepted, in order (deleted ones too)
        self.media: dict[str, bytes] = {}
        self.alt_texts: dict[str, str] = {}  # media id → its alt text (POST /2/media/metadata)
        self.permissions_ok = True  # False: POST/DELETE answer 403 oauth1-permissions
        self.overrides: dict[tuple[str, str], Response] = {}  # (method, path) → this answer, every time
        self._state = threading.Lock()
        self._ids = itertools.count(1800000000000000000)
        self.reset_windows()

    # -- knobs ---------------------------------------------------------------------------------------------

    def reset_windows(self) -> None:
        now = int(time.time())
        self.window_used = 0
        self.day_used = 0
        self.window_reset = now + self.window_seconds
        self.day_reset = now + 24 * 3600

    # -- requests ------------------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        override = self.overrides.get((request.method, request.path))
        if override is not None:
            return override
        if request.method == "GET" and request.path == "/image.jpg":
            return Response(200, JPEG, headers={"Content-Type": "image/jpeg"})
        if request.method == "GET" and request.path == "/big.jpg":
            return Response(200, b"\xff\xd8" + b"\0" * BIG_IMAGE_BYTES, headers={"Content-Type": "image/jpeg"})
        if request.method == "GET" and request.path == "/fake.jpg":  # says image/jpeg, is not one
            return Response(200, b"GIF89a-not-really", headers={"Content-Type": "image/jpeg"})
        if request.method == "GET" and request.path == "/page.html":
            return Response(200, b"<html></html>", headers={"Content-Type": "text/html; charset=utf-8"})

        if not request.path.startswith("/2/"):
            return Response(404, b"not found", headers={"Content-Type": "text/html"})
        problem = self._auth_problem(request)
        if problem is not None:
            return problem
        with self._state:
            if request.method == "POST" and request.path == "/2/tweets":
                return self._create(request)
            match = re.fullmatch(r"/2/tweets/(\d+)", request.path)
            if request.method == "DELETE" and match:
                return self._delete(match.group(1))
            if request.method == "GET" and request.path == "/2/users/me":
                body = {"data": {"id": self.user_id, "name": "Example News", "username": self.username}}
                return Response(200, body, headers=self._window_headers())
            if request.method == "POST" and request.path == "/2/media/upload":
                return self._upload(request)
            if request.method == "POST" and request.path == "/2/media/metadata":
                return self._metadata(request)
        return Response(404, {"title": "Not Found Error", "type": "about:blank", "status": 404, "detail": "nope"})

    def _auth_problem(self, request: Request) -> Response | None:
        header = request.headers.get("authorization", "")
        if not header.startswith("OAuth "):
            return Response(401, UNAUTHORIZED)
        fields = dict(re.findall(r'(\w+)="([^"]*)"', header))
        required = ("oauth_consumer_key", "oauth_token", "oauth_signature", "oauth_nonce", "oauth_timestamp")
        if any(not fields.get(name) for name in required):
            return Response(401, UNAUTHORIZED)
        if fields["oauth_consumer_key"] != self.consumer_key or fields["oauth_token"] != self.access_token:
            return Response(401, UNAUTHORIZED)
        if request.method in ("POST", "DELETE") and not self.permissions_ok:
            return Response(403, OAUTH1_PERMISSIONS)
        return None

    def _create(self, request: Request) -> Response:
        body = request.json() or {}
        text = body.get("text", "")
        media_ids = list((body.get("media") or {}).get("media_ids") or [])
        limited = self._limited()
        if limited is not None:
            return limited
        if not text and not media_ids:
            return Response(400, {"errors": [{"message": "text or media required"}], "title": "Invalid Request"})
        unknown = [m for m in media_ids if m not in self.media]
        if unknown:
            return Response(400, {"errors": [{"message": f"Your media IDs are invalid: {unknown}"}]})
        if any(t.text == text for t in self.tweets.values()):
            return Response(403, DUPLICATE, headers=self._window_headers())
        self.window_used += 1
        self.day_used += 1
        tweet = Tweet(str(next(self._ids)), text, media_ids)
        self.tweets[tweet.id] = tweet
        self.texts.append(text)
        data = {"id": tweet.id, "text": text, "edit_history_tweet_ids": [tweet.id]}
        return Response(201, {"data": data}, headers=self._window_headers())

    def _delete(self, tweet_id: str) -> Response:
        if self.tweets.pop(tweet_id, None) is None:
            body = {"errors": [{"message": f"Could not find tweet with id: [{tweet_id}]."}], "status": 404}
            return Response(404, body)
        return Response(200, {"data": {"deleted": True}}, headers=self._window_headers())

    def _upload(self, request: Request) -> Response:
        form = request.form()
        media = form.get("media", "").encode("latin-1")
        if not request.headers.get("content-type", "").startswith("multipart/form-data") or not media:
            return Response(400, {"errors": [{"message": "media is required (multipart)"}]})
        if form.get("media_category") != "tweet_image":
            return Response(400, {"errors": [{"message": "media_category must be tweet_image"}]})
        if not (media.startswith(b"\xff\xd8") or media.startswith(PNG_MAGIC)):
            return Response(400, {"errors": [{"message": "media type unrecognized."}]})
        media_id = str(next(self._ids))
        self.media[media_id] = media
        data = {
            "id": media_id,
            "media_key": f"3_{media_id}",
            "size": len(media),
            "expires_after_secs": 86400,
            "image": {"image_type": "image/jpeg", "w": 1, "h": 1},
        }
        return Response(200, {"data": data})

    def _metadata(self, request: Request) -> Response:
        body = request.json() or {}
        media_id = str(body.get("id") or "")
        text = ((body.get("metadata") or {}).get("alt_text") or {}).get("text")
        if media_id not in self.media:
            return Response(400, {"errors": [{"message": f"media id {media_id} not found"}]})
        if not isinstance(text, str) or not text or len(text) > 1000:
            return Response(400, {"errors": [{"message": "alt_text.text must be 1-1000 characters"}]})
        self.alt_texts[media_id] = text
        return Response(200, {"data": {"id": media_id, "associated_metadata": True}})

    # -- rate limits ---------------------------------------------------------------------------------------

    def _limited(self) -> Response | None:
        day_limit = self._day_limit()
        if self.window_used >= self.window_limit or (day_limit is not None and self.day_used >= day_limit):
            return Response(
                429,
                {**TOO_MANY, "errors": [{"code": 88, "message": "Rate limit exceeded"}]},
                headers=self._window_headers(),
            )
        return None

    def _day_limit(self) -> int | None:
        limits = [x for x in (self.user_day_limit, self.app_day_limit) if x is not None]
        return min(limits) if limits else None

    def _window_headers(self) -> dict[str, str]:
        headers = {
            "x-rate-limit-limit": str(self.window_limit),
            "x-rate-limit-remaining": str(max(self.window_limit - self.window_used, 0)),
            "x-rate-limit-reset": str(self.window_reset),
        }
        for prefix, limit in (("x-user-limit-24hour", self.user_day_limit), ("x-app-limit-24hour", self.app_day_limit)):
            if limit is not None:
                headers[f"{prefix}-limit"] = str(limit)
                headers[f"{prefix}-remaining"] = str(max(limit - self.day_used, 0))
                headers[f"{prefix}-reset"] = str(self.day_reset)
        return headers

    # -- assertions ----------------------------------------------------------------------------------------

    def calls(self, method: str, path: str) -> list[Request]:
        return [r for r in self.requests if r.method == method and r.path == path]

    def tweet_bodies(self) -> list[Any]:
        return [r.json() for r in self.calls("POST", "/2/tweets")]
