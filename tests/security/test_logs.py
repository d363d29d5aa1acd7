"""Log lines under hostile content: every value is redacted *before* it is serialised, so a JSON line always parses;
credential syntax is redacted, English words are not; every field and every line is capped; lone surrogates, NUL
and control characters never break a line or the stream; the one redactor is shared by the formatters, the
library loggers' filter and the platforms' `redact()`.

Assertions are on the parsed events (the structured fields), not on greps of the raw text, except where the raw
text is the point (no secret anywhere in it, one line per event).
"""

from __future__ import annotations

import io
import json
import logging
import math
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syndicator import logs
from syndicator.platforms import graph as meta
from syndicator.platforms.http import REDACTOR, SecretRedactor, protect_loggers
from syndicator.platforms.http import redact as http_redact
from syndicator.redaction import EXCEPTION_CAP, FIELD_CAP, KEY_CAP, MARK, TEXT_CAP, Redactor, redactor
from tests.e2e.helpers import preserved_logging

# obviously fake values in the real shapes (so the shape patterns match them too), registered as known secrets
BOT_TOKEN = "000000:TEST-not-real-telegram-bot-token"  # the shape the pattern must catch, obviously fake
PAGE_TOKEN = "EAATESTnotarealpagetoken000000000000000000000000"
OAUTH_SECRET = "TEST-not-real-oauth-token-secret-0000"
DB_PASSWORD = "TEST-not-real-db-password-0000"
SECRETS = (BOT_TOKEN, PAGE_TOKEN, OAUTH_SECRET, DB_PASSWORD)
redactor.add(SECRETS)

ENGLISH = [
    "Why OAuth matters",
    "Basic income",
    "Bearer bonds rally",
    "token economy",
    "Authorization: what changes for landlords",
    "Secret talks: the password is patience",
    "At 12:30 the 1234567:abc meeting began",
    "Basic income, OAuth and the token economy: a Bearer bonds primer",
    "Passwords: why 'hunter2' keeps coming back",
]

CREDENTIALS = [
    # (text, the part that must go)
    ("Authorization: Bearer abc.def-123", "abc.def-123"),
    ("authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA"),
    ("{'Authorization': 'Bearer x1y2z3'}", "x1y2z3"),
    ("(b'Authorization', b'Bearer h2-token-value')", "h2-token-value"),
    ("Proxy-Authorization: Basic cHJveHk6c2VjcmV0", "cHJveHk6c2VjcmV0"),
    ('Authorization: OAuth oauth_consumer_key="ck-abc123", oauth_signature="c2lnbmF0dXJl%3D"', "ck-abc123"),
    ('Authorization: OAuth oauth_consumer_key="ck-abc123", oauth_signature="c2lnbmF0dXJl%3D"', "c2lnbmF0dXJl"),
    ("POST /oauth/request_token?oauth_token=tok-987654&oauth_verifier=ver-123", "tok-987654"),
    ("POST /oauth/request_token?oauth_token=tok-987654&oauth_verifier=ver-123", "ver-123"),
    ("sent Bearer AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid to the API", "MLheAAAAAAA0"),
    ("GET /v26.0/debug_token?input_token=EAAB12&access_token=1|x HTTP/1.1", "EAAB12"),
    ("GET /v26.0/debug_token?input_token=EAAB12&access_token=1|x HTTP/1.1", "1|x"),
    ("client_secret=s3cr3t&grant_type=fb_exchange_token&fb_exchange_token=short-lived", "s3cr3t"),
    ("client_secret=s3cr3t&grant_type=fb_exchange_token&fb_exchange_token=short-lived", "short-lived"),
    ("appsecret_proof=9f86d081884c7d659a2feaa0c55ad015", "9f86d081884c7d"),
    ('{"access_token": "EAAC-xyz", "token_type": "bearer"}', "EAAC-xyz"),
    ("hub.mode=subscribe&hub.secret=websub-shared-secret", "websub-shared-secret"),
    ("POST https://api.telegram.org/bot123456:SHORT-test-token/sendMessage", "SHORT-test-token"),
    ("the token 110201543:TEST-not-a-real-bot-token-00000000 was revoked", "TEST-not-a-real-bot-token-00000000"),
    ("postgresql://syndicator:hunter2pw@db.internal:5432/s", "hunter2pw"),
    ("redis://:only-a-password@cache:6379/0", "only-a-password"),
    ("X-Api-Key: 0123456789abcdef0123", "0123456789abcdef0123"),
    ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.SflKxwRJSMeKKF2QT4fwpM", "SflKxwRJSMeKKF2QT4fwpM"),
    (f"page token {PAGE_TOKEN} expired", PAGE_TOKEN),
    (f"db said: password authentication failed ({DB_PASSWORD})", DB_PASSWORD),
]

LOGGER = "syndicator.tests.security"


class Capture:
    """One logger's records through the project's formatters, into a strict UTF-8 byte stream (a lone surrogate
    that reached it would raise, as it does on a real stderr)."""

    def __init__(self, formatter: logging.Formatter) -> None:
        self.raw = io.BytesIO()
        self.stream = io.TextIOWrapper(self.raw, encoding="utf-8", errors="strict", newline="\n", write_through=True)
        self.handler = logging.StreamHandler(self.stream)
        self.handler.setFormatter(formatter)
        self.errors: list[BaseException] = []
        self.handler.handleError = self._error  # type: ignore[method-assign]

    def _error(self, record: logging.LogRecord) -> None:
        import sys

        self.errors.append(sys.exc_info()[1] or RuntimeError("handleError"))

    def text(self) -> str:
        assert not self.errors, self.errors  # the stream write never failed
        return self.raw.getvalue().decode("utf-8")

    def lines(self) -> list[str]:
        return self.text().split("\n")[:-1]

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines()]

    def reset(self) -> None:
        self.raw.seek(0)
        self.raw.truncate()


def _attach(formatter: logging.Formatter, *names: str) -> Iterator[Capture]:
    capture = Capture(formatter)
    loggers = [logging.getLogger(n) for n in (LOGGER, *names)]
    saved = [(lg.level, lg.propagate) for lg in loggers]
    for lg in loggers:
        lg.addHandler(capture.handler)
        lg.setLevel(logging.DEBUG)
        lg.propagate = False
    try:
        yield capture
    finally:
        for lg, (level, propagate) in zip(loggers, saved, strict=True):
            lg.removeHandler(capture.handler)
            lg.setLevel(level)
            lg.propagate = propagate


@pytest.fixture
def jsonl() -> Iterator[Capture]:
    yield from _attach(logs.JsonFormatter(), "httpx.tests_security")


@pytest.fixture
def text() -> Iterator[Capture]:
    yield from _attach(logs.TextFormatter())


log = logs.get_logger(LOGGER)


def one(capture: Capture) -> dict[str, Any]:
    (event,) = capture.events()
    return event


# ── English passes, credentials do not ──────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("title", ENGLISH)
def test_english_words_pass_untouched(jsonl: Capture, title: str) -> None:
    log.info("article.new", feed="en", article="a1", title=title, summary=f"{title}. More to follow.")
    event = one(jsonl)
    assert event["event"] == "article.new"
    assert event["title"] == title and event["summary"] == f"{title}. More to follow."


@pytest.mark.parametrize("title", ENGLISH)
def test_english_words_pass_untouched_in_the_text_format(text: Capture, title: str) -> None:
    log.info("article.new", feed="en", title=title)
    assert f"title={title}" in text.text()


def test_a_title_with_oauth_keeps_the_rest_of_the_line(jsonl: Capture) -> None:
    """The old redactor ran over the serialised line: `OAuth\\s+[^\\n]+` ate the closing quote and brace."""
    log.info("article.new", title="Why OAuth matters", target="x_en", delivery=12)
    assert one(jsonl) | {"ts": None} == {
        "ts": None,
        "level": "info",
        "event": "article.new",
        "title": "Why OAuth matters",
        "target": "x_en",
        "delivery": 12,
    }


@pytest.mark.parametrize(("line", "secret"), CREDENTIALS)
def test_credential_syntax_is_redacted(jsonl: Capture, line: str, secret: str) -> None:
    log.warning("delivery.retry", target="x", error=line)
    event = one(jsonl)
    assert secret not in event["error"] and MARK in event["error"]
    assert secret not in jsonl.text()
    assert redactor(line) == event["error"]  # the formatter and the shared redactor agree


@pytest.mark.parametrize(("line", "secret"), CREDENTIALS)
def test_credential_syntax_is_redacted_in_the_text_format(text: Capture, line: str, secret: str) -> None:
    log.warning("delivery.retry", target="x", error=line)
    assert secret not in text.text()


def test_keys_are_redacted_and_secret_named_fields_hidden(jsonl: Capture) -> None:
    log.info(
        "platform.answer",
        token="plain-looking-value",
        details={"client_secret": "zz-top", f"weird {BOT_TOKEN}": 1, "nested": [{"Authorization": "Basic abc"}]},
    )
    event = one(jsonl)
    assert event["token"] == MARK
    assert event["details"]["client_secret"] == MARK
    assert event["details"]["weird ***"] == 1
    assert event["details"]["nested"] == [{"Authorization": MARK}]


def test_library_records_and_their_tracebacks_are_redacted(jsonl: Capture) -> None:
    library = logging.getLogger("httpx.tests_security")
    try:
        raise ConnectionError(f"POST https://api.telegram.org/bot{BOT_TOKEN}/sendMessage failed")
    except ConnectionError:
        library.exception("HTTP Request: POST https://api.telegram.org/bot%s/sendMessage", BOT_TOKEN)
    event = one(jsonl)
    assert event["event"] == "log.httpx.tests_security"
    assert event["message"] == "HTTP Request: POST https://api.telegram.org/bot***/sendMessage"
    assert "ConnectionError" in event["exception"] and BOT_TOKEN not in event["exception"]
    assert "/bot***/sendMessage" in event["exception"]


def test_log_arguments_that_do_not_fit_the_format_still_give_one_line() -> None:
    # formatted directly: pytest's own capture handler would raise on the record first
    record = logging.LogRecord("httpx", logging.WARNING, __file__, 1, "%d requests", ("not-a-number",), None)
    event = json.loads(logs.JsonFormatter().format(record))
    assert event["message"].startswith("%d requests") and "not-a-number" not in event["message"]
    assert logs.TextFormatter().format(record).count("\n") == 0


# ── caps ────────────────────────────────────────────────────────────────────────────────────────────────────


def test_a_megabyte_title_makes_a_short_line(jsonl: Capture) -> None:
    title = "Budget " * 150_000  # ~1 MB
    log.info("article.new", feed="en", article="a1", title=title, text="line\n" * 100_000)
    (line,) = jsonl.lines()
    assert len(line.encode("utf-8")) <= logs.LINE_CAP
    event = json.loads(line)
    assert len(event["title"]) <= FIELD_CAP and event["title"].startswith("Budget Budget")
    assert event["title"].endswith(f"… [{len(title):,} chars]")
    assert FIELD_CAP < len(event["text"]) <= TEXT_CAP  # the post's text keeps more
    assert event["article"] == "a1" and event["feed"] == "en"


def test_a_long_traceback_keeps_its_end(jsonl: Capture) -> None:
    try:
        raise ValueError("x" * 50_000 + " the actual error")
    except ValueError:
        log_record = logging.getLogger(LOGGER)
        log_record.error("delivery.failed", exc_info=True, extra={"fields": {"target": "x"}})
    event = one(jsonl)
    assert len(event["exception"]) <= EXCEPTION_CAP and "the actual error" in event["exception"]


def test_many_large_fields_degrade_to_a_line_that_fits(jsonl: Capture) -> None:
    fields = {f"field_{i}": "ق" * 5_000 for i in range(300)}  # 2-byte characters: lines count bytes
    log.info("article.new", feed="en", article="a1", target="t", **fields)
    (line,) = jsonl.lines()
    assert len(line.encode("utf-8")) <= logs.LINE_CAP
    event = json.loads(line)
    assert event["event"] == "article.new" and event["article"] == "a1" and event["target"] == "t"


def test_a_secret_cut_by_the_cap_leaves_no_fragment() -> None:
    own = Redactor()
    secret = "TEST-not-real-secret-value-long-0"
    own.add([secret])
    for offset in range(0, 120, 7):
        text = "a" * (FIELD_CAP * 4 + 256 + len(secret) - offset) + secret + "b" * 10_000
        out = own.scrub(text)
        assert len(out) <= FIELD_CAP
        assert not any(secret[:n] in out for n in range(8, len(secret) + 1))


def test_keys_are_capped(jsonl: Capture) -> None:
    log.info("weird.key", **{"k" * 10_000: 1})
    (key,) = set(one(jsonl)) - {"ts", "level", "event"}
    assert len(key) <= KEY_CAP


# ── characters that break lines and streams ─────────────────────────────────────────────────────────────────


def test_surrogates_nul_and_controls_never_break_the_line_or_the_stream(jsonl: Capture) -> None:
    title = "Lone \ud800 surrogate, NUL \x00, bell \x07, escape \x1b[31m, C1 \x85\x9b, DEL \x7f, end"
    log.info("article.new", title=title, **{"key\udfff\x00": "v"})
    event = one(jsonl)  # the strict UTF-8 stream did not raise
    assert event["title"] == "Lone \ufffd surrogate, NUL , bell , escape [31m, C1 , DEL , end"
    assert event["key\ufffd"] == "v"


def test_unicode_line_separators_stay_inside_one_line(jsonl: Capture) -> None:
    log.info("article.new", title="one\u2028two\u2029three\nfour\rfive")
    raw = jsonl.text()
    assert len(raw.splitlines()) == 1  # str.splitlines() breaks at U+2028, U+2029, \r and \n
    assert one(jsonl)["title"] == "one\u2028two\u2029three\nfourfive"


def test_a_newline_in_a_text_value_cannot_forge_a_line(text: Capture) -> None:
    log.info("article.new", title="fine\n12:00:00 info    delivery.sent target=x_en")
    assert len(text.text().splitlines()) == 1


def test_values_json_cannot_carry(jsonl: Capture) -> None:
    class Broken:
        def __str__(self) -> str:
            raise RuntimeError("no")

    log.info(
        "odd.values",
        nan=math.nan,
        inf=-math.inf,
        huge=10**5000,
        raw=b"\xff\xfe bytes " + BOT_TOKEN.encode(),
        broken=Broken(),
        deep=_nested(50),
        many=list(range(100_000)),
        known=int("9" * 12),
    )
    event = one(jsonl)
    assert event["nan"] == "nan" and event["inf"] == "-inf"
    assert event["huge"].startswith("<integer of")
    assert BOT_TOKEN not in event["raw"] and "bytes" in event["raw"]
    assert event["broken"] == "<unprintable Broken>"
    assert len(json.dumps(event["deep"])) < 1000 and len(event["many"]) < 1000


def _nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"a": [value]}
    return value


# ── one redactor ────────────────────────────────────────────────────────────────────────────────────────────


def test_one_redactor_for_logs_library_loggers_and_platforms(jsonl: Capture) -> None:
    registered_by_a_publisher = "pub-registered-Secret-4711"
    protect_loggers(("httpx.tests_security",), [registered_by_a_publisher])
    registered_by_the_app = "app-registered-Secret-0815"
    logs.redactor.add([registered_by_the_app])
    for secret in (registered_by_a_publisher, registered_by_the_app):
        assert meta.redact(f"x {secret} y") == "x *** y"
        assert http_redact(f"x {secret} y") == "x *** y"
        assert logs.redactor(f"x {secret} y") == "x *** y"
        log.info("delivery.failed", error=f"x {secret} y")
        assert one(jsonl)["error"] == "x *** y"
        jsonl.reset()
    assert REDACTOR.redactor is logs.redactor
    assert meta.redact("per-call Value-123456 and Basic income", ["Value-123456"]) == "per-call *** and Basic income"


def test_a_fresh_secret_redactor_has_its_own_values_and_the_shared_patterns() -> None:
    own = SecretRedactor()
    own.add(["only-in-this-one-42"])
    assert own.redact("only-in-this-one-42") == MARK
    assert logs.redactor("only-in-this-one-42") == "only-in-this-one-42"
    assert own.redact("Authorization: Bearer abc123") == "Authorization: Bearer ***"


def test_secret_values_from_the_environment_are_known_after_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOME_SERVICE_API_KEY", "env-Key-value-31337")
    monkeypatch.setenv("FEATURE_AUTH_MODE", "disabled")  # a plain word is not worth redacting everywhere
    with preserved_logging():
        logs.setup("json", "info", stream=io.StringIO())
    assert logs.redactor("key env-Key-value-31337 mode disabled") == "key *** mode disabled"


# ── the property ────────────────────────────────────────────────────────────────────────────────────────────

ANY_CHAR = st.characters(exclude_categories=())  # surrogates and controls included
_text = st.text(ANY_CHAR, max_size=60)
_huge = st.builds(lambda s, n: s * n, st.text(ANY_CHAR, min_size=1, max_size=8), st.integers(500, 40_000))
_with_secret = st.builds(lambda a, s, b: a + s + b, _text, st.sampled_from(SECRETS), _text)
_buried = st.builds(lambda n, s, b: "x" * n + s + b, st.integers(0, 12_000), st.sampled_from(SECRETS), _text)
_strings = st.one_of(_text, _huge, _with_secret, _buried, st.sampled_from([*ENGLISH, *(c for c, _ in CREDENTIALS)]))
_leaves = st.one_of(
    _strings,
    st.integers() | st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(),
    st.booleans(),
    st.none(),
)
_values = st.recursive(
    _leaves,
    lambda children: st.lists(children, max_size=6) | st.dictionaries(_strings, children, max_size=6),
    max_leaves=40,
)
_fields = st.dictionaries(_strings, _values, max_size=12)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
@given(fields=_fields, message=_strings)
def test_every_line_parses_fits_and_holds_no_secret(
    jsonl: Capture, text: Capture, fields: dict[str, Any], message: str
) -> None:
    """Both formatters on each drawn example: drawing the fields is most of the cost (a JSON and a text test used
    to draw 120 and 60 examples apart; one draw of 120 now goes through both)."""
    jsonl.reset()
    text.reset()
    logging.getLogger(LOGGER).info("fuzz.event", extra={"fields": fields})
    logging.getLogger("httpx.tests_security").warning(message)
    try:
        raise RuntimeError(message)
    except RuntimeError:
        logging.getLogger(LOGGER).error("fuzz.failed", exc_info=True, extra={"fields": {"error": message}})
    raw = jsonl.text()
    lines = raw.split("\n")[:-1]
    assert len(lines) == 3 and len(raw.splitlines()) == 3
    for line in lines:
        assert len(line.encode("utf-8")) <= logs.LINE_CAP
        event = json.loads(line)
        assert event["event"] in ("fuzz.event", "log.httpx.tests_security", "fuzz.failed")
    shown = text.text()  # the text formatter on the logger's records (the library logger is the JSON capture's)
    for secret in SECRETS:
        assert secret not in raw
        assert secret not in shown
