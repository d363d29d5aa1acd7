"""Telegram: python-telegram-bot 22 `Bot` over its `HTTPXRequest`, pointed at `target.api_base` when set (a local
Bot API server, a proxy or a test double) and at https://api.telegram.org otherwise.

The bot token is part of every request URL (`/bot<TOKEN>/sendMessage`). It must never reach a log line or an error
message: the `httpx` logger is set to WARNING here (it logs every URL at INFO), and a redacting filter is attached
to the loggers of httpx, httpcore and python-telegram-bot, so even a DEBUG configuration shows `***` instead.
`Bot.initialize()` is never called: it puts the token into the InvalidToken message.

Errors become the closed set in one place, `map_error`:

    RetryAfter (429, parameters.retry_after)      RetryLater  retry_at = now + retry_after
    InvalidToken (401, 404)                       AuthError
    Forbidden (403: bot kicked, not a member...)  AuthError
    BadRequest about the chat itself              AuthError   chat not found, not enough rights, need admin rights
    BadRequest, anything else                     Permanent   can't parse entities, too long, ...
    ChatMigrated (a second time in one call)      Permanent   the first one is retried against the new chat id
    TimedOut                                      Transient   "timeout", maybe sent (not: connect/pool timeout)
    NetworkError, no answer (connection lost)     Transient   "network", maybe sent (not: connection refused)
    NetworkError, an answer (5xx)                 Transient   "server": Telegram answered, nothing was posted
    TelegramError itself (an unreadable answer)   Transient   "unreadable", maybe sent
    any other TelegramError (Conflict, ...)       Transient

Decided by the callers, not errors: "message is not modified" on edit is success; "message to delete not found"
on delete means already gone.

The article image is never handed to Telegram as a URL (Telegram would fetch an address we never checked, and drop
a photo over its limits): it is fetched through the outbound guard, fitted to the Bot API's photo limits (10 MB,
width + height ≤ 10,000, sides at most 20:1; `platforms.media`) and uploaded with `sendPhoto` as a file. When the
image cannot be used — refused by the guard, not downloaded within the target's timeout, not an image, a shape no
scaling fixes, or refused by Telegram itself (a BadRequest about the photo, or 413 from a proxy in front of a local
Bot API server) — the same text goes as a message (`sendMessage`: a caption-length text is a valid message), with
the reason in `Receipt.extra["image_error"]` and a log line. Only a refusal falls back: Telegram made no message
then. A `sendPhoto` whose answer was lost is maybe-sent like any call (the photo may be in the channel), and a
caption longer than 1,024 characters is never fetched at all: it goes as text.
"""

from __future__ import annotations

import asyncio
import logging
import re
import warnings
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, LinkPreviewOptions, Message
from telegram.constants import MessageLimit
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import HTTPXRequest

from syndicator.article import Identity, Post, Receipt
from syndicator.clock import utcnow
from syndicator.errors import AuthError, Permanent, PublishError, RetryLater, Transient
from syndicator.images import JPEG, PNG, ImageLimits
from syndicator.outbound import OutboundGuard
from syndicator.platforms.base import Publisher
from syndicator.platforms.delivery_doubt import gateway_words, nothing_sent
from syndicator.platforms.http import protect_loggers, redact
from syndicator.platforms.media import MB, ImageRules, NoImage, ReadyImage, ready_image
from syndicator.platforms.telegram.settings import TelegramSettings

if TYPE_CHECKING:
    from syndicator.config import TargetSettings

# httpx logs every request URL, token included, at INFO
logging.getLogger("httpx").setLevel(logging.WARNING)

log = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.telegram.org"
CAPTION_LIMIT = int(MessageLimit.CAPTION_LENGTH)
LIBRARY_LOGGERS = ("httpx", "httpcore", "telegram", "syndicator.platforms")
# `bot<id>:<secret>` in URLs, and bare tokens (real ones have 35 characters after the colon)
TOKEN_PATTERNS = (re.compile(r"bot\d+:[A-Za-z0-9_-]+"), re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{30,}"))

# the Bot API's sendPhoto: "at most 10 MB in size … width and height must not exceed 10000 in total … ratio must
# be at most 20"; JPEG, PNG and WebP are taken as they are, other formats are re-encoded
PHOTO = ImageRules(
    ImageLimits(max_bytes=10 * MB, max_side_sum=10_000, max_ratio=20, formats=frozenset({JPEG, PNG, "image/webp"})),
    "Telegram's photo limits (10 MB, width + height 10,000, 20:1)",
)
# BadRequest descriptions (lower case) meaning Telegram could not use the photo: send as text instead
PHOTO_PROBLEMS = (
    "image_process_failed",
    "photo_invalid_dimensions",
    "photo_save_file_invalid",
    "photo_ext_invalid",
    "photo_invalid",
    "file must be non-empty",
    "wrong file identifier/http url specified",
    "wrong type of the web page content",
)
TOO_LARGE = "request entity too large"  # a 413, which PTB raises as NetworkError: a proxy's body limit
# BadRequest descriptions about the chat or the bot's rights there: every post would fail until a human acts
CHAT_PROBLEMS = ("chat not found", "not enough rights", "need administrator rights", "have no rights")
NOT_MODIFIED = "message is not modified"
ALREADY_DELETED = "message to delete not found"

T = TypeVar("T")
ChatId = int | str


class TelegramPublisher(Publisher):
    platform: ClassVar[str] = "telegram"
    supports_edit: ClassVar[bool] = True

    def __init__(
        self,
        target: TargetSettings,
        *,
        now: Callable[[], datetime] = utcnow,
        outbound: OutboundGuard | None = None,
    ) -> None:
        super().__init__(target)
        self.settings, (token,) = self.configured(TelegramSettings, "token")
        # before the Bot exists: its constructor logs the token-bearing base URL at DEBUG
        protect_loggers(LIBRARY_LOGGERS, [token], TOKEN_PATTERNS)
        self._now = now
        self._timeout = target.timeout.total_seconds()
        base = (target.api_base or DEFAULT_API_BASE).rstrip("/")
        self._request = HTTPXRequest(
            connection_pool_size=8,
            read_timeout=self._timeout,
            write_timeout=self._timeout,
            connect_timeout=self._timeout,
            pool_timeout=self._timeout,
            media_write_timeout=self._timeout,
        )
        self._bot = Bot(
            token,
            base_url=f"{base}/bot",
            base_file_url=f"{base}/file/bot",
            request=self._request,
            get_updates_request=self._request,
        )
        self._configured_chat: ChatId = parse_chat(self.settings.chat)
        self._chat: ChatId = self._configured_chat  # changes if Telegram says the group became a supergroup
        # image URLs come from the articles: only the guard fetches them (no allowlist given: public addresses only)
        self._outbound = outbound or OutboundGuard()

    @classmethod
    def create(cls, target: TargetSettings, *, outbound: OutboundGuard) -> TelegramPublisher:
        return cls(target, outbound=outbound)

    # -- the interface -------------------------------------------------------------------------------------

    async def publish(self, post: Post) -> Receipt:
        extra: dict[str, Any] = {}
        photo = await self._photo(post, extra)
        kind = "text"

        async def send(chat: ChatId) -> Message:
            nonlocal kind, photo
            if photo is not None:
                try:
                    message = await self._bot.send_photo(
                        chat_id=chat,
                        photo=InputFile(photo.data, filename=photo.filename),
                        caption=post.text,
                        parse_mode=_parse_mode(post),
                        disable_notification=self.settings.silent,
                        reply_markup=_markup(post),
                    )
                except (BadRequest, NetworkError) as exc:
                    if not _photo_refused(exc):
                        raise
                    # Telegram refused the photo itself: no message was made, so the text alone cannot double it
                    extra["image_error"] = redact(f"Telegram refused the photo: {exc.message}")[:300]
                    photo = None
                else:
                    kind = "photo"
                    return message
            kind = "text"
            return await self._bot.send_message(
                chat_id=chat,
                text=post.text,
                parse_mode=_parse_mode(post),
                link_preview_options=self._preview(post),
                disable_notification=self.settings.silent,
                reply_markup=_markup(post),
            )

        message = await self._call(send, migrate=True)
        if "image_error" in extra:
            log.warning("telegram image dropped", extra={"target": self.target.name, **extra})
        extra.update(chat_id=message.chat_id, kind=kind)
        if self._chat != self._configured_chat:
            extra["new_chat_id"] = self._chat
        return Receipt(remote_id=str(message.message_id), url=self._url(message), extra=extra)

    async def edit(self, receipt: Receipt, post: Post) -> Receipt:
        message_id = int(receipt.remote_id)
        chat: ChatId = receipt.extra.get("chat_id") or self._chat

        async def change(chat: ChatId) -> Message | bool:
            try:
                if receipt.extra.get("kind") == "photo":
                    return await self._bot.edit_message_caption(
                        chat_id=chat,
                        message_id=message_id,
                        caption=post.text,
                        parse_mode=_parse_mode(post),
                        reply_markup=_markup(post),
                    )
                return await self._bot.edit_message_text(
                    text=post.text,
                    chat_id=chat,
                    message_id=message_id,
                    parse_mode=_parse_mode(post),
                    link_preview_options=self._preview(post),
                    reply_markup=_markup(post),
                )
            except BadRequest as exc:
                if _matches(exc, (NOT_MODIFIED,)):
                    return True  # the text already reads like this: the correction is in place
                raise

        result = await self._call(change, chat=chat)
        url = self._url(result) if isinstance(result, Message) else receipt.url
        return Receipt(remote_id=receipt.remote_id, url=url or receipt.url, extra=dict(receipt.extra))

    async def delete(self, receipt: Receipt) -> None:
        message_id = int(receipt.remote_id)

        async def remove(chat: ChatId) -> bool:
            try:
                return await self._bot.delete_message(chat_id=chat, message_id=message_id)
            except BadRequest as exc:
                if _matches(exc, (ALREADY_DELETED,)):
                    return True
                raise

        await self._call(remove, chat=receipt.extra.get("chat_id") or self._chat)

    async def check(self) -> Identity:
        async def me(_: ChatId) -> Any:
            return await self._bot.get_me()

        user = await self._call(me)
        return Identity(
            name=f"@{user.username}" if user.username else str(user.first_name),
            id=str(user.id),
            details={"username": user.username or "", "first_name": user.first_name, "chat": self.settings.chat},
        )

    async def aclose(self) -> None:
        await self._request.shutdown()

    # -- helpers -------------------------------------------------------------------------------------------

    async def _photo(self, post: Post, extra: dict[str, Any]) -> ReadyImage | None:
        """The article image ready to upload, or None with the reason in `extra` (then the post goes as text)."""
        if not post.image_url:
            return None
        if post.length > CAPTION_LIMIT:
            extra["image_error"] = f"caption longer than {CAPTION_LIMIT} characters: sent as text"
            return None
        try:
            photo = await asyncio.to_thread(
                ready_image, self._outbound, post.image_url, timeout=self._timeout, rules=PHOTO
            )
        except NoImage as exc:
            extra["image_error"] = str(exc)
            return None
        if photo.resized:
            extra["image_resized"] = photo.resized
        return photo

    async def _call(
        self, fn: Callable[[ChatId], Awaitable[T]], *, chat: ChatId | None = None, migrate: bool = False
    ) -> T:
        """Run one Bot call; on ChatMigrated (when `migrate`) once more against the new chat id, which is kept
        for later posts and reported in receipts. Failures leave here as PublishError only."""
        target_chat = self._chat if chat is None else chat
        try:
            try:
                return await fn(target_chat)
            except ChatMigrated as exc:
                if not migrate:
                    raise
                log.warning(
                    "telegram chat migrated",
                    extra={"target": self.target.name, "chat": str(target_chat), "new_chat_id": exc.new_chat_id},
                )
                self._chat = exc.new_chat_id
                return await fn(exc.new_chat_id)
        except TelegramError as exc:
            # `from None`: the library's own exceptions may carry URLs; ours carries a redacted description
            raise map_error(exc, now=self._now(), timeout=self._timeout) from None

    def _preview(self, post: Post) -> LinkPreviewOptions:
        return LinkPreviewOptions(
            is_disabled=not self.settings.link_preview,
            url=post.link,
            show_above_text=self.settings.preview_above_text,
        )

    def _url(self, message: Message) -> str | None:
        username = message.chat.username
        if not username and isinstance(self._chat, str) and self._chat.startswith("@"):
            username = self._chat[1:]
        return message_url(username, message.chat_id, message.message_id)


# -- error mapping: the one place -------------------------------------------------------------------------


def map_error(exc: TelegramError, *, now: datetime, timeout: float | None = None) -> PublishError:
    """Every Telegram failure becomes exactly one of RetryLater / Transient / Permanent / AuthError."""
    description = redact(str(exc.message))[:300]
    if isinstance(exc, RetryAfter):
        seconds = _retry_after_seconds(exc)
        return RetryLater(
            f"Telegram flood control: retry in {seconds:g}s", retry_at=now + timedelta(seconds=seconds), code=429
        )
    if isinstance(exc, InvalidToken):
        return AuthError("Telegram rejected the bot token", code=401)
    if isinstance(exc, Forbidden):
        return AuthError(f"Telegram forbids this: {description}", code=403)
    if isinstance(exc, ChatMigrated):
        return Permanent(
            f'the chat moved to {exc.new_chat_id}; set chat = "{exc.new_chat_id}" for this target',
            code="chat_migrated",
        )
    if isinstance(exc, BadRequest):  # before NetworkError: BadRequest subclasses it
        if _matches(exc, CHAT_PROBLEMS):
            return AuthError(f"Telegram refuses this chat: {description}", code=400)
        return Permanent(f"Telegram rejected the message: {description}", code=400)
    if isinstance(exc, TimedOut):
        limit = f" within {timeout:g}s" if timeout else ""
        unsent = exc.__cause__ is not None and nothing_sent(exc.__cause__)
        return Transient(f"Telegram did not answer{limit}", code="timeout", maybe_sent=not unsent)
    if isinstance(exc, NetworkError):
        cause = exc.__cause__
        if cause is None or isinstance(cause, TelegramError):  # PTB read an HTTP answer (a 5xx)
            # a gateway's 502/504 may come after the Bot API sent the message: maybe posted
            gateway = gateway_words(description)
            return Transient(f"Telegram server error: {description}", code="server", maybe_sent=gateway)
        # no answer: the request may have arrived, unless no connection was ever made
        unsent = nothing_sent(cause)
        return Transient(f"Telegram network error: {description}", code="network", maybe_sent=not unsent)
    if type(exc) is TelegramError:  # PTB could not read the answer (e.g. a 200 that is not JSON): maybe posted
        return Transient(f"Telegram's answer could not be read: {description}", code="unreadable")
    return Transient(f"Telegram error ({type(exc).__name__}): {description}")


# -- small pieces -----------------------------------------------------------------------------------------


def parse_chat(chat: str) -> ChatId:
    """`@channel` stays a string; a numeric id becomes an int."""
    chat = chat.strip()
    if re.fullmatch(r"-?\d+", chat):
        return int(chat)
    return chat


def message_url(username: str | None, chat_id: int, message_id: int) -> str | None:
    """Public link to a message: t.me/<username>/<id> for public chats, t.me/c/<id>/<id> for private
    supergroups and channels (members only), None otherwise."""
    if username:
        return f"https://t.me/{username}/{message_id}"
    text = str(chat_id)
    if text.startswith("-100"):
        return f"https://t.me/c/{text[4:]}/{message_id}"
    return None


def _parse_mode(post: Post) -> str:
    return post.parse_mode or "HTML"


def _markup(post: Post) -> InlineKeyboardMarkup | None:
    if not post.buttons:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(b.text, url=b.url)] for b in post.buttons])


def _photo_refused(exc: TelegramError) -> bool:
    """Telegram (or the proxy before it) refused the photo, and so made no message."""
    if isinstance(exc, BadRequest):
        return _matches(exc, PHOTO_PROBLEMS)
    answered = exc.__cause__ is None or isinstance(exc.__cause__, TelegramError)  # an HTTP answer, not a lost one
    return type(exc) is NetworkError and answered and _matches(exc, (TOO_LARGE,))


def _matches(exc: TelegramError, needles: tuple[str, ...]) -> bool:
    text = str(exc.message).lower()
    return any(needle in text for needle in needles)


def _retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that the int form is deprecated
        warnings.simplefilter("ignore")
        value = exc.retry_after
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)
