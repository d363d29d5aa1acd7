"""Publish latency: from the poll that sees a new article to the fourth target's stored receipt.

    python bench/bench_latency.py [--articles 200] [--delay 0.05]

The real worker (`Worker.run`: scheduler, delivery loop, JSON log lines to /dev/null) runs with four real targets —
X (tweepy), Telegram (python-telegram-bot), a Facebook Page and WhatsApp (one recipient) — pointed with `api_base`
at the fakes of tests/fakes, which run in a process of their own (bench/_platforms.py) and answer every call after
`--delay` seconds (the platform's own time). Limits never throttle (`min_spacing = "0s"`, `quotas =
["100000/1m"]`); the store is SQLite (WAL) in a temporary directory; the feed is served by tests/fakes FeedSite.

For each article: the feed gets one new item (no image: one platform call per target), then the clock starts and
`Worker.poll(feed)` runs — the job the scheduler runs (fetch, parse, record, render, queue, wake the delivery
loop); the clock stops when the fourth `delivery.sent` event is logged, i.e. after its receipt was committed. Five
warm-up articles are not counted. Printed: p50/p95/p99/max per target and for all four, against two baselines —
the platform time alone (`--delay`) and the four publishers called directly and concurrently, with no pipeline.
Then the same for publishing by push: a signed `POST /hooks/publish` to the worker's listener (what the WordPress
snippet sends) until the fourth receipt — the webhook's verification, the conditional re-fetch, and the pipeline.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout: python bench/bench_latency.py

from bench._platforms import FACEBOOK_PAGE, SECRETS, TELEGRAM_CHAT, WHATSAPP_PHONE, X_HANDLE
from bench._support import machine, percentile, table
from syndicator.article import Post

HERE = Path(__file__).resolve()
TARGETS = ("x", "tg", "fb", "wa")
PLATFORMS = {"x": "twitter", "tg": "telegram", "fb": "facebook", "wa": "whatsapp"}
WARM_UP = 5

HOOK_SECRET = "bench-webhook-secret-not-real-0123456789"
CONFIG = """
[store]
url = "sqlite:///{db}"

[http]
listen = "127.0.0.1:{port}"

[webhook]
secret_env = "BENCH_HOOK_SECRET"

[[feeds]]
name = "news"
url = "{feed}"
every = "1h"
targets = ["x", "tg", "fb", "wa"]

[targets.x]
platform = "twitter"
handle = "{x_handle}"
api_base = "{x}"

[targets.tg]
platform = "telegram"
chat = "{tg_chat}"
api_base = "{telegram}"

[targets.fb]
platform = "facebook"
page_id = "{fb_page}"
api_base = "{facebook}"

[targets.wa]
platform = "whatsapp"
phone_number_id = "{wa_phone}"
mode = "text"
recipients = ["15550000001"]
api_base = "{whatsapp}"
"""
LIMITS = '\n[targets.{name}.limits]\nmin_spacing = "0s"\nquotas = ["100000/1m"]\n'


def feed_document(count: int) -> bytes:
    """The newest 20 of `count` articles, newest first, dated a minute ago."""
    when = format_datetime(datetime.now(UTC) - timedelta(minutes=1), usegmt=True)
    items = "".join(
        f"<item><title>Story {i}: families ask for a visit after years apart</title>"
        f"<link>https://www.example.org/en/story-{i}/</link><guid isPermaLink='false'>https://www.example.org/?p={i}</guid>"
        f"<pubDate>{when}</pubDate><description>Former members said the camp in Albania, story {i}.</description>"
        "</item>"
        for i in range(count - 1, max(-1, count - 21), -1)
    )
    return f"<rss version='2.0'><channel><title>News</title><link>https://www.example.org/</link>{items}</channel></rss>".encode()


def summary(values: list[float]) -> list[str]:
    ms = [v * 1000 for v in values]
    return [f"{percentile(ms, 50):.0f}", f"{percentile(ms, 95):.0f}", f"{percentile(ms, 99):.0f}", f"{max(ms):.0f}"]


async def run(urls: dict[str, str], articles: int, delay: float) -> list[list[str]]:
    from syndicator import config, logs
    from syndicator.app import App
    from syndicator.http import serve_http
    from syndicator.store import Store
    from syndicator.worker import Worker
    from tests.fakes.feeds import FeedSite

    logs.setup("json", "info", stream=open(os.devnull, "w"))  # noqa: SIM115 - production logging, to nowhere
    sent: list[tuple[str, float]] = []
    trouble: list[str] = []
    arrived = asyncio.Event()

    polled: list[str] = []

    def observer(event: str, fields: dict[str, Any]) -> None:
        if event == "feed.polled":
            polled.append(str(fields.get("feed")))
        elif event == "delivery.sent":
            sent.append((str(fields["target"]), time.perf_counter()))
            if len(sent) == len(TARGETS):
                arrived.set()
        elif event in ("delivery.retry", "delivery.failed", "delivery.unknown", "dispatch.error", "feed.failed"):
            trouble.append(f"{event}: {fields}")
            arrived.set()

    logs.observe(observer)
    with tempfile.TemporaryDirectory() as tmp, FeedSite() as site:
        site.feeds["/news/feed/"] = feed_document(20)
        port = _free_port()
        text = CONFIG.format(
            port=port,
            db=f"{tmp}/latency.db",
            feed=site.url_for("/news/feed/"),
            x_handle=X_HANDLE,
            tg_chat=TELEGRAM_CHAT,
            fb_page=FACEBOOK_PAGE,
            wa_phone=WHATSAPP_PHONE,
            **urls,
        ) + "".join(LIMITS.format(name=n) for n in TARGETS)
        cfg = config.parse(text, environ={**SECRETS, "BENCH_HOOK_SECRET": HOOK_SECRET})
        app = App(cfg, Store(cfg.store.url))
        app.prepare_publishers()
        feed = cfg.feed("news")

        # baseline 2: the four publishers alone, called at once (platform time + client libraries, no pipeline)
        direct: list[float] = []
        for i in range(WARM_UP + articles):
            words = f"Direct {i}: families ask for a visit https://www.example.org/d/{i}/"
            post = Post(platform="", text=words, length=len(words), limit=4096, link=f"https://www.example.org/d/{i}/")
            t0 = time.perf_counter()
            await asyncio.gather(*(app.publisher(cfg.targets[n]).publish(_post_for(post, n)) for n in TARGETS))
            if i >= WARM_UP:
                direct.append(time.perf_counter() - t0)

        worker = Worker(app)
        worker.extra_services.append(serve_http)
        # its scheduler polls the feed once now: 20 items seen
        running = asyncio.create_task(worker.run(handle_signals=False))
        while not polled:
            await asyncio.sleep(0.01)

        total: list[float] = []
        per_target: dict[str, list[float]] = {n: [] for n in TARGETS}
        for i in range(WARM_UP + articles):
            site.feeds["/news/feed/"] = feed_document(21 + i)
            sent.clear()
            arrived.clear()
            t0 = time.perf_counter()
            report = await worker.poll(feed)
            assert report.new == 1, report
            await asyncio.wait_for(arrived.wait(), 30)
            if trouble:
                raise SystemExit("\n".join(trouble))
            if i >= WARM_UP:
                total.append(max(t for _, t in sent) - t0)
                for name, t in sent:
                    per_target[name].append(t - t0)

        # on publish: a signed POST /hooks/publish (what the WordPress snippet sends) → the fourth receipt
        hooked: list[float] = []
        for i in range(WARM_UP + articles):
            site.feeds["/news/feed/"] = feed_document(21 + WARM_UP + articles + i)
            sent.clear()
            arrived.clear()
            t0 = time.perf_counter()
            status = await asyncio.to_thread(_signed_hook, port, f"https://www.example.org/en/story-{i}/")
            assert status == 202, status
            await asyncio.wait_for(arrived.wait(), 30)
            if trouble:
                raise SystemExit("\n".join(trouble))
            if i >= WARM_UP:
                hooked.append(max(t for _, t in sent) - t0)
        worker.stop()
        await running

    base = delay * 1000
    rows = [[f"{name} (one target)", *summary(values), ""] for name, values in per_target.items()]
    rows.append(["all four, last receipt", *summary(total), f"{percentile(total, 95) * 1000 - base:+.0f}"])
    rows.append(["signed webhook → all four", *summary(hooked), f"{percentile(hooked, 95) * 1000 - base:+.0f}"])
    rows.append(["baseline: four publishers alone", *summary(direct), f"{percentile(direct, 95) * 1000 - base:+.0f}"])
    rows.append(["baseline: platform time", *(f"{base:.0f}" for _ in range(4)), "+0"])
    return rows


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _signed_hook(port: int, url: str) -> int:
    from syndicator.sources.webhook import sign

    body = json.dumps({"feed": "news", "url": url, "status": "publish", "nonce": uuid.uuid4().hex}).encode()
    stamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "X-Syndicator-Timestamp": str(stamp),
        "X-Syndicator-Signature": sign(HOOK_SECRET, stamp, body),
    }
    return requests.post(f"http://127.0.0.1:{port}/hooks/publish", data=body, headers=headers, timeout=10).status_code


def _post_for(post: Post, target: str) -> Post:
    """The post as each platform takes it (WhatsApp: to one recipient, plain text)."""
    return replace(post, platform=PLATFORMS[target], recipient="15550000001" if target == "wa" else "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=200, help="articles timed (default 200)")
    ap.add_argument("--delay", type=float, default=0.05, help="the platforms' own time per call (default 0.05 s)")
    args = ap.parse_args()
    fakes = subprocess.Popen(
        [sys.executable, str(HERE.parent / "_platforms.py"), "--delay", str(args.delay)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert fakes.stdout is not None
        urls = json.loads(fakes.stdout.readline())
        print(f"machine: {machine()}")
        print(f"command: python bench/bench_latency.py --articles {args.articles} --delay {args.delay}\n")
        rows = asyncio.run(run(urls, args.articles, args.delay))
        print(
            table(
                rows,
                ["poll sees article → receipt stored", "p50 ms", "p95 ms", "p99 ms", "max ms", "p95 over platform"],
            )
        )
        print(
            f"\ntarget: p95 ≤ 250 ms for all four (the platform's {args.delay * 1000:.0f} ms + ≤ 50 ms of pipeline, "
            "targets sent concurrently)"
        )
    finally:
        fakes.terminate()
        fakes.wait()


if __name__ == "__main__":
    main()
