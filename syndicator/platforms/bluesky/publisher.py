"""Bluesky: the `atproto` SDK's `AsyncClient` against the account's PDS (`api_base`, default https://bsky.social).

One session per publisher, kept for its life: `createSession` is rate-limited (about 30 per 5 minutes, 300 a day),
so the app password is used once, at the first call, and the SDK refreshes the access token with the refresh token
before it expires. Only when the PDS says the session itself is gone (ExpiredToken, InvalidToken) is the app password
used again, once, and the call repeated (nothing was written by a call refused for its token). After login the SDK
follows the PDS named in the account's DID document, as a real account on a Bluesky-hosted PDS needs.

A post is an `app.bsky.feed.post` record: the text, its links and hashtags as facets with UTF-8 byte offsets
(`facets.py`), `langs`, `createdAt`, and the article as an `app.bsky.embed.external` card whose thumb is the article
image, fetched through the outbound guard and fitted to 1,000,000 bytes (`platforms.media`), uploaded with
`uploadBlob`. Delete on retract (`deleteRecord`, which succeeds for a record already gone); no edits.

Errors become the closed set in one place, `map_error`:

    RateLimitExceededError (429)               RetryLater  retry-after, else ratelimit-reset, else now + 15 min
    UnauthorizedError (401/403)                AuthError
    BadRequestError, an auth error name        AuthError   AuthenticationRequired, InvalidToken, AccountTakedown …
    BadRequestError, a duplicate's name        Permanent   code "duplicate" (RecordAlreadyExists, …)
    BadRequestError, anything else             Permanent   InvalidRequest (too long, bad facet, …), code 400
    413 / 409 / other 4xx                      Permanent
    502/504                                    Transient   maybe sent (a gateway answered)
    other 5xx                                  Transient   "server": the PDS answered, nothing was written
    InvokeTimeoutError                         Transient   "timeout" maybe sent; "connection" when never connected
    NetworkError / httpx errors, no answer     Transient   "network"/"dropped" maybe sent; "connection" if unsent
    an answer the SDK cannot read (ModelError) Transient   "unreadable", maybe sent
    LoginRequiredError                         AuthError

A post whose answer was lost may exist (Bluesky has no idempotency key): it becomes `unknown` by the common rule.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import httpx
from atproto import AsyncClient, models
from atproto_client.exceptions import (
    BadRequestError,
    InvokeTimeoutError,
    LoginRequiredError,
    ModelError,
    NetworkError,
    RateLimitExceededError,
    RequestErrorBase,
    UnauthorizedError,
)
from atproto_client.models.common import XrpcError
from atproto_client.request import AsyncRequest
from atproto_core.exceptions import AtProtocolError

from syndicator.article import Identity, Post, RateInfo, Receipt
from syndicator.clock import utcnow
from syndicator.errors import AuthError, Permanent, PublishError, RetryLater, Transient
from syndicator.images import ImageLimits
from syndicator.outbound import OutboundGuard
from syndicator.platforms.base import Publisher
from syndicator.platforms.bluesky.facets import Facet, find_facets
from syndicator.platforms.bluesky.settings import BlueskySettings
from syndicator.platforms.delivery_doubt import nothing_sent, status_maybe_sent
from syndicator.platforms.http import from_unix, header_int, protect_loggers, redact
from syndicator.platforms.media import ImageRules, NoImage, ready_image

if TYPE_CHECKING:
    from atproto_client.client.session import Session, SessionEvent

    from syndicator.config import TargetSettings

log = logging.getLogger(__name__)

DEFAULT_SERVICE = "https://bsky.social"
POST_COLLECTION = "app.bsky.feed.post"
MAX_THUMB_BYTES = 1_000_000
MAX_THUMB_SIDE = 2000  # a card thumb is shown small: more pixels only cost bytes
THUMB = ImageRules(  # within the byte limit it goes as it came: Bluesky takes it, nothing is lost
    ImageLimits(max_bytes=MAX_THUMB_BYTES, max_side=MAX_THUMB_SIDE),
    "Bluesky's 1,000,000-byte thumb limit",
    as_it_came_within_bytes=True,
)
DEFAULT_RETRY_AFTER = timedelta(minutes=15)
LIBRARY_LOGGERS = ("atproto", "atproto_client", "atproto_core", "httpx", "httpcore", "syndicator.platforms")
SESSION_GONE = frozenset({"ExpiredToken", "InvalidToken"})
AUTH_ERRORS = frozenset(
    {"AuthenticationRequired", "InvalidToken", "ExpiredToken", "AccountTakedown", "AccountDeactivated",
     "AuthFactorTokenRequired", "InvalidPassword", "AuthMissing"}
)  # fmt: skip
DUPLICATE_WORDS = ("duplicate", "alreadyexists", "already exists")
_THUMB_REJECTED = {400, 413, 415}

T = TypeVar("T")


class BlueskyPublisher(Publisher):
    platform: ClassVar[str] = "bluesky"
    supports_edit: ClassVar[bool] = False

    def __init__(
        self,
        target: TargetSettings,
        *,
        now: Callable[[], datetime] = utcnow,
        outbound: OutboundGuard | None = None,
    ) -> None:
        super().__init__(target)
        self.settings, (password,) = self.configured(BlueskySettings, "app_password")
        self._password = password
        protect_loggers(LIBRARY_LOGGERS, [password])  # session JWTs: redaction.PATTERNS has their shape
        self._now = now
        self._timeout = target.timeout.total_seconds()
        self.service = (target.api_base or DEFAULT_SERVICE).rstrip("/")
        self._last_headers: Mapping[str, str] = {}
        request = AsyncRequest(timeout=httpx.Timeout(self._timeout), event_hooks={"response": [self._saw]})
        self._client = AsyncClient(base_url=self.service, request=request)
        self._client.on_session_change(self._session_changed)
        self._did: str | None = None
        self._handle = self.settings.handle.strip().lstrip("@")
        self._login_lock = asyncio.Lock()
        self.logins = 0  # createSession calls made: one for the publisher's life, unless the PDS drops the session
        self._outbound = outbound or OutboundGuard()

    @classmethod
    def create(cls, target: TargetSettings, *, outbound: OutboundGuard) -> BlueskyPublisher:
        return cls(target, outbound=outbound)

    # -- the interface -------------------------------------------------------------------------------------

    async def publish(self, post: Post) -> Receipt:
        extra: dict[str, Any] = {}
        embed = await self._card(post, extra)
        facets = find_facets(post.text)
        record = models.AppBskyFeedPost.Record(
            text=post.text,
            created_at=self._now().isoformat().replace("+00:00", "Z"),
            facets=[_facet_model(f) for f in facets] or None,
            langs=list(post.extra.get("langs") or []) or None,
            embed=embed,
        )

        async def create() -> Any:
            return await self._client.app.bsky.feed.post.create(repo=self._repo(), record=record)

        created = await self._call(create)
        uri = str(created.uri)
        rkey = uri.rsplit("/", 1)[-1]
        extra.update(cid=str(created.cid), rkey=rkey, did=self._repo(), facets=len(facets))
        if "image_error" in extra:
            problem = extra["image_error"]
            log.warning("bluesky thumb dropped", extra={"target": self.target.name, "image_error": problem})
        return Receipt(remote_id=uri, url=post_url(self._handle or self._repo(), rkey), extra=extra,
                       rate=rate_info(self._last_headers))  # fmt: skip

    async def delete(self, receipt: Receipt) -> None:
        repo, rkey = _repo_and_rkey(receipt)

        async def remove() -> Any:
            return await self._client.app.bsky.feed.post.delete(repo=repo or self._repo(), rkey=rkey)

        await self._call(remove)  # deleteRecord succeeds for a record already gone

    async def check(self) -> Identity:
        async def me() -> Any:
            return await self._client.com.atproto.server.get_session()

        session = await self._call(me)
        self._handle = str(session.handle or self._handle)
        details: dict[str, Any] = {"handle": session.handle, "service": self.service, "pds": self._client._base_url}
        rate = rate_info(self._last_headers)
        if rate is not None and rate.remaining is not None:
            details["rate_limit_remaining"] = rate.remaining
        return Identity(name=f"@{session.handle}", id=str(session.did), details=details)

    async def aclose(self) -> None:
        await self._client.request.close()

    # -- session -------------------------------------------------------------------------------------------

    async def _session_changed(self, event: SessionEvent, session: Session) -> None:
        self._did = session.did
        self._handle = session.handle or self._handle

    async def _login(self, *, again: bool = False) -> None:
        async with self._login_lock:
            if self._did is not None and not again:
                return  # another call logged in meanwhile
            await self._client.login(self._handle, self._password, fetch_bsky_profile=False)
            self.logins += 1

    async def _signed_in(self) -> None:
        """The first login; its failure leaves as PublishError, never maybe sent (nothing was written)."""
        try:
            await self._login()
        except (AtProtocolError, httpx.HTTPError) as exc:
            error = map_error(exc, now=self._now(), timeout=self._timeout)
            if isinstance(error, Transient):
                raise Transient(f"signing in: {error}", code=error.code, maybe_sent=False) from None
            raise error from None

    def _repo(self) -> str:
        if self._did is None:
            raise LoginRequiredError
        return self._did

    async def _call(self, fn: Callable[[], Awaitable[T]]) -> T:
        """Run one SDK call with a live session (logging in once, or again if the PDS dropped the session);
        failures leave here as PublishError only."""
        try:
            if self._did is None:
                await self._signed_in()
            try:
                return await fn()
            except (BadRequestError, UnauthorizedError) as exc:
                if _xrpc_error(exc) not in SESSION_GONE:
                    raise
                log.info("bluesky session expired: logging in again", extra={"target": self.target.name})
                await self._login(again=True)
                return await fn()
        except (AtProtocolError, httpx.HTTPError) as exc:
            raise map_error(exc, now=self._now(), timeout=self._timeout) from None

    async def _saw(self, response: httpx.Response) -> None:
        self._last_headers = response.headers

    # -- the link card -------------------------------------------------------------------------------------

    async def _card(self, post: Post, extra: dict[str, Any]) -> models.AppBskyEmbedExternal.Main | None:
        card = post.extra.get("card")
        if not isinstance(card, Mapping) or not card.get("uri"):
            return None
        thumb = None
        if post.image_url:
            thumb = await self._thumb(post.image_url, extra)
        external = models.AppBskyEmbedExternal.External(
            uri=str(card["uri"]), title=str(card.get("title") or ""), description=str(card.get("description") or ""),
            thumb=thumb,
        )  # fmt: skip
        return models.AppBskyEmbedExternal.Main(external=external)

    async def _thumb(self, url: str, extra: dict[str, Any]) -> Any:
        """The uploaded blob of the article's image, or None with the reason in `extra["image_error"]`. Failures
        of the upload other than a refused image raise (nothing is posted yet: never maybe sent)."""
        try:
            image = await asyncio.to_thread(ready_image, self._outbound, url, timeout=self._timeout, rules=THUMB)
        except NoImage as exc:
            extra["image_error"] = str(exc)
            return None
        if image.resized:
            extra["image_resized"] = image.resized
        data, content_type = image.data, image.content_type

        async def upload() -> Any:
            return await self._client.com.atproto.repo.upload_blob(data, headers={"Content-Type": content_type})

        try:
            uploaded = await self._call(upload)
        except Transient as exc:
            raise Transient(f"thumb upload: {exc}", code=exc.code, maybe_sent=False) from None
        except Permanent as exc:
            if exc.code in _THUMB_REJECTED:
                extra["image_error"] = f"Bluesky refused the image: {exc}"
                return None
            raise
        return uploaded.blob


# -- error mapping: the one place -------------------------------------------------------------------------


def map_error(exc: BaseException, *, now: datetime, timeout: float | None = None) -> PublishError:
    """Every Bluesky failure becomes exactly one of RetryLater / Transient / Permanent / AuthError."""
    if isinstance(exc, RateLimitExceededError):
        at = _retry_at(exc, now)
        return RetryLater(f"Bluesky rate limit reached; allowed again at {at.isoformat()}", retry_at=at, code=429)
    if isinstance(exc, LoginRequiredError):
        return AuthError("Bluesky session could not be established", code="login")
    if isinstance(exc, InvokeTimeoutError):
        if exc.__cause__ is not None and nothing_sent(exc.__cause__):
            return Transient(f"could not reach Bluesky ({type(exc.__cause__).__name__})", code="connection")
        limit = f" within {timeout:g}s" if timeout else ""
        return Transient(f"Bluesky did not answer{limit}", code="timeout")
    if isinstance(exc, RequestErrorBase) and exc.response is not None:
        return _map_answer(exc)
    if isinstance(exc, NetworkError):  # no answer
        cause = exc.__cause__
        if cause is not None and nothing_sent(cause):
            return Transient(f"could not reach Bluesky ({type(cause).__name__})", code="connection")
        return Transient(f"Bluesky network error ({type(cause or exc).__name__})", code="network")
    if isinstance(exc, httpx.HTTPError):  # the SDK passes some transport errors through as they are
        if nothing_sent(exc):
            return Transient(f"could not reach Bluesky ({type(exc).__name__})", code="connection")
        return Transient(f"Bluesky closed the connection without an answer ({type(exc).__name__})", code="dropped")
    if isinstance(exc, ModelError):
        return Transient("Bluesky's answer could not be read", code="unreadable")
    return Transient(redact(f"Bluesky call failed: {type(exc).__name__}: {exc}")[:300])


def _map_answer(exc: RequestErrorBase) -> PublishError:
    response = exc.response
    assert response is not None
    status = response.status_code
    name = _xrpc_error(exc)
    detail = _detail(exc)
    if isinstance(exc, UnauthorizedError) or name in AUTH_ERRORS:
        return AuthError(f"Bluesky refused the credentials or the session ({status}){detail}", code=status)
    if any(word in (name + " " + detail).lower() for word in DUPLICATE_WORDS):
        return Permanent(f"Bluesky refused a duplicate ({status}){detail}", code="duplicate")
    if status >= 500:
        maybe = status_maybe_sent(status)
        return Transient(f"Bluesky server error ({status}){detail}", code="server" if not maybe else status,
                         maybe_sent=maybe)  # fmt: skip
    if status == 408:
        return Transient(f"Bluesky timed out the request (408){detail}", code="timeout")
    return Permanent(f"Bluesky rejected the request ({status}){detail}", code=status)


def rate_info(headers: Mapping[str, str]) -> RateInfo | None:
    """The PDS's `ratelimit-*` headers (reset in unix seconds) as RateInfo."""
    limit = header_int(headers, "ratelimit-limit")
    remaining = header_int(headers, "ratelimit-remaining")
    reset = from_unix(header_int(headers, "ratelimit-reset"))
    if limit is None and remaining is None and reset is None:
        return None
    return RateInfo(limit=limit, remaining=remaining, reset_at=reset)


def _retry_at(exc: RateLimitExceededError, now: datetime) -> datetime:
    headers = exc.response.headers if exc.response is not None else {}
    retry_after = header_int(headers, "retry-after")
    if retry_after is not None:
        return now + timedelta(seconds=max(retry_after, 0))
    reset = from_unix(header_int(headers, "ratelimit-reset"))
    if reset is not None:
        return max(reset, now)
    return now + DEFAULT_RETRY_AFTER


def _xrpc_error(exc: AtProtocolError) -> str:
    response = getattr(exc, "response", None)
    content = getattr(response, "content", None)
    return str(content.error or "") if isinstance(content, XrpcError) else ""


def _detail(exc: RequestErrorBase) -> str:
    content = exc.response.content if exc.response is not None else None
    if isinstance(content, XrpcError):
        words = f"{content.error}: {content.message}" if content.message else str(content.error)
        return ": " + redact(words)[:300]
    return ""


def _facet_model(facet: Facet) -> models.AppBskyRichtextFacet.Main:
    feature: models.AppBskyRichtextFacet.Link | models.AppBskyRichtextFacet.Tag
    if facet.kind == "link":
        feature = models.AppBskyRichtextFacet.Link(uri=facet.value)
    else:
        feature = models.AppBskyRichtextFacet.Tag(tag=facet.value)
    index = models.AppBskyRichtextFacet.ByteSlice(byte_start=facet.byte_start, byte_end=facet.byte_end)
    return models.AppBskyRichtextFacet.Main(index=index, features=[feature])


def _repo_and_rkey(receipt: Receipt) -> tuple[str, str]:
    """From `at://<did>/app.bsky.feed.post/<rkey>`."""
    uri = receipt.remote_id
    parts = uri.removeprefix("at://").split("/")
    if len(parts) == 3 and parts[1] == POST_COLLECTION:
        return parts[0], parts[2]
    return str(receipt.extra.get("did") or ""), str(receipt.extra.get("rkey") or uri.rsplit("/", 1)[-1])


def post_url(actor: str, rkey: str) -> str:
    return f"https://bsky.app/profile/{actor}/post/{rkey}"
