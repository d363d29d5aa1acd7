"""Mastodon: Mastodon.py's `Mastodon` client against the target's instance (`api_base` overrides it: a proxy, a
test double), over a `requests.Session` whose adapter gives every request the target's timeout and no retries.

Mastodon.py is blocking, so every call runs in a worker thread. `ratelimit_method="throw"`: the library never
sleeps; a 429 becomes `RetryLater` at the `X-RateLimit-Reset` the server sent, and every answer's
`X-RateLimit-Limit/Remaining/Reset` goes into `Receipt.rate`, which the governor turns into a pause when the
account's budget (300 requests per 5 minutes) is spent. The server version is given (`mastodon_version`), so the
library makes no version probe of its own.

**A resend cannot post twice.** Each post carries its delivery's id as `Idempotency-Key` (with a digest of the
article link, so a reused id in a new database is a new key): within Mastodon's window (about an hour) the same key
returns the status the first request made instead of making another. So when a post's answer is lost (a read
timeout, a dropped connection, a gateway's 502/504) the failure is *not* maybe-sent: the dispatcher retries it like
any transient failure, and a person resending an `unknown` delivery (the same delivery, the same key) is safe too.
This publisher remembers when a key's first answer was lost; once that is older than the window, a lost answer is
maybe-sent again and the retry is not made blindly (`unknown`, a person checks).

The instance's limits (`instance.py`) are read at the first call and by `check`, then once a day; a post longer
than the instance allows (rendered before its limits were known) is refused here, never sent.

Errors become the closed set in one place, `map_error`:

    MastodonRatelimitError (429)             RetryLater  X-RateLimit-Reset, else now + 5 min
    MastodonUnauthorizedError (401)          AuthError
    403 (scope missing, suspended, …)        AuthError
    422 (validation: too long, bad media …)  Permanent   code 422 ("duplicate" when the server says so)
    404, other 4xx                           Permanent
    5xx                                      Transient   "server"; 502/504 maybe sent — unless the key covers it
    MastodonNetworkError, never connected    Transient   "connection"
    MastodonNetworkError, send timed out     Transient   "connection": the request never all left
    MastodonNetworkError, read timeout       Transient   "timeout", maybe sent — unless the key covers it
    MastodonNetworkError, connection lost    Transient   "dropped", maybe sent — unless the key covers it
    an answer that is not JSON               Transient   "unreadable", maybe sent — unless the key covers it
    MastodonIllegalArgumentError             Permanent

Not errors: a 404 on delete (already gone). The article image is made ready by `platforms.media.ready_image`
(the outbound guard, then fitted to the instance's `image_size_limit` and `image_matrix_limit`: a bigger one is
resized, `Receipt.extra["image_resized"]` says how). One that cannot be used (refused by the guard, not
downloaded, not an image, not made to fit, or refused by the media endpoint with 4xx) is left out and the post
goes without it, with the reason in `Receipt.extra["image_error"]` and a "mastodon image dropped" log line.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar
from urllib.parse import urlsplit

import requests
from mastodon import (
    Mastodon,
    MastodonAPIError,
    MastodonError,
    MastodonIllegalArgumentError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonServerError,
    MastodonUnauthorizedError,
)

from syndicator.article import Identity, Post, RateInfo, Receipt
from syndicator.clock import utcnow
from syndicator.errors import AuthError, Permanent, PublishError, RetryLater, Transient
from syndicator.images import ImageLimits
from syndicator.outbound import OutboundGuard
from syndicator.platforms.base import Publisher, delivery_key
from syndicator.platforms.delivery_doubt import nothing_sent, request_unfinished, status_maybe_sent
from syndicator.platforms.http import BaseURLAdapter, header_int, protect_loggers, redact
from syndicator.platforms.mastodon.instance import InstanceLimits, from_instance, remember, server_of
from syndicator.platforms.mastodon.measure import mastodon_length
from syndicator.platforms.mastodon.settings import MastodonSettings
from syndicator.platforms.media import DOWNLOAD_MAX_BYTES, ImageRules, NoImage, ready_image

if TYPE_CHECKING:
    from syndicator.config import TargetSettings

log = logging.getLogger(__name__)

MASTODON_VERSION = "4.0.0"  # what the calls used here need (v2 instance and media, edits); no probe
LIMITS_FOR = timedelta(hours=24)  # the instance's limits are read again after this
IDEMPOTENCY_WINDOW = timedelta(minutes=50)  # Mastodon keeps a key about an hour; stay inside it
DEFAULT_RETRY_AFTER = timedelta(minutes=5)  # the rate-limit window is 5 minutes
MEDIA_POLLS = (0.0, 0.5, 1.0, 2.0)  # seconds before each look at an attachment still processing (202)
LIBRARY_LOGGERS = ("mastodon", "requests", "urllib3", "syndicator.platforms")
_IMAGE_REJECTED = {400, 413, 415, 422}

T = TypeVar("T")


class MastodonPublisher(Publisher):
    platform: ClassVar[str] = "mastodon"
    supports_edit: ClassVar[bool] = True

    def __init__(
        self,
        target: TargetSettings,
        *,
        now: Callable[[], datetime] = utcnow,
        outbound: OutboundGuard | None = None,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        super().__init__(target)
        self.settings, (token,) = self.configured(MastodonSettings, "token")
        protect_loggers(LIBRARY_LOGGERS, [token])
        self._now = now
        self._sleep = sleep
        self._timeout = target.timeout.total_seconds()
        self.server = server_of(target)
        self._headers: Mapping[str, str] = {}
        session = requests.Session()
        adapter = BaseURLAdapter("", self._timeout)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.hooks["response"].append(self._saw)
        self._api = Mastodon(
            access_token=token,
            api_base_url=self.server,
            ratelimit_method="throw",
            request_timeout=self._timeout,
            mastodon_version=MASTODON_VERSION,
            version_check_mode="created",  # checks calls against the version given: no probe
            session=session,
        )
        self._limits: InstanceLimits | None = None
        self._limits_at: datetime | None = None
        self._lost: dict[str, datetime] = {}  # idempotency key → when its first answer was lost
        self._outbound = outbound or OutboundGuard()

    @classmethod
    def create(cls, target: TargetSettings, *, outbound: OutboundGuard) -> MastodonPublisher:
        return cls(target, outbound=outbound)

    # -- the interface -------------------------------------------------------------------------------------

    async def publish(self, post: Post) -> Receipt:
        try:
            limits = await self.limits()
        except Transient as exc:  # only the instance was asked: no status can exist
            raise Transient(f"reading the instance's limits: {exc}", code=exc.code, maybe_sent=False) from None
        self._fits(post, limits)
        key = idempotency_key(post)
        if key and key in self._lost and self._now() - self._lost[key] > IDEMPOTENCY_WINDOW:
            raise Transient(
                "an earlier attempt's answer was lost longer ago than Mastodon keeps its Idempotency-Key: the post "
                "may exist; check the account before resending",
                code="key_expired",
                maybe_sent=True,
            )
        extra: dict[str, Any] = {}
        media_ids: list[str] = []
        if post.image_url:
            media_id = await self._attach(post, limits, extra)
            if media_id:
                media_ids.append(media_id)
        language = str(post.extra.get("language") or "") or None
        status = await self._call(
            self._api.status_post, post.text, media_ids=media_ids or None, visibility=self.settings.visibility,
            language=language, idempotency_key=key or None, key=key,
        )  # fmt: skip
        self._lost.pop(key, None)
        extra.update(media_ids=media_ids, visibility=self.settings.visibility)
        if key:
            extra["idempotency_key"] = key
        return Receipt(remote_id=str(status["id"]), url=status.get("url"), extra=extra, rate=rate_info(self._headers))

    async def edit(self, receipt: Receipt, post: Post) -> Receipt:
        self._fits(post, await self.limits())
        media_ids = list(receipt.extra.get("media_ids") or []) or None
        status = await self._call(self._api.status_update, receipt.remote_id, status=post.text, media_ids=media_ids)
        return Receipt(remote_id=receipt.remote_id, url=status.get("url") or receipt.url, extra=dict(receipt.extra),
                       rate=rate_info(self._headers))  # fmt: skip

    async def delete(self, receipt: Receipt) -> None:
        try:
            await self._call(self._api.status_delete, receipt.remote_id)
        except Permanent as exc:
            if exc.code != 404:
                raise  # a 404: already gone

    async def check(self) -> Identity:
        account = await self._call(self._api.account_verify_credentials)
        limits = await self.limits(fresh=True)
        host = urlsplit(self.settings.instance).netloc
        details: dict[str, Any] = {
            "instance": self.settings.instance,
            "max_characters": limits.max_characters,
            "characters_reserved_per_url": limits.characters_reserved_per_url,
            "url": account.get("url", ""),
        }
        rate = rate_info(self._headers)
        if rate is not None and rate.remaining is not None:
            details["rate_limit_remaining"] = rate.remaining
        return Identity(name=f"@{account['acct']}@{host}", id=str(account["id"]), details=details)

    async def aclose(self) -> None:
        self._api.session.close()

    # -- the instance --------------------------------------------------------------------------------------

    async def limits(self, *, fresh: bool = False) -> InstanceLimits:
        """The instance's limits: read at the first call, by `check`, and again after a day."""
        now = self._now()
        if fresh or self._limits is None or self._limits_at is None or now - self._limits_at > LIMITS_FOR:
            answer = await self._call(self._api.instance_v2)
            self._limits, self._limits_at = from_instance(answer), now
            remember(self.server, self._limits)
        return self._limits

    def _fits(self, post: Post, limits: InstanceLimits) -> None:
        length = mastodon_length(post.text, limits.characters_reserved_per_url)
        allowed = self.settings.max_characters or limits.max_characters
        if length > allowed:
            raise Permanent(
                f"{length} characters, over the {allowed} that {self.server} allows (the post was rendered before the "
                "instance's limits were known); `syndicator resend` renders it again for them",
                code="too_long",
            )

    # -- media ---------------------------------------------------------------------------------------------

    async def _attach(self, post: Post, limits: InstanceLimits, extra: dict[str, Any]) -> str | None:
        """Upload the article image, fitted to the instance's limits, with its alt text; its id, or None with the
        reason in `extra`."""
        assert post.image_url
        try:
            image = await asyncio.to_thread(
                ready_image, self._outbound, post.image_url, timeout=self._timeout, rules=image_rules(limits)
            )
        except NoImage as exc:
            return self._no_image(extra, str(exc))
        if image.resized:
            extra["image_resized"] = image.resized
        alt = str(post.extra.get("image_alt") or "")[: limits.description_limit] or None
        try:
            media = await self._call(
                self._api.media_post, image.data, mime_type=image.content_type, description=alt,
                file_name=image.filename,
            )  # fmt: skip
            for wait in MEDIA_POLLS:
                if media.get("url"):
                    break
                await self._sleep(wait)
                media = await self._call(self._api.media, media["id"])
        except Transient as exc:
            # nothing is posted yet: whatever the upload's failure, the post itself was never sent
            raise Transient(f"image upload: {exc}", code=exc.code, maybe_sent=False) from None
        except Permanent as exc:
            if exc.code in _IMAGE_REJECTED:
                return self._no_image(extra, f"Mastodon refused the image: {exc}")
            raise
        if not media.get("url"):
            return self._no_image(extra, "Mastodon was still processing the image")
        return str(media["id"])

    def _no_image(self, extra: dict[str, Any], problem: str) -> str | None:
        """No media id: the post goes without the image, and says why."""
        extra["image_error"] = problem
        log.warning("mastodon image dropped", extra={"target": self.target.name, "image_error": problem})
        return None

    # -- calls ---------------------------------------------------------------------------------------------

    async def _call(self, fn: Callable[..., T], *args: Any, key: str = "", **kwargs: Any) -> T:
        """Run a blocking call in a thread; its failures leave here as PublishError only. `key`: the post's
        Idempotency-Key, which makes a lost answer safe to retry."""
        try:
            return await asyncio.to_thread(fn, *args, **kwargs)
        except MastodonError as exc:
            now = self._now()
            error = map_error(exc, now=now, timeout=self._timeout, headers=self._headers, idempotent=bool(key))
            if key and isinstance(error, Transient) and error.code in _LOST:
                self._lost.setdefault(key, now)
            raise error from None

    def _saw(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self._headers = response.headers


_LOST = frozenset({"timeout", "dropped", "unreadable", 502, 504})


def image_rules(limits: InstanceLimits) -> ImageRules:
    """What the instance takes: its bytes and its pixels (width x height; Mastodon refuses an image over them
    with a 422). Any format: the server converts what it stores itself; one we fit goes as JPEG or PNG. Every
    image is read for its size, so one Pillow cannot read (HEIC) is left out rather than sent unchecked."""
    return ImageRules(
        limits=ImageLimits(max_bytes=limits.image_size_limit, max_pixels=limits.image_matrix_limit),
        described=f"the instance's limits ({limits.image_size_limit:,} bytes, {limits.image_matrix_limit:,} pixels)",
        # a camera original over the instance's bytes is fetched, then fitted
        download_max_bytes=max(DOWNLOAD_MAX_BYTES, limits.image_size_limit),
    )


def idempotency_key(post: Post) -> str:
    """The post's Idempotency-Key: its delivery id, and a digest of what it links to (a database started anew
    reuses ids, never for the same article); empty outside a delivery."""
    delivery = delivery_key(post)
    if not delivery:
        return ""
    digest = hashlib.sha256((post.link or post.text).encode("utf-8")).hexdigest()[:16]
    return f"syndicator-{delivery}-{digest}"


# -- error mapping: the one place -------------------------------------------------------------------------


def map_error(
    exc: MastodonError,
    *,
    now: datetime,
    timeout: float | None = None,
    headers: Mapping[str, str] | None = None,
    idempotent: bool = False,
) -> PublishError:
    """Every Mastodon failure becomes exactly one of RetryLater / Transient / Permanent / AuthError.
    `idempotent`: the request carried an Idempotency-Key, so a lost answer is safe to retry (not maybe sent)."""
    covered = "; the retry carries the same Idempotency-Key, so it cannot post twice" if idempotent else ""
    if isinstance(exc, MastodonRatelimitError):
        at = retry_at(headers or {}, now)
        return RetryLater(f"Mastodon rate limit reached; allowed again at {at.isoformat()}", retry_at=at, code=429)
    if isinstance(exc, MastodonNetworkError):
        cause = exc.__context__
        if cause is not None and nothing_sent(cause):
            if request_unfinished(cause):
                limit = f" within {timeout:g}s" if timeout else ""
                return Transient(f"Mastodon did not take the whole request{limit}: it cannot have acted on it",
                                 code="connection")  # fmt: skip
            return Transient(f"could not reach Mastodon ({type(cause).__name__})", code="connection")
        if isinstance(cause, requests.Timeout):
            limit = f" within {timeout:g}s" if timeout else ""
            return Transient(f"Mastodon did not answer{limit}{covered}", code="timeout", maybe_sent=not idempotent)
        name = type(cause or exc).__name__
        return Transient(f"Mastodon closed the connection without an answer ({name}){covered}", code="dropped",
                         maybe_sent=not idempotent)  # fmt: skip
    if isinstance(exc, MastodonIllegalArgumentError):
        return Permanent(redact(f"Mastodon.py refused the request: {exc}")[:300], code="illegal_argument")
    if isinstance(exc, MastodonAPIError):
        status, detail = _status(exc), _detail(exc)
        if status is None:  # the library could not read a 2xx answer
            return Transient(f"Mastodon's answer could not be read{covered}", code="unreadable",
                             maybe_sent=not idempotent)  # fmt: skip
        if isinstance(exc, MastodonUnauthorizedError) or status == 401:
            return AuthError(f"Mastodon rejected the access token (401){detail}", code=401)
        if status == 403:
            return AuthError(f"Mastodon forbids this for the account or token (403){detail}", code=403)
        if isinstance(exc, MastodonServerError) or status >= 500:
            maybe = status_maybe_sent(status) and not idempotent
            return Transient(f"Mastodon server error ({status}){detail}{covered if status_maybe_sent(status) else ''}",
                             code=status if status_maybe_sent(status) else "server", maybe_sent=maybe)  # fmt: skip
        if status == 408:
            return Transient(f"Mastodon timed out the request (408){detail}", code=408, maybe_sent=False)
        if status == 422 and "duplicate" in detail.lower():
            return Permanent(f"Mastodon refused a duplicate (422){detail}", code="duplicate")
        if isinstance(exc, MastodonNotFoundError) or status == 404:
            return Permanent(f"Mastodon has no such thing (404){detail}", code=404)
        return Permanent(f"Mastodon rejected the request ({status}){detail}", code=status)
    return Transient(redact(f"Mastodon call failed: {type(exc).__name__}: {exc}")[:300])


def rate_info(headers: Mapping[str, str]) -> RateInfo | None:
    """`X-RateLimit-Limit/Remaining/Reset` (the reset an ISO 8601 time) as RateInfo."""
    limit = header_int(headers, "x-ratelimit-limit")
    remaining = header_int(headers, "x-ratelimit-remaining")
    reset = _reset(headers)
    if limit is None and remaining is None and reset is None:
        return None
    return RateInfo(limit=limit, remaining=remaining, reset_at=reset)


def retry_at(headers: Mapping[str, str], now: datetime) -> datetime:
    reset = _reset(headers)
    return max(reset, now) if reset is not None else now + DEFAULT_RETRY_AFTER


def _reset(headers: Mapping[str, str]) -> datetime | None:
    raw = str(headers.get("x-ratelimit-reset") or "").strip()
    if not raw:
        return None
    try:
        at = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo else None


def _status(exc: MastodonAPIError) -> int | None:
    return exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else None


def _detail(exc: MastodonAPIError) -> str:
    message = exc.args[3] if len(exc.args) > 3 and exc.args[3] else None
    return f": {redact(str(message))[:300]}" if message else ""
