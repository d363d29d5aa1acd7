"""Who is asking: sessions, CSRF tokens, login with rate limiting, and the headers every desk answer carries.

- A session is a random 256-bit token in an HttpOnly, SameSite=Strict cookie (Secure over HTTPS); the store keeps
  only its SHA-256. It ends after `session_idle` unused or `session_max` after login, at logout, and when the
  user's password or role changes.
- Every state-changing request (POST) carries the session's CSRF token in its form, compared in constant time; a
  cross-site Origin is refused before that. The login form has its own token (a cookie and a form field that must
  match), so nobody can log a browser into someone else's account.
- Failed logins are counted in the store per user name and per address over `login_window`: past the limits a
  login is refused without checking the password, on every worker, until the window has passed.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

from syndicator.app import App
from syndicator.desk import passwords
from syndicator.desk.settings import DeskSettings
from syndicator.logs import get_logger
from syndicator.store import desk as desk_store
from syndicator.web.messages import HttpRequest, HttpResponse

log = get_logger("syndicator.desk")
SESSION_COOKIE = "syndicator_desk"
LOGIN_COOKIE = "syndicator_desk_login"  # the login form's CSRF token, before there is a session
ROLES = ("editor", "viewer")
# no script at all, styles only from our own stylesheet, images over HTTPS (article images, as the platforms show
# them), forms only to ourselves, never framed
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' https: data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # the desk's URLs never reach other sites; "no-referrer" would also make a browser send `Origin: null` on the
    # desk's own forms, and the origin check below needs the real one
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
}


@dataclass(frozen=True)
class Who:
    user: str
    role: str
    csrf: str
    token_hash: str

    @property
    def can_act(self) -> bool:
        return self.role == "editor"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def cookies(req: HttpRequest) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in req.headers.get("cookie", "").split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name not in out:
            out[name] = value.strip().strip('"')
    return out


def form(req: HttpRequest) -> dict[str, str]:
    """An urlencoded form body (the only kind the desk's forms send); a repeated field keeps its first value."""
    out: dict[str, str] = {}
    try:
        text = req.body.decode("utf-8")
    except UnicodeDecodeError:
        return out
    try:
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=50)
    except ValueError:  # more fields than any desk form has: not one of ours
        return out
    for key, value in pairs:
        out.setdefault(key, value)
    return out


def is_https(req: HttpRequest, settings: DeskSettings) -> bool:
    if settings.secure_cookies != "auto":
        return settings.secure_cookies == "always"
    forwarded = req.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return forwarded == "https" or settings.public_url.startswith("https://")


def client_address(req: HttpRequest, settings: DeskSettings) -> str:
    if settings.proxy_headers:
        forwarded = req.headers.get("x-forwarded-for", "").split(",")[-1].strip()
        if forwarded:
            return forwarded[:64]
    return req.peer.rsplit(":", 1)[0]


def cookie(name: str, value: str, *, secure: bool, max_age: int | None = None) -> str:
    parts = [f"{name}={value}", "Path=/desk/", "HttpOnly", "SameSite=Strict"]
    if secure:
        parts.append("Secure")
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    return "; ".join(parts)


def same_origin(req: HttpRequest) -> bool:
    """A browser's POST names where its page came from; a page of another site is refused (CSRF, belt and braces:
    the token is the real check). Requests without Origin or Referer (old clients, curl) rely on the token."""
    if req.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return False
    origin = req.headers.get("origin") or req.headers.get("referer") or ""
    if not origin or origin == "null":
        return not origin
    return urlsplit(origin).netloc.lower() == req.headers.get("host", "").lower()


class Sessions:
    def __init__(self, app: App, settings: DeskSettings) -> None:
        self.app = app
        self.settings = settings

    async def who(self, req: HttpRequest) -> Who | None:
        token = cookies(req).get(SESSION_COOKIE)
        if not token or len(token) > 100:
            return None
        hashed = token_hash(token)
        session = await asyncio.to_thread(desk_store.find_session, self.app.store, hashed)
        if session is None:
            return None
        now = self.app.clock()
        if (
            now - session.last_seen_at > self.settings.session_idle
            or now - session.created_at > self.settings.session_max
        ):
            await asyncio.to_thread(desk_store.end_session, self.app.store, hashed)
            return None
        if now - session.last_seen_at > timedelta(minutes=1):  # not a write per page view
            await asyncio.to_thread(desk_store.touch_session, self.app.store, hashed, now)
        return Who(session.user, session.role, session.csrf, hashed)

    def csrf_ok(self, req: HttpRequest, who: Who, fields: dict[str, str]) -> bool:
        return same_origin(req) and hmac.compare_digest(fields.get("csrf", "").encode(), who.csrf.encode())

    async def login(self, user: str, password: str, peer: str) -> tuple[str | None, str]:
        """(session token, "") or (None, why not, in words for the login page)."""
        store, now, s = self.app.store, self.app.clock(), self.settings
        since = now - s.login_window
        by_user, by_peer, oldest = await asyncio.to_thread(
            desk_store.failed_logins, store, user=user, peer=peer, since=since
        )
        if by_user >= s.login_attempts or by_peer >= s.login_attempts_per_address:
            wait = (oldest or now) + s.login_window - now
            minutes = max(1, int(wait.total_seconds() // 60) + 1)
            log.warning("desk.login_limited", user=user[:100], peer=peer, failures=max(by_user, by_peer))
            return None, f"Too many failed logins. Try again in {minutes} minute{'s' if minutes != 1 else ''}."
        found = await asyncio.to_thread(desk_store.get_user, store, user)
        ok, rehashed = await asyncio.to_thread(passwords.verify, found.password_hash if found else None, password)
        await asyncio.to_thread(desk_store.record_login, store, user=user, peer=peer, ok=ok, now=now)
        if not ok or found is None:
            log.warning("desk.login_failed", user=user[:100], peer=peer)
            return None, "Wrong user name or password."
        if rehashed:
            await asyncio.to_thread(desk_store.update_password_hash, store, found.name, rehashed)
        token = secrets.token_urlsafe(32)
        await asyncio.to_thread(
            desk_store.create_session, store, token_hash=token_hash(token), user=found.name,
            csrf=secrets.token_urlsafe(32), now=now,
        )  # fmt: skip
        await asyncio.to_thread(self._tidy, now)
        log.info("desk.login", user=found.name, peer=peer)
        return token, ""

    def _tidy(self, now: datetime) -> None:
        s = self.settings
        desk_store.end_stale_sessions(
            self.app.store, idle_before=now - s.session_idle, created_before=now - s.session_max
        )
        desk_store.forget_logins(self.app.store, before=now - max(s.login_window, timedelta(days=30)))


def secured(resp: HttpResponse) -> HttpResponse:
    for name, value in SECURITY_HEADERS.items():
        resp.headers.setdefault(name, value)
    return resp


__all__ = [
    "CSP",
    "LOGIN_COOKIE",
    "ROLES",
    "SECURITY_HEADERS",
    "SESSION_COOKIE",
    "Sessions",
    "Who",
    "client_address",
    "cookie",
    "cookies",
    "form",
    "is_https",
    "same_origin",
    "secured",
    "token_hash",
]
