"""WhatsApp Cloud API publisher against a fake Cloud API over real HTTP, recipients parsing and the share link."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from syndicator.article import Post, Receipt
from syndicator.config import TargetSettings, parse
from syndicator.errors import AuthError, ConfigError, Permanent, PublishError, RetryLater, Transient
from syndicator.platforms.base import make_publisher
from syndicator.platforms.settings import Secrets
from syndicator.platforms.whatsapp.publisher import WhatsAppPublisher, share_link
from syndicator.platforms.whatsapp.recipients import normalise_number, recipients
from syndicator.platforms.whatsapp.settings import WhatsAppSettings
from tests.conftest import RealNetworkAccess
from tests.fakes.server import Response
from tests.fakes.whatsapp import FakeWhatsApp, cloud_error

TOKEN = "EAAW-TEST-not-a-real-token"
TO = "989121234567"


def make_target(
    fake: FakeWhatsApp | None, *, timeout: float = 2.0, api_base: str | None = None, **settings: Any
) -> TargetSettings:
    settings.setdefault("template", "news_alert")
    settings.setdefault("template_language", "fa")
    return TargetSettings(
        name="whatsapp_fa",
        platform="whatsapp",
        settings=WhatsAppSettings(phone_number_id=fake.phone_number_id if fake else "106540352242922", **settings),
        secrets=Secrets({"token": TOKEN}),
        api_base=api_base if api_base is not None else (fake.url if fake else ""),
        timeout=timedelta(seconds=timeout),
    )


def make_post(text: str = "بودجه تصویب شد https://example.org/fa/1", to: str = TO, **extra: Any) -> Post:
    return Post(platform="whatsapp", text=text, length=len(text), limit=4096, recipient=to, extra=extra)


@pytest.fixture
def fake() -> Iterator[FakeWhatsApp]:
    with FakeWhatsApp(token=TOKEN) as server:
        yield server


@pytest.fixture
async def wa(fake: FakeWhatsApp) -> AsyncIterator[WhatsAppPublisher]:
    publisher = WhatsAppPublisher(make_target(fake))
    yield publisher
    await publisher.aclose()


def near(when: datetime | None, expected: datetime, slack: float = 2.0) -> bool:
    assert when is not None and when.tzinfo is not None
    return abs((when - expected).total_seconds()) <= slack


# -- sending ---------------------------------------------------------------------------------------------------


async def test_template_message(wa: WhatsAppPublisher, fake: FakeWhatsApp) -> None:
    template = {"name": "breaking_news", "language": "fa_IR", "parameters": ["بودجه\nتصویب شد", "https://ex.org/1"]}
    receipt = await wa.publish(make_post(to="+98 912 123-4567", template=template))

    (request,) = fake.requests
    assert (request.method, request.path) == ("POST", f"/v26.0/{fake.phone_number_id}/messages")
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.query == {}
    assert request.json() == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": TO,
        "type": "template",
        "template": {
            "name": "breaking_news",
            "language": {"code": "fa_IR"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "بودجه تصویب شد"},  # no newlines in template parameters
                        {"type": "text", "text": "https://ex.org/1"},
                    ],
                }
            ],
        },
    }
    assert receipt.remote_id == fake.messages[0]["id"]
    assert receipt.extra == {"to": TO, "message_status": "accepted"}
    assert receipt.url is None


async def test_template_falls_back_to_the_target_settings(wa: WhatsAppPublisher, fake: FakeWhatsApp) -> None:
    await wa.publish(make_post())
    body = fake.requests[0].json()
    assert body["template"] == {"name": "news_alert", "language": {"code": "fa"}}  # no parameters: no components


async def test_template_error_is_permanent(wa: WhatsAppPublisher, fake: FakeWhatsApp) -> None:
    with pytest.raises(Permanent) as caught:
        await wa.publish(make_post(template={"name": "missing_template", "language": "fa", "parameters": ["x"]}))
    assert caught.value.code == 132001
    assert "does not exist" in str(caught.value)


async def test_text_message(fake: FakeWhatsApp) -> None:
    publisher = WhatsAppPublisher(make_target(fake, mode="text", template=""))
    receipt = await publisher.publish(make_post("*Budget passed*\nhttps://example.org/en/1"))
    body = fake.requests[0].json()
    assert body["type"] == "text"
    assert body["text"] == {"body": "*Budget passed*\nhttps://example.org/en/1", "preview_url": True}
    assert receipt.extra["to"] == TO


async def test_text_outside_the_24h_window_says_use_a_template(fake: FakeWhatsApp) -> None:
    fake.window_closed.add(TO)
    publisher = WhatsAppPublisher(make_target(fake, mode="text", template=""))
    with pytest.raises(Permanent) as caught:
        await publisher.publish(make_post())
    assert caught.value.code == 131047
    assert "template" in str(caught.value) and "24 hours" in str(caught.value)


async def test_bad_recipient_is_permanent_without_a_call(wa: WhatsAppPublisher, fake: FakeWhatsApp) -> None:
    for bad in ("", "call me", "0912 123 4567"):
        with pytest.raises(Permanent):
            await wa.publish(make_post(to=bad))
    assert fake.requests == []


async def test_usage_header_is_reported(wa: WhatsAppPublisher, fake: FakeWhatsApp) -> None:
    fake.usage = {"call_count": 85, "total_time": 10, "total_cputime": 10, "estimated_time_to_regain_access": 0}
    receipt = await wa.publish(make_post())
    assert receipt.rate is not None and receipt.rate.usage_percent == 85


async def test_delete_is_not_possible(wa: WhatsAppPublisher, fake: FakeWhatsApp) -> None:
    assert wa.supports_delete is False and wa.supports_edit is False
    receipt = Receipt(remote_id="wamid.HBgL00000001", extra={"to": TO})
    with pytest.raises(Permanent, match="cannot be deleted"):
        await wa.delete(receipt)
    with pytest.raises(Permanent):
        await wa.edit(receipt, make_post())
    assert fake.requests == []


async def test_check(wa: WhatsAppPublisher, fake: FakeWhatsApp) -> None:
    identity = await wa.check()
    assert identity.name == "Example News" and identity.id == fake.phone_number_id
    assert identity.details["display_phone_number"] == "+1 555-010-0199"
    assert identity.details["quality_rating"] == "GREEN"
    assert identity.details["problems"] == []
    (request,) = fake.requests
    assert (request.method, request.path) == ("GET", f"/v26.0/{fake.phone_number_id}")
    assert request.query["fields"] == ["display_phone_number,verified_name,quality_rating"]


async def test_check_reports_a_red_quality_rating(wa: WhatsAppPublisher, fake: FakeWhatsApp) -> None:
    fake.quality_rating = "RED"
    identity = await wa.check()
    assert "RED" in identity.details["problems"][0]


async def test_check_with_a_wrong_token_is_an_auth_error(fake: FakeWhatsApp) -> None:
    fake.token = "another"
    with pytest.raises(AuthError):
        await WhatsAppPublisher(make_target(fake)).check()


# -- every error class -----------------------------------------------------------------------------------------


async def test_throughput_limit_retries_in_a_second(wa: WhatsAppPublisher, fake: FakeWhatsApp) -> None:
    fake.throughput()
    with pytest.raises(RetryLater) as caught:
        await wa.publish(make_post())
    assert caught.value.code == 130429
    assert near(caught.value.retry_at, datetime.now(UTC) + timedelta(seconds=1))


async def test_pair_rate_limit_retries_after_six_seconds(wa: WhatsAppPublisher, fake: FakeWhatsApp) -> None:
    fake.pair_rate()
    with pytest.raises(RetryLater) as caught:
        await wa.publish(make_post())
    assert caught.value.code == 131056
    assert near(caught.value.retry_at, datetime.now(UTC) + timedelta(seconds=6))


async def test_expired_token(wa: WhatsAppPublisher, fake: FakeWhatsApp) -> None:
    fake.expire_token()
    with pytest.raises(AuthError) as caught:
        await wa.publish(make_post())
    assert caught.value.code == 190 and "expired" in str(caught.value)
    assert TOKEN not in str(caught.value)


async def test_reengagement_scripted(wa: WhatsAppPublisher, fake: FakeWhatsApp) -> None:
    fake.reengagement()
    with pytest.raises(Permanent, match="template"):
        await wa.publish(make_post())


@pytest.mark.parametrize(
    ("response", "expected", "code"),
    [
        (cloud_error(80007, "(#80007) Rate limit issues"), RetryLater, 80007),
        (cloud_error(4, "(#4) Application request limit reached", status=403), RetryLater, 4),
        (cloud_error(0, "(#0) AuthException"), AuthError, 0),
        (cloud_error(10, "(#10) Permission denied", status=403), AuthError, 10),
        (cloud_error(200, "(#200) Permissions error", status=403), AuthError, 200),
        (cloud_error(131026, "Message undeliverable"), Permanent, 131026),
        (cloud_error(131051, "Unsupported message type"), Permanent, 131051),
        (cloud_error(100, "(#100) Invalid parameter"), Permanent, 100),
        (cloud_error(132000, "(#132000) Number of parameters does not match"), Permanent, 132000),
        (cloud_error(132015, "(#132015) Template is paused"), Permanent, 132015),
        (cloud_error(131000, "Something went wrong", status=500), Transient, 131000),
        (cloud_error(131016, "Service unavailable", status=503), Transient, 131016),
        (Response(502, "<html>bad gateway</html>"), Transient, 502),
        (Response(429, "slow down", headers={"Retry-After": "30"}), RetryLater, 429),
        (Response(200, "not json"), Transient, "unreadable"),
        (Response(drop=True), Transient, "dropped"),  # the request went out: maybe sent
    ],
)
async def test_error_mapping(
    wa: WhatsAppPublisher, fake: FakeWhatsApp, response: Response, expected: type[PublishError], code: object
) -> None:
    fake.fail_next(response)
    with pytest.raises(expected) as caught:
        await wa.publish(make_post())
    assert caught.value.code == code
    assert TOKEN not in str(caught.value)


async def test_retry_later_uses_retry_after(wa: WhatsAppPublisher, fake: FakeWhatsApp) -> None:
    fake.fail_next(Response(429, "slow down", headers={"Retry-After": "30"}))
    with pytest.raises(RetryLater) as caught:
        await wa.publish(make_post())
    assert near(caught.value.retry_at, datetime.now(UTC) + timedelta(seconds=30))


async def test_timeout_is_transient(fake: FakeWhatsApp) -> None:
    fake.fail_next(Response(200, {"messages": [{"id": "late"}]}, delay=1.0))
    publisher = WhatsAppPublisher(make_target(fake, timeout=0.2))
    with pytest.raises(Transient) as caught:
        await publisher.publish(make_post())
    assert caught.value.code == "timeout"


async def test_without_api_base_it_talks_to_graph_facebook_com() -> None:
    publisher = WhatsAppPublisher(make_target(None, api_base=""))
    with pytest.raises(RealNetworkAccess, match=r"graph\.facebook\.com"):
        await publisher.publish(make_post())


async def test_made_from_configuration(fake: FakeWhatsApp) -> None:
    config = parse(
        f"""
        [[feeds]]
        name = "fa"
        url = "https://example.org/fa/feed/"
        targets = ["whatsapp_fa"]

        [targets.whatsapp_fa]
        platform = "whatsapp"
        phone_number_id = "{fake.phone_number_id}"
        template = "news_alert"
        template_language = "fa"
        recipients = ["+98 912 123 4567"]
        api_base = "{fake.url}"
        """,
        environ={"WHATSAPP_TOKEN": TOKEN},
    )
    target = config.targets["whatsapp_fa"]
    publisher = make_publisher(target)
    assert isinstance(publisher, WhatsAppPublisher)
    assert isinstance(target.settings, WhatsAppSettings)
    (to,) = recipients(target.settings)
    assert (await publisher.publish(make_post(to=to))).extra["to"] == TO
    await publisher.aclose()


# -- recipients and the share link -----------------------------------------------------------------------------


def test_recipients_from_settings_and_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "subscribers").mkdir()
    (tmp_path / "subscribers" / "fa.txt").write_text(
        "\ufeff# opted in on the website\n"
        "+44 7700 900123\n"
        "\n"
        "0098-912-123-4567   # the editor (duplicate of the settings entry)\n"
        "  (1) 202-555-0143\n"
        "447700900123\n",
        encoding="utf-8",
    )
    settings = WhatsAppSettings(
        phone_number_id="1",
        template="t",
        recipients=["+98 912 123 4567", "491701234567"],
        recipients_file="subscribers/fa.txt",
    )
    assert recipients(settings) == ["989121234567", "491701234567", "447700900123", "12025550143"]


def test_recipients_without_file() -> None:
    assert recipients(WhatsAppSettings(phone_number_id="1", template="t")) == []


def test_recipients_file_errors_name_the_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "list.txt").write_text("447700900123\n0912 123 4567\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"list\.txt: line 2: .*country code") as err:
        recipients(WhatsAppSettings(phone_number_id="1", template="t", recipients_file="list.txt"))
    assert "0912" not in str(err.value)  # names the line, never quotes it
    with pytest.raises(ConfigError, match=r"missing\.txt"):
        recipients(WhatsAppSettings(phone_number_id="1", template="t", recipients_file="missing.txt"))
    with pytest.raises(ConfigError, match="recipients"):
        recipients(WhatsAppSettings(phone_number_id="1", template="t", recipients=["12"]))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+98 912 123 4567", TO),
        ("0098 912 123 4567", TO),
        ("(1) 202-555-0143", "12025550143"),
        (TO, TO),
        ("+۹۸ ۹۱۲ ۱۲۳ ۴۵۶۷", TO),
    ],
)
def test_normalise_number(raw: str, expected: str) -> None:
    assert normalise_number(raw) == expected


@pytest.mark.parametrize("raw", ["", "+", "0912 123 4567", "12345", "1234567890123456", "98912x234567"])
def test_normalise_number_rejects(raw: str) -> None:
    with pytest.raises(ValueError):
        normalise_number(raw)


def test_share_link() -> None:
    assert share_link("Budget passed https://example.org/a?b=1&c=2") == (
        "https://wa.me/?text=Budget%20passed%20https%3A%2F%2Fexample.org%2Fa%3Fb%3D1%26c%3D2"
    )
    assert share_link("بودجه") == "https://wa.me/?text=%D8%A8%D9%88%D8%AF%D8%AC%D9%87"


# -- secrets never reach a log record ------------------------------------------------------------------------


async def test_no_secret_in_any_log_record(fake: FakeWhatsApp, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("urllib3", "requests"):
        caplog.set_level(logging.DEBUG, logger=name)
    publisher = WhatsAppPublisher(make_target(fake))
    errors: list[str] = []

    await publisher.publish(make_post())
    await publisher.check()
    fake.expire_token()
    fake.fail_next(Response(drop=True))
    for _ in range(2):
        try:
            await publisher.publish(make_post())
        except PublishError as exc:
            errors.append(str(exc))
            logging.getLogger("syndicator.test").exception("delivery failed: %s", exc)
    await publisher.aclose()

    assert any(f"/v26.0/{fake.phone_number_id}/messages" in r.getMessage() for r in caplog.records)
    everything = "\n".join([*errors, caplog.text, *(str(r.__dict__) for r in caplog.records)])
    assert TOKEN not in everything


async def test_a_template_with_an_image_header_carries_the_articles_image(fake: FakeWhatsApp) -> None:
    publisher = WhatsAppPublisher(make_target(fake, template_header="image"))
    try:
        image = "https://example.org/media/budget.jpg"
        post = Post(platform="whatsapp", text="t", length=1, limit=4096, recipient=TO, image_url=image,
                    extra={"template": {"parameters": ["بودجه"]}})  # fmt: skip
        await publisher.publish(post)
        components = fake.requests[0].json()["template"]["components"]
        assert components == [
            {"type": "header", "parameters": [{"type": "image", "image": {"link": image}}]},
            {"type": "body", "parameters": [{"type": "text", "text": "بودجه"}]},
        ]
        with pytest.raises(Permanent, match="image header"):
            await publisher.publish(make_post())  # no image: refused here, not by WhatsApp
        assert len(fake.requests) == 1
    finally:
        await publisher.aclose()
