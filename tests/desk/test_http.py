"""The desk over HTTP (Starlette's TestClient through the worker's own app): login, sessions, CSRF, roles, rate
limiting, escaping, the actions and edits, on a real SQLite store."""

from __future__ import annotations

import re
import warnings
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

with warnings.catch_warnings():  # Starlette 1.x would rather have httpx2; the httpx it has works the same here
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from syndicator import config
from syndicator.article import DeliveryState as S
from syndicator.desk.auth import CSP, SESSION_COOKIE
from syndicator.store import desk as desk_store
from syndicator.store import manage
from syndicator.store import tables as t
from tests.desk.support import FARSI_TITLE, PASSWORD, Desk, make_desk

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def desk(tmp_path: Path) -> Desk:
    d = make_desk(tmp_path)
    d.add_user("ed")
    d.add_user("vi", role="viewer")
    return d


def client(desk: Desk) -> TestClient:
    return TestClient(desk.asgi(), follow_redirects=False)


def login(c: TestClient, user: str = "ed", password: str = PASSWORD, **headers: str) -> httpx.Response:
    page = c.get("/desk/login")
    token = CSRF.search(page.text)
    assert token, page.text
    answer: httpx.Response = c.post(
        "/desk/login", data={"csrf": token.group(1), "user": user, "password": password}, headers=headers
    )
    return answer


def csrf_of(c: TestClient, path: str = "/desk/") -> str:
    found = CSRF.search(c.get(path).text)
    assert found
    return found.group(1)


def states(desk: Desk, article_id: int) -> set[str]:
    return {str(d.state) for d in manage.latest_deliveries(desk.app.store, article_id)}


def test_without_desk_section_there_is_no_desk(tmp_path: Path) -> None:
    text = (
        '[[feeds]]\nname = "f"\nurl = "feed.xml"\ntargets = ["x"]\n[targets.x]\nplatform = "twitter"\ndry_run = true\n'
    )
    assert config.parse(text, base_dir=tmp_path, environ={}).desk is None


def test_nothing_but_the_login_page_and_stylesheet_without_a_session(desk: Desk) -> None:
    c = client(desk)
    article = desk.article_id("تهران")
    delivery = manage.latest_deliveries(desk.app.store, article)[0].id
    pages = ["/desk/", "/desk/articles", f"/desk/articles/{article}", f"/desk/articles/{article}/confirm?action=hold"]
    for path in [*pages, f"/desk/deliveries/{delivery}/edit", "/desk/audit"]:
        r = c.get(path)
        assert r.status_code == 303 and r.headers["location"] == "/desk/login", path
        assert FARSI_TITLE not in r.text
    for path, data in ((f"/desk/articles/{article}/act", {"action": "hold"}), (f"/desk/deliveries/{delivery}/edit",
                       {"text": "x"}), ("/desk/logout", {})):  # fmt: skip
        assert c.post(path, data=data).status_code == 403, path
    assert states(desk, article) == {"pending"}
    assert c.get("/desk").headers["location"] == "/desk/"
    login_page = c.get("/desk/login")
    assert login_page.status_code == 200 and login_page.headers["content-security-policy"] == CSP
    assert "script-src" not in CSP and "default-src 'none'" in CSP and "frame-ancestors 'none'" in CSP
    assert login_page.headers["x-frame-options"] == "DENY" and login_page.headers["x-content-type-options"] == "nosniff"
    assert c.get("/desk/static/desk.css").status_code == 200
    c.cookies.set(SESSION_COOKIE, "made-up-token", path="/desk/")
    assert c.get("/desk/").status_code == 303


def test_login_sets_a_strict_httponly_cookie_secure_behind_https(desk: Desk) -> None:
    c = client(desk)
    r = login(c)
    assert r.status_code == 303 and r.headers["location"] == "/desk/"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Path=/desk/" in cookie and "Secure" not in cookie
    page = c.get("/desk/")
    assert page.status_code == 200 and "ed (editor)" in page.text
    behind_proxy = login(client(desk), **{"x-forwarded-proto": "https"})
    assert "Secure" in behind_proxy.headers["set-cookie"]
    # only the hash of the token is stored
    token = cookie.split(";")[0].split("=", 1)[1]
    with desk.app.store.engine.connect() as conn:
        stored = [r[0] for r in conn.execute(desk_store.desk_sessions.select().with_only_columns(
            desk_store.desk_sessions.c.token_hash))]  # fmt: skip
    assert token not in stored and len(stored) == 2


def test_wrong_passwords_are_limited_per_user_and_the_limit_passes(desk: Desk) -> None:
    c = client(desk)
    for _ in range(3):
        r = login(c, password="TEST-not-real-wrong-password")
        assert r.status_code == 401 and "Wrong user name or password" in r.text
    limited = login(c)  # the right password, but too late
    assert limited.status_code == 429 and "Too many failed logins" in limited.text
    assert not limited.headers.get("set-cookie", "").startswith(f"{SESSION_COOKIE}=")
    unknown = login(c, user="nobody")  # another name from the same address is still allowed to try
    assert unknown.status_code == 401
    desk.clock.advance(minutes=16)
    assert login(c).status_code == 303


def test_login_form_needs_its_own_token(desk: Desk) -> None:
    c = client(desk)
    r = c.post("/desk/login", data={"csrf": "forged", "user": "ed", "password": PASSWORD})
    assert r.status_code == 403 and not r.headers.get("set-cookie", "").startswith(f"{SESSION_COOKIE}=")


def test_session_ends_when_idle_and_at_logout(desk: Desk) -> None:
    c = client(desk)
    login(c)
    desk.clock.advance(hours=11)
    assert c.get("/desk/").status_code == 200
    desk.clock.advance(hours=12, minutes=1)
    assert c.get("/desk/").status_code == 303
    login(c)
    token = csrf_of(c)
    assert c.post("/desk/logout", data={"csrf": token}).status_code == 303
    assert c.get("/desk/").status_code == 303


def test_hold_and_release_need_the_csrf_token_and_a_same_site_origin(desk: Desk) -> None:
    c = client(desk)
    login(c)
    article = desk.article_id("تهران")
    confirm = c.get(f"/desk/articles/{article}/confirm?action=hold")
    assert confirm.status_code == 200 and "Yes, hold" in confirm.text
    token = CSRF.search(confirm.text).group(1)  # type: ignore[union-attr]
    url = f"/desk/articles/{article}/act"
    assert c.post(url, data={"action": "hold"}).status_code == 403
    assert c.post(url, data={"action": "hold", "csrf": "TEST-not-real-token"}).status_code == 403
    evil = c.post(url, data={"action": "hold", "csrf": token}, headers={"origin": "https://evil.example"})
    assert evil.status_code == 403
    assert states(desk, article) == {"pending"}
    done = c.post(url, data={"action": "hold", "csrf": token})
    assert done.status_code == 303
    assert states(desk, article) == {"held"}
    page = c.get(done.headers["location"])
    assert "held 5 posts that had not gone out" in page.text and "Audit trail" in page.text
    assert c.post(url, data={"action": "release", "csrf": token}).status_code == 303
    assert states(desk, article) == {"pending"}
    entries = desk_store.audit_entries(desk.app.store, article_ids=[article])
    assert [(e.user, e.action) for e in entries] == [("ed", "release"), ("ed", "hold")]


def test_a_viewer_sees_but_cannot_act_or_edit(desk: Desk) -> None:
    c = client(desk)
    login(c, user="vi")
    article = desk.article_id("تهران")
    page = c.get(f"/desk/articles/{article}")
    assert page.status_code == 200 and "Edit text" not in page.text and "confirm?action" not in page.text
    assert c.get(f"/desk/articles/{article}/confirm?action=hold").status_code == 403
    token = csrf_of(c)
    assert c.post(f"/desk/articles/{article}/act", data={"action": "hold", "csrf": token}).status_code == 403
    d = manage.latest_deliveries(desk.app.store, article)[0]
    assert c.post(f"/desk/deliveries/{d.id}/edit", data={"text": "hello", "csrf": token}).status_code == 403
    assert states(desk, article) == {"pending"} and desk_store.edits_for(desk.app.store, [d.id]) == {}


def test_feed_supplied_markup_is_text_everywhere(desk: Desk) -> None:
    c = client(desk)
    login(c)
    article = desk.article_id("Council")
    desk.make_hostile(article)
    for path in (
        "/desk/",
        "/desk/articles",
        f"/desk/articles/{article}",
        f"/desk/articles/{article}/confirm?action=retract",
    ):
        body = c.get(path).text
        assert "<script>" not in body and "<img src=x" not in body and "<b>mayor" not in body, path
        assert "&lt;script&gt;alert(" in body, path


def test_an_edit_too_long_is_refused_and_a_good_one_is_what_goes_out(desk: Desk) -> None:
    c = client(desk)
    login(c)
    article = desk.article_id("تهران")
    x = next(d for d in manage.latest_deliveries(desk.app.store, article) if d.target == "x")
    form = c.get(f"/desk/deliveries/{x.id}/edit")
    assert form.status_code == 200 and 'dir="rtl"' in form.text
    token = CSRF.search(form.text).group(1)  # type: ignore[union-attr]
    too_long = c.post(f"/desk/deliveries/{x.id}/edit", data={"csrf": token, "text": "خبر " * 100})
    assert too_long.status_code == 422 and "too long" in too_long.text
    assert desk_store.edits_for(desk.app.store, [x.id]) == {}
    text = "دلار به ۶۰ هزار تومان رسید https://news.example.org/fa/markets/dollar"
    saved = c.post(f"/desk/deliveries/{x.id}/edit", data={"csrf": token, "text": text})
    assert saved.status_code == 303
    page = c.get(saved.headers["location"]).text
    assert "edited by ed" in page and "text edited" in page
    # the dispatcher claims it with the editor's text
    import asyncio

    claimed = asyncio.run(desk.app.dispatcher().claim(["x"]))
    post = next(d.post for d in claimed["x"] if d.id == x.id)
    assert post.text == text and post.length < post.limit
    # once claimed (leased), an edit is refused: it may be on its way
    late = c.post(f"/desk/deliveries/{x.id}/edit", data={"csrf": token, "text": "too late"})
    assert late.status_code == 409


def test_telegram_edit_must_be_html_telegram_accepts(desk: Desk) -> None:
    c = client(desk)
    login(c)
    article = desk.article_id("تهران")
    tg = next(d for d in manage.latest_deliveries(desk.app.store, article) if d.target == "telegram")
    token = csrf_of(c, f"/desk/deliveries/{tg.id}/edit")
    bad = c.post(f"/desk/deliveries/{tg.id}/edit", data={"csrf": token, "text": "<b>open <script>x</script>"})
    assert bad.status_code == 422 and "would refuse" in bad.text and "<script>x" not in bad.text
    good = c.post(f"/desk/deliveries/{tg.id}/edit", data={"csrf": token, "text": "<b>خبر</b> &lt;3"})
    assert good.status_code == 303


def test_a_sent_post_cannot_be_edited(desk: Desk) -> None:
    c = client(desk)
    login(c)
    article = desk.article_id("تهران")
    asyncio_run_once(desk)
    fb = next(d for d in manage.latest_deliveries(desk.app.store, article) if d.target == "facebook")
    assert fb.state == S.SENT
    token = csrf_of(c)
    r = c.post(f"/desk/deliveries/{fb.id}/edit", data={"csrf": token, "text": "new"})
    assert r.status_code == 409 and desk_store.edits_for(desk.app.store, [fb.id]) == {}
    listing = c.get("/desk/articles").text
    assert "facebook: sent" in listing


def asyncio_run_once(desk: Desk) -> None:
    import asyncio

    asyncio.run(desk.app.dispatcher().run_once())


def test_resend_and_retract_from_the_desk_are_audited(desk: Desk) -> None:
    c = client(desk)
    login(c)
    article = desk.article_id("تهران")
    asyncio_run_once(desk)
    token = csrf_of(c, f"/desk/articles/{article}/confirm?action=retract&target=facebook")
    url = f"/desk/articles/{article}/act"
    again = c.post(url, data={"csrf": token, "action": "resend", "target": "facebook"})
    assert "facebook: sent; use --force" in c.get(again.headers["location"]).text
    forced = c.post(url, data={"csrf": token, "action": "resend", "target": "facebook", "force": "1"})
    assert "queued (forced)" in c.get(forced.headers["location"]).text
    asyncio_run_once(desk)
    gone = c.post(url, data={"csrf": token, "action": "retract", "target": "facebook"})
    page = c.get(gone.headers["location"]).text
    assert "deleted" in page
    fb = [d for d in manage.latest_deliveries(desk.app.store, article) if d.target == "facebook"]
    assert [str(d.state) for d in fb] == ["retracted"]
    actions = [(e.action, e.target) for e in desk_store.audit_entries(desk.app.store, article_ids=[article])]
    assert actions == [("retract", "facebook"), ("resend", "facebook"), ("resend", "facebook")]


def test_a_whatsapp_template_message_is_drawn_but_not_editable(desk: Desk) -> None:
    article = desk.article_id("تهران")
    wa = next(d for d in manage.latest_deliveries(desk.app.store, article) if d.target == "whatsapp")
    template = {"name": "news_update", "language": "fa", "parameters": ["بازار تهران", "https://news.example.org/fa"]}
    post = replace(wa.post, extra={**wa.post.extra, "mode": "template", "template": template})
    with desk.app.store.engine.begin() as conn:  # the delivery as a template-mode target queues it
        conn.execute(update(t.deliveries).where(t.deliveries.c.id == wa.id).values(post=post.to_json()))
    c = client(desk)
    login(c)
    page = c.get(f"/desk/articles/{article}").text
    assert "news_update" in page and "بازار تهران" in page and "template message sends" in page
    token = csrf_of(c)
    refused = c.post(f"/desk/deliveries/{wa.id}/edit", data={"csrf": token, "text": "hello"})
    assert refused.status_code == 422 and desk_store.edits_for(desk.app.store, [wa.id]) == {}


def test_behind_a_proxy_the_address_limit_counts_the_client_not_the_proxy(tmp_path: Path) -> None:
    desk = make_desk(tmp_path, desk_extra="proxy_headers = true\nlogin_attempts_per_address = 2")
    desk.add_user("ed")
    c = client(desk)
    for name in ("a", "b"):  # two names from one client: its address is at the limit
        assert login(c, user=name, **{"x-forwarded-for": "203.0.113.7"}).status_code == 401
    assert login(c, **{"x-forwarded-for": "203.0.113.7"}).status_code == 429
    assert login(c, **{"x-forwarded-for": "198.51.100.2"}).status_code == 303
    assert [e.lines for e in desk_store.audit_entries(desk.app.store) if e.action == "login"] == [["198.51.100.2"]]


def test_check_draws_the_edited_post_without_saving_it(desk: Desk) -> None:
    c = client(desk)
    login(c)
    article = desk.article_id("تهران")
    tg = next(d for d in manage.latest_deliveries(desk.app.store, article) if d.target == "telegram")
    token = csrf_of(c, f"/desk/deliveries/{tg.id}/edit")
    r = c.post(f"/desk/deliveries/{tg.id}/edit", data={"csrf": token, "text": "<b>خبر</b> فوری", "check": "1"})
    assert r.status_code == 200 and "not saved yet" in r.text and "<b>خبر</b>" in r.text and "8 / 1024" in r.text
    assert desk_store.edits_for(desk.app.store, [tg.id]) == {}
