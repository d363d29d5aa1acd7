"""Feed parsing speed: syndicator.sources.parse vs feedparser.parse (a benchmark, not a timed test).

    python bench/bench_parse.py [--repeat N] [--hostile]

Prints microseconds per parse for the bundled sample feed (10 WordPress items with full content) and for a
generated real-shaped feed of 100 items (WordPress RSS 2.0: guid ?p=, categories, dc:creator, content:encoded with
paragraphs, links, an image and entities, media:content), the best of several rounds, and the speed-up.

`--hostile` prints, instead, what hostile sizes cost (issue 12): seconds to parse, seconds to render every item
for the four platforms (what a poll does at ingest), and the peak Python heap (tracemalloc) of both, for megabyte
fields. Every field is capped (syndicator/sources/clean.py), so these stay small and grow with the number of items,
not with their size.
"""

from __future__ import annotations

import argparse
import gc
import html
import json
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from importlib import resources
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout: python bench/bench_parse.py

import feedparser

from syndicator.sources.feed import parse

SAMPLE = Path(str(resources.files("syndicator") / "data" / "sample-feed.rss"))
FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "data" / "site" / "front-page.rss"

_TEXT = (
    "former members of the group said the camp in Albania families visited their children after years of "
    "separation and asked the authorities for access human rights organisations reported that"
)
_WORDS = _TEXT.split()


def generated_feed(items: int = 100) -> bytes:
    """A WordPress-shaped RSS 2.0 feed with `items` items of ~6 KB content each."""
    start = datetime(2025, 12, 1, 8, 30, tzinfo=UTC)
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:atom="http://www.w3.org/2005/Atom" xmlns:media="http://search.yahoo.com/mrss/">\n<channel>\n'
        "<title>Example News</title>\n"
        '<atom:link href="https://www.example.org/en/feed/" rel="self" type="application/rss+xml" />\n'
        "<link>https://www.example.org/en</link>\n<description>English edition</description>\n"
        "<language>en-US</language>\n"
    ]
    for i in range(items):
        post = 30000 + i
        words = [_WORDS[(i + j) % len(_WORDS)] for j in range(900)]
        paragraphs = [" ".join(words[k : k + 60]).capitalize() + "." for k in range(0, 900, 60)]
        body = "\n".join(
            f'<p>{p} It&#8217;s the <a href="https://www.example.org/en/related-{i}-{n}/">story</a> &amp; more.</p>'
            for n, p in enumerate(paragraphs)
        )
        body = (
            f'<p><img src="https://www.example.org/en/wp-content/uploads/2025/12/photo-{i}-1024x576.jpg" '
            f'alt="Photo {i}" width="1024" height="576" /></p>\n{body}'
        )
        when = format_datetime(start + timedelta(hours=5 * i))
        title = f"Families of members ask for a visit &#8211; part {i}"
        parts.append(
            "<item>\n"
            f"<title>{title}</title>\n"
            f"<link>https://www.example.org/en/families-ask-for-a-visit-{i}/</link>\n"
            "<dc:creator><![CDATA[Example Society]]></dc:creator>\n"
            f"<pubDate>{when}</pubDate>\n"
            "<category><![CDATA[Families]]></category>\n<category><![CDATA[Albania]]></category>\n"
            f'<guid isPermaLink="false">https://www.example.org/en/?p={post}</guid>\n'
            f"<description><![CDATA[{html.escape(' '.join(words[:55]))} [&#8230;]]]></description>\n"
            f"<content:encoded><![CDATA[{body}]]></content:encoded>\n"
            f'<media:content url="https://www.example.org/en/wp-content/uploads/2025/12/photo-{i}.jpg" '
            'medium="image" width="1200" height="630" />\n'
            "</item>\n"
        )
    parts.append("</channel>\n</rss>\n")
    return "".join(parts).encode("utf-8")


def best_us(fn: Callable[[], object], repeat: int) -> float:
    """Best-of-rounds microseconds per call."""
    fn()  # warm up
    rounds = []
    for _ in range(5):
        gc.collect()
        t0 = time.perf_counter()
        for _ in range(repeat):
            fn()
        rounds.append((time.perf_counter() - t0) / repeat)
    return min(rounds) * 1e6


MB = 1_000_000
_RENDER_CONFIG = """
[store]
url = "sqlite:///:memory:"
[[feeds]]
name = "bench"
url = "https://example.org/feed/"
targets = ["x", "telegram", "facebook", "whatsapp"]
[targets.x]
platform = "twitter"
dry_run = true
[targets.telegram]
platform = "telegram"
chat = "@bench"
dry_run = true
[targets.facebook]
platform = "facebook"
page_id = "1"
dry_run = true
[targets.whatsapp]
platform = "whatsapp"
phone_number_id = "2"
mode = "text"
recipients = ["15550000001"]
dry_run = true
"""


def _rss(items: list[dict[str, str]]) -> bytes:
    body = "".join(
        "<item>" + "".join(f"<{k}>{html.escape(v, quote=False)}</{k}>" for k, v in item.items()) + "</item>"
        for item in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        f'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>t</title>{body}</channel></rss>'
    ).encode()


def _item(n: int, **fields: str) -> dict[str, str]:
    return {"title": f"Story {n}", "link": f"https://example.org/{n}/", "guid": f"https://example.org/?p={n}", **fields}


def hostile_feeds() -> dict[str, bytes]:
    words = "word " * (MB // 5)
    every = _item(
        1,
        title=words,
        description="\u00c3\u00a9" * (MB // 2),  # mojibake to repair
        **{
            "content:encoded": '<img a:-:-:-:-:-:-:-:-:-:-:-:-:-:-:- src="x">' * (MB // 40),
            "dc:creator": "<a@" * (MB // 3),
            "category": "#tag " * (MB // 5),
        },
    )
    surrogates = {"id": "1", "url": "https://example.org/1/", "title": "\ud800 " * (MB // 2)}
    return {
        "one 1 MB title": _rss([_item(1, title=words)]),
        "9 items, 1 MB title each": _rss([_item(n, title=words) for n in range(9)]),
        "one item, every field 1 MB": _rss([every]),
        "JSON Feed, 1 MB of lone surrogates": json.dumps(
            {"version": "https://jsonfeed.org/version/1.1", "items": [surrogates]}
        ).encode(),
    }


def hostile() -> None:
    from syndicator import config
    from syndicator.render import render

    targets = list(config.parse(_RENDER_CONFIG, environ={}).targets.values())
    print(f"{'feed':<40} {'bytes':>10} {'parse s':>9} {'render s':>9} {'heap MB':>8} {'longest field':>14}")
    for name, data in hostile_feeds().items():
        t0 = time.perf_counter()
        parsed = parse(data, feed="bench")
        t1 = time.perf_counter()
        for article in parsed.articles:
            for target in targets:
                render(article, target)
        t2 = time.perf_counter()
        tracemalloc.start()
        for article in parse(data, feed="bench").articles:
            for target in targets:
                render(article, target)
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        longest = max(
            max(len(a.title), len(a.summary), len(a.content_html), len(a.author), len(a.url), len(a.id))
            for a in parsed.articles
        )
        print(f"{name:<40} {len(data):>10} {t1 - t0:>9.3f} {t2 - t1:>9.3f} {peak:>8.1f} {longest:>14}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5, help="calls per round (5 rounds, best kept)")
    ap.add_argument("--hostile", action="store_true", help="what megabyte fields cost (parse, render, memory)")
    args = ap.parse_args()
    if args.hostile:
        hostile()
        return
    sample = FIXTURE if FIXTURE.exists() else SAMPLE
    feeds = {f"sample ({sample.name}, 10 items)": sample.read_bytes(), "generated (100 items)": generated_feed()}
    print(f"{'feed':<40} {'bytes':>9} {'syndicator µs':>14} {'feedparser µs':>14} {'speed-up':>9}")
    for name, data in feeds.items():
        ours = parse(data, feed="bench")
        theirs = feedparser.parse(data)
        assert len(ours.articles) == len(theirs.entries), (len(ours.articles), len(theirs.entries))
        mine = best_us(lambda data=data: parse(data, feed="bench"), args.repeat)  # type: ignore[misc]
        ref = best_us(lambda data=data: feedparser.parse(data), max(1, args.repeat // 2))  # type: ignore[misc]
        print(f"{name:<40} {len(data):>9} {mine:>14.0f} {ref:>14.0f} {ref / mine:>8.1f}x")


if __name__ == "__main__":
    main()
