"""A fake Telegram Bot API, good enough for python-telegram-bot 22.

Serves `/bot<TOKEN>/getMe`, `sendMessage`, `sendPhoto`, `editMessageText`, `editMessageCaption` and `deleteMessage`.
It validates the token (a well-formed wrong token → 401, a malformed one → 404, as Telegram does), the chat, the
HTML parse mode (only Telegram's tags; unknown or unbalanced tags → 400 "can't parse entities"), and the lengths
after entity parsing in UTF-16 units (text ≤ 4096, caption ≤ 1024). Scripted conditions: `kicked` chats answer
403 "bot was kicked", `migrated` groups answer 400 with `parameters.migrate_to_chat_id`, `bad_photo_urls` answer
sendPhoto with the given description, and `flood_next(seconds)` answers the next call 429 with `retry_after`.

sendPhoto takes a URL or file id (`photo=…`) or an uploaded file (multipart, `photo` a file part). An upload is
checked as the Bot API does — at most `photo_max_bytes` (10 MB; 400 PHOTO_SAVE_FILE_INVALID), width + height at
most 10,000 and sides at most 20:1 (400 PHOTO_INVALID_DIMENSIONS), an image at all (400 IMAGE_PROCESS_FAILED) —
and kept on the message: `Sent.photo` (the bytes as received) and `Sent.photo_size` (format, width, height).
"""

from __future__ import annotations

import html
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.images import Upload, dimensions, multipart_files
from tests.fakes.server import FakeServer, Request, Response

TOKEN = "123456:TEST-token-not-real"
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
PHOTO_MAX_BYTES = 10 * 1024 * 1024
PHOTO_MAX_SIDE_SUM = 10_000
PHOTO_MAX_RATIO = 20
ALLOWED_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
    "blockquote", "tg-spoiler", "span", "tg-emoji",
}  # fmt: skip
NAMED_ENTITIES = {"lt", "gt", "amp", "quot"}
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly the same "
    "as a current content and reply markup of the message"
)
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+(?:[^<>\"']|\"[^\"]*\"|'[^']*')*)?)\s*(/?)>")
# as tdlib reads them: the `;` is optional, a named one is a run of letters, a numeric one below U+10FFFF
_ENTITY = re.compile(r"&(#[0-9]{1,7}|#x[0-9a-fA-F]{1,6}|[a-zA-Z]+);?")


class EntityError(ValueError):
    pass


def parse_html(text: str) -> str:
    """The plain text Telegram would show for `text` in HTML parse mode, or EntityError like Telegram's."""
    out: list[str] = []
    stack: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        offset = len(text[:i].encode("utf-8"))
        if char == "<":
            match = _TAG.match(text, i)
            if match is None:
                raise EntityError(f"Unclosed start tag at byte offset {offset}")
            closing, name, attrs, self_closing = match.groups()
            name = name.lower()
            if self_closing:  # tdlib reads the name up to a space or `>`: "b/" is no tag it knows
                raise EntityError(f'Unsupported start tag "{name}/" at byte offset {offset}')
            if name not in ALLOWED_TAGS:
                kind = "end" if closing else "start"
                raise EntityError(f'Unsupported {kind} tag "{name}" at byte offset {offset}')
            if closing:
                if not stack or stack[-1] != name:
                    expected = f'"</{stack[-1]}>"' if stack else "nothing"
                    raise EntityError(
                        f'Unmatched end tag at byte offset {offset}, expected {expected}, found "</{name}>"'
                    )
                stack.pop()
            else:
                if name == "a" and "href=" not in attrs:
                    raise EntityError(f"Can't find href attribute at byte offset {offset}")
                if name == "span" and "tg-spoiler" not in attrs:
                    raise EntityError(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
                stack.append(name)
            i = match.end()
            continue
        if char == "&":
            match = _ENTITY.match(text, i)
            decoded = _entity(match.group(1)) if match is not None else None
            if match is not None and decoded is not None:
                out.append(decoded)
                i = match.end()
                continue
        out.append(char)
        i += 1
    if stack:
        raise EntityError(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(out)


def _entity(name: str) -> str | None:
    """The character an entity stands for, or None where Telegram keeps the `&` as text."""
    if name in NAMED_ENTITIES:
        return html.unescape(f"&{name};")
    if not name.startswith("#"):
        return None
    code = int(name[2:], 16) if name[1] == "x" else int(name[1:])
    if not 0 < code < 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code)  # not html.unescape: it maps &#150; to "–" as browsers do, Telegram to U+0096


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class Chat:
    id: int
    type: str
    title: str = ""
    username: str | None = None

    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": self.type, "title": self.title or f"chat {self.id}"}
        if self.username:
            data["username"] = self.username
        return data


@dataclass
class Sent:
    chat_id: int
    message_id: int
    kind: str  # "text" | "photo"
    text: str  # as Telegram shows it (entities parsed)
    raw: str  # as sent
    params: dict[str, str] = field(default_factory=dict)
    reply_markup: str | None = None
    photo: bytes | None = None  # an uploaded photo, as received
    photo_size: tuple[str, int, int] | None = None  # (format, width, height) of the uploaded photo


class FakeTelegram(FakeServer):
    PUBLIC = Chat(-1001000000001, "channel", "Example News", "example_news")
    PRIVATE = Chat(-1001000000002, "channel", "Example Private")
    OLD_GROUP = Chat(-4000000001, "group", "Example Group")
    NEW_SUPERGROUP = Chat(-1001000000003, "supergroup", "Example Group")

    def __init__(self, token: str = TOKEN, *, bot_username: str = "example_bot") -> None:
        super().__init__()
        self.token = token
        self.bot_username = bot_username
        self.chats: dict[int, Chat] = {
            c.id: c for c in (self.PUBLIC, self.PRIVATE, self.OLD_GROUP, self.NEW_SUPERGROUP)
        }
        self.kicked: set[int] = set()
        self.migrated: dict[int, int] = {}  # old group id → new supergroup id
        self.bad_photo_urls: dict[str, str] = {}  # URL → Telegram's description
        self.photo_max_bytes = PHOTO_MAX_BYTES  # tests scale it down with their images
        self._uploads: dict[str, Upload] = {}  # the file parts of the request being handled
        self.messages: dict[tuple[int, int], Sent] = {}
        self._state = threading.Lock()
        self._ids = itertools.count(101)

    # -- knobs ---------------------------------------------------------------------------------------------

    def migrate(self, old: int, new: int) -> None:
        self.migrated[old] = new

    def flood_next(self, retry_after: int) -> None:
        body = {
            "ok": False,
            "error_code": 429,
            "description": f"Too Many Requests: retry after {retry_after}",
            "parameters": {"retry_after": retry_after},
        }
        self.fail_next(Response(429, body))

    # -- requests ------------------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        match = re.fullmatch(r"/bot([^/]*)/(\w+)", request.path)
        if match is None:
            return _error(404, "Not Found")
        token, method = match.groups()
        if token != self.token:
            return _error(401, "Unauthorized") if re.fullmatch(r"\d+:[\w-]+", token) else _error(404, "Not Found")
        params = request.params()
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        with self._state:
            self._uploads = multipart_files(request)
            try:
                result = handler(params)
            except _ApiError as exc:
                return exc.response
        return Response(200, {"ok": True, "result": result})

    def _m_getMe(self, params: dict[str, str]) -> Any:
        return {
            "id": int(self.token.split(":")[0]),
            "is_bot": True,
            "first_name": "Example Bot",
            "username": self.bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _m_sendMessage(self, params: dict[str, str]) -> Any:
        chat = self._chat(params)
        raw = params.get("text", "")
        text = self._parse(raw, params.get("parse_mode"))
        if not text.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if utf16_len(text) > TEXT_LIMIT:
            raise _ApiError(400, "Bad Request: message is too long")
        sent = self._store(chat, "text", text, raw, params)
        return self._message_json(chat, sent)

    def _m_sendPhoto(self, params: dict[str, str]) -> Any:
        chat = self._chat(params)
        upload = self._uploads.get("photo")
        photo = params.get("photo", "")
        if not photo:
            raise _ApiError(400, "Bad Request: there is no photo in the request")
        if upload is None and photo in self.bad_photo_urls:
            raise _ApiError(400, self.bad_photo_urls[photo])
        size = self._check_upload(upload) if upload is not None else None
        raw = params.get("caption", "")
        caption = self._parse(raw, params.get("parse_mode"))
        if utf16_len(caption) > CAPTION_LIMIT:
            raise _ApiError(400, "Bad Request: message caption is too long")
        if upload is not None:
            params = {**params, "photo": f"<upload {upload.filename}>"}  # not the bytes as a latin-1 string
        sent = self._store(chat, "photo", caption, raw, params)
        if upload is not None:
            sent.photo, sent.photo_size = upload.data, size
        return self._message_json(chat, sent)

    def _check_upload(self, upload: Upload) -> tuple[str, int, int]:
        if not upload.data:
            raise _ApiError(400, "Bad Request: file must be non-empty")
        if len(upload.data) > self.photo_max_bytes:
            raise _ApiError(400, "Bad Request: PHOTO_SAVE_FILE_INVALID")
        size = dimensions(upload.data)
        if size is None:
            raise _ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED")
        _, width, height = size
        if width + height > PHOTO_MAX_SIDE_SUM or max(width, height) > PHOTO_MAX_RATIO * min(width, height):
            raise _ApiError(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
        return size

    def _m_editMessageText(self, params: dict[str, str]) -> Any:
        chat, sent = self._existing(params, "Bad Request: message to edit not found")
        if sent.kind != "text":
            raise _ApiError(400, "Bad Request: there is no text in the message to edit")
        raw = params.get("text", "")
        text = self._parse(raw, params.get("parse_mode"))
        if utf16_len(text) > TEXT_LIMIT:
            raise _ApiError(400, "Bad Request: message is too long")
        return self._edit(chat, sent, text, raw, params)

    def _m_editMessageCaption(self, params: dict[str, str]) -> Any:
        chat, sent = self._existing(params, "Bad Request: message to edit not found")
        if sent.kind != "photo":
            raise _ApiError(400, "Bad Request: there is no caption in the message to edit")
        raw = params.get("caption", "")
        caption = self._parse(raw, params.get("parse_mode"))
        if utf16_len(caption) > CAPTION_LIMIT:
            raise _ApiError(400, "Bad Request: message caption is too long")
        return self._edit(chat, sent, caption, raw, params)

    def _m_deleteMessage(self, params: dict[str, str]) -> Any:
        chat, sent = self._existing(params, "Bad Request: message to delete not found")
        del self.messages[(chat.id, sent.message_id)]
        return True

    # -- pieces --------------------------------------------------------------------------------------------

    def _chat(self, params: dict[str, str]) -> Chat:
        ref = params.get("chat_id", "")
        chat: Chat | None = None
        if ref.startswith("@"):
            chat = next((c for c in self.chats.values() if c.username == ref[1:]), None)
        elif re.fullmatch(r"-?\d+", ref):
            chat = self.chats.get(int(ref))
        if chat is None:
            raise _ApiError(400, "Bad Request: chat not found")
        if chat.id in self.migrated:
            raise _ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                parameters={"migrate_to_chat_id": self.migrated[chat.id]},
            )
        if chat.id in self.kicked:
            raise _ApiError(403, f"Forbidden: bot was kicked from the {chat.type} chat")
        return chat

    def _existing(self, params: dict[str, str], missing: str) -> tuple[Chat, Sent]:
        chat = self._chat(params)
        try:
            sent = self.messages[(chat.id, int(params.get("message_id", "0")))]
        except (KeyError, ValueError):
            raise _ApiError(400, missing) from None
        return chat, sent

    @staticmethod
    def _parse(raw: str, parse_mode: str | None) -> str:
        if parse_mode is None:
            return raw
        if parse_mode != "HTML":
            raise _ApiError(400, f"Bad Request: unsupported parse_mode {parse_mode!r}")
        try:
            return parse_html(raw)
        except EntityError as exc:
            raise _ApiError(400, f"Bad Request: can't parse entities: {exc}") from None

    def _store(self, chat: Chat, kind: str, text: str, raw: str, params: dict[str, str]) -> Sent:
        sent = Sent(chat.id, next(self._ids), kind, text, raw, dict(params), params.get("reply_markup"))
        self.messages[(chat.id, sent.message_id)] = sent
        return sent

    def _edit(self, chat: Chat, sent: Sent, text: str, raw: str, params: dict[str, str]) -> Any:
        markup = params.get("reply_markup")
        if raw == sent.raw and markup == sent.reply_markup:
            raise _ApiError(400, NOT_MODIFIED)
        sent.text, sent.raw, sent.reply_markup = text, raw, markup
        sent.params = dict(params)
        return {**self._message_json(chat, sent), "edit_date": int(time.time())}

    @staticmethod
    def _message_json(chat: Chat, sent: Sent) -> dict[str, Any]:
        data: dict[str, Any] = {"message_id": sent.message_id, "date": int(time.time()), "chat": chat.json()}
        if chat.type == "channel":
            data["sender_chat"] = chat.json()
        if sent.kind == "photo":
            _, width, height = sent.photo_size or ("", 800, 600)
            data["photo"] = [
                {"file_id": f"photo-{sent.message_id}", "file_unique_id": "u1", "width": width, "height": height}
            ]
            if sent.text:
                data["caption"] = sent.text
        else:
            data["text"] = sent.text
        if sent.reply_markup:
            data["reply_markup"] = json.loads(sent.reply_markup)
        return data

    # -- assertions ----------------------------------------------------------------------------------------

    def calls(self, method: str) -> list[dict[str, str]]:
        """The parameters of every request to `method` (JSON-valued ones still as JSON strings)."""
        return [r.params() for r in self.requests if r.path.endswith(f"/{method}")]


class _ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        self.response = Response(status, body)


def _error(status: int, description: str) -> Response:
    return Response(status, {"ok": False, "error_code": status, "description": description})
