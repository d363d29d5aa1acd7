"""The desk's routes on the worker's HTTP app (syndicator/web): pages, the login, the actions and edits.

Every answer carries the security headers (auth.SECURITY_HEADERS). Without a session a page redirects to the login
and a POST is 403; a POST needs the session's CSRF token and a same-site Origin; acting and editing need the
editor role. Every action and edit is written to the audit trail before the answer.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from syndicator import actions
from syndicator.app import App
from syndicator.desk import edits as desk_edits
from syndicator.desk import views
from syndicator.desk.auth import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    Sessions,
    Who,
    client_address,
    cookie,
    cookies,
    form,
    is_https,
    same_origin,
    secured,
)
from syndicator.desk.pages import page, stylesheet
from syndicator.desk.settings import DeskSettings
from syndicator.errors import SyndicatorError
from syndicator.logs import get_logger
from syndicator.store import desk as desk_store
from syndicator.store import manage
from syndicator.web.messages import HttpRequest, HttpResponse, Route

log = get_logger("syndicator.desk")
ACTIONS = {
    "hold": "Hold every post of this article that has not gone out",
    "release": "Release the held posts of this article: they go out as the limits allow",
    "resend": "Queue this article again",
    "retract": "Retract this article: cancel what has not gone out, delete what was posted where the platform allows",
}
FORM_BODY = 256 * 1024
_ID = re.compile(r"^/desk/(?:articles|deliveries)/(\d+)")

Page = Callable[[HttpRequest, Who], Awaitable[HttpResponse]]


def html(status: int, body: str) -> HttpResponse:
    return secured(HttpResponse(status, body.encode("utf-8"), "text/html; charset=utf-8"))


def redirect(location: str, *, set_cookie: str | None = None) -> HttpResponse:
    resp = secured(HttpResponse(303, b"", "text/plain", {"Location": location}))
    if set_cookie:
        resp.headers["Set-Cookie"] = set_cookie
    return resp


def path_id(req: HttpRequest) -> int:
    match = _ID.match(req.path)
    assert match is not None  # the route's pattern matched an integer here
    return int(match.group(1))


def query(req: HttpRequest) -> dict[str, str]:
    out: dict[str, str] = {}
    try:
        pairs = parse_qsl(req.query, keep_blank_values=True, max_num_fields=20)
    except ValueError:
        return out
    for key, value in pairs:
        out.setdefault(key, value)
    return out


class Desk:
    def __init__(self, app: App, settings: DeskSettings) -> None:
        self.app = app
        self.settings = settings
        self.sessions = Sessions(app, settings)

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/desk", self.root, max_body=0),
            Route("GET", "/desk/login", self.login_page, max_body=0),
            Route("POST", "/desk/login", self.login, max_body=8 * 1024),
            Route("POST", "/desk/logout", self.posting(self.logout, editor=False), max_body=8 * 1024),
            Route("GET", "/desk/static/desk.css", self.stylesheet, max_body=0),
            Route("GET", "/desk/", self.viewing(self.queue), max_body=0),
            Route("GET", "/desk/articles", self.viewing(self.articles), max_body=0),
            Route("GET", "/desk/articles/{article_id:int}", self.viewing(self.article), max_body=0),
            Route("GET", "/desk/articles/{article_id:int}/confirm", self.viewing(self.confirm), max_body=0),
            Route("POST", "/desk/articles/{article_id:int}/act", self.posting(self.act), max_body=FORM_BODY),
            Route("GET", "/desk/deliveries/{delivery_id:int}/edit", self.viewing(self.edit_page), max_body=0),
            Route("POST", "/desk/deliveries/{delivery_id:int}/edit", self.posting(self.edit), max_body=FORM_BODY),
            Route("GET", "/desk/audit", self.viewing(self.audit), max_body=0),
        ]

    # ── guards ───────────────────────────────────────────────────────────────────────────────────────────────

    def viewing(self, handler: Page) -> Callable[[HttpRequest], Awaitable[HttpResponse]]:
        async def guarded(req: HttpRequest) -> HttpResponse:
            who = await self.sessions.who(req)
            if who is None:
                return redirect("/desk/login")
            return await handler(req, who)

        return guarded

    def posting(self, handler: Page, *, editor: bool = True) -> Callable[[HttpRequest], Awaitable[HttpResponse]]:
        async def guarded(req: HttpRequest) -> HttpResponse:
            who = await self.sessions.who(req)
            if who is None:
                return self.refusal(403, "You are not logged in (or your session ended). Log in again.", None)
            if not self.sessions.csrf_ok(req, who, form(req)):
                log.warning("desk.csrf_refused", user=who.user, path=req.path, peer=req.peer)
                return self.refusal(403, "This form is out of date or did not come from the desk. Reload the page "
                                    "and try again.", who)  # fmt: skip
            if editor and not who.can_act:
                return self.refusal(403, "Your role is viewer: you can look, not act or edit.", who)
            return await handler(req, who)

        return guarded

    def refusal(self, status: int, message: str, who: Who | None) -> HttpResponse:
        return html(status, page("message.html", who=who, title="Not done", message=message))

    # ── login ────────────────────────────────────────────────────────────────────────────────────────────────

    async def root(self, _req: HttpRequest) -> HttpResponse:
        return redirect("/desk/")

    async def stylesheet(self, _req: HttpRequest) -> HttpResponse:
        css = stylesheet().encode("utf-8")  # the desk's rules, then each platform's look's
        resp = secured(HttpResponse(200, css, "text/css; charset=utf-8"))
        resp.headers["Cache-Control"] = "max-age=3600"
        return resp

    def _login_form(self, req: HttpRequest, status: int, error: str, user: str = "") -> HttpResponse:
        token = secrets.token_urlsafe(24)
        resp = html(status, page("login.html", who=None, title="Log in", error=error, user=user, csrf=token))
        resp.headers["Set-Cookie"] = cookie(LOGIN_COOKIE, token, secure=is_https(req, self.settings), max_age=3600)
        return resp

    async def login_page(self, req: HttpRequest) -> HttpResponse:
        if await self.sessions.who(req):
            return redirect("/desk/")
        return self._login_form(req, 200, "")

    async def login(self, req: HttpRequest) -> HttpResponse:
        fields = form(req)
        expected = cookies(req).get(LOGIN_COOKIE, "")
        if not expected or not secrets.compare_digest(fields.get("csrf", "").encode(), expected.encode()):
            return self._login_form(req, 403, "This login form is out of date. Try again.")
        if not same_origin(req):
            return self._login_form(req, 403, "This login did not come from the desk's own page.")
        user = fields.get("user", "").strip()
        address = client_address(req, self.settings)
        token, why = await self.sessions.login(user, fields.get("password", ""), address)
        if token is None:
            return self._login_form(req, 429 if why.startswith("Too many") else 401, why, user)
        await asyncio.to_thread(
            desk_store.audit, self.app.store, user=user, action="login", now=self.app.clock(), lines=[address]
        )
        secure = is_https(req, self.settings)
        max_age = int(self.settings.session_max.total_seconds())
        return redirect("/desk/", set_cookie=cookie(SESSION_COOKIE, token, secure=secure, max_age=max_age))

    async def logout(self, req: HttpRequest, who: Who) -> HttpResponse:
        await asyncio.to_thread(desk_store.end_session, self.app.store, who.token_hash)
        await asyncio.to_thread(desk_store.audit, self.app.store, user=who.user, action="logout", now=self.app.clock())
        return redirect("/desk/login", set_cookie=cookie(SESSION_COOKIE, "", secure=is_https(req, self.settings),
                                                          max_age=0))  # fmt: skip

    # ── pages ────────────────────────────────────────────────────────────────────────────────────────────────

    def _page(self, name: str, who: Who, status: int = 200, **context: Any) -> HttpResponse:
        return html(status, page(name, who=who, csrf=who.csrf, now=self.app.clock(), **context))

    async def queue(self, _req: HttpRequest, who: Who) -> HttpResponse:
        items = await asyncio.to_thread(views.queue, self.app)
        return self._page("queue.html", who, title="Queue", items=items, limit=views.QUEUE_LIMIT)

    async def articles(self, req: HttpRequest, who: Who) -> HttpResponse:
        raw = query(req).get("page", "1")
        number = int(raw) if raw.isdigit() and 0 < int(raw) < 100_000 else 1
        rows, more = await asyncio.to_thread(views.articles, self.app, page=number, size=self.settings.page_size)
        return self._page("articles.html", who, title="Articles", rows=rows, page_number=number, more=more)

    async def article(self, req: HttpRequest, who: Who) -> HttpResponse:
        article_id = path_id(req)
        view = await asyncio.to_thread(views.article, self.app, article_id)
        if view is None:
            return self._page("message.html", who, 404, title="Not found", message="There is no such article.")
        done = query(req).get("done", "")
        notice = None
        if done.isdigit():
            found = await asyncio.to_thread(desk_store.audit_entries, self.app.store, entry_id=int(done))
            notice = next((e for e in found if e.article_id == article_id), None)
        return self._page("article.html", who, title=view.row["title"] or "Article", view=view, notice=notice)

    async def audit(self, _req: HttpRequest, who: Who) -> HttpResponse:
        entries = await asyncio.to_thread(desk_store.audit_entries, self.app.store, limit=300)
        return self._page("audit.html", who, title="Audit trail", entries=entries)

    # ── actions ──────────────────────────────────────────────────────────────────────────────────────────────

    def _target_choice(self, raw: str) -> str | None:
        return raw if raw in self.app.config.targets else None

    async def confirm(self, req: HttpRequest, who: Who) -> HttpResponse:
        article_id = path_id(req)
        args = query(req)
        action = args.get("action", "")
        view = await asyncio.to_thread(views.article, self.app, article_id)
        if view is None or action not in ACTIONS:
            return self._page("message.html", who, 404, title="Not found", message="No such article or action.")
        if not who.can_act:
            return self.refusal(403, "Your role is viewer: you can look, not act or edit.", who)
        return self._page(
            "confirm.html", who, title=f"Confirm: {action}", view=view, action=action, question=ACTIONS[action],
            target=self._target_choice(args.get("target", "")),
        )  # fmt: skip

    async def act(self, req: HttpRequest, who: Who) -> HttpResponse:
        article_id = path_id(req)
        fields = form(req)
        action = fields.get("action", "")
        if action not in ACTIONS:
            return self.refusal(400, "Unknown action.", who)
        rows = await asyncio.to_thread(manage.find_articles, self.app.store, str(article_id), None)
        if not any(r["id"] == article_id for r in rows):
            return self.refusal(404, "There is no such article.", who)
        target = self._target_choice(fields.get("target", ""))
        lines = await self._run(action, article_id, target, who, force=bool(fields.get("force")),
                                unknown=bool(fields.get("unknown")))  # fmt: skip
        entry = await asyncio.to_thread(
            desk_store.audit, self.app.store, user=who.user, action=action, now=self.app.clock(), lines=lines,
            article_id=article_id, target=target,
        )  # fmt: skip
        log.info("desk.action", user=who.user, action=action, article=article_id, target=target)
        return redirect(f"/desk/articles/{article_id}?done={entry}")

    async def _run(self, action: str, article_id: int, target: str | None, who: Who, *, force: bool,
                   unknown: bool) -> list[str]:  # fmt: skip
        app, now = self.app, self.app.clock()
        if action == "hold":
            count = await asyncio.to_thread(manage.hold, app.store, article_id, now=now, reason=f"held by {who.user}")
            return [f"held {count} posts that had not gone out"]
        if action == "release":
            count = await asyncio.to_thread(manage.release, app.store, article_id, now=now)
            return [f"released {count} held posts"]
        targets = [target] if target else None
        try:
            if action == "resend":
                report = await asyncio.to_thread(actions.resend, app, article_id, targets, force=force,
                                                 confirm_unknown=unknown)  # fmt: skip
            else:
                report = await actions.retract(app, article_id, targets)
        except SyndicatorError as exc:
            return [f"not done: {exc}"]
        return [*report.done, *(f"skipped: {s}" for s in report.skipped), *(f"failed: {f}" for f in report.failed)] or [
            "nothing to do"
        ]

    # ── edits ────────────────────────────────────────────────────────────────────────────────────────────────

    async def edit_page(self, req: HttpRequest, who: Who) -> HttpResponse:
        found = await asyncio.to_thread(views.delivery, self.app, path_id(req))
        if found is None:
            return self._page("message.html", who, 404, title="Not found", message="There is no such post.")
        d, row = found
        return self._edit_form(who, d, row, d.post.text, None, 200)

    def _edit_form(
        self, who: Who, d: Any, row: dict[str, Any], text: str, error: str | None, status: int,
        checked: views.PostPreview | None = None,
    ) -> HttpResponse:  # fmt: skip
        why = desk_edits.editable(d.post)
        if why is None and d.state not in desk_store.EDITABLE_STATES:
            why = f"this post is {d.state}: only a post that has not gone out can be edited"
        rtl = d.post.extra.get("direction") == "rtl"
        return self._page("edit.html", who, status, title="Edit post", d=d, row=row, text=text, error=error,
                          not_editable=why, rtl=rtl, checked=checked)  # fmt: skip

    async def edit(self, req: HttpRequest, who: Who) -> HttpResponse:
        delivery_id = path_id(req)
        found = await asyncio.to_thread(views.delivery, self.app, delivery_id)
        if found is None:
            return self.refusal(404, "There is no such post.", who)
        d, row = found
        fields = form(req)
        typed = fields.get("text", "")
        if d.state not in desk_store.EDITABLE_STATES:
            return self._edit_form(who, d, row, typed, f"Not saved: this post is {d.state}.", 409)
        try:
            text, length = desk_edits.checked(d.post, typed)
        except desk_edits.EditRefused as exc:
            return self._edit_form(who, d, row, typed, f"Not saved: {exc}.", 422)
        if fields.get("check"):  # "Check": drawn as it would go out, nothing saved
            post = desk_edits.with_text(d.post, text, length)
            drawn = views.PostPreview(d.target, d.post.platform, d.target, post, d)
            return self._edit_form(who, d, row, text, None, 200, checked=drawn)
        now = self.app.clock()
        saved = await asyncio.to_thread(
            desk_store.save_edit, self.app.store, delivery_id, text=text, length=length, user=who.user, now=now
        )
        if not saved:
            return self._edit_form(who, d, row, typed, "Not saved: the post is being sent or has gone out.", 409)
        entry = await asyncio.to_thread(
            desk_store.audit, self.app.store, user=who.user, action="edit", now=now, article_id=d.article_id,
            delivery_id=delivery_id, target=d.target,
            lines=[f"{d.target}: text edited ({length} of {d.post.limit})", text[:500]],
        )  # fmt: skip
        log.info("desk.edit", user=who.user, delivery=delivery_id, target=d.target, length=length)
        return redirect(f"/desk/articles/{d.article_id}?done={entry}")


def desk_routes(app: App, settings: DeskSettings) -> list[Route]:
    if not desk_store.list_users(app.store):
        log.warning("desk.no_users", hint="nobody can log in yet: add one with `syndicator desk-user add NAME`")
    return Desk(app, settings).routes()


__all__ = ["ACTIONS", "Desk", "desk_routes"]
