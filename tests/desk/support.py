"""A desk on a real store: a local RSS feed (a Farsi article, an English one whose title is hostile markup, a long
one), four dry-run targets (one per platform; `MORE_TARGETS` adds the others), polled once, so every article has its
deliveries; users made as the CLI makes them; a clock the test moves."""

from __future__ import annotations

import functools
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

from starlette.types import ASGIApp

from syndicator import config
from syndicator.app import App
from syndicator.desk import passwords
from syndicator.desk.routes import desk_routes
from syndicator.polling import poll_feed
from syndicator.store import Store
from syndicator.store import desk as desk_store
from syndicator.web import build_app

PASSWORD = "TEST-not-real-desk-password"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FARSI_TITLE = "بازار تهران امروز: قیمت دلار به ۶۰ هزار تومان رسید و شاخص بورس BTC را پشت سر گذاشت"
FARSI_SUMMARY = (
    "گزارش خبرنگار ما از بازار ارز و طلا در تهران؛ معامله‌گران می‌گویند نوسان قیمت‌ها در هفته‌های آینده ادامه دارد. "
    "نشانی کامل در https://news.example.org/fa/markets/2026/03/02/dollar-60000 آمده است."
)
HOSTILE_TITLE = '<script>alert("x")</script> Council & <b>mayor</b> "agree" <img src=x onerror=alert(1)>'


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@dataclass
class Item:
    title: str
    link: str
    summary: str
    language: str = "en"
    image: str = ""
    published: datetime = START - timedelta(minutes=30)


ITEMS = [
    Item(FARSI_TITLE, "https://news.example.org/fa/markets/dollar", FARSI_SUMMARY, "fa",
         "https://news.example.org/img/dollar.jpg", START - timedelta(minutes=10)),
    Item(HOSTILE_TITLE, "https://news.example.org/en/council", "The council met. <i>Nothing</i> was decided.", "en",
         "", START - timedelta(minutes=20)),
]  # fmt: skip


def feed_xml(items: list[Item]) -> str:
    entries = []
    for it in items:
        image = f'<enclosure url="{escape(it.image)}" type="image/jpeg" length="1000"/>' if it.image else ""
        entries.append(
            f"<item><title>{escape(it.title)}</title><link>{escape(it.link)}</link><guid>{escape(it.link)}</guid>"
            f"<description>{escape(it.summary)}</description><dc:language>{it.language}</dc:language>"
            f"<pubDate>{it.published.strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate>{image}</item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<channel><title>News</title><link>https://news.example.org/</link>{''.join(entries)}</channel></rss>"
    )


CONFIG = """
[store]
url = "sqlite:///{db}"

[desk]
login_attempts = 3
login_window = "15m"
{desk_extra}

[[feeds]]
name = "{name}"
url = "{feed}"
first_run = "all"
max_age = "0s"
targets = ["x", "telegram", "facebook", "whatsapp", "x_live"]

[targets.x]
platform = "twitter"
dry_run = true

[targets.telegram]
platform = "telegram"
chat = "@desk_test"
read_more_button = "Read more"
dry_run = true

[targets.facebook]
platform = "facebook"
page_id = "100000000000000"
dry_run = true

[targets.whatsapp]
platform = "whatsapp"
phone_number_id = "100000000000001"
mode = "text"
recipients = ["15550000001"]
dry_run = true

[targets.x_live]  # a real target (nothing is sent: no dispatcher runs), so the limits apply in the queue
platform = "twitter"

[targets.x_live.limits]
quiet_hours = "08:00-10:00"
timezone = "UTC"
min_spacing = "10m"
"""
# the platforms the four above do not cover, as dry-run targets: `make_desk(..., targets=MORE_TARGETS)`
MORE_TARGETS = {
    "bluesky": 'platform = "bluesky"\nhandle = "newsroom.bsky.social"\ndry_run = true',
    "mastodon": 'platform = "mastodon"\ninstance = "https://social.example.org"\ndry_run = true',
}
ENV = {
    "X_API_KEY": "TEST-not-real-x-key",
    "X_API_SECRET": "TEST-not-real-x-secret",
    "X_ACCESS_TOKEN": "TEST-not-real-x-token",
    "X_ACCESS_TOKEN_SECRET": "TEST-not-real-x-token-secret",
}


@dataclass
class Desk:
    app: App
    clock: Clock
    feed_path: Path
    users: dict[str, str] = field(default_factory=dict)

    def asgi(self) -> ASGIApp:
        assert self.app.config.desk is not None
        return build_app(desk_routes(self.app, self.app.config.desk))

    def add_user(self, name: str, role: str = "editor", password: str = PASSWORD) -> None:
        desk_store.save_user(self.app.store, name, password_hash=passwords.hash_password(password), role=role,
                             now=self.clock())  # fmt: skip
        self.users[name] = password

    def make_hostile(self, article_id: int) -> None:
        """The article's title and its X post's text hold markup, as text: the feed parser strips tags from titles,
        so a hostile string reaches the desk this way only through the store; the page must show it as text."""
        import json

        from sqlalchemy import update

        from syndicator.store import tables as t

        d = t.deliveries
        with self.app.store.engine.begin() as conn:
            conn.execute(update(t.articles).where(t.articles.c.id == article_id).values(title=HOSTILE_TITLE))
            for row in conn.execute(d.select().where(d.c.article_id == article_id)).mappings():
                post = json.loads(row["post"])
                if post["platform"] == "twitter":
                    post["text"] = HOSTILE_TITLE + " https://news.example.org/en/council"
                    conn.execute(update(d).where(d.c.id == row["id"]).values(post=json.dumps(post)))

    def article_id(self, title_part: str) -> int:
        from sqlalchemy import select

        from syndicator.store import tables as t

        with self.app.store.engine.connect() as conn:
            rows = conn.execute(select(t.articles.c.id, t.articles.c.title)).all()
        return int(next(r.id for r in rows if title_part in r.title))


@functools.cache
def _migrated_store() -> Path:
    """An empty store at the newest schema, made once per test session and copied for each desk."""
    path = Path(tempfile.mkdtemp(prefix="desk-template-")) / "desk.db"
    Store(f"sqlite:///{path}").close()
    return path


def make_desk(
    tmp_path: Path, items: list[Item] | None = None, *, desk_extra: str = "", name: str = "news",
    targets: Mapping[str, str] | None = None,
) -> Desk:  # fmt: skip
    """The desk; `targets` (name → the table's TOML) are posted to as well."""
    shutil.copy(_migrated_store(), tmp_path / "desk.db")
    feed = tmp_path / "feed.xml"
    feed.write_text(feed_xml(items or ITEMS), encoding="utf-8")
    text = CONFIG.format(db=tmp_path / "desk.db", feed=feed.as_uri(), desk_extra=desk_extra, name=name)
    more = targets or {}
    if more:
        names = "".join(f', "{n}"' for n in more)
        text = text.replace('"x_live"]', f'"x_live"{names}]', 1)
        text += "".join(f"\n[targets.{n}]\n{toml}\n" for n, toml in more.items())
    cfg = config.parse(text, source="desk-test.toml", base_dir=tmp_path, environ=ENV)
    clock = Clock()
    app = App(cfg, Store(cfg.store.url), clock)
    poll_feed(app, cfg.feeds[0])
    return Desk(app, clock, feed)
