"""Facebook Page publisher against a fake Graph API over real HTTP (facebook-sdk + requests, unmodified), plus the
shared Graph error table and usage-header parsing in `syndicator.platforms.meta`."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from syndicator.article import Post, Receipt
from syndicator.config import TargetSettings, parse
from syndicator.errors import AuthError, Permanent, PublishError, RetryLater, Transient
from syndicator.platforms import graph as meta
from syndicator.platforms.base import make_publisher
from syndicator.platforms.facebook.publisher import FacebookPublisher
from syndicator.platforms.facebook.settings import FacebookSettings
from syndicator.platforms.settings import Secrets
from tests.conftest import RealNetworkAccess
from tests.fakes.facebook import FakeFacebook, graph_error
from tests.fakes.server import Response

TOKEN = "EAA-TEST-not-a-real-token"
APP_ID = "555000111"
APP_SECRET = "app-secret-TEST-not-real"
ARTICLE = "https://example.org/en/2026/11/24/budget-vote/?utm_source=facebook"


def make_target(
    fake: FakeFacebook | None,
    *,
    app: bool = False,
    timeout: float = 2.0,
    api_base: str | None = None,
    **settings: Any,
) -> TargetSettings:
    secrets = {"token": TOKEN}
    if app:
        secrets |= {"app_id": APP_ID, "app_secret": APP_SECRET}
    page_id = fake.page_id if fake else "1234567890"
    return TargetSettings(
        name="facebook_en",
        platform="facebook",
        settings=FacebookSettings(page_id=page_id, **settings),
        secrets=Secrets(secrets),
        api_base=api_base if api_base is not None else (fake.url if fake else ""),
        timeout=timedelta(seconds=timeout),
    )


def make_post(text: str = "Parliament passes the budget", image: str | None = None) -> Post:
    return Post(platform="facebook", text=text, length=len(text), limit=63206, link=ARTICLE, image_url=image)


@pytest.fixture
def fake() -> Iterator[FakeFacebook]:
    with FakeFacebook(token=TOKEN, app_id=APP_ID, app_secret=APP_SECRET) as server:
        yield server


@pytest.fixture
async def fb(fake: FakeFacebook) -> AsyncIterator[FacebookPublisher]:
    publisher = FacebookPublisher(make_target(fake))
    yield publisher
    await publisher.aclose()


def near(when: datetime | None, expected: datetime, slack: float = 5.0) -> bool:
    assert when is not None and when.tzinfo is not None
    return abs((when - expected).total_seconds()) <= slack


# -- success paths ---------------------------------------------------------------------------------------------


async def test_link_post(fb: FacebookPublisher, fake: FakeFacebook) -> None:
    receipt = await fb.publish(make_post())

    assert receipt.remote_id == f"{fake.page_id}_1001"
    assert receipt.url == f"https://www.facebook.com/{fake.page_id}_1001"
    assert fake.posts[receipt.remote_id] == {"message": "Parliament passes the budget", "link": ARTICLE}
    (request,) = fake.requests
    assert (request.method, request.path) == ("POST", f"/v26.0/{fake.page_id}/feed")
    # the token travels only in the Authorization header: never in the URL or the body
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert "access_token" not in request.query and "access_token" not in request.form()
    # usage headers: the highest percentage of X-App-Usage (7/3/2) and X-Business-Use-Case-Usage (12/5/4)
    assert receipt.rate is not None and receipt.rate.usage_percent == 12
    assert receipt.rate.pause_until is None


async def test_graph_version_is_the_configured_one(fake: FakeFacebook) -> None:
    publisher = FacebookPublisher(make_target(fake, graph_version="v23.0"))
    await publisher.publish(make_post())
    assert fake.requests[-1].path == f"/v23.0/{fake.page_id}/feed"


# photo posts: tests/platforms/test_facebook_images.py


async def test_edit(fb: FacebookPublisher, fake: FakeFacebook) -> None:
    assert fb.supports_edit
    receipt = await fb.publish(make_post())
    edited = await fb.edit(receipt, make_post("Parliament passes the budget (corrected)"))

    assert edited.remote_id == receipt.remote_id and edited.url == receipt.url
    assert fake.posts[receipt.remote_id]["message"] == "Parliament passes the budget (corrected)"
    request = fake.requests[-1]
    assert (request.method, request.path) == ("POST", f"/v26.0/{receipt.remote_id}")
    assert edited.rate is not None and edited.rate.usage_percent == 12


async def test_delete_and_already_deleted(fb: FacebookPublisher, fake: FakeFacebook) -> None:
    receipt = await fb.publish(make_post())
    await fb.delete(receipt)
    assert receipt.remote_id not in fake.posts
    assert (fake.requests[-1].method, fake.requests[-1].path) == ("DELETE", f"/v26.0/{receipt.remote_id}")
    assert "access_token" not in fake.requests[-1].query

    await fb.delete(receipt)  # code 100 / subcode 33 "does not exist": already gone counts as deleted
    await fb.delete(Receipt.from_json(receipt.to_json()))


async def test_delete_refuses_what_is_not_a_post_id(fb: FacebookPublisher, fake: FakeFacebook) -> None:
    with pytest.raises(Permanent):
        await fb.delete(Receipt(remote_id="../me/feed"))
    assert fake.requests == []


async def test_check_without_app_credentials(fb: FacebookPublisher, fake: FakeFacebook) -> None:
    identity = await fb.check()
    assert (identity.name, identity.id) == ("Example News", fake.page_id)
    assert identity.details["problems"] == []
    assert "skipped" in identity.details["debug_token"]
    assert fake.requests[0].query["fields"] == ["id,name"]
    assert identity.expires_at is None


async def test_check_reports_expiry_and_missing_scope(fake: FakeFacebook) -> None:
    expires = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    fake.token_info["expires_at"] = int(expires.timestamp())
    fake.token_info["scopes"] = ["pages_read_engagement", "pages_show_list"]
    publisher = FacebookPublisher(make_target(fake, app=True))

    identity = await publisher.check()

    assert identity.expires_at == expires
    assert identity.details["expires_at"] == expires.isoformat()
    assert identity.details["scopes"] == ["pages_read_engagement", "pages_show_list"]
    problems = " | ".join(identity.details["problems"])
    assert "pages_manage_posts" in problems
    assert "expires" in problems
    debug = fake.requests[-1]
    assert debug.path == "/v26.0/debug_token"
    assert debug.query["input_token"] == [TOKEN]
    assert debug.headers["authorization"] == f"Bearer {APP_ID}|{APP_SECRET}"  # the app token, not in the URL


async def test_check_with_a_never_expiring_page_token(fake: FakeFacebook) -> None:
    identity = await FacebookPublisher(make_target(fake, app=True)).check()
    assert identity.expires_at is None
    assert identity.details["expires_at"] == "never"
    assert identity.details["problems"] == []


async def test_check_survives_a_wrong_app_secret(fake: FakeFacebook) -> None:
    fake.app_secret = "something-else"
    identity = await FacebookPublisher(make_target(fake, app=True)).check()
    assert identity.name == "Example News"
    (problem,) = identity.details["problems"]
    assert problem.startswith("debug_token failed") and APP_SECRET not in problem


async def test_check_notices_a_token_of_another_page(fake: FakeFacebook) -> None:
    target = make_target(fake)
    other = TargetSettings(
        name=target.name,
        platform="facebook",
        settings=FacebookSettings(page_id="999"),
        secrets=target.secrets,
        api_base=target.api_base,
    )
    identity = await FacebookPublisher(other).check()
    assert "not Page 999" in identity.details["problems"][0]


async def test_check_with_an_expired_token_is_an_auth_error(fb: FacebookPublisher, fake: FakeFacebook) -> None:
    fake.expire_token()
    with pytest.raises(AuthError) as caught:
        await fb.check()
    assert "expired" in str(caught.value) and caught.value.code == 190


# -- every error class -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [4, 17, 32, 613, 80001])
async def test_throttles_retry_after_the_regain_estimate(fb: FacebookPublisher, fake: FakeFacebook, code: int) -> None:
    fake.throttle(code, regain_minutes=19)
    with pytest.raises(RetryLater) as caught:
        await fb.publish(make_post())
    assert caught.value.code == code
    assert near(caught.value.retry_at, datetime.now(UTC) + timedelta(minutes=19))


async def test_throttle_without_estimate_waits_15_minutes(fb: FacebookPublisher, fake: FakeFacebook) -> None:
    fake.throttle(4, regain_minutes=0)
    with pytest.raises(RetryLater) as caught:
        await fb.publish(make_post())
    assert near(caught.value.retry_at, datetime.now(UTC) + timedelta(minutes=15))


async def test_policy_block_368_pauses_a_day(fb: FacebookPublisher, fake: FakeFacebook) -> None:
    fake.fail_next(graph_error(368, "The action attempted has been deemed abusive or is otherwise disallowed"))
    with pytest.raises(RetryLater) as caught:
        await fb.publish(make_post())
    assert near(caught.value.retry_at, datetime.now(UTC) + timedelta(days=1))


@pytest.mark.parametrize(
    ("response", "expected", "code"),
    [
        (graph_error(190, "Error validating access token: Session has expired", subcode=463), AuthError, 190),
        (graph_error(190, "Invalid OAuth access token.", subcode=467), AuthError, 190),
        (graph_error(102, "Session key invalid or no longer valid"), AuthError, 102),
        (graph_error(10, "(#10) Application does not have permission for this action", status=403), AuthError, 10),
        (graph_error(200, "(#200) Requires pages_manage_posts permission", status=403), AuthError, 200),
        (graph_error(230, "(#230) Requires pages_read_engagement permission", status=403), AuthError, 230),
        (graph_error(506, "Duplicate status message"), Permanent, 506),
        (graph_error(100, "(#100) Invalid parameter"), Permanent, 100),
        (graph_error(1, "An unknown error occurred", status=500), Transient, 1),
        (graph_error(2, "Service temporarily unavailable", status=503, is_transient=True), Transient, 2),
        (graph_error(9999, "Something new", status=500), Transient, 9999),
        (Response(502, "<html>Bad gateway</html>"), Transient, 502),
        (Response(503, {"unexpected": "shape"}), Transient, 503),
        (Response(200, b"\x00not json", headers={"Content-Type": "application/json"}), Transient, "unreadable"),
    ],
)
async def test_error_mapping(
    fb: FacebookPublisher, fake: FakeFacebook, response: Response, expected: type[PublishError], code: object
) -> None:
    fake.fail_next(response)
    with pytest.raises(expected) as caught:
        await fb.publish(make_post())
    assert caught.value.code == code
    assert TOKEN not in str(caught.value)


async def test_expired_token_message_tells_what_to_do(fb: FacebookPublisher, fake: FakeFacebook) -> None:
    fake.expire_token()
    with pytest.raises(AuthError) as caught:
        await fb.publish(make_post())
    assert "expired" in str(caught.value) and "token" in str(caught.value)


async def test_timeout_is_transient(fake: FakeFacebook) -> None:
    fake.slow(1.0)
    publisher = FacebookPublisher(make_target(fake, timeout=0.2))
    with pytest.raises(Transient) as caught:
        await publisher.publish(make_post())
    assert caught.value.code == "timeout"


async def test_dropped_connection_is_transient(fb: FacebookPublisher, fake: FakeFacebook) -> None:
    fake.drop()
    with pytest.raises(Transient) as caught:
        await fb.publish(make_post())
    assert caught.value.code == "dropped" and caught.value.maybe_sent  # the request went out: maybe posted
    assert TOKEN not in str(caught.value)


async def test_connection_refused_is_transient() -> None:
    publisher = FacebookPublisher(make_target(None, api_base="http://127.0.0.1:9"))
    with pytest.raises(Transient) as caught:
        await publisher.check()
    assert caught.value.code == "connection" and not caught.value.maybe_sent


async def test_without_api_base_it_talks_to_graph_facebook_com() -> None:
    publisher = FacebookPublisher(make_target(None, api_base=""))
    with pytest.raises(RealNetworkAccess, match=r"graph\.facebook\.com"):
        await publisher.publish(make_post())


async def test_success_with_usage_near_the_limit_reports_a_pause(fb: FacebookPublisher, fake: FakeFacebook) -> None:
    fake.fail_next(Response(200, {"id": f"{fake.page_id}_77"}, headers=fake.usage_headers(7, percent=96)))
    receipt = await fb.publish(make_post())
    assert receipt.rate is not None and receipt.rate.usage_percent == 96
    assert near(receipt.rate.pause_until, datetime.now(UTC) + timedelta(minutes=7))


async def test_made_from_configuration(fake: FakeFacebook) -> None:
    config = parse(
        f"""
        [[feeds]]
        name = "en"
        url = "https://example.org/en/feed/"
        targets = ["facebook_en"]

        [targets.facebook_en]
        platform = "facebook"
        page_id = "{fake.page_id}"
        api_base = "{fake.url}/"
        timeout = "5s"
        """,
        environ={"FACEBOOK_PAGE_TOKEN": TOKEN},
    )
    publisher = make_publisher(config.targets["facebook_en"])
    assert isinstance(publisher, FacebookPublisher)
    assert (await publisher.publish(make_post())).remote_id.startswith(fake.page_id)
    await publisher.aclose()


# -- secrets never reach a log record ------------------------------------------------------------------------


async def test_no_secret_in_any_log_record(fake: FakeFacebook, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("urllib3", "requests", "facebook"):
        caplog.set_level(logging.DEBUG, logger=name)
    publisher = FacebookPublisher(make_target(fake, app=True))
    errors: list[str] = []

    receipt = await publisher.publish(make_post())
    await publisher.edit(receipt, make_post("corrected"))
    await publisher.delete(receipt)
    await publisher.delete(receipt)
    await publisher.check()
    for script in (graph_error(190, "expired", subcode=463), Response(drop=True), Response(502, "<html/>")):
        fake.fail_next(script)
        try:
            await publisher.publish(make_post())
        except PublishError as exc:
            errors.append(str(exc))
            logging.getLogger("syndicator.test").exception("delivery failed: %s", exc)
    fake.app_secret = "wrong"
    errors.append(json.dumps((await publisher.check()).details))
    await publisher.aclose()

    urls = [r.getMessage() for r in caplog.records if r.name.startswith("urllib3")]
    assert any(f"/v26.0/{fake.page_id}/feed" in u for u in urls)  # urllib3 really logged the request lines
    assert any("input_token=***" in u for u in urls)  # debug_token's query parameter, redacted
    everything = "\n".join([*errors, caplog.text, *(str(r.__dict__) for r in caplog.records)])
    for secret in (TOKEN, APP_SECRET):
        assert secret not in everything


# -- meta: the shared Graph table and usage headers ------------------------------------------------------------

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("code", "expected", "wait"),
    [
        (4, RetryLater, timedelta(minutes=15)),
        (17, RetryLater, timedelta(minutes=15)),
        (32, RetryLater, timedelta(minutes=15)),
        (613, RetryLater, timedelta(minutes=15)),
        (80001, RetryLater, timedelta(minutes=15)),
        (80007, RetryLater, timedelta(minutes=15)),
        (368, RetryLater, timedelta(days=1)),
        (130429, RetryLater, timedelta(seconds=1)),
        (131056, RetryLater, timedelta(seconds=6)),
        (0, AuthError, None),
        (10, AuthError, None),
        (102, AuthError, None),
        (190, AuthError, None),
        (200, AuthError, None),
        (299, AuthError, None),
        (100, Permanent, None),
        (506, Permanent, None),
        (131026, Permanent, None),
        (131047, Permanent, None),
        (131051, Permanent, None),
        (132000, Permanent, None),
        (132015, Permanent, None),
        (1, Transient, None),
        (2, Transient, None),
        (131000, Transient, None),
        (131016, Transient, None),
    ],
)
def test_graph_code_table(code: int, expected: type[PublishError], wait: timedelta | None) -> None:
    error = meta.to_publish_error(meta.GraphFailure("facebook", "publish", status=400, code=code), NOW)
    assert type(error) is expected
    assert error.code == code
    if wait is not None:
        assert isinstance(error, RetryLater) and error.retry_at == NOW + wait


@pytest.mark.parametrize(
    ("status", "expected"),
    [(500, Transient), (503, Transient), (429, RetryLater), (401, AuthError), (403, AuthError), (400, Permanent)],
)
def test_status_without_graph_code(status: int, expected: type[PublishError]) -> None:
    error = meta.to_publish_error(meta.GraphFailure("facebook", "publish", status=status), NOW)
    assert type(error) is expected


def test_subcode_463_is_auth_whatever_the_code() -> None:
    error = meta.to_publish_error(meta.GraphFailure("facebook", "publish", code=2500, subcode=463), NOW)
    assert isinstance(error, AuthError)


def test_parse_usage() -> None:
    usage = meta.parse_usage(
        {
            "x-app-usage": '{"call_count": 28, "total_time": 25, "total_cputime": 25}',
            "X-Business-Use-Case-Usage": json.dumps(
                {
                    "1": [{"type": "pages", "call_count": 40, "total_time": 91, "estimated_time_to_regain_access": 0}],
                    "2": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 19}],
                }
            ),
        }
    )
    assert usage == meta.Usage(percent=100.0, regain_minutes=19.0)
    assert usage.rate(NOW) is not None
    assert usage.rate(NOW).pause_until == NOW + timedelta(minutes=19)  # type: ignore[union-attr]
    assert meta.parse_usage({}) == meta.Usage()
    assert meta.parse_usage({"X-App-Usage": "not json", "X-Business-Use-Case-Usage": "[1]"}) == meta.Usage()
    assert meta.Usage().rate(NOW) is None


def test_retry_after_header() -> None:
    assert meta.retry_after_seconds({"Retry-After": "30"}, NOW) == 30
    assert meta.retry_after_seconds({"retry-after": "Tue, 24 Nov 2026 12:01:00 GMT"}, NOW) == 60
    assert meta.retry_after_seconds({"Retry-After": "soon"}, NOW) is None


def test_redact() -> None:
    text = f"GET /v26.0/debug_token?input_token={TOKEN}&access_token=1|x HTTP/1.1 Authorization: Bearer {TOKEN}"
    cleaned = meta.redact(text)
    assert TOKEN not in cleaned and "1|x" not in cleaned
    assert meta.redact(f"oops {APP_SECRET}", [APP_SECRET]) == "oops ***"


@pytest.mark.parametrize(
    ("status", "code", "maybe_sent"),
    [(502, None, True), (504, None, True), (500, None, True), (503, None, False), (500, 2, False)],
)
def test_a_gateway_error_without_graphs_answer_may_have_posted(status: int, code: int | None, maybe_sent: bool) -> None:
    error = meta.to_publish_error(meta.GraphFailure("facebook", "publish", status=status, code=code), NOW)
    assert isinstance(error, Transient) and error.maybe_sent is maybe_sent
