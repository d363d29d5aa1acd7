"""Every error Syndicator raises on purpose.

    SyndicatorError
     ├── ConfigError        bad configuration or usage; the CLI exits with code 2
     ├── FeedError          a feed could not be fetched or parsed; logged, retried on the next poll
     ├── StoreError         the database is unreachable or inconsistent
     │    └── StoreFailure  a database operation failed; `cause` is its plain-words cause (store/faults.py)
     └── PublishError       a platform call did not produce a post; the closed set the dispatcher acts on:
          ├── RetryLater    the platform said "not now" and (usually) when: wait until `retry_at`
          ├── Transient     network trouble, timeouts, 5xx: retry with backoff — unless the request may have
          │                 reached the platform (`maybe_sent`): then it is like a crash mid-call, `unknown`
          ├── Permanent     the platform rejected this post (bad content, duplicate): never retry
          └── AuthError     bad/expired token or missing permission: a human must act; the target pauses

Each platform maps its own status codes and library exceptions onto PublishError in exactly one place
(`syndicator/platforms/<platform>.py`). Messages never contain secrets.
"""

from __future__ import annotations

from datetime import datetime


class SyndicatorError(Exception):
    """Base of every deliberate error."""


class ConfigError(SyndicatorError):
    """The configuration (or the command line) is wrong. `str()` names the file, the key and the problem."""

    def __init__(self, message: str, *, source: str | None = None, key: str | None = None) -> None:
        self.source = source
        self.key = key
        self.reason = message
        where = ": ".join(part for part in (source, key) if part)
        super().__init__(f"{where}: {message}" if where else message)


class FeedError(SyndicatorError):
    """A feed could not be fetched or parsed. `reason` is a short machine-friendly word."""

    def __init__(self, message: str, *, reason: str = "error") -> None:
        self.reason = reason
        super().__init__(message)


class StoreError(SyndicatorError):
    """The store cannot be reached or its schema is not what the code expects."""


class StoreFailure(StoreError):
    """A database operation failed. `cause` is one of `syndicator.store.faults.WORDS` (locked, disk_full,
    read_only, permission, unreachable, error); the message is that cause in plain words, never the SQL."""

    def __init__(self, message: str, *, cause: str) -> None:
        self.cause = cause
        super().__init__(message)


class PublishError(SyndicatorError):
    """A platform call failed. `error_class` is the stable name used in logs, history and metrics."""

    error_class = "error"

    def __init__(self, message: str, *, code: str | int | None = None) -> None:
        self.code = code
        super().__init__(message)


class RetryLater(PublishError):
    """The platform asked us to wait. `retry_at` is when it allows the next call (None: unknown, back off)."""

    error_class = "retry_later"

    def __init__(self, message: str, *, retry_at: datetime | None = None, code: str | int | None = None) -> None:
        self.retry_at = retry_at
        super().__init__(message, code=code)


class Transient(PublishError):
    """Network failure, timeout or server error: the same call may succeed later.

    `maybe_sent`: the request left us and no answer came back (read timeout, connection dropped mid-answer, an
    unreadable 200), so the post may exist. By default those codes imply it; a publisher may say so explicitly.
    """

    error_class = "transient"
    AMBIGUOUS_CODES = frozenset({"timeout", "network", "unreadable", "no_id", "dropped"})

    def __init__(self, message: str, *, code: str | int | None = None, maybe_sent: bool | None = None) -> None:
        super().__init__(message, code=code)
        self.maybe_sent = code in self.AMBIGUOUS_CODES if maybe_sent is None else maybe_sent


class Permanent(PublishError):
    """The platform rejected the post itself (invalid, too long, duplicate). Retrying cannot help."""

    error_class = "permanent"


class AuthError(PublishError):
    """Token invalid or expired, permission missing, bot removed from the chat: a human must act."""

    error_class = "auth"
