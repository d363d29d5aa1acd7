"""One poisoned or oversized item costs that item only: through `syndicator poll`, on SQLite and PostgreSQL.

Lone surrogates, NUL, C0/C1 controls and megabyte fields from a feed (RSS, Atom, JSON Feed) or a WordPress REST
answer are cleaned and capped before the store and the logs (sources/clean.py); an item that still cannot be stored
is skipped with `article.skipped` and a reason, and the healthy items beside it are stored and queued — on this
poll and the next. No wall-clock assertion here: bench/bench_parse.py prints the figures.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from sqlalchemy import select

from syndicator import config
from syndicator.app import App
from syndicator.article import Article
from syndicator.cli import main
from syndicator.events import ArticleSkipped, captured
from syndicator.polling import ingest
from syndicator.sources import clean
from syndicator.sources.wordpress import to_article
from syndicator.store import Store
from syndicator.store import tables as t
from syndicator.store.articles import FeedPolicy, Incoming, NewDelivery, record_poll

CONFIG = """
[store]
url = "{db}"

[[feeds]]
name = "news"
url = "{feed}"
language = "en"
first_run = "all"
max_age = "0s"
targets = ["x", "telegram", "facebook", "whatsapp"]

[targets.x]
platform = "twitter"
dry_run = true

[targets.telegram]
platform = "telegram"
chat = "@news"
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
"""
TARGETS = 4
LOG_LINE_CAP = 16_000  # no log line of a poll, whatever the feed says, is longer than this
MB = 1_000_000


# ── the real command on a local file feed ─────────────────────────────────────────────────────────────────────
class Poller:
    def __init__(self, tmp_path: Path, store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
        self.feed = tmp_path / "feed"
        self.cfg = tmp_path / "syndicator.toml"
        self.cfg.write_text(CONFIG.format(db=store_url, feed=self.feed))
        self.store_url = store_url
        self.capsys = capsys

    def poll(self, document: bytes) -> tuple[str, list[dict[str, Any]]]:
        """Publish `document` and run `syndicator poll`: its stdout and its log events (every line must parse)."""
        self.feed.write_bytes(document)
        self.capsys.readouterr()
        assert main(["--config", str(self.cfg), "--log-format", "json", "poll"]) == 0
        out = self.capsys.readouterr()
        lines = out.err.splitlines()
        assert lines, "the poll logged nothing"
        longest = max(len(line) for line in lines)
        assert longest <= LOG_LINE_CAP, f"a log line of {longest} characters"
        events = [json.loads(line) for line in lines]
        failed = [e for e in events if e["event"] in ("feed.failed", "render.failed", "store.failed")]
        assert not failed, failed
        return out.out, events

    def articles(self) -> dict[str, dict[str, Any]]:
        store = Store(self.store_url)
        try:
            with store.engine.connect() as conn:
                rows = conn.execute(select(t.articles).order_by(t.articles.c.id)).mappings().all()
                counts: dict[int, int] = {}
                for (article_id,) in conn.execute(select(t.deliveries.c.article_id)):
                    counts[article_id] = counts.get(article_id, 0) + 1
        finally:
            store.close()
        return {row["guid"]: {**row, "deliveries": counts.get(row["id"], 0)} for row in rows}


@pytest.fixture
def poller(tmp_path: Path, store_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: Any) -> Poller:
    monkeypatch.delenv("SYNDICATOR_DB_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    return Poller(tmp_path, store_url, capsys)


# ── feed documents ────────────────────────────────────────────────────────────────────────────────────────────
def json_feed(items: list[dict[str, Any]]) -> bytes:
    # ensure_ascii: a lone surrogate is written as the escape "\ud800", as a hostile feed would
    doc = {"version": "https://jsonfeed.org/version/1.1", "title": "News", "items": items}
    return json.dumps(doc, ensure_ascii=True).encode("ascii")


def json_item(n: int, **fields: Any) -> dict[str, Any]:
    return {
        "id": f"https://example.org/?p={n}",
        "url": f"https://example.org/story-{n}/",
        "title": f"Story {n}",
        "summary": f"What happened in story {n}.",
        "date_published": "2026-01-10T08:00:00Z",
        **fields,
    }


def rss_feed(items: list[str]) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<channel><title>News</title><link>https://example.org/</link>{''.join(items)}</channel></rss>"
    ).encode()


def rss_item(n: int, title: str | None = None, **raw: str) -> str:
    """An RSS item; `title` is escaped, the `raw` elements are written as given (already escaped markup)."""
    parts = {
        "title": escape(title if title is not None else f"Story {n}"),
        "link": f"https://example.org/story-{n}/",
        "guid": f"https://example.org/?p={n}",
        "description": f"What happened in story {n}.",
        **raw,
    }
    return "<item>" + "".join(f"<{k}>{v}</{k}>" for k, v in parts.items()) + "</item>"


def atom_feed(entries: list[str]) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>News</title>'
        f"<id>urn:news</id>{''.join(entries)}</feed>"
    ).encode()


def atom_entry(n: int, title: str = "", *, base64_title: bytes | None = None) -> str:
    if base64_title is not None:
        title_el = f'<title mode="base64" type="text">{base64.b64encode(base64_title).decode()}</title>'
    else:
        title_el = f"<title>{escape(title or f'Story {n}')}</title>"
    return (
        f'<entry>{title_el}<link href="https://example.org/story-{n}/"/><id>https://example.org/?p={n}</id>'
        f"<updated>2026-01-10T08:00:00Z</updated><summary>Story {n}.</summary></entry>"
    )


# ── what "clean" means ────────────────────────────────────────────────────────────────────────────────────────
def assert_clean(row: dict[str, Any]) -> None:
    """Every text field encodable, without NUL or C0/C1 controls (newlines and tabs only where multi-line), and
    within its cap."""
    one_line = ("guid", "url", "title", "author", "language", "image_url")
    for name in (*one_line, "summary", "content_html", "categories"):
        value = row[name] or ""
        value.encode("utf-8")  # no lone surrogate
        allowed = "" if name in one_line else "\n\t"
        bad = [c for c in value if (ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F) and c not in allowed]
        assert not bad, (name, bad[:5])
    assert len(row["title"]) <= clean.TITLE_CHARS
    assert len(row["summary"]) <= clean.SUMMARY_CHARS
    assert len(row["content_html"]) <= clean.CONTENT_CHARS
    assert len(row["author"]) <= clean.AUTHOR_CHARS
    assert len(row["url"]) <= clean.URL_CHARS and len(row["guid"]) <= clean.ID_CHARS
    categories = json.loads(row["categories"])
    assert len(categories) <= clean.CATEGORIES and all(len(c) <= clean.CATEGORY_CHARS for c in categories)


def skipped(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e["event"] == "article.skipped"]


def polled(events: list[dict[str, Any]]) -> dict[str, Any]:
    return next(e for e in events if e["event"] == "feed.polled")


# ── lone surrogates ───────────────────────────────────────────────────────────────────────────────────────────
def test_json_feed_with_lone_surrogates_beside_healthy_items(poller: Poller) -> None:
    poisoned = json_item(
        2,
        title="Breaking \ud800 news",
        summary="half of a pair \udc00 here",
        content_html="<p>broken \ud83d emoji, whole \ud83d\ude00 one</p>",
        tags=["tag\ud800", "ok"],
        authors=[{"name": "Jane \udfff Doe"}],
    )
    keyed = json_item(3, id="https://example.org/?p=3&x=\ud800", url="https://example.org/story-3/\udbff")
    out, events = poller.poll(json_feed([json_item(1), poisoned, keyed, json_item(4)]))
    assert "news: ok — 4 items, 4 new" in out
    rows = poller.articles()
    assert len(rows) == 4
    for row in rows.values():
        assert_clean(row)
        assert row["deliveries"] == TARGETS  # queued (and, on dry-run targets, sent)
    bad = rows["https://example.org/?p=2"]
    assert bad["title"] == "Breaking \ufffd news"
    assert "\U0001f600" in bad["content_html"] and "\ufffd" in bad["content_html"]
    assert json.loads(bad["categories"]) == ["tag\ufffd", "ok"] and bad["author"] == "Jane \ufffd Doe"
    assert not skipped(events)

    # the next poll is fine too: the poisoned items are known and unchanged, the new one is queued
    out, events = poller.poll(json_feed([json_item(5), json_item(1), poisoned, keyed, json_item(4)]))
    assert "news: ok — 5 items, 1 new, 0 updated" in out
    rows = poller.articles()
    assert len(rows) == 5 and rows["https://example.org/?p=5"]["deliveries"] == TARGETS


# ── NUL ───────────────────────────────────────────────────────────────────────────────────────────────────────
NUL_FEEDS: dict[str, Callable[[], bytes]] = {
    "rss": lambda: rss_feed(
        [
            rss_item(1),
            rss_item(2, "NUL\x00byte in the title"),  # raw: the XML is ill-formed and read again
            rss_item(3, description="NUL in the\x00 summary"),
            rss_item(4),
        ]
    ),
    "rss-reference": lambda: rss_feed(
        [rss_item(1), rss_item(2, "TITLE").replace("TITLE", "NUL&#0;ref, as a character reference"), rss_item(3)]
    ),
    "atom-base64": lambda: atom_feed(
        [atom_entry(1), atom_entry(2, base64_title=b"NUL\x00 decoded from base64"), atom_entry(3)]
    ),
    "json": lambda: json_feed(
        [
            json_item(1),
            json_item(2, title="NUL\u0000 in the title", summary="and\u0000here", content_html="<p>\u0000</p>"),
            json_item(3, authors=[{"name": "A\u0000B"}], tags=["t\u0000ag"], id="https://example.org/?p=3\u0000"),
            json_item(4),
        ]
    ),
}


@pytest.mark.parametrize("kind", list(NUL_FEEDS))
def test_nul_in_a_title_stores_the_item_and_its_neighbours(poller: Poller, kind: str) -> None:
    document = NUL_FEEDS[kind]()
    count = document.count(b"<item>") + document.count(b"<entry>") + document.count(b'"id"')
    out, events = poller.poll(document)
    assert f"news: ok — {count} items, {count} new" in out and not skipped(events)
    rows = poller.articles()
    assert len(rows) == count
    for row in rows.values():
        assert_clean(row)
        assert row["deliveries"] == TARGETS
    titles = {row["title"] for row in rows.values()}
    assert any(title.startswith("NUL") for title in titles)
    out, _ = poller.poll(document + b"\n")  # a new ETag-less body, the same items: nothing fails, nothing new
    assert f"news: ok — {count} items, 0 new, 0 updated" in out


# ── C0 / C1 controls ──────────────────────────────────────────────────────────────────────────────────────────
def test_control_characters_are_removed_from_every_field(poller: Poller) -> None:
    controls = "".join(chr(c) for c in [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)])
    item = json_item(
        2,
        title="A\x01B\x1b[31mC\x7fD",
        summary=f"first line\nsecond\tline {controls} end",
        content_html=f"<p>para\x0bgraph{controls}</p>\r\n<p>two</p>",
        authors=[{"name": "Ja\x07ne"}],
        tags=["x\x9fy"],
    )
    out, _ = poller.poll(json_feed([json_item(1), item, json_item(3)]))
    assert "news: ok — 3 items, 3 new" in out
    rows = poller.articles()
    for row in rows.values():
        assert_clean(row)
    row = rows["https://example.org/?p=2"]
    assert row["title"] == "AB[31mCD"
    assert row["author"] == "Jane"
    assert "\r" not in row["content_html"] and "<p>two</p>" in row["content_html"]


# ── size ──────────────────────────────────────────────────────────────────────────────────────────────────────
HOSTILE_SHAPES = [
    "word " * (MB // 5),  # plain words
    "<a@" * (MB // 3),  # once cubic in the RSS author pattern
    '<img a:-:-:-:-:-:-:-:-:-:-:-:-:-:-:-:-:-:-:-:-:-:-:-:-:- src="x">' * (MB // 60),  # once quadratic (<img> attrs)
    "\u00c3\u00a9" * (MB // 2),  # mojibake to repair
    "\u0627\u0644 " * (MB // 3),  # right-to-left
    "#tag " * (MB // 5),
]


def test_a_feed_of_megabyte_titles_is_capped(poller: Poller) -> None:
    document = rss_feed([*(rss_item(n, shape) for n, shape in enumerate(HOSTILE_SHAPES, start=1)), rss_item(99)])
    assert len(document) > len(HOSTILE_SHAPES) * MB * 0.9
    out, events = poller.poll(document)
    assert f"news: ok — {len(HOSTILE_SHAPES) + 1} items, {len(HOSTILE_SHAPES) + 1} new" in out
    rows = poller.articles()
    assert len(rows) == len(HOSTILE_SHAPES) + 1
    for row in rows.values():
        assert_clean(row)
        assert row["deliveries"] == TARGETS
    assert all(len(e.get("title", "")) <= clean.TITLE_CHARS for e in events)


def test_an_item_with_every_field_a_megabyte_is_capped(poller: Poller) -> None:
    words, author, img, mojibake, rtl, hashtags = HOSTILE_SHAPES
    item = rss_item(
        1,
        words,
        description=escape(mojibake),
        **{"content:encoded": escape(img), "dc:creator": escape(author), "category": escape(rtl)},
    )
    categories = "".join(f"<category>{i} {escape(hashtags[:300])}</category>" for i in range(5_000))
    document = rss_feed([item.replace("</item>", categories + "</item>"), rss_item(2)])
    out, _ = poller.poll(document)
    assert "news: ok — 2 items, 2 new" in out
    rows = poller.articles()
    for row in rows.values():
        assert_clean(row)
        assert row["deliveries"] == TARGETS
    assert len(json.loads(rows["https://example.org/?p=1"]["categories"])) == clean.CATEGORIES


def test_a_json_feed_of_megabyte_titles_and_lists_is_capped(poller: Poller) -> None:
    items = [
        json_item(
            n,
            title=shape,
            summary=shape[: MB // 4],
            content_html=shape,
            authors=[{"name": shape[: MB // 4]}, {"name": "Jane"}],
            tags=[f"tag {i}" for i in range(10_000)],
        )
        for n, shape in enumerate(HOSTILE_SHAPES[:3], start=1)
    ]
    document = json_feed([*items, json_item(99)])
    assert len(document) > 3 * 2.5 * MB
    out, _ = poller.poll(document)
    assert "news: ok — 4 items, 4 new" in out
    rows = poller.articles()
    for row in rows.values():
        assert_clean(row)
    assert len(json.loads(rows["https://example.org/?p=1"]["categories"])) == clean.CATEGORIES


def test_an_item_that_cannot_be_kept_whole_is_skipped_with_a_reason(poller: Poller) -> None:
    long_url = "https://example.org/" + "a" * 3000
    feed = json_feed(
        [
            json_item(1),
            json_item(2, url=long_url, id=""),  # a cut URL would be a wrong link: skipped
            json_item(3, url="http://[::1/broken", id="urn:three"),  # cannot be canonicalised: kept as it is
            json_item(4, id="x" * 50_000),  # too long to index: a stable hash of it
            json_item(5, date_published="9999-12-31T23:59:59Z", date_modified="0001-01-01T00:00:00+14:00"),
            json_item(6),
        ]
    )
    out, events = poller.poll(feed)
    assert "news: ok — 6 items, 5 new" in out
    [event] = skipped(events)
    assert event["reason"].startswith("url longer than 2048")
    assert len(event["url"]) <= 300 and polled(events)["rejected"] == 1
    rows = poller.articles()
    assert len(rows) == 5
    for row in rows.values():
        assert_clean(row)
        assert row["deliveries"] == TARGETS
    assert rows["https://example.org/?p=5"]["published_at"] is None  # an absurd date is no date
    hashed = [guid for guid in rows if guid.startswith("sha256:")]
    assert len(hashed) == 1

    out, events = poller.poll(feed)  # the same again: the hashed id is stable, the long URL skipped again
    assert "news: ok — 6 items, 0 new, 0 updated" in out and len(skipped(events)) == 1


# ── WordPress REST ────────────────────────────────────────────────────────────────────────────────────────────
def wordpress_post(n: int, **fields: Any) -> dict[str, Any]:
    return {
        "id": n,
        "status": "publish",
        "link": f"https://example.org/story-{n}/",
        "guid": {"rendered": f"https://example.org/?p={n}"},
        "title": {"rendered": f"Story {n}"},
        "excerpt": {"rendered": f"<p>Story {n} [&hellip;]</p>"},
        "content": {"rendered": f"<p>Story {n}.</p>"},
        "date_gmt": "2026-01-10T08:00:00",
        "modified_gmt": "2026-01-10T08:00:00",
        "_embedded": {"author": [{"name": "Jane"}], "wp:term": [[{"name": "News"}]]},
        **fields,
    }


POISONED_POST = wordpress_post(
    2,
    guid={"rendered": "https://example.org/?p=2\ud800"},
    link="https://example.org/story-2/\x00",
    title={"rendered": "Title \ud800 with NUL\x00 and \x1b[31m"},
    excerpt={"rendered": "<p>" + "excerpt " * (MB // 8) + "</p>"},
    content={"rendered": "<p>" + "<b>content</b>\x00 " * (MB // 16) + "</p>"},
    _embedded={
        "author": [{"name": "Jane\ud800" * 10_000}],
        "wp:term": [[{"name": f"term {i}\x85"} for i in range(500)], "not a list", [None]],
        "wp:featuredmedia": [{"source_url": "https://example.org/" + "i" * 5000 + ".jpg"}],
    },
)


def test_wordpress_rest_answer_is_cleaned_and_capped() -> None:
    article = to_article(json.loads(json.dumps(POISONED_POST)), feed="news", language="en")
    assert article.id == "https://example.org/?p=2%EF%BF%BD"  # U+FFFD, percent-encoded
    assert article.title == "Title \ufffd with NUL and [31m"
    assert article.url == "https://example.org/story-2/"
    assert len(article.summary) <= clean.SUMMARY_CHARS and len(article.content_html) <= clean.CONTENT_CHARS
    assert len(article.author) <= clean.AUTHOR_CHARS and "\ufffd" in article.author
    assert len(article.categories) == clean.CATEGORIES and article.image_url is None  # an image URL too long
    malformed = to_article({"status": "publish", "link": [], "title": 5, "_embedded": []}, feed="news", language="en")
    assert malformed.title == "5" and malformed.categories == ()


def test_wordpress_rest_poison_is_ingested_beside_healthy_posts(store_url: str) -> None:
    cfg = config.parse(CONFIG.format(db=store_url, feed="https://example.org/feed/"), environ={})
    app = App(cfg, Store(cfg.store.url), clock=lambda: datetime(2026, 1, 10, 12, 0, tzinfo=UTC))
    feed = cfg.feed("news")
    posts = [wordpress_post(1), POISONED_POST, wordpress_post(3)]
    try:
        with captured() as events:
            articles = [to_article(json.loads(json.dumps(p)), feed="news", language="en") for p in posts]
            outcome = ingest(app, feed, articles, now=app.clock(), push=True)
        assert len(outcome.new) == 3 and not outcome.rejected
        assert not [e for e in events if isinstance(e, ArticleSkipped)]
        # a push of an item that cannot be stored is skipped with its reason, like a poll's
        too_long = to_article(wordpress_post(4, link="https://example.org/" + "x" * 3000), feed="news", language="en")
        with captured() as events:
            outcome = ingest(app, feed, [too_long], now=app.clock(), push=True)
        [event] = [e for e in events if isinstance(e, ArticleSkipped)]
        assert event.reason.startswith("url longer than") and len(event.url) <= 300 and not outcome.new
    finally:
        app.store.close()


# ── the store's own per-item isolation, for what a source might still hand it ─────────────────────────────────
def incoming(n: int, **fields: Any) -> Incoming:
    article = Article(id=f"https://example.org/?p={n}", feed="news", url=f"https://example.org/{n}/", title=f"S{n}")
    if fields:
        from dataclasses import replace

        article = replace(article, **fields)
    return Incoming(article, f"example.org/?p={n}", f"example.org/{n}")


def deliveries(_article: Article) -> list[NewDelivery]:
    return [NewDelivery("telegram", "", "{}")]


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = Store(store_url)
    yield s
    s.close()


POLICY = FeedPolicy(name="news", latest_on_first_run=None, max_age=None)
NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def test_an_item_the_store_refuses_is_rolled_back_alone(store: Store) -> None:
    items = [
        incoming(1),
        incoming(2, title="surrogate \ud800"),  # unencodable: fails before the database
        incoming(3, published=datetime(2026, 1, 1)),  # naive: refused by the column type
        incoming(4, summary="NUL\x00"),  # PostgreSQL refuses it; SQLite keeps it
        incoming(5),
    ]
    outcome = record_poll(store, POLICY, items, now=NOW, make_deliveries=deliveries)
    rejected = {a.id: reason for a, reason in outcome.rejected}
    assert "https://example.org/?p=2" in rejected and "UnicodeEncodeError" in rejected["https://example.org/?p=2"]
    assert "https://example.org/?p=3" in rejected and "naive" in rejected["https://example.org/?p=3"]
    if store.is_postgres:
        assert "https://example.org/?p=4" in rejected
    assert all(len(reason) <= 200 and "INSERT" not in reason for reason in rejected.values())
    with store.engine.connect() as conn:
        stored = {r.guid for r in conn.execute(select(t.articles.c.guid))}
        queued = conn.execute(select(t.deliveries.c.id)).all()
    assert stored == {a.article.id for a in items} - set(rejected)
    assert len(queued) == len(stored) == len(outcome.new)


def test_a_store_fault_still_rolls_back_the_whole_poll(store: Store) -> None:
    calls = []

    def failing(article: Article) -> list[NewDelivery]:
        calls.append(article.id)
        if len(calls) == 2:
            raise RuntimeError("not an item's fault")
        return deliveries(article)

    with pytest.raises(RuntimeError):
        record_poll(store, POLICY, [incoming(1), incoming(2), incoming(3)], now=NOW, make_deliveries=failing)
    with store.engine.connect() as conn:  # the first item's savepoint was not committed on its own
        assert conn.execute(select(t.articles.c.id)).all() == []
