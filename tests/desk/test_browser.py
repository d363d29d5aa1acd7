"""The desk in a real browser: the distribution's Chromium driven by Playwright (never `playwright install`),
against the worker's own HTTP server (uvicorn, syndicator.web) on 127.0.0.1. Login, the queue, a Farsi article's
previews laid out right to left with nothing overflowing, an edit that is too long (refused), hold and release, a
forged cross-site form (refused). Screenshots are kept in tests/output/desk/ (git-ignored)."""

from __future__ import annotations

import asyncio
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from syndicator.store import manage
from syndicator.web import start
from tests.desk.support import FARSI_TITLE, MORE_TARGETS, PASSWORD, Desk, make_desk

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SITE = "https://news.example.org/"
OUTPUT = Path(__file__).resolve().parents[1] / "output" / "desk"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]  # fmt: skip

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")


class Served:
    """The desk's ASGI app on a real uvicorn server, in its own thread and event loop."""

    def __init__(self, desk: Desk) -> None:
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(desk,), daemon=True)
        self.port = 0
        self.server: Any = None

    def _run(self, desk: Desk) -> None:
        asyncio.set_event_loop(self.loop)

        async def serve() -> None:
            self.server = await start(desk.asgi(), "127.0.0.1", 0)
            self.port = self.server.port
            self.ready.set()
            await self.server.wait()

        self.loop.run_until_complete(serve())

    def __enter__(self) -> str:
        self.thread.start()
        assert self.ready.wait(10), "the desk's server did not start"
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *_: object) -> None:
        asyncio.run_coroutine_threadsafe(self.server.close(), self.loop).result(10)
        self.thread.join(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Desk, str]]:
    desk = make_desk(tmp_path)
    desk.add_user("ed")
    with Served(desk) as base:
        yield desk, base


def solid_png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A real image (a blank one would collapse and hide the cards' layout)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


IMAGE = solid_png(1200, 630, (70, 110, 160))


def shot(page: Any, name: str) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"{name}.png"), full_page=True)


def log_in(page: Any, base: str) -> None:
    page.goto(f"{base}/desk/")
    assert page.url == f"{base}/desk/login"
    page.fill("input[name=user]", "ed")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/desk/")


# every preview's text direction, its links' direction and isolation, and anything wider than its frame
LAYOUT = """() => [...document.querySelectorAll('figure.preview')].map(f => {
    const text = f.querySelector('.text');
    const links = [...f.querySelectorAll('.text .link')].filter(a => a.textContent.startsWith('http'));
    const box = f.getBoundingClientRect();
    const wide = [...f.querySelectorAll('*')].filter(e => e.getBoundingClientRect().right > box.right + 1
        || e.getBoundingClientRect().left < box.left - 1);
    return {id: f.id, direction: getComputedStyle(text).direction,
            linkDirections: links.map(a => getComputedStyle(a).direction),
            linkIsolated: links.map(a => getComputedStyle(a).unicodeBidi),
            overflow: text.scrollWidth > text.clientWidth + 1 || f.scrollWidth > f.clientWidth + 1,
            wide: wide.map(e => e.tagName + '.' + e.className)};
})"""


def assert_right_to_left(page: Any) -> list[dict[str, Any]]:
    """Every preview drawn right to left, its links left to right and isolated, nothing wider than its frame."""
    layout: list[dict[str, Any]] = page.evaluate(LAYOUT)
    for p in layout:
        assert p["direction"] == "rtl", p
        assert not p["overflow"] and not p["wide"], p
        assert p["linkDirections"] and set(p["linkDirections"]) == {"ltr"}, p
        assert set(p["linkIsolated"]) == {"isolate"}, p
    return layout


def test_an_editor_morning(browser: Any, site: tuple[Desk, str]) -> None:
    desk, base = site
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    expected = "status of 422"  # the refused edit's answer, which Chromium reports on the console
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and expected not in m.text else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    # article images come from the publisher's site as the platforms show them: answered here, nothing leaves
    page.route(f"{SITE}**", lambda route: route.fulfill(body=IMAGE, content_type="image/png"))
    page.on("request", lambda r: None if r.url.startswith((base, SITE)) else errors.append(f"left: {r.url}"))

    # login, then the queue: quiet hours and spacing on the live target, every row with its reason
    log_in(page, base)
    shot(page, "01-queue")
    rows = page.locator("table.queue tbody tr")
    assert rows.count() == 10
    assert page.locator("tr.wait-quiet_hours").first.inner_text().count("quiet hours") >= 1
    assert page.locator("tr.wait-spacing").count() == 1

    # the Farsi article: every target drawn right to left, links left to right, nothing wider than its frame
    article = desk.article_id("تهران")
    page.goto(f"{base}/desk/articles/{article}")
    assert FARSI_TITLE in page.locator("h1").inner_text()
    previews = page.locator("figure.preview")
    assert previews.count() == 5
    assert_right_to_left(page)
    assert page.locator("#target-telegram .text b").count() >= 1  # Telegram's bold, drawn
    assert page.locator("#target-telegram .tg-button").inner_text() == "Read more"
    assert page.locator("#target-facebook .card-fb").count() == 1 and page.locator("#target-x .x-post").count() == 1
    assert page.locator("#target-whatsapp-15550000001 .text b").count() >= 1  # *bold* drawn as WhatsApp does
    shot(page, "02-farsi-article")

    # an edit that is too long is refused, and nothing is kept
    x = next(d for d in manage.latest_deliveries(desk.app.store, article) if d.target == "x")
    page.click(f"a[href='/desk/deliveries/{x.id}/edit']")
    assert page.locator("textarea").get_attribute("dir") == "rtl"
    page.fill("textarea", "خبر فوری " * 60)
    page.click("form.edit button[type=submit]")
    assert "too long" in page.locator(".error").inner_text()
    shot(page, "03-edit-refused")
    page.fill("textarea", "دلار ۶۰ هزار تومان https://news.example.org/fa/markets/dollar")
    page.click("form.edit button[type=submit]")
    page.wait_for_url(f"{base}/desk/articles/{article}?done=*")
    assert "edited by ed" in page.locator("#target-x").inner_text()

    # hold, with its confirmation, then release
    page.click("a.action-hold")
    assert "Confirm: hold" in page.locator("h1").inner_text()
    page.click("form.confirm button[type=submit]")
    page.wait_for_url(f"{base}/desk/articles/{article}?done=*")
    assert "held 5 posts" in page.locator(".notice").inner_text()
    assert {str(d.state) for d in manage.latest_deliveries(desk.app.store, article)} == {"held"}
    shot(page, "04-held")
    page.click("a.action-release")
    page.click("form.confirm button[type=submit]")
    page.wait_for_url(f"{base}/desk/articles/{article}?done=*")
    assert {str(d.state) for d in manage.latest_deliveries(desk.app.store, article)} == {"pending"}
    audit = page.locator(".audit-list").inner_text()
    assert "release" in audit and "hold" in audit and "edit" in audit
    assert not errors, errors
    context.close()


def test_a_forged_cross_site_form_is_refused(browser: Any, site: tuple[Desk, str], tmp_path: Path) -> None:
    desk, base = site
    context = browser.new_context()
    page = context.new_page()
    log_in(page, base)
    article = desk.article_id("تهران")
    # another site's page posts to the desk with the editor's browser (the session cookie is SameSite=Strict, and
    # the form has no token): refused, nothing held
    evil = tmp_path / "evil.html"
    evil.write_text(
        f'<form id="f" method="post" action="{base}/desk/articles/{article}/act">'
        '<input name="action" value="hold"><input name="csrf" value="guess"><button>go</button></form>',
        encoding="utf-8",
    )
    page.goto(evil.as_uri())
    with page.expect_navigation():
        page.click("button")
    assert page.locator("body").inner_text().strip() != ""
    assert "not logged in" in page.locator(".error").inner_text()  # SameSite=Strict: no session cookie went
    shot(page, "05-csrf-refused")
    # the same form from the browser's own session (its cookies, as a script on a desk page would send them)
    # but without the page's token: refused too
    answer = context.request.post(f"{base}/desk/articles/{article}/act", form={"action": "hold", "csrf": "guess"})
    assert answer.status == 403 and "out of date" in answer.text()
    assert {str(d.state) for d in manage.latest_deliveries(desk.app.store, article)} == {"pending"}
    context.close()


def test_every_platform_is_drawn_in_its_own_frame_right_to_left(browser: Any, tmp_path: Path) -> None:
    desk = make_desk(tmp_path, targets=MORE_TARGETS)
    desk.add_user("ed")
    with Served(desk) as base:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.route(f"{SITE}**", lambda route: route.fulfill(body=IMAGE, content_type="image/png"))
        log_in(page, base)
        page.goto(f"{base}/desk/articles/{desk.article_id('تهران')}")
        layout = assert_right_to_left(page)
        assert len(layout) == 7 and {"target-bluesky", "target-mastodon"} <= {p["id"] for p in layout}
        assert page.locator("#target-bluesky .bsky-post .card-bsky .card-title").inner_text() == FARSI_TITLE
        assert page.locator("#target-mastodon .masto-post img.media").get_attribute("alt") == FARSI_TITLE
        # each frame's own stylesheet reached the page: the frames are laid out side by side, not stacked
        for frame in ("#target-bluesky .bsky-post", "#target-mastodon .masto-post", "#target-x .x-post"):
            assert page.locator(frame).evaluate("e => getComputedStyle(e).display") == "flex", frame
        assert page.locator("#target-telegram .tg-chat").evaluate("e => getComputedStyle(e).paddingTop") == "12px"
        shot(page, "06-every-platform")
        assert not errors, errors
        context.close()
