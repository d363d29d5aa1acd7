"""The Telegram publisher: real python-telegram-bot (httpx underneath) against FakeTelegram on 127.0.0.1."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from syndicator.article import Button, Post, Receipt
from syndicator.config import TargetSettings, parse
from syndicator.errors import AuthError, Permanent, PublishError, RetryLater, Transient
from syndicator.outbound import OutboundGuard
from syndicator.platforms.base import make_publisher
from syndicator.platforms.settings import Secrets
from syndicator.platforms.telegram.publisher import TelegramPublisher, message_url, parse_chat
from syndicator.platforms.telegram.settings import TelegramSettings
from tests.fakes.images import ImageHost, noise
from tests.fakes.server import Response
from tests.fakes.telegram import NOT_MODIFIED, TOKEN, EntityError, FakeTelegram, parse_html

# PTB 22 itself warns when it builds a RetryAfter with an int (its own deprecation, nothing we call)
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
LINK = "https://example.org/en/2026/05/01/story/"
PUBLIC = FakeTelegram.PUBLIC

MakePublisher = Callable[..., TelegramPublisher]


def target(
    api_base: str, *, chat: str = "@example_news", token: str = TOKEN, timeout: float = 2.0, **settings: Any
) -> TargetSettings:
    return TargetSettings(
        name="telegram_en",
        platform="telegram",
        settings=TelegramSettings(chat=chat, **settings),
        secrets=Secrets({"token": token}),
        api_base=api_base,
        timeout=timedelta(seconds=timeout),
    )


def post(text: str = "<b>Breaking</b>: something happened", **kw: Any) -> Post:
    try:
        plain = parse_html(text)
    except EntityError:
        plain = text
    return Post(platform="telegram", text=text, length=len(plain), limit=4096, link=LINK, parse_mode="HTML", **kw)


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


@pytest.fixture
def image(host: ImageHost) -> str:
    return host.add("/img/lead.jpg", noise(64, 48))


@pytest.fixture
async def make(fake: FakeTelegram, host: ImageHost) -> AsyncIterator[MakePublisher]:
    made: list[TelegramPublisher] = []

    def build(api_base: str | None = None, **kw: Any) -> TelegramPublisher:
        now = kw.pop("now", None)
        outbound = kw.pop("outbound", None) or OutboundGuard([host.netloc])
        settings = target(fake.url if api_base is None else api_base, **kw)
        if now:
            publisher = TelegramPublisher(settings, now=now, outbound=outbound)
        else:
            publisher = TelegramPublisher(settings, outbound=outbound)
        made.append(publisher)
        return publisher

    yield build
    for publisher in made:
        await publisher.aclose()


def assert_no_token(exc: BaseException) -> None:
    assert TOKEN not in str(exc)
    assert "TEST-token-not-real" not in str(exc)


# -- success --------------------------------------------------------------------------------------------------


async def test_publish_text_with_link_preview(fake: FakeTelegram, make: MakePublisher) -> None:
    receipt = await make().publish(post())

    (call,) = fake.calls("sendMessage")
    assert call["chat_id"] == "@example_news"
    assert call["text"] == "<b>Breaking</b>: something happened"
    assert call["parse_mode"] == "HTML"
    assert call["disable_notification"] == "false"
    assert json.loads(call["link_preview_options"]) == {
        "is_disabled": False,
        "url": LINK,
        "show_above_text": False,
    }
    assert "reply_markup" not in call
    message_id = int(receipt.remote_id)
    assert fake.messages[(PUBLIC.id, message_id)].text == "Breaking: something happened"
    assert receipt.extra == {"chat_id": PUBLIC.id, "kind": "text"}
    assert receipt.url == f"https://t.me/example_news/{message_id}"


async def test_silent_and_preview_options_come_from_settings(fake: FakeTelegram, make: MakePublisher) -> None:
    await make(silent=True, link_preview=False, preview_above_text=True).publish(post())

    (call,) = fake.calls("sendMessage")
    assert call["disable_notification"] == "true"
    assert json.loads(call["link_preview_options"]) == {"is_disabled": True, "url": LINK, "show_above_text": True}


async def test_buttons_become_an_inline_keyboard(fake: FakeTelegram, make: MakePublisher) -> None:
    buttons = (Button("Read more", LINK), Button("Share", "https://wa.me/?text=x"))
    await make().publish(post(buttons=buttons))

    (call,) = fake.calls("sendMessage")
    assert json.loads(call["reply_markup"]) == {
        "inline_keyboard": [[{"text": "Read more", "url": LINK}], [{"text": "Share", "url": "https://wa.me/?text=x"}]]
    }


async def test_publish_photo_with_caption(fake: FakeTelegram, make: MakePublisher, host: ImageHost, image: str) -> None:
    receipt = await make(silent=True).publish(post(image_url=image, buttons=(Button("Read", LINK),)))

    (call,) = fake.calls("sendPhoto")
    assert call["caption"] == "<b>Breaking</b>: something happened"
    assert call["parse_mode"] == "HTML"
    assert call["disable_notification"] == "true"
    assert json.loads(call["reply_markup"])["inline_keyboard"] == [[{"text": "Read", "url": LINK}]]
    assert fake.calls("sendMessage") == []
    # the bytes we fetched went up, not the URL: Telegram fetched nothing
    sent = fake.messages[(PUBLIC.id, int(receipt.remote_id))]
    assert sent.photo == host.images["/img/lead.jpg"][0] and sent.photo_size == ("JPEG", 64, 48)
    assert image not in sent.params["photo"]
    assert [r.path for r in host.requests] == ["/img/lead.jpg"]
    assert receipt.extra == {"chat_id": PUBLIC.id, "kind": "photo"}


@pytest.mark.parametrize(
    "refusal",
    [
        Response(400, {"ok": False, "error_code": 400, "description": "Bad Request: PHOTO_INVALID_DIMENSIONS"}),
        Response(400, {"ok": False, "error_code": 400, "description": "Bad Request: IMAGE_PROCESS_FAILED"}),
        Response(413, "<html><head><title>413 Request Entity Too Large</title></head></html>"),  # a proxy's
    ],
)
async def test_a_photo_telegram_refuses_falls_back_to_text_once(
    fake: FakeTelegram, make: MakePublisher, image: str, refusal: Response
) -> None:
    fake.fail_next(refusal)
    receipt = await make().publish(post(image_url=image))

    assert len(fake.calls("sendPhoto")) == 1
    (message,) = fake.calls("sendMessage")
    assert message["text"] == "<b>Breaking</b>: something happened"
    assert receipt.extra["kind"] == "text"
    assert receipt.extra["image_error"].startswith("Telegram refused the photo: ")
    assert_no_token(Exception(receipt.extra["image_error"]))


async def test_caption_too_long_for_a_photo_is_sent_as_text(
    fake: FakeTelegram, make: MakePublisher, host: ImageHost, image: str
) -> None:
    long = "word " * 300  # 1500 characters: a fine message, too long for a caption
    receipt = await make().publish(post(long, image_url=image))

    assert fake.calls("sendPhoto") == []
    assert host.requests == []  # not even fetched
    assert receipt.extra["kind"] == "text"
    assert "1024" in receipt.extra["image_error"]


async def test_other_photo_errors_do_not_fall_back(fake: FakeTelegram, make: MakePublisher, image: str) -> None:
    with pytest.raises(Permanent):
        await make().publish(post("<p>bad markup</p>", image_url=image))
    assert fake.calls("sendMessage") == []


async def test_edit_text_and_caption(fake: FakeTelegram, make: MakePublisher, image: str) -> None:
    publisher = make()
    text_receipt = await publisher.publish(post("<i>first</i> version"))
    photo_receipt = await publisher.publish(post("photo <b>v1</b>", image_url=image))

    edited = await publisher.edit(text_receipt, post("<i>second</i> version"))
    await publisher.edit(photo_receipt, post("photo <b>v2</b>"))

    assert edited.remote_id == text_receipt.remote_id
    assert edited.extra == text_receipt.extra
    assert edited.url == text_receipt.url
    assert fake.messages[(PUBLIC.id, int(text_receipt.remote_id))].text == "second version"
    assert fake.messages[(PUBLIC.id, int(photo_receipt.remote_id))].text == "photo v2"
    (edit_text,) = fake.calls("editMessageText")
    assert edit_text["parse_mode"] == "HTML"
    assert edit_text["chat_id"] == str(PUBLIC.id)
    assert len(fake.calls("editMessageCaption")) == 1


async def test_edit_without_change_is_success(fake: FakeTelegram, make: MakePublisher) -> None:
    publisher = make()
    receipt = await publisher.publish(post())
    same = await publisher.edit(receipt, post())
    assert same == Receipt(receipt.remote_id, receipt.url, receipt.extra)
    assert len(fake.calls("editMessageText")) == 1  # Telegram said "not modified"
    assert NOT_MODIFIED  # (what it said)


async def test_edit_of_a_missing_message_is_permanent(make: MakePublisher) -> None:
    with pytest.raises(Permanent):
        await make().edit(Receipt("999", extra={"chat_id": PUBLIC.id, "kind": "text"}), post())


async def test_delete_and_delete_again(fake: FakeTelegram, make: MakePublisher) -> None:
    publisher = make()
    receipt = await publisher.publish(post())
    await publisher.delete(receipt)
    assert fake.messages == {}
    await publisher.delete(receipt)  # "message to delete not found": already gone
    assert len(fake.calls("deleteMessage")) == 2


async def test_check_returns_the_bot(fake: FakeTelegram, make: MakePublisher) -> None:
    identity = await make().check()
    assert identity.name == "@example_bot"
    assert identity.id == "123456"
    assert len(fake.calls("getMe")) == 1


async def test_urls_for_private_channels_and_groups(fake: FakeTelegram, make: MakePublisher) -> None:
    private = await make(chat=str(FakeTelegram.PRIVATE.id)).publish(post())
    group = await make(chat=str(FakeTelegram.OLD_GROUP.id)).publish(post())

    assert private.url == f"https://t.me/c/1000000002/{private.remote_id}"
    assert group.url is None
    assert fake.calls("sendMessage")[0]["chat_id"] == str(FakeTelegram.PRIVATE.id)


async def test_chat_migrated_retries_once_against_the_new_chat(fake: FakeTelegram, make: MakePublisher) -> None:
    old, new = FakeTelegram.OLD_GROUP.id, FakeTelegram.NEW_SUPERGROUP.id
    fake.migrate(old, new)
    publisher = make(chat=str(old))
    first = await publisher.publish(post("one"))
    second = await publisher.publish(post("two"))

    assert [c["chat_id"] for c in fake.calls("sendMessage")] == [str(old), str(new), str(new)]
    assert first.extra == {"chat_id": new, "kind": "text", "new_chat_id": new}
    assert second.extra["new_chat_id"] == new
    assert first.url == f"https://t.me/c/1000000003/{first.remote_id}"


def test_make_publisher_and_config_build_the_telegram_publisher(fake: FakeTelegram) -> None:
    config = parse(
        f"""
        [[feeds]]
        name = "en"
        url = "https://example.org/feed/"
        targets = ["telegram_en"]

        [targets.telegram_en]
        platform = "telegram"
        chat = "@example_news"
        api_base = "{fake.url}"
        timeout = "3s"
        """,
        environ={"TELEGRAM_BOT_TOKEN": TOKEN},
    )
    publisher = make_publisher(config.target("telegram_en"))
    assert isinstance(publisher, TelegramPublisher)


async def test_empty_api_base_means_api_telegram_org(make: MakePublisher) -> None:
    with pytest.raises(Transient) as info:
        await make(api_base="").publish(post())
    assert "api.telegram.org" in str(info.value)  # the conftest guard stopped it there
    assert_no_token(info.value)


def test_helpers() -> None:
    assert parse_chat("@news") == "@news"
    assert parse_chat("-1001234") == -1001234
    assert message_url("news", -1001, 5) == "https://t.me/news/5"
    assert message_url(None, -1001234, 5) == "https://t.me/c/1234/5"
    assert message_url(None, 42, 5) is None


# -- errors ---------------------------------------------------------------------------------------------------


async def test_flood_control_is_retry_later_at_retry_after(fake: FakeTelegram, make: MakePublisher) -> None:
    fake.flood_next(37)
    with pytest.raises(RetryLater) as info:
        await make(now=lambda: NOW).publish(post())
    assert info.value.retry_at == NOW + timedelta(seconds=37)
    assert fake.messages == {}


async def test_kicked_bot_is_an_auth_error(fake: FakeTelegram, make: MakePublisher) -> None:
    fake.kicked.add(PUBLIC.id)
    with pytest.raises(AuthError) as info:
        await make().publish(post())
    assert "kicked" in str(info.value)


@pytest.mark.parametrize("token", ["654321:WRONG-token-not-real-either", "not-a-token"])
async def test_invalid_token_is_an_auth_error_without_the_token(make: MakePublisher, token: str) -> None:
    publisher = make(token=token)
    with pytest.raises(AuthError) as info:
        await publisher.publish(post())
    assert token not in str(info.value)
    with pytest.raises(AuthError):
        await publisher.check()


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("<p>paragraphs are not allowed</p>", "can't parse entities"),
        ("<b>unclosed", "can't parse entities"),
        ("x" * 4097, "too long"),
    ],
)
async def test_bad_requests_are_permanent(make: MakePublisher, text: str, needle: str) -> None:
    with pytest.raises(Permanent) as info:
        await make().publish(Post("telegram", text, len(text), 4096, parse_mode="HTML"))
    assert needle in str(info.value).lower()
    assert info.value.code == 400


async def test_unknown_chat_is_an_auth_error(make: MakePublisher) -> None:
    with pytest.raises(AuthError) as info:
        await make(chat="@nobody_here").publish(post())
    assert "chat not found" in str(info.value).lower()


@pytest.mark.parametrize(
    "response",
    [
        Response(502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}),
        Response(500, "<html>oops</html>"),
        Response(drop=True),
    ],
)
async def test_server_and_connection_errors_are_transient(
    fake: FakeTelegram, make: MakePublisher, response: Response
) -> None:
    fake.fail_next(response)
    with pytest.raises(Transient) as info:
        await make().publish(post())
    assert_no_token(info.value)


async def test_timeout_is_transient(fake: FakeTelegram, make: MakePublisher) -> None:
    fake.fail_next(Response(200, {"ok": True, "result": True}, delay=1.0))
    with pytest.raises(Transient) as info:
        await make(timeout=0.3).publish(post())
    assert info.value.code == "timeout"


async def test_delete_and_edit_errors_are_mapped(fake: FakeTelegram, make: MakePublisher) -> None:
    receipt = Receipt("5", extra={"chat_id": PUBLIC.id, "kind": "text"})
    fake.flood_next(3)
    with pytest.raises(RetryLater):
        await make().delete(receipt)
    fake.kicked.add(PUBLIC.id)
    with pytest.raises(AuthError):
        await make().edit(receipt, post())


# -- secrets --------------------------------------------------------------------------------------------------


@pytest.fixture
def debug_everything() -> Iterator[list[logging.LogRecord]]:
    """Every logger at DEBUG (httpx too, overriding the publisher's WARNING), every record captured."""
    records: list[logging.LogRecord] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Capture(level=logging.DEBUG)
    root = logging.getLogger()
    saved = {name: logging.getLogger(name).level for name in list(logging.root.manager.loggerDict)}
    saved_root = root.level
    for name in [*saved, "httpx", "httpcore", "telegram"]:
        logging.getLogger(name).setLevel(logging.DEBUG)
    root.setLevel(logging.DEBUG)
    root.addHandler(handler)
    yield records
    root.removeHandler(handler)
    root.setLevel(saved_root)
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


def formatted(record: logging.LogRecord) -> str:
    return logging.Formatter("%(name)s %(message)s").format(record) + (record.exc_text or "")


def test_httpx_logger_is_quiet_by_default() -> None:
    assert logging.getLogger("httpx").level == logging.WARNING


async def test_no_token_reaches_any_log_record(
    fake: FakeTelegram, make: MakePublisher, image: str, debug_everything: list[logging.LogRecord]
) -> None:
    publisher = make()  # built after DEBUG is on: the Bot logs its URL (token inside) in its constructor
    receipt = await publisher.publish(post(image_url=image))
    await publisher.edit(receipt, post("<b>changed</b>"))
    await publisher.check()
    fake.fail_next(Response(drop=True))
    with pytest.raises(PublishError):
        await publisher.publish(post())
    with pytest.raises(PublishError):
        await make(token="654321:ANOTHER-token-not-real").check()

    names = {r.name for r in debug_everything}
    assert {"httpx", "telegram.Bot"} <= names
    assert any(n.startswith("httpcore.") for n in names)
    text = "\n".join(formatted(r) for r in debug_everything)
    assert "TEST-token-not-real" not in text
    assert "ANOTHER-token-not-real" not in text
    assert "/bot***/sendPhoto" in text or "***/sendPhoto" in text
