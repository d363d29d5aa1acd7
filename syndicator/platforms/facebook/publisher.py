"""Facebook Page publisher, on facebook-sdk 3.1.0 (`facebook.GraphAPI`) made to fit today's Graph API.

facebook-sdk was last released in 2018. It is kept (it is the declared client and its request/error handling is
small and readable), with five adjustments, all made from the outside through the `requests.Session` it accepts:

* **Version**: `GraphAPI(version=…)` accepts only the retired versions ≤ 3.1, so the client is built without a
  version and `graph.version` is set to the configured one (e.g. "v26.0"); every method builds its path from it.
* **Host**: `FACEBOOK_GRAPH_URL` ("https://graph.facebook.com/") is a module constant. A `requests` adapter
  mounted on that prefix rewrites each request to `target.api_base` (a proxy or the test fake).
* **Secrets out of URLs and bodies**: the library sends `access_token` in the query string (GET, DELETE) or the
  form body (POST), and urllib3 logs every request line, query included, at DEBUG. The same adapter moves the token
  into an `Authorization: Bearer` header, which Graph accepts. (debug_token's `input_token` must stay in the query:
  `graph.install_log_redaction()` filters it out of urllib3's log lines.)
* **Status and headers**: the library hides both. A response hook records the HTTP status and the usage headers
  (`X-App-Usage`, `X-Business-Use-Case-Usage`) per thread, for `Receipt.rate` and for the error mapping.
* **Errors**: `GraphAPIError` keeps the whole error body in `.result` (code, error_subcode, error_data), which
  `graph.to_publish_error` classifies; raw `requests` exceptions (timeouts, dropped connections) and bodies it cannot
  read (a proxy's HTML 502 → "Maintype was not text…", or a missing Content-Type → KeyError) are caught around each
  library call and classified by the same function.

Calls run in a worker thread (`asyncio.to_thread`), each with `target.timeout` on the socket and an overall guard.

**Photo posts** (`post_as = "photo"`) upload the article image: it is fetched through the outbound guard, fitted to
Graph's photo limits (4 MB, JPEG or PNG: another format is re-encoded; `platforms.media`) and sent as the multipart
`source` of `POST /{page-id}/photos` with the caption — Graph never fetches a URL from our content. That one call
goes through the same session (adapter, hook) but not through facebook-sdk, which would put the token into the
multipart body. When the image cannot be used — refused by the guard, not downloaded in the target's timeout, not
an image — or Graph refuses the photo post itself (a Permanent other than a duplicate: no post was made), the
article goes as a link post, with the reason in `Receipt.extra["image_error"]` and a log line. An upload whose
answer was lost is maybe-sent like any post (the photo post may exist), and nothing else is tried.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import facebook
import requests
from requests.adapters import HTTPAdapter
from requests.utils import get_environ_proxies

from syndicator.article import Identity, Post, Receipt
from syndicator.errors import ConfigError, Permanent, PublishError, Transient
from syndicator.images import JPEG, PNG, ImageLimits
from syndicator.outbound import OutboundGuard
from syndicator.platforms.base import Publisher
from syndicator.platforms.delivery_doubt import answer_lost
from syndicator.platforms.facebook.settings import FacebookSettings
from syndicator.platforms.graph import (
    DUPLICATE,
    GRAPH_URL,
    GraphFailure,
    Usage,
    install_log_redaction,
    parse_usage,
    redact,
    to_publish_error,
)
from syndicator.platforms.media import MB, ImageRules, NoImage, ReadyImage, ready_image

if TYPE_CHECKING:
    from syndicator.config import TargetSettings

T = TypeVar("T")

log = logging.getLogger(__name__)

# Graph's photo uploads: "we recommend uploading photos under 4MB"; JPEG and PNG are what every Page client shows
PHOTO = ImageRules(
    ImageLimits(max_bytes=4 * MB, formats=frozenset({JPEG, PNG})), "Facebook's 4 MB photo limit (JPEG or PNG)"
)
POST_URL = "https://www.facebook.com/{}"
REQUIRED_SCOPES = ("pages_manage_posts", "pages_read_engagement")
EXPIRY_WARNING = timedelta(days=7)
_VERSION = re.compile(r"^v\d+\.\d+$")
_POST_ID = re.compile(r"^\d+(?:_\d+)?$")


def _now() -> datetime:
    return datetime.now(UTC)


class _GraphAdapter(HTTPAdapter):
    """Sends https://graph.facebook.com/… to `base` (when set) and moves `access_token` into a header."""

    def __init__(self, base: str) -> None:
        super().__init__()
        self._base = base.rstrip("/")

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        url = request.url or ""
        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=True)
        token = _take_token(query)
        if token is not None:
            url = urlunsplit(parts._replace(query=urlencode(query)))
        ctype = request.headers.get("Content-Type", "")
        if isinstance(request.body, (str, bytes)) and ctype.startswith("application/x-www-form-urlencoded"):
            raw = request.body.decode() if isinstance(request.body, bytes) else request.body
            form = parse_qsl(raw, keep_blank_values=True)
            body_token = _take_token(form)
            if body_token is not None:
                token = body_token
                request.body = urlencode(form)
                request.headers["Content-Length"] = str(len(request.body.encode()))
        if token is not None:
            request.headers["Authorization"] = f"Bearer {token}"
        if self._base and (url == GRAPH_URL or url.startswith(GRAPH_URL + "/")):
            url = self._base + url[len(GRAPH_URL) :]
            proxies = get_environ_proxies(url)
        request.url = url
        return super().send(request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies)


def _take_token(pairs: list[tuple[str, str]]) -> str | None:
    found = [v for k, v in pairs if k == "access_token"]
    if not found:
        return None
    pairs[:] = [(k, v) for k, v in pairs if k != "access_token"]
    return found[-1]


class _Seen(threading.local):
    """The last response's status and headers, per thread (each call runs wholly in one worker thread)."""

    def __init__(self) -> None:
        self.status: int | None = None
        self.headers: dict[str, str] = {}


class FacebookPublisher(Publisher):
    platform: ClassVar[str] = "facebook"
    supports_edit: ClassVar[bool] = True

    def __init__(self, target: TargetSettings, *, outbound: OutboundGuard | None = None) -> None:
        super().__init__(target)
        self.settings, (self._token,) = self.configured(FacebookSettings, "token")
        if not _VERSION.match(self.settings.graph_version):
            raise ConfigError(
                f"graph_version must look like 'v26.0', got {self.settings.graph_version!r}",
                key=f"targets.{target.name}.graph_version",
            )
        self._app_id = target.secrets.get("app_id")
        self._app_secret = target.secrets.get("app_secret")
        self._secrets = [s for s in (self._token, self._app_secret, f"{self._app_id}|{self._app_secret}") if s]
        self._timeout = max(target.timeout.total_seconds(), 0.001)
        self._seen = _Seen()

        install_log_redaction()
        self._session = requests.Session()
        self._session.mount(GRAPH_URL + "/", _GraphAdapter(target.api_base))
        self._session.hooks["response"].append(self._remember)
        self._graph: Any = facebook.GraphAPI(access_token=self._token, session=self._session, timeout=self._timeout)
        self._graph.version = self.settings.graph_version  # set after: the constructor rejects versions > 3.1
        # image URLs come from the articles: only the guard fetches them (no allowlist given: public addresses only)
        self._outbound = outbound or OutboundGuard()

    @classmethod
    def create(cls, target: TargetSettings, *, outbound: OutboundGuard) -> FacebookPublisher:
        return cls(target, outbound=outbound)

    # -- the interface -------------------------------------------------------------------------------------

    async def publish(self, post: Post) -> Receipt:
        if self.settings.post_as != "photo" or not post.image_url:
            return await self._link_post(post)
        try:
            image = await asyncio.to_thread(
                ready_image, self._outbound, post.image_url, timeout=self._timeout, rules=PHOTO
            )
        except NoImage as exc:
            return await self._without_image(post, str(exc))
        try:
            return await self._photo_post(post, image)
        except Permanent as exc:
            if exc.code == DUPLICATE:
                raise
            # Graph refused the photo post: none was made, so the link post cannot double it
            return await self._without_image(post, f"Facebook refused the photo post: {exc}")

    async def edit(self, receipt: Receipt, post: Post) -> Receipt:
        post_id = self._post_id(receipt)
        path = f"{self._graph.version}/{post_id}"
        result, usage = await self._run("edit", lambda: self._graph.request(path, post_args={"message": post.text}))
        if isinstance(result, dict) and result.get("success") is False:
            raise Transient("facebook edit: Graph did not confirm the change (success=false)")
        return Receipt(post_id, POST_URL.format(post_id), dict(receipt.extra), usage.rate(_now()))

    async def delete(self, receipt: Receipt) -> None:
        post_id = self._post_id(receipt)
        result, _ = await self._run("delete", lambda: self._graph.delete_object(post_id), ok_if=_already_gone)
        if isinstance(result, dict) and result.get("success") is False:
            raise Transient("facebook delete: Graph did not confirm the deletion (success=false)")

    async def check(self) -> Identity:
        me, _ = await self._run("check", lambda: self._graph.get_object("me", fields="id,name"))
        me = me if isinstance(me, dict) else {}
        page_id = str(me.get("id", ""))
        name = str(me.get("name") or page_id)
        problems: list[str] = []
        details: dict[str, Any] = {"page_id": self.settings.page_id, "problems": problems}
        if page_id != self.settings.page_id:
            problems.append(
                f"the token speaks for {name} ({page_id}), not Page {self.settings.page_id}: "
                "use a Page access token of that Page"
            )
        expires_at: datetime | None = None
        if self._app_id and self._app_secret:
            expires_at = await self._debug_token(details, problems)
        else:
            details["debug_token"] = "skipped: set app_id_env and app_secret_env to check scopes and expiry"
        return Identity(name=name, id=page_id, details=details, expires_at=expires_at)

    async def aclose(self) -> None:
        self._session.close()

    # -- posts ---------------------------------------------------------------------------------------------

    async def _link_post(self, post: Post) -> Receipt:
        args = {"message": post.text}
        if post.link:
            args["link"] = post.link
        if not post.text and not post.link:
            raise Permanent("facebook publish: nothing to post (no text, no link)")
        path = f"{self._graph.version}/{self.settings.page_id}/feed"
        result, usage = await self._run("publish", lambda: self._graph.request(path, post_args=dict(args)))
        remote_id = self._returned_id(result, "id")
        return Receipt(remote_id, POST_URL.format(remote_id), {"kind": "link"}, usage.rate(_now()))

    async def _photo_post(self, post: Post, image: ReadyImage) -> Receipt:
        caption = post.text
        if post.link and post.link not in caption:
            caption = f"{caption}\n\n{post.link}" if caption else post.link
        path = f"{self._graph.version}/{self.settings.page_id}/photos"
        result, usage = await self._run("publish photo", lambda: self._upload(path, {"caption": caption}, image))
        remote_id = self._returned_id(result, "post_id", "id")
        extra: dict[str, Any] = {"kind": "photo"}
        if isinstance(result, dict) and result.get("id") and str(result["id"]) != remote_id:
            extra["photo_id"] = str(result["id"])
        if image.resized:
            extra["image_resized"] = image.resized
        return Receipt(remote_id, POST_URL.format(remote_id), extra, usage.rate(_now()))

    async def _without_image(self, post: Post, problem: str) -> Receipt:
        log.warning("facebook image dropped", extra={"target": self.target.name, "image_error": problem})
        receipt = await self._link_post(post)
        return Receipt(receipt.remote_id, receipt.url, {**receipt.extra, "image_error": problem}, receipt.rate)

    async def _debug_token(self, details: dict[str, Any], problems: list[str]) -> datetime | None:
        try:
            answer, _ = await self._run(
                "debug_token",
                lambda: self._graph.debug_access_token(self._token, self._app_id, self._app_secret),
            )
        except PublishError as exc:  # a wrong app secret must not hide that the Page token itself works
            problems.append(f"debug_token failed: {exc}")
            return None
        data = answer.get("data") if isinstance(answer, dict) else None
        if not isinstance(data, dict):
            problems.append("debug_token gave no data")
            return None
        scopes = [str(s) for s in data.get("scopes") or []]
        details["scopes"] = scopes
        details["token_type"] = data.get("type")
        details["is_valid"] = bool(data.get("is_valid"))
        if not data.get("is_valid"):
            problems.append("debug_token says the token is not valid")
        for scope in REQUIRED_SCOPES:
            if scope not in scopes:
                problems.append(f"the token lacks the {scope} permission")
        expires_at = _timestamp(data.get("expires_at"))
        details["expires_at"] = expires_at.isoformat() if expires_at else "never"
        data_access = _timestamp(data.get("data_access_expires_at"))
        if data_access:
            details["data_access_expires_at"] = data_access.isoformat()
        now = _now()
        if expires_at is not None:
            if expires_at <= now:
                problems.append(f"the token expired at {expires_at.isoformat()}")
            elif expires_at - now < EXPIRY_WARNING:
                days = (expires_at - now).total_seconds() / 86400
                problems.append(f"the token expires at {expires_at.isoformat()} (in {days:.1f} days)")
        return expires_at

    # -- plumbing ------------------------------------------------------------------------------------------

    def _post_id(self, receipt: Receipt) -> str:
        if not _POST_ID.match(receipt.remote_id):
            raise Permanent(f"facebook: {receipt.remote_id!r} is not a Facebook post id")
        return receipt.remote_id

    @staticmethod
    def _returned_id(result: Any, *keys: str) -> str:
        if isinstance(result, dict):
            for key in keys:
                value = result.get(key)
                if value:
                    return str(value)
        # the post may exist: Transient lets the dispatcher's policy decide, never a silent success
        raise Transient("facebook publish: Graph answered without a post id", code="no_id")

    def _upload(self, path: str, fields: dict[str, str], image: ReadyImage) -> Any:
        """A multipart Graph POST, answered as facebook-sdk answers (its JSON, GraphAPIError for an error body).
        Made here, not by facebook-sdk, which would put the token into the multipart body: the token goes in the
        header, and the session's adapter (api_base) and hook (status, usage headers) apply as to every call."""
        response = self._session.post(
            f"{GRAPH_URL}/{path}",
            data=fields,
            files={"source": (image.filename, image.data, image.content_type)},
            headers={"Authorization": f"Bearer {self._token}"},
            timeout=self._timeout,
        )
        body = response.json()  # not JSON: `_call` maps it ("unreadable", or a server error for a 5xx)
        if isinstance(body, dict) and body.get("error"):
            raise facebook.GraphAPIError(body)
        return body

    def _remember(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self._seen.status = response.status_code
        self._seen.headers = dict(response.headers)

    async def _run(
        self,
        action: str,
        call: Callable[[], T],
        ok_if: Callable[[GraphFailure], bool] | None = None,
    ) -> tuple[T | None, Usage]:
        guard = self._timeout * 2 + 1
        try:
            return await asyncio.wait_for(asyncio.to_thread(self._call, action, call, ok_if), timeout=guard)
        except TimeoutError:
            failure = GraphFailure("facebook", action, network="timeout", message=f"no answer within {guard:.0f}s")
            raise to_publish_error(failure, _now()) from None

    def _call(
        self,
        action: str,
        call: Callable[[], T],
        ok_if: Callable[[GraphFailure], bool] | None,
    ) -> tuple[T | None, Usage]:
        """Runs in a worker thread: one library call, its usage headers, or its failure mapped."""
        seen = self._seen
        seen.status, seen.headers = None, {}
        failure: GraphFailure | None = None
        try:
            result = call()
        except facebook.GraphAPIError as exc:
            body = exc.result if isinstance(exc.result, dict) else {"error": {"message": str(exc.message)}}
            if not isinstance(exc.result, dict) and seen.status is not None and 200 <= seen.status < 300:
                # a 2xx the library could not read ("Maintype was not text…"): the post may exist
                failure = self._network(action, "unreadable", f"unreadable answer (HTTP {seen.status})")
            else:
                failure = self._graph_failure(body, action, seen)
        except requests.JSONDecodeError:
            failure = self._network(action, "unreadable", f"unreadable answer (HTTP {seen.status})")
        except requests.ConnectTimeout:  # no connection was made: nothing can have been posted
            failure = self._network(action, "connection", "connect timed out")
        except requests.Timeout:
            failure = self._network(action, "timeout", f"timed out (timeout {self._timeout:g}s)")
        except requests.RequestException as exc:
            kind = "dropped" if answer_lost(exc) else "connection"
            failure = self._network(action, kind, f"{type(exc).__name__}: {redact(str(exc), self._secrets)}")
        except (ValueError, KeyError):  # facebook-sdk reads headers["content-type"] and the body unguarded
            failure = self._network(action, "unreadable", f"unreadable answer (HTTP {seen.status})")
        if failure is None and seen.status is not None and seen.status >= 400:
            # facebook-sdk never looks at the status: an error status without an "error" body passes as a result
            failure = self._graph_failure(result, action, seen)
        if failure is None:
            return result, parse_usage(seen.headers)
        if ok_if is not None and ok_if(failure):
            return None, failure.usage
        raise to_publish_error(failure, _now())

    def _graph_failure(self, body: Any, action: str, seen: _Seen) -> GraphFailure:
        return GraphFailure.from_body(
            body, platform="facebook", action=action, status=seen.status, headers=seen.headers, now=_now(),
            secrets=self._secrets,
        )  # fmt: skip

    def _network(self, action: str, kind: str, message: str) -> GraphFailure:
        status = self._seen.status
        if status is not None and status >= 500:  # an unreadable 5xx page is a server error, not a network one
            usage = parse_usage(self._seen.headers)
            return GraphFailure("facebook", action, status=status, message=message, usage=usage)
        return GraphFailure("facebook", action, status=status, network=kind, message=message)


def _already_gone(failure: GraphFailure) -> bool:
    """DELETE of a post that no longer exists: code 100, subcode 33 ("… does not exist, cannot be loaded …")."""
    return failure.code == 100 and (failure.subcode == 33 or "does not exist" in failure.message)


def _timestamp(value: Any) -> datetime | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return datetime.fromtimestamp(value, UTC)
    return None
