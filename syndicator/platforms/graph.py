"""What the publishers on Meta's Graph API share (the Page and the Cloud messaging platforms).

* `parse_usage(headers)`: the `X-App-Usage` / `X-Page-Usage` / `X-Business-Use-Case-Usage` headers → the highest
  reported percentage and `estimated_time_to_regain_access` (minutes).
* `GraphFailure`: a neutral description of one failed call (HTTP status, Graph error code/subcode, message,
  usage, or a network failure), built by each platform module from whatever its client raised.
* `to_publish_error(failure, now)`: **the one place** a Graph failure becomes RetryLater / Transient / Permanent /
  AuthError, for both platforms. The table (codes as documented by Meta):

    ============================================  ================================================================
    Graph error code                              becomes
    ============================================  ================================================================
    4, 17, 32, 341, 613, 80000–80099 (throttles)  RetryLater: now + estimated_time_to_regain_access, else + 15 min
    130429 (Cloud API throughput, ~80 msg/s)       RetryLater: Retry-After / regain header, else + 1 s
    131056 (Cloud API pair rate, ~1 per 6 s/user)  RetryLater: + 6 s
    131048 (Cloud API spam rate limit)             RetryLater: regain header, else + 1 h
    368 (temporarily blocked for policy)           RetryLater: + 24 h (the block is on the Page/number, not on the
                                                   post: every other queued post would fail the same way, and
                                                   retrying sooner can lengthen the block; a human should read the
                                                   Page's support inbox meanwhile)
    0, 3, 10, 102, 190, 200–299, 463, 467,         AuthError (token expired/invalid, permission missing, account
    131005, 131031                                 locked): a human must act
    100, 324, 506, 131008, 131009, 131021,         Permanent (invalid parameter, bad image, duplicate, recipient
    131026, 131047, 131051–131053, 132000–132016   undeliverable, 24-h window closed, template errors)
    1, 2, 131000, 131016, 133004, is_transient     Transient
    (no code) network error, timeout, bad body     Transient
    (no code) HTTP 429                             RetryLater: Retry-After, else + 60 s
    (no code) HTTP 5xx                             Transient
    (no code) HTTP 401 / 403                       AuthError
    anything else                                  Permanent (HTTP 5xx: Transient)
    ============================================  ================================================================

Messages never contain secrets: every text that came from the network or from an exception goes through
`redact()` first, and `install_log_redaction()` puts a filter on urllib3's logger, which writes request URLs
(query strings included) at DEBUG.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from syndicator.article import RateInfo
from syndicator.errors import AuthError, Permanent, PublishError, RetryLater, Transient
from syndicator.platforms.delivery_doubt import status_maybe_sent
from syndicator.platforms.http import REDACTOR, protect_loggers

# Meta's Graph API host, shared by its publishers (the host is the API's, whatever platform names it carries)
GRAPH_URL = "https://graph.facebook.com"

DEFAULT_THROTTLE_WAIT = timedelta(minutes=15)
POLICY_BLOCK_WAIT = timedelta(days=1)
THROUGHPUT_WAIT = timedelta(seconds=1)
PAIR_RATE_WAIT = timedelta(seconds=6)
SPAM_RATE_WAIT = timedelta(hours=1)
HTTP_429_WAIT = timedelta(seconds=60)

THROTTLE_CODES = frozenset({4, 17, 32, 341, 613, *range(80000, 80100)})
THROUGHPUT = 130429
PAIR_RATE = 131056
SPAM_RATE = 131048
POLICY_BLOCK = 368
AUTH_CODES = frozenset({0, 3, 10, 102, 190, 463, 467, *range(200, 300), 131005, 131031})
DUPLICATE = 506
REENGAGEMENT = 131047
PERMANENT_CODES = frozenset(
    {100, 324, DUPLICATE, 131008, 131009, 131021, 131026, REENGAGEMENT, 131051, 131052, 131053}
    | set(range(132000, 132017))
)
TRANSIENT_CODES = frozenset({1, 2, 131000, 131016, 133004})

_TOKEN_SUBCODES = {
    458: "the app is not installed for this user",
    459: "the user is checkpointed (must log in on the web to clear it)",
    460: "the password was changed",
    463: "the access token has expired",
    464: "the user is not confirmed",
    467: "the access token is invalid",
    492: "the user is no longer an admin of the Page",
}


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with the given secret values, every known secret and every credential shape (`access_token=`,
    `Authorization: Bearer …`; `syndicator.redaction.PATTERNS`) replaced by ***."""
    return REDACTOR.redact(text, secrets)


def install_log_redaction() -> None:
    """Idempotent. Graph GET calls such as debug_token must carry a token in the query string, and urllib3 logs
    request URLs at DEBUG; the shared redacting filter removes them there. (Tokens the publishers control go in
    headers.)"""
    protect_loggers(("urllib3.connectionpool", "urllib3.util.retry"))


@dataclass(frozen=True, slots=True)
class Usage:
    """What Meta's usage headers said: the highest percentage and how long until access comes back."""

    percent: float | None = None
    regain_minutes: float | None = None

    def rate(self, now: datetime) -> RateInfo | None:
        if self.percent is None and not self.regain_minutes:
            return None
        pause = now + timedelta(minutes=self.regain_minutes) if self.regain_minutes else None
        return RateInfo(usage_percent=self.percent, pause_until=pause)


_PERCENT_KEYS = ("call_count", "total_time", "total_cputime", "acc_id_util_pct")


def parse_usage(headers: Mapping[str, str]) -> Usage:
    """`X-App-Usage` / `X-Page-Usage`: {"call_count": 28, "total_time": 25, "total_cputime": 25};
    `X-Business-Use-Case-Usage`: {"<id>": [{"type": "pages", "call_count": 100, …,
    "estimated_time_to_regain_access": 19}]}. Missing or malformed headers count as "nothing said"."""
    lowered = {k.lower(): v for k, v in headers.items()}
    percents: list[float] = []
    regain: list[float] = []

    def take(entry: Any) -> None:
        if not isinstance(entry, dict):
            return
        for key in _PERCENT_KEYS:
            value = entry.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                percents.append(float(value))
        minutes = entry.get("estimated_time_to_regain_access")
        if isinstance(minutes, (int, float)) and not isinstance(minutes, bool):
            regain.append(float(minutes))

    for name in ("x-app-usage", "x-page-usage", "x-ad-account-usage"):
        take(_json(lowered.get(name)))
    buc = _json(lowered.get("x-business-use-case-usage"))
    if isinstance(buc, dict):
        for entries in buc.values():
            for entry in entries if isinstance(entries, list) else [entries]:
                take(entry)
    return Usage(max(percents) if percents else None, max(regain) if regain else None)


def _json(raw: str | None) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def retry_after_seconds(headers: Mapping[str, str], now: datetime) -> float | None:
    """A `Retry-After` header (seconds or HTTP date), if any."""
    raw = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(raw) - now).total_seconds())
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class GraphFailure:
    """One failed Graph call, described without any client library's types. Texts are already redacted."""

    platform: str  # the platform's registry name
    action: str  # "publish", "delete", "check", …
    status: int | None = None  # HTTP status, when a response arrived
    code: int | None = None  # Graph error code
    subcode: int | None = None
    message: str = ""
    details: str = ""  # error_data.details / error_user_msg
    is_transient: bool = False
    usage: Usage = Usage()
    retry_after: float | None = None  # seconds, from Retry-After
    network: str | None = None  # "timeout" | "connection" | "dropped" (after the request) | "unreadable"

    @classmethod
    def from_body(
        cls,
        body: Any,
        *,
        platform: str,
        action: str,
        status: int | None,
        headers: Mapping[str, str],
        now: datetime,
        secrets: Iterable[str] = (),
    ) -> GraphFailure:
        """From a Graph error body {"error": {"message", "type", "code", "error_subcode", "error_data", …}}."""
        secrets = list(secrets)
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict):
            error = {}
        data = error.get("error_data")
        details = ""
        if isinstance(data, dict):
            details = str(data.get("details") or "")
        elif isinstance(data, str):
            details = data
        details = details or str(error.get("error_user_msg") or "")
        return cls(
            platform=platform,
            action=action,
            status=status,
            code=_int(error.get("code")),
            subcode=_int(error.get("error_subcode")),
            message=redact(str(error.get("message") or ""), secrets),
            details=redact(details, secrets),
            is_transient=bool(error.get("is_transient")),
            usage=parse_usage(headers),
            retry_after=retry_after_seconds(headers, now),
        )


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def to_publish_error(f: GraphFailure, now: datetime) -> PublishError:
    """The whole mapping (see the module docstring's table). `now` is an aware UTC datetime."""
    code = f.code
    what = f"{f.platform} {f.action}"
    said = _said(f)

    if f.network is not None:
        return Transient(f"{what}: {f.message or f.network}", code=f.network)

    def later(default: timedelta, why: str) -> RetryLater:
        wait = default
        if f.usage.regain_minutes:
            wait = timedelta(minutes=f.usage.regain_minutes)
        elif f.retry_after is not None:
            wait = timedelta(seconds=f.retry_after)
        return RetryLater(f"{what}: {why}{said}", retry_at=now + wait, code=code)

    if code is not None:
        if code in THROTTLE_CODES:
            return later(DEFAULT_THROTTLE_WAIT, "rate limited by Meta")
        if code == THROUGHPUT:
            return later(THROUGHPUT_WAIT, "this phone number's message throughput is exceeded")
        if code == PAIR_RATE:
            # one message per ~6 s to one user: waiting 6 s from now is always enough
            return RetryLater(
                f"{what}: too many messages to this recipient in a short time{said}",
                retry_at=now + PAIR_RATE_WAIT,
                code=code,
            )
        if code == SPAM_RATE:
            return later(SPAM_RATE_WAIT, "Meta restricts how many messages this number may send (spam rate)")
        if code == POLICY_BLOCK:
            return RetryLater(
                f"{what}: temporarily blocked for policy reasons; pausing for a day — check the account's "
                f"support inbox / quality status{said}",
                retry_at=now + POLICY_BLOCK_WAIT,
                code=code,
            )
        if code in AUTH_CODES or f.subcode in (463, 467):
            return AuthError(f"{what}: {_auth_reason(f)}{said}", code=code)
        if code == DUPLICATE:
            return Permanent(f"{what}: rejected as a duplicate of a recent post{said}", code=code)
        if code == REENGAGEMENT:
            return Permanent(
                f"{what}: free text can only be sent within 24 hours of the recipient's last message; "
                f'use mode = "template" with an approved template for this target{said}',
                code=code,
            )
        if code in PERMANENT_CODES:
            return Permanent(f"{what}: rejected{said}", code=code)
        if code in TRANSIENT_CODES or f.is_transient:
            return Transient(f"{what}: temporary Meta failure{said}", code=code)

    status = f.status
    if status == 429:
        wait = timedelta(seconds=f.retry_after) if f.retry_after is not None else HTTP_429_WAIT
        if f.usage.regain_minutes:
            wait = timedelta(minutes=f.usage.regain_minutes)
        return RetryLater(f"{what}: HTTP 429 too many requests{said}", retry_at=now + wait, code=code or status)
    if status is not None and status >= 500:
        # Graph's own error body means the API answered; a gateway's 502/504 (or a bare 500) may come after the
        # platform acted on the request: maybe posted
        gateway = code is None and status_maybe_sent(status, bare_500=True)
        return Transient(f"{what}: server error HTTP {status}{said}", code=code or status, maybe_sent=gateway)
    if f.is_transient:
        return Transient(f"{what}: temporary Meta failure{said}", code=code)
    if code is None and status in (401, 403):
        return AuthError(f"{what}: HTTP {status}: not authorised{said}", code=status)
    if code is None and status is None:
        return Transient(f"{what}: no usable answer{said}")
    return Permanent(f"{what}: rejected{said}", code=code if code is not None else status)


def _said(f: GraphFailure) -> str:
    parts = []
    if f.code is not None:
        parts.append(f"code {f.code}" + (f"/{f.subcode}" if f.subcode else ""))
    if f.status is not None:
        parts.append(f"HTTP {f.status}")
    text = f.message
    if f.details and f.details not in text:
        text = f"{text} — {f.details}" if text else f.details
    head = f" ({', '.join(parts)})" if parts else ""
    return f"{head}: {text}" if text else head


def _auth_reason(f: GraphFailure) -> str:
    if f.code == 190 or f.subcode in (463, 467):
        reason = _TOKEN_SUBCODES.get(f.subcode or 0, "the access token is invalid or expired")
        return f"{reason}; create a new token and set it in the target's token environment variable"
    if f.code in (10, 3) or (f.code is not None and 200 <= f.code <= 299):
        return "permission missing for this token (a Page token needs pages_manage_posts)"
    return "authentication failed; a human must renew the credentials"
