"""Small HTTP helpers shared by the publishers: a requests adapter that sends a hard-coded host's traffic to
`api_base` with a timeout, response-header parsing, and redaction of secrets from the libraries' own loggers.

Nothing here knows a platform.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from syndicator.platforms.delivery_doubt import answer_lost as answer_lost  # the one rule lives there
from syndicator.redaction import MARK, RedactingFilter
from syndicator.redaction import redactor as shared_redactor

REDACTED = MARK


class BaseURLAdapter(HTTPAdapter):
    """Mounted on a `requests.Session` for a host a client library hard-codes: rewrites each
    request's scheme+host to `base` (keeping path and query) and gives every request a timeout.

    With `base` empty the URL is left alone and only the timeout applies. No automatic retries: the caller
    decides what a failure means.
    """

    def __init__(self, base: str, timeout: float) -> None:
        super().__init__(max_retries=0)
        self.base = base.rstrip("/")
        self.timeout = timeout

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        if self.base and request.url:
            request.url = rebase(request.url, self.base)
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)


def rebase(url: str, base: str) -> str:
    """`url`'s path and query on `base`'s scheme and host (and base path prefix, if any)."""
    parts = urlsplit(url)
    out = base.rstrip("/") + (parts.path or "/")
    if parts.query:
        out += "?" + parts.query
    return out


def header_int(headers: Mapping[str, str], name: str) -> int | None:
    """An integer header (case-insensitive lookup when `headers` is requests' CaseInsensitiveDict)."""
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        return int(str(raw).strip())
    except ValueError:
        return None


def from_unix(seconds: float | None) -> datetime | None:
    """An aware UTC datetime from unix seconds; None stays None."""
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, tz=UTC)


class SecretRedactor(RedactingFilter):
    """A logger filter that formats each record eagerly and replaces every known secret (and every credential
    shape, `syndicator.redaction.PATTERNS`, and any pattern registered here) with `***`, in the message, the
    formatted traceback and the stack info.

    Logger filters run only for records logged on that very logger, so `protect_loggers` attaches the one
    shared instance to every logger under the given prefixes. That instance shares its secrets and patterns with
    the log formatters (`syndicator.logs.redactor`): one redactor for everything. A new `SecretRedactor()` has
    its own set of secret values (the same patterns).
    """


REDACTOR = SecretRedactor(shared_redactor)


def protect_loggers(
    prefixes: Iterable[str], secrets: Iterable[str] = (), patterns: Iterable[re.Pattern[str]] = ()
) -> None:
    """Redact `secrets` from everything the loggers named by `prefixes` (and their existing children) log.

    Call it after the libraries are imported (their loggers exist then) and again whenever new secrets appear.
    """
    REDACTOR.add(secrets, patterns)
    prefixes = tuple(prefixes)
    names = set(prefixes)
    for name in list(logging.root.manager.loggerDict):
        if any(name == p or name.startswith(p + ".") for p in prefixes):
            names.add(name)
    for name in names:
        logger = logging.getLogger(name)
        if REDACTOR not in logger.filters:
            logger.addFilter(REDACTOR)


def redact(text: str) -> str:
    """`text` with every known secret (`protect_loggers`, the configuration's) and credential shape replaced."""
    return REDACTOR.redact(text)
