"""Secrets out, lines whole: the one redactor behind the log formatters, the library loggers' filter
(`platforms.http.SecretRedactor`), the platforms' error texts (`platforms.graph.redact`, `platforms.http.redact`)
and the CLI's error lines.

Two things are replaced by `***`:

* **known secret values**: what the configuration resolved from the environment (targets' tokens, the webhook and
  alert secrets; `add()`), and the values of environment variables whose *name* says secret (`add_environment()`);
* **credential syntax**, never English words (`PATTERNS`): the credential after `Authorization:` + a scheme, a bare
  `Bearer <token>` only when the token has token shape, OAuth 1.0a parameters, `access_token=`-style parameters in
  query/form strings and JSON/dict reprs, JWTs, the password in `scheme://user:password@host`, and the token
  shapes each platform's spec declares (`PlatformSpec.secret_patterns`, read from the registry on first use).
  "Basic income", "Why OAuth matters", "Bearer bonds rally" and "token economy" pass untouched.

`scrub()` is what a log field goes through: lone surrogates become U+FFFD, NUL and C0/C1 controls (but tab and
newline) are removed, secrets are redacted, then the text is capped with a note of its original length. It
redacts *before* it caps, so a cut can never leave a secret's head behind; `scrub_value()` walks dicts, lists
and tuples, keys included, within a node budget.
"""

from __future__ import annotations

import logging
import math
import os
import re
import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

MARK = "***"

# secrets shorter than this would redact pieces of ordinary words and protect nothing
MIN_SECRET = 6

_TOKEN = r"[A-Za-z0-9._~+/%-]"  # RFC 6750 token68, plus '%' (tokens travel URL-encoded)
_SCHEMES = r"bearer|basic|token|bot|apikey|negotiate|ntlm"  # OAuth 1.0a's parameters have their own pattern
_HEADER_SEP = r"""(?:["']?\s*[:=]\s*|["']\s*,\s*)b?["']?\s*"""  # `Authorization: `, `'authorization': '`, `(b'…', b'`
_PARAM_NAMES = (
    r"oauth_[a-z_]*(?:token|signature|secret|key|verifier|nonce)|"
    r"(?:[a-z0-9]+[_.-])*(?:access_token|refresh_token|id_token|input_token|fb_exchange_token|token|"
    r"client_secret|app_secret|appsecret_proof|secret|password|passwd|api_key|apikey|api_secret)"
)

PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # OAuth 1.0a: oauth_signature="…" in a header, oauth_token=… in a query/form string, 'oauth_token': '…'.
    # Also access_token=…, client_secret=…, appsecret_proof=…, hub.secret=…, password=… and JSON "token": "…"
    (
        re.compile(rf"""(?i)(?<![A-Za-z0-9_.-])((?:{_PARAM_NAMES})(?:\s*=\s*|["']\s*:\s*)["']?)[^\s"'&,;}}]+"""),
        rf"\1{MARK}",
    ),
    # Authorization / Proxy-Authorization with a scheme: the credential after the scheme, whatever its length
    (
        re.compile(rf"(?i)(\b(?:proxy-)?authorization{_HEADER_SEP}(?:{_SCHEMES})\s+){_TOKEN}+=*"),
        rf"\1{MARK}",
    ),
    # ...without a scheme (some APIs), and the API-key headers: only a token-shaped value
    (
        re.compile(
            rf"(?i)(\b(?:(?:proxy-)?authorization|x-api-key|api-key|x-auth-token|x-access-token){_HEADER_SEP})"
            rf"(?!(?:{_SCHEMES}|oauth)\s){_TOKEN}{{16,}}=*"
        ),
        rf"\1{MARK}",
    ),
    # a bare Bearer token: token shaped (16+ token characters with a digit, or 32+): "Bearer bonds" is English
    (
        re.compile(rf"(?i)(\bbearer\s+)(?:(?={_TOKEN}*\d){_TOKEN}{{16,}}|{_TOKEN}{{32,}})=*"),
        rf"\1{MARK}",
    ),
    # JWTs
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), MARK),
    # the password in a URL: postgresql://user:password@host, https://:token@host
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s/?#@:]*):[^\s/?#@]+@"), rf"\1:{MARK}@"),
)

# each pattern runs only over a text holding one of its literal parts (lower-cased): most log values hold none
_GUARDS: tuple[tuple[str, ...], ...] = (
    ("=", ":"),
    ("authorization",),
    ("authorization", "api-key", "auth-token", "access-token"),
    ("bearer",),
    ("eyj",),
    ("@",),
)

# an environment variable whose name has one of these words (as a whole `_`-separated part) holds a secret
_SECRET_ENV_NAME = re.compile(
    r"(?i)(?:^|_)(?:TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|APIKEY|API_KEY|PRIVATE_KEY|ACCESS_KEY|CREDENTIALS?|"
    r"AUTH|DSN)(?:_|$)"
)
# a log field whose name is a credential's: its value is never shown
_SECRET_KEY = re.compile(
    r"(?i)^(?:[a-z0-9]+[_.-])*(?:authorization|proxy-authorization|cookie|set-cookie|password|passwd|secret|"
    r"client_secret|app_secret|appsecret_proof|token|access_token|refresh_token|api_key|apikey)$"
)

_SURROGATES = re.compile(r"[\ud800-\udfff]")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # all C0 but \t and \n, DEL, all C1
_UNCLEAN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_LINE_BREAKS = re.compile(r"[\n\t\u2028\u2029]+")

# Caps (characters). Log lines must stay whole through Docker (which splits lines at 16 KiB) and journald.
FIELD_CAP = 1_000
TEXT_CAP = 4_000  # a post's `text`
EXCEPTION_CAP = 6_000  # a traceback keeps its end, where the error is
KEY_CAP = 200
MAX_DEPTH = 6
MAX_NODES = 400  # values walked in one log line, nested ones included


def clean(text: str) -> str:
    """Lone surrogates → U+FFFD; NUL, C0 controls (but tab and newline), DEL and C1 controls removed."""
    if _UNCLEAN.search(text) is None:
        return text
    return _CONTROLS.sub("", _SURROGATES.sub("\ufffd", text))


def one_line(text: str) -> str:
    """Newlines, tabs and Unicode line separators as single spaces (a message that must stay one line)."""
    return _LINE_BREAKS.sub(" ", text).strip()


def is_secret_key(key: object) -> bool:
    """A field named like a credential (`token`, `client_secret`, `Authorization`…): its value is never shown."""
    return isinstance(key, str) and _SECRET_KEY.match(key) is not None


def looks_like_secret_value(value: str) -> bool:
    """Worth redacting everywhere: long enough, one word, and not a plain lower-case word ("disabled", "true")."""
    return (
        len(value) >= 8
        and not any(c.isspace() for c in value)
        and (any(c.isdigit() for c in value) or value.lower() != value or not value.isalpha())
    )


_platform: tuple[tuple[re.Pattern[str], str, tuple[str, ...]], ...] | None = None
_loading = False


def _platform_patterns() -> tuple[tuple[re.Pattern[str], str, tuple[str, ...]], ...]:
    """The credential shapes the platform packages declare (each once), loaded from the registry on first use."""
    global _platform, _loading
    if _platform is not None:
        return _platform
    if _loading:  # a platform package is being imported right now: the generic shapes only, for this call
        return ()
    _loading = True
    try:
        from syndicator.platforms import registry

        found: dict[tuple[str, str], tuple[re.Pattern[str], str, tuple[str, ...]]] = {}
        for spec in registry.specs():
            for shape in spec.secret_patterns:
                found.setdefault(
                    (shape.pattern.pattern, shape.replacement), (shape.pattern, shape.replacement, shape.guards)
                )
        _platform = tuple(found.values())
    finally:
        _loading = False
    return _platform


class Redactor:
    """Known secret values plus `PATTERNS` (and any extra shapes a platform registers). Thread-safe; `add`
    may be called at any time (publishers register their tokens when they are built)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: frozenset[str] = frozenset()
        self._known: re.Pattern[str] | None = None
        self._extra: tuple[re.Pattern[str], ...] = ()
        self._longest = 0

    def add(self, values: Iterable[str | None] = (), patterns: Iterable[re.Pattern[str]] = ()) -> None:
        """Known secret values (shorter than MIN_SECRET are ignored) and extra shapes (replaced whole)."""
        with self._lock:
            new = {v for v in values if isinstance(v, str) and len(v) >= MIN_SECRET} - self._values
            if new:
                self._values = self._values | new
                # longest first: a secret containing another is replaced whole
                ordered = sorted(self._values, key=len, reverse=True)
                self._known = re.compile("|".join(re.escape(v) for v in ordered))
                self._longest = len(ordered[0])
            extra = [p for p in patterns if p not in self._extra]
            if extra:
                self._extra = (*self._extra, *extra)

    def add_environment(self, environ: Mapping[str, str]) -> None:
        """The values of the variables named like secrets (`*_TOKEN`, `*_SECRET`, `*_PASSWORD`, `*_API_KEY`…)."""
        self.add(v for k, v in environ.items() if _SECRET_ENV_NAME.search(k) and looks_like_secret_value(v))

    def knows(self, value: str) -> bool:
        return value in self._values

    def __call__(self, text: str, extra_values: Iterable[str] = ()) -> str:
        return self.redact(text, extra_values)

    def redact(self, text: str, extra_values: Iterable[str] = ()) -> str:
        """`text` with every known secret (and `extra_values`) and every credential-shaped part replaced."""
        if len(text) < MIN_SECRET:  # shorter than any secret and any credential shape
            return text
        for value in sorted((v for v in extra_values if v and len(v) >= MIN_SECRET), key=len, reverse=True):
            text = text.replace(value, MARK)
        known = self._known
        if known is not None:
            text = known.sub(MARK, text)
        lower = text.lower()
        for (pattern, replacement), guard in zip(PATTERNS, _GUARDS, strict=True):
            if any(part in lower for part in guard):
                text = pattern.sub(replacement, text)
        for pattern, replacement, guards in _platform_patterns():
            if any(part in lower for part in guards):
                text = pattern.sub(replacement, text)
        for pattern in self._extra:
            text = pattern.sub(MARK, text)
        return text

    def scrub(self, text: str, limit: int = FIELD_CAP, *, tail: bool = False) -> str:
        """Clean, redact, cap at `limit` characters (keeping the end with `tail`), noting the original length."""
        size = len(text)
        edge = self._longest + 256  # more than any secret or token shape: what a cut may have split
        window = limit * 4 + edge
        cut = size > window
        if cut:  # never run the patterns over megabytes to keep a thousand characters
            text = text[-window:] if tail else text[:window]
        text = self.redact(clean(text))
        if cut:  # a secret split by the window's edge is not recognisable any more: drop the edge
            text = text[edge:] if tail else text[:-edge]
        if not cut and len(text) <= limit:
            return text
        note = f" [{size:,} chars]"
        keep = max(limit - len(note) - 1, 0)
        return ("…" + text[-keep:] + note) if tail else (text[:keep] + "…" + note)

    def scrub_key(self, key: object) -> str:
        return self.scrub(key if isinstance(key, str) else _text(key), KEY_CAP)

    def scrub_value(self, value: Any, limit: int = FIELD_CAP, *, budget: list[int] | None = None) -> Any:
        """A JSON-ready copy of `value`: strings scrubbed, containers walked (keys too) up to MAX_DEPTH and
        MAX_NODES, non-finite floats and huge integers as strings, anything else as its scrubbed `str()`."""
        return self._walk(value, limit, [MAX_NODES] if budget is None else budget, 0)

    def _walk(self, value: Any, limit: int, budget: list[int], depth: int) -> Any:
        budget[0] -= 1
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int):
            if abs(value) >= 2**63:  # str() of a 5,000-digit int raises; nobody reads such a number in a log
                return f"<integer of {value.bit_length()} bits>"
            return MARK if self.knows(str(value)) else value
        if isinstance(value, float):
            return value if math.isfinite(value) else str(value)  # NaN is not JSON
        if isinstance(value, str):
            return self.scrub(value, limit)
        if isinstance(value, datetime):
            return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, (bytes, bytearray, memoryview)):
            return self.scrub(bytes(value[: limit * 4]).decode("utf-8", "replace"), limit)
        if isinstance(value, Mapping):
            if depth >= MAX_DEPTH or budget[0] <= 0:
                return f"<{type(value).__name__} of {len(value)} items>"
            out: dict[str, Any] = {}
            for key, item in value.items():
                if budget[0] <= 0:
                    out["…"] = f"{len(value) - len(out)} more items"
                    break
                name = self.scrub_key(key)
                out[name] = MARK if is_secret_key(key) and item else self._walk(item, limit, budget, depth + 1)
            return out
        if isinstance(value, (list, tuple, set, frozenset)):
            if depth >= MAX_DEPTH or budget[0] <= 0:
                return f"<{type(value).__name__} of {len(value)} items>"
            items: list[Any] = []
            for item in value:
                if budget[0] <= 0:
                    items.append(f"… {len(value) - len(items)} more items")
                    break
                items.append(self._walk(item, limit, budget, depth + 1))
            return items
        return self.scrub(_text(value), limit)


def _text(value: object) -> str:
    try:
        return str(value)
    except Exception:  # a broken __str__ must not lose the log line
        return f"<unprintable {type(value).__name__}>"


redactor = Redactor()


class RedactingFilter(logging.Filter):
    """A logger filter: formats each record eagerly and redacts its message, formatted traceback and stack info,
    so that *every* handler (not only ours) receives clean records. Logger filters run only for records logged on
    that very logger: `platforms.http.protect_loggers` attaches the shared one to the libraries' loggers."""

    def __init__(self, redactor: Redactor | None = None) -> None:
        super().__init__()
        self.redactor = Redactor() if redactor is None else redactor

    def add(self, secrets: Iterable[str | None] = (), patterns: Iterable[re.Pattern[str]] = ()) -> None:
        self.redactor.add(secrets, patterns)

    def redact(self, text: str, extra_values: Iterable[str] = ()) -> str:
        return self.redactor.redact(text, extra_values)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep the raw template only
            message = _text(record.msg)
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


ERROR_LINE_CAP = 1_000


def error_line(text: str) -> str:
    """An error message as the CLI prints it: one line, cleaned, redacted (the environment's secrets included:
    a configuration error comes before the configuration's secrets are known), at most ERROR_LINE_CAP characters."""
    redactor.add_environment(os.environ)
    return redactor.scrub(one_line(text), ERROR_LINE_CAP)
