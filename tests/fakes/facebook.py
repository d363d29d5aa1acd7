"""A fake Facebook Graph API for Page posts, enough for facebook-sdk 3.1.0 and plain requests.

Routes (any version prefix /vNN.N/ is accepted and recorded):
    POST   /vN/{page}/feed        message, link           → {"id": "{page}_{n}"}
    POST   /vN/{page}/photos      url | source, caption   → {"id": "{photo}", "post_id": "{page}_{n}"}
    POST   /vN/{post-id}          message                 → {"success": true}
    DELETE /vN/{post-id}                                  → {"success": true}; unknown id: code 100 / subcode 33
    GET    /vN/me?fields=id,name                          → {"id": page, "name": …}
    GET    /vN/debug_token?input_token=…  (app token)     → {"data": {…scopes, expires_at…}}

The token is accepted as `access_token` (query or form body) or as `Authorization: Bearer|OAuth …`. Every answer
carries `X-App-Usage` and `X-Business-Use-Case-Usage` from `app_usage` / `page_usage`. Failures are scripted with
the helpers below (they queue `fail_next` answers) or by state (`token_valid = False`, `bad_image_urls`).

A photo comes as `url` or as an uploaded file (multipart `source`). An upload must be a JPEG or PNG of at most
`photo_max_bytes` (4 MB), else 324 (the fake's wording); `photos[id]` keeps its bytes (`source`) and what Pillow
reads in them (`size`: format, width, height).
"""

from __future__ import annotations

import json
import re
from typing import Any

from tests.fakes.images import dimensions, multipart_files
from tests.fakes.server import FakeServer, Request, Response

_VERSIONED = re.compile(r"^/(v\d+\.\d+)/(.+)$")
_POST_ID = re.compile(r"^\d+_\d+$|^\d+$")
PHOTO_MAX_BYTES = 4 * 1024 * 1024
PHOTO_FORMATS = ("JPEG", "PNG")


def graph_error(
    code: int,
    message: str,
    *,
    status: int = 400,
    subcode: int | None = None,
    type: str = "OAuthException",
    headers: dict[str, str] | None = None,
    is_transient: bool = False,
    delay: float = 0.0,
) -> Response:
    error: dict[str, Any] = {"message": message, "type": type, "code": code, "fbtrace_id": "AbCdEf123"}
    if subcode is not None:
        error["error_subcode"] = subcode
    if is_transient:
        error["is_transient"] = True
    return Response(status, {"error": error}, headers=dict(headers or {}), delay=delay)


class FakeFacebook(FakeServer):
    def __init__(
        self,
        *,
        page_id: str = "1234567890",
        page_name: str = "Example News",
        token: str = "EAA-TEST-not-a-real-token",
        app_id: str = "555000111",
        app_secret: str = "app-secret-TEST-not-real",
    ) -> None:
        super().__init__()
        self.page_id = page_id
        self.page_name = page_name
        self.token = token
        self.app_id = app_id
        self.app_secret = app_secret
        self.token_valid = True
        self.posts: dict[str, dict[str, str]] = {}
        self.photos: dict[str, dict[str, Any]] = {}
        self.bad_image_urls: set[str] = set()
        self.photo_max_bytes = PHOTO_MAX_BYTES  # tests scale it down with their images
        self.app_usage: dict[str, int] = {"call_count": 7, "total_time": 3, "total_cputime": 2}
        self.page_usage: dict[str, int] = {"call_count": 12, "total_time": 5, "total_cputime": 4}
        self.token_info: dict[str, Any] = {
            "type": "PAGE",
            "application": "Syndicator",
            "expires_at": 0,
            "data_access_expires_at": 1_900_000_000,
            "is_valid": True,
            "scopes": ["pages_manage_posts", "pages_read_engagement", "pages_show_list"],
        }
        self._next = 1000

    # -- scripting -------------------------------------------------------------------------------------------

    def usage_headers(self, regain_minutes: int = 0, percent: int | None = None) -> dict[str, str]:
        entry = {"type": "pages", **self.page_usage, "estimated_time_to_regain_access": regain_minutes}
        if percent is not None:
            entry["call_count"] = percent
        return {
            "X-App-Usage": json.dumps(self.app_usage),
            "X-Business-Use-Case-Usage": json.dumps({self.page_id: [entry]}),
        }

    def throttle(self, code: int = 4, regain_minutes: int = 0, *, status: int = 403) -> None:
        """Next call: a throttle error (4 app, 17 user, 32 page, 613, 80001 BUC) with usage headers at 100%."""
        messages = {
            4: "(#4) Application request limit reached",
            17: "(#17) User request limit reached",
            32: "(#32) Page request limit reached",
            613: "(#613) Calls to this api have exceeded the rate limit.",
            80001: "(#80001) There have been too many calls to this Page account. Wait a bit and try again.",
        }
        headers = self.usage_headers(regain_minutes, percent=100)
        self.fail_next(graph_error(code, messages.get(code, f"(#{code}) throttled"), status=status, headers=headers))

    def expire_token(self) -> None:
        """From now on every call answers 190/463 (expired), as Graph does for an expired token."""
        self.token_valid = False

    def duplicate(self) -> None:
        self.fail_next(graph_error(506, "Duplicate status message", type="FacebookApiException"))

    def server_error(self, status: int = 500, code: int | None = 2) -> None:
        if code is None:
            self.fail_next(Response(status, "<html><body>Bad gateway</body></html>"))
        else:
            self.fail_next(graph_error(code, "An unexpected error has occurred.", status=status, is_transient=True))

    def slow(self, seconds: float) -> None:
        self.fail_next(Response(200, {"id": "late"}, delay=seconds))

    def drop(self) -> None:
        self.fail_next(Response(drop=True))

    # -- the API ---------------------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        match = _VERSIONED.match(request.path)
        if not match:
            return graph_error(2500, "Unknown path components", status=400)
        path = match.group(2).rstrip("/")
        params = request.params()
        token = self._token(request, params)
        if path == "debug_token":
            return self._debug_token(token, params)
        if token != self.token:
            return graph_error(190, "Invalid OAuth access token - Cannot parse access token", status=400)
        if not self.token_valid:
            return graph_error(
                190,
                "Error validating access token: Session has expired on Tuesday, 24-Nov-26 10:00:00 PST.",
                status=400,
                subcode=463,
            )
        if request.method == "GET" and path == "me":
            return self._ok({"id": self.page_id, "name": self.page_name})
        if request.method == "POST" and path == f"{self.page_id}/feed":
            if not params.get("message") and not params.get("link"):
                return graph_error(100, "(#100) Missing message or attachment")
            post_id = self._new_id(self.page_id)
            self.posts[post_id] = {"message": params.get("message", ""), "link": params.get("link", "")}
            return self._ok({"id": post_id})
        if request.method == "POST" and path == f"{self.page_id}/photos":
            photo: dict[str, Any] = {"caption": params.get("caption", "")}
            upload = multipart_files(request).get("source")
            if upload is not None:
                size = dimensions(upload.data)
                if size is None or size[0] not in PHOTO_FORMATS:
                    return graph_error(324, "(#324) Missing or invalid image file")
                if len(upload.data) > self.photo_max_bytes:
                    return graph_error(324, "(#324) The image file is too large")
                photo.update(source=upload.data, size=size)
            else:
                url = params.get("url", "")
                if not url or url in self.bad_image_urls:
                    return graph_error(324, "(#324) Requires upload file: the image could not be downloaded")
                photo["url"] = url
            post_id = self._new_id(self.page_id)
            photo_id = self._new_id("")
            self.photos[photo_id] = {**photo, "post_id": post_id}
            self.posts[post_id] = {"message": params.get("caption", ""), "link": "", "photo": photo_id}
            return self._ok({"id": photo_id, "post_id": post_id})
        if _POST_ID.match(path) and request.method in ("POST", "DELETE"):
            if path not in self.posts:
                verb = "post" if request.method == "POST" else "delete"
                return graph_error(
                    100,
                    f"Unsupported {verb} request. Object with ID '{path}' does not exist, cannot be loaded due to "
                    "missing permissions, or does not support this operation.",
                    subcode=33,
                    type="GraphMethodException",
                )
            if request.method == "DELETE":
                del self.posts[path]
            else:
                self.posts[path]["message"] = params.get("message", "")
            return self._ok({"success": True})
        return graph_error(100, f"Unknown path or method: {request.method} {path}")

    def _debug_token(self, token: str | None, params: dict[str, str]) -> Response:
        if token != f"{self.app_id}|{self.app_secret}":
            return graph_error(190, "Invalid OAuth access token signature.")
        if params.get("input_token") != self.token:
            return self._ok({"data": {"is_valid": False, "error": {"code": 190, "message": "Invalid token"}}})
        data = {"app_id": self.app_id, "profile_id": self.page_id, "user_id": "42", **self.token_info}
        if not self.token_valid:
            data["is_valid"] = False
        return self._ok({"data": data})

    @staticmethod
    def _token(request: Request, params: dict[str, str]) -> str | None:
        auth = request.headers.get("authorization", "")
        for scheme in ("Bearer ", "OAuth "):
            if auth.startswith(scheme):
                return auth[len(scheme) :]
        return params.get("access_token")

    def _new_id(self, prefix: str) -> str:
        self._next += 1
        return f"{prefix}_{self._next}" if prefix else str(9_000_000 + self._next)

    def _ok(self, body: dict[str, Any]) -> Response:
        return Response(200, body, headers=self.usage_headers())

    # -- for assertions --------------------------------------------------------------------------------------

    def calls(self, method: str | None = None, path_end: str = "") -> list[Request]:
        return [r for r in self.requests if (method is None or r.method == method) and r.path.endswith(path_end)]
