"""X (Twitter): tweepy 4.17 `Client` for posts and identity, `requests` + OAuth 1.0a for the v2 media upload.

tweepy is blocking, so every call runs in a worker thread (`asyncio.to_thread`). tweepy hard-codes
https://api.twitter.com; a `BaseURLAdapter` mounted on the client's session sends that traffic to
`target.api_base` (a proxy or a test double) and gives every request the target's timeout. `wait_on_rate_limit`
stays off: a 429 becomes `RetryLater` with the reset time from X's headers and the governor waits, not us.

Errors become the closed set in one place, `map_error`:

    tweepy.TooManyRequests (429)             RetryLater  retry_at = 24-hour reset if a 24-hour window is exhausted,
                                                         else x-rate-limit-reset, else now + 15 min
    tweepy.Unauthorized (401)                AuthError
    tweepy.Forbidden (403), duplicate        Permanent   code "duplicate"
    tweepy.Forbidden (403), not permitted    AuthError   oauth1-permissions, client-forbidden, suspended, locked ...
    tweepy.Forbidden (403), anything else    Permanent
    tweepy.TwitterServerError (5xx)          Transient
    tweepy.HTTPException, 408                Transient
    tweepy.HTTPException, other 4xx          Permanent   (BadRequest, NotFound, ...)
    requests.Timeout                         Transient   code "timeout"
    requests.ConnectionError, answer lost    Transient   code "dropped" (the request went out: maybe posted)
    requests.ConnectionError, no connection  Transient   code "connection"
    other requests.RequestException          Transient   code "network"

Not errors: a 404 on delete means already gone. An image that cannot be used (refused by the outbound guard as
not public, download failed or took longer than the target's timeout in all, not image/*, over 5 MB, or the upload
answers 400/413/415/422) is left out and the post goes without it, with the reason in
`Receipt.extra["image_error"]`; any other upload failure (401, 403, 429, 5xx, network) is mapped as above and
nothing is posted. A 2xx without a post id is maybe-sent ("no_id"): X probably posted it, so it is never resent
blindly (the dispatcher makes it `unknown`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import requests
import tweepy
from requests_oauthlib import OAuth1

from syndicator.article import Identity, Post, RateInfo, Receipt
from syndicator.clock import utcnow
from syndicator.errors import AuthError, Permanent, PublishError, RetryLater, Transient
from syndicator.images import ImageLimits
from syndicator.outbound import OutboundGuard
from syndicator.platforms.base import Publisher
from syndicator.platforms.delivery_doubt import answer_lost, nothing_sent, status_maybe_sent
from syndicator.platforms.http import (
    BaseURLAdapter,
    from_unix,
    header_int,
    protect_loggers,
    redact,
)
from syndicator.platforms.media import MB, ImageRules, NoImage, ReadyImage, ready_image
from syndicator.platforms.twitter.settings import TwitterSettings

if TYPE_CHECKING:
    from syndicator.config import TargetSettings

log = logging.getLogger(__name__)

TWEEPY_HOST = "https://api.twitter.com"  # what tweepy 4.17 hard-codes in BaseClient.request
DEFAULT_UPLOAD_BASE = "https://api.x.com"
MEDIA_UPLOAD_PATH = "/2/media/upload"
MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_IMAGE_SIDE = 4096  # X's own cap for a photo's longest side: bigger ones are scaled down before the upload
MEDIA_METADATA_PATH = "/2/media/metadata"
ALT_TEXT_CHARS = 1_000  # X's limit for alt text
DEFAULT_RETRY_AFTER = timedelta(minutes=15)  # a 429 without a usable reset header
SECRET_NAMES = ("api_key", "api_secret", "access_token", "access_token_secret")
LIBRARY_LOGGERS = ("tweepy", "requests", "urllib3", "oauthlib", "requests_oauthlib", "syndicator.platforms")
RATE_WINDOWS = ("x-rate-limit", "x-user-limit-24hour", "x-app-limit-24hour")

# 403 answers that mean the credentials or the app lack a permission (a human must act), not that this post is bad
_NOT_PERMITTED_TYPES = ("oauth1-permissions", "client-forbidden", "unsupported-authentication")
_NOT_PERMITTED_WORDS = ("not permitted", "permission", "oauth", "suspended", "locked", "not authorized")
_NOT_PERMITTED_CODES = {64, 220, 261, 326, 453}
_DUPLICATE_CODES = {187}
# upload answers that reject the image itself: post without it rather than fail the post
_IMAGE_REJECTED = {400, 413, 415, 422}

T = TypeVar("T")


class TwitterPublisher(Publisher):
    platform: ClassVar[str] = "twitter"
    supports_edit: ClassVar[bool] = False

    def __init__(
        self,
        target: TargetSettings,
        *,
        now: Callable[[], datetime] = utcnow,
        outbound: OutboundGuard | None = None,
    ) -> None:
        super().__init__(target)
        self.settings, self._keys = self.configured(TwitterSettings, *SECRET_NAMES)
        self._now = now
        self._timeout = target.timeout.total_seconds()
        protect_loggers(LIBRARY_LOGGERS, self._keys)

        self._client = tweepy.Client(
            consumer_key=self._keys[0],
            consumer_secret=self._keys[1],
            access_token=self._keys[2],
            access_token_secret=self._keys[3],
            wait_on_rate_limit=False,
            return_type=requests.Response,
        )
        self._client.session.mount(TWEEPY_HOST + "/", BaseURLAdapter(target.api_base, self._timeout))
        self._upload_base = (self.settings.upload_base or target.api_base or DEFAULT_UPLOAD_BASE).rstrip("/")
        self._upload = _session(self._timeout)
        # image URLs come from the articles: only the guard fetches them (no allowlist given: public addresses only)
        self._outbound = outbound or OutboundGuard()
        self._handle: str | None = self.settings.handle.lstrip("@") or None

    @classmethod
    def create(cls, target: TargetSettings, *, outbound: OutboundGuard) -> TwitterPublisher:
        return cls(target, outbound=outbound)

    # -- the interface -------------------------------------------------------------------------------------

    async def publish(self, post: Post) -> Receipt:
        extra: dict[str, Any] = {}
        media_ids: list[str] = []
        if post.image_url:
            image, problem = await asyncio.to_thread(self._download, post.image_url)
            if image is not None:
                try:
                    media_id, problem = await self._call(self._upload_media, image)
                except Transient as exc:
                    # no post can exist yet: whatever the upload's failure, the post itself was never sent
                    raise Transient(f"image upload: {exc}", code=exc.code, maybe_sent=False) from exc
                if media_id:
                    media_ids.append(media_id)
                    alt = str(post.extra.get("image_alt") or "").strip()
                    if alt:  # the image's description for those who cannot see it (WordPress's alt_text)
                        alt_problem = await asyncio.to_thread(self._describe_media, media_id, alt)
                        if alt_problem:
                            extra["alt_error"] = alt_problem
                            log.warning("x alt text dropped", extra={"target": self.target.name, "error": alt_problem})
            if problem:
                extra["image_error"] = problem
                log.warning("x image dropped", extra={"target": self.target.name, "image_error": problem})
        response = await self._call(
            self._client.create_tweet, text=post.text, media_ids=media_ids or None, user_auth=True
        )
        tweet_id = _tweet_id(response)
        if media_ids:
            extra["media_ids"] = media_ids
        return Receipt(
            remote_id=tweet_id,
            url=await self._status_url(tweet_id),
            extra=extra,
            rate=rate_info(response.headers),
        )

    async def delete(self, receipt: Receipt) -> None:
        response = await self._call(self._delete, receipt.remote_id)
        if response is None:
            return  # 404: already gone
        data = _json(response).get("data") or {}
        if data.get("deleted") is False:
            raise Permanent(f"X did not delete post {receipt.remote_id}", code="not_deleted")

    async def check(self) -> Identity:
        response = await self._call(self._client.get_me, user_auth=True)
        data = _json(response).get("data") or {}
        username = str(data.get("username") or "")
        if not username:
            raise Transient("X answered /2/users/me without a username")
        self._handle = self._handle or username
        details: dict[str, Any] = {"username": username, "display_name": data.get("name", "")}
        rate = rate_info(response.headers)
        if rate is not None:
            details["rate_limit_remaining"] = rate.remaining
        return Identity(name=f"@{username}", id=str(data.get("id", "")), details=details)

    async def aclose(self) -> None:
        for session in (self._client.session, self._upload):
            session.close()

    # -- helpers -------------------------------------------------------------------------------------------

    async def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking call in a thread; its failures leave here as PublishError only."""
        try:
            return await asyncio.to_thread(fn, *args, **kwargs)
        except (tweepy.TweepyException, requests.RequestException) as exc:
            raise map_error(exc, now=self._now(), timeout=self._timeout) from exc

    def _delete(self, tweet_id: str) -> requests.Response | None:
        try:
            response: requests.Response = self._client.delete_tweet(tweet_id, user_auth=True)
        except tweepy.NotFound:
            return None
        return response

    async def _status_url(self, tweet_id: str) -> str:
        if not self._handle:
            try:
                me = await self._call(self._client.get_me, user_auth=True)
                self._handle = str((_json(me).get("data") or {}).get("username") or "") or None
            except PublishError as exc:  # the post exists: a missing handle must not fail it
                log.info("x handle lookup failed", extra={"target": self.target.name, "error": str(exc)})
        if self._handle:
            return f"https://x.com/{self._handle}/status/{tweet_id}"
        return f"https://x.com/i/web/status/{tweet_id}"

    def _download(self, url: str) -> tuple[ReadyImage | None, str | None]:
        """The image at `url`, or why not. Never raises: a post without its image beats no post."""
        rules = ImageRules(  # read at call time: tests scale MAX_IMAGE_BYTES down with their images
            ImageLimits(max_bytes=MAX_IMAGE_BYTES, max_side=MAX_IMAGE_SIDE),
            f"the {MAX_IMAGE_BYTES / MB:g} MB limit",
            as_it_came_within_bytes=True,  # X scales large sides itself, and says so when it refuses a file
        )
        try:
            return ready_image(self._outbound, url, timeout=self._timeout, rules=rules), None
        except NoImage as exc:
            return None, str(exc)

    def _describe_media(self, media_id: str, alt: str) -> str | None:
        """Alt text on an uploaded image (v2 media metadata); why not, or None. Never raises: the post goes
        without the description rather than not at all."""
        try:
            response = self._upload.post(
                f"{self._upload_base}{MEDIA_METADATA_PATH}",
                json={"id": media_id, "metadata": {"alt_text": {"text": alt[:ALT_TEXT_CHARS]}}},
                auth=OAuth1(*self._keys),
                timeout=self._timeout,
            )
        except requests.RequestException as exc:
            return f"alt text not set: {exc.__class__.__name__}"
        if response.status_code >= 300:
            return f"alt text not set: HTTP {response.status_code} {_summary(response)}".rstrip()
        return None

    def _upload_media(self, image: ReadyImage) -> tuple[str | None, str | None]:
        """X v2 simple upload. Returns (media_id, None), or (None, why) when X rejects the image itself;
        raises tweepy errors for everything else (auth, rate limit, server), which `_call` maps."""
        response = self._upload.post(
            f"{self._upload_base}{MEDIA_UPLOAD_PATH}",
            files={"media": (image.filename, image.data, image.content_type)},
            data={"media_category": "tweet_image"},
            auth=OAuth1(*self._keys),
            timeout=self._timeout,
        )
        if response.status_code in _IMAGE_REJECTED:
            return None, f"X rejected the image: HTTP {response.status_code} {_summary(response)}".rstrip()
        raise_for_status(response)
        body = _json(response)
        data = body.get("data") or {}
        media_id = data.get("id") or body.get("media_id_string") or body.get("media_id")
        if not media_id:
            return None, "X media upload answered without a media id"
        return str(media_id), None


# -- error mapping: the one place -------------------------------------------------------------------------


def map_error(exc: BaseException, *, now: datetime, timeout: float | None = None) -> PublishError:
    """Every X failure becomes exactly one of RetryLater / Transient / Permanent / AuthError."""
    if isinstance(exc, tweepy.TooManyRequests):
        at = retry_at(exc.response.headers, now)
        return RetryLater(f"X rate limit reached; allowed again at {at.isoformat()}", retry_at=at, code=429)
    if isinstance(exc, tweepy.HTTPException):
        status = _status(exc)
        detail = _detail(exc)
        if isinstance(exc, tweepy.Unauthorized) or status == 401:
            return AuthError(f"X rejected the credentials (401){detail}", code=401)
        if isinstance(exc, tweepy.Forbidden) or status == 403:
            if _is_duplicate(exc):
                return Permanent(f"X refused a duplicate post (403){detail}", code="duplicate")
            if _is_not_permitted(exc):
                return AuthError(f"X says the app or account may not do this (403){detail}", code=403)
            return Permanent(f"X refused the post (403){detail}", code=403)
        if isinstance(exc, tweepy.TwitterServerError) or status >= 500 or status == 408:
            # a gateway's 502/504 may come after X made the post: maybe posted
            return Transient(f"X server error ({status}){detail}", code=status, maybe_sent=status_maybe_sent(status))
        return Permanent(f"X rejected the request ({status}){detail}", code=status)
    if isinstance(exc, requests.ConnectTimeout) and nothing_sent(exc):  # no connection: nothing can be posted
        return Transient(f"could not reach X ({type(exc).__name__})", code="connection")
    if isinstance(exc, requests.Timeout):
        limit = f" within {timeout:g}s" if timeout else ""
        return Transient(f"X did not answer{limit} ({type(exc).__name__})", code="timeout")
    if isinstance(exc, requests.ConnectionError):
        if answer_lost(exc):
            return Transient(f"X closed the connection without an answer ({type(exc).__name__})", code="dropped")
        return Transient(f"could not reach X ({type(exc).__name__})", code="connection")
    if isinstance(exc, requests.RequestException):
        return Transient(f"X request failed ({type(exc).__name__})", code="network")
    return Transient(redact(f"X call failed: {type(exc).__name__}: {exc}"[:300]))


def raise_for_status(response: requests.Response) -> None:
    """tweepy's status → exception rule, for the calls tweepy does not make (media upload)."""
    status = response.status_code
    if 200 <= status < 300:
        return
    if status == 429:
        raise tweepy.TooManyRequests(response, reset_time=header_int(response.headers, "x-rate-limit-reset"))
    if status >= 500:
        raise tweepy.TwitterServerError(response)
    by_status: dict[int, type[tweepy.HTTPException]] = {
        400: tweepy.BadRequest,
        401: tweepy.Unauthorized,
        403: tweepy.Forbidden,
        404: tweepy.NotFound,
    }
    raise by_status.get(status, tweepy.HTTPException)(response)


def retry_at(headers: Mapping[str, str], now: datetime) -> datetime:
    """When a 429 lifts: the exhausted 24-hour window's reset, else the 15-minute window's, else now + 15 min."""
    daily = [
        reset
        for prefix in RATE_WINDOWS[1:]
        if header_int(headers, f"{prefix}-remaining") == 0
        and (reset := header_int(headers, f"{prefix}-reset")) is not None
    ]
    at = from_unix(max(daily)) if daily else from_unix(header_int(headers, "x-rate-limit-reset"))
    if at is None:
        return now + DEFAULT_RETRY_AFTER
    return max(at, now)


def rate_info(headers: Mapping[str, str]) -> RateInfo | None:
    """The tightest of X's windows (15-minute, per-user 24-hour, per-app 24-hour) as one RateInfo.

    An exhausted window wins (and sets `pause_until` to its reset, the latest if several are exhausted);
    otherwise the window with the fewest remaining posts."""
    windows: list[tuple[int | None, int | None, datetime | None]] = []
    for prefix in RATE_WINDOWS:
        limit = header_int(headers, f"{prefix}-limit")
        remaining = header_int(headers, f"{prefix}-remaining")
        reset = from_unix(header_int(headers, f"{prefix}-reset"))
        if limit is not None or remaining is not None or reset is not None:
            windows.append((limit, remaining, reset))
    if not windows:
        return None
    exhausted = [w for w in windows if w[1] == 0]
    if exhausted:
        limit, remaining, reset = max(exhausted, key=lambda w: w[2].timestamp() if w[2] else 0.0)
        return RateInfo(limit=limit, remaining=remaining, reset_at=reset, pause_until=reset)
    limit, remaining, reset = min(windows, key=lambda w: w[1] if w[1] is not None else float("inf"))
    return RateInfo(limit=limit, remaining=remaining, reset_at=reset)


# -- small pieces -----------------------------------------------------------------------------------------


def _session(timeout: float) -> requests.Session:
    session = requests.Session()
    adapter = BaseURLAdapter("", timeout)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _tweet_id(response: requests.Response) -> str:
    tweet_id = (_json(response).get("data") or {}).get("id")
    if not tweet_id:
        # X said yes (2xx) but we cannot tell which post it made: `unknown`, never resent blindly
        raise Transient(
            f"X answered {response.status_code} without a post id; check the account before resending",
            code="no_id",
            maybe_sent=True,
        )
    return str(tweet_id)


def _status(exc: tweepy.HTTPException) -> int:
    return int(getattr(exc.response, "status_code", 0) or 0)


def _problem(exc: tweepy.HTTPException) -> dict[str, Any]:
    try:
        body = exc.response.json()
    except (ValueError, AttributeError):
        return {}
    return body if isinstance(body, dict) else {}


def _messages(exc: tweepy.HTTPException) -> list[str]:
    messages = [str(m) for m in exc.api_messages]
    problem = _problem(exc)
    for key in ("title", "detail", "type", "reason"):
        value = problem.get(key)
        if isinstance(value, str) and value not in messages:
            messages.append(value)
    return messages


def _detail(exc: tweepy.HTTPException) -> str:
    messages = [m for m in exc.api_messages if m] or [
        m for m in (_problem(exc).get("detail"), _problem(exc).get("title")) if isinstance(m, str) and m
    ]
    if not messages:
        return ""
    return ": " + redact("; ".join(str(m) for m in messages))[:300]


def _summary(response: requests.Response) -> str:
    body = _json(response)
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return redact(str(errors[0].get("message") or errors[0].get("detail") or ""))[:200]
    return redact(str(body.get("detail") or body.get("title") or ""))[:200]


def _is_duplicate(exc: tweepy.HTTPException) -> bool:
    if _DUPLICATE_CODES & set(exc.api_codes):
        return True
    return any("duplicate" in m.lower() for m in _messages(exc))


def _is_not_permitted(exc: tweepy.HTTPException) -> bool:
    if _NOT_PERMITTED_CODES & set(exc.api_codes):
        return True
    problem_type = str(_problem(exc).get("type") or "")
    if any(t in problem_type for t in _NOT_PERMITTED_TYPES):
        return True
    return any(word in m.lower() for m in _messages(exc) for word in _NOT_PERMITTED_WORDS)
