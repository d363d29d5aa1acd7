"""Polling at scale: one full poll cycle of N feeds with Syndicator's poller vs the feedparser loop most bots use.

    python bench/bench_poll.py [--feeds 100,1000] [--rounds 1] [--baseline-max 1000] [--latency-ms 0]
    python bench/bench_poll.py --feeds 100 --no-baseline --breakdown 300     # where a poll's time goes
    python bench/bench_poll.py --feeds 10000

A local site (bench/_feedsite.py: asyncio, in its own process so it does not compete for the GIL) serves N
WordPress-shaped RSS feeds of 20 items (~4 KB of content each, ~100 KB a feed) with ETag / Last-Modified. Each
side runs in a fresh interpreter, so its peak RSS is its own. Three cycles: `first` (every feed seen for the first
time: its 20 items are recorded as seen), `unchanged` (every feed answers 304) and `changed` (every feed has one
new item: 20 items parsed, 19 known, 1 new).

* syndicator poll_feed — the worker's real path: the job the scheduler runs, `Worker.scheduled_poll(feed)`, for
  every feed at once, i.e. `polling.poll_feed` in `asyncio.to_thread` (the worker's pool of WORKER_THREADS = 16
  threads): conditional GET, lxml parse, record in a SQLite store (WAL), render and queue one delivery per target
  for four dry-run targets, one JSON log line per event written to /dev/null. The child also holds the worker's
  APScheduler with one (paused) interval job per feed, so peak RSS counts it.
* syndicator fetch+parse — `syndicator.sources.feed.fetch` + `parse` only, run the same way (to_thread, all at
  once), validators and seen ids kept in dicts: the poller without the store, like for like with the baseline.
* feedparser loop — `feedparser.parse(url, etag=…)` for each feed, one after another, and a set of seen entry ids;
  on at most --baseline-max feeds (its rate does not depend on N, and 10,000 feeds would take minutes).

Wall and CPU time (of the polling process, not the site), feeds per second, new TCP connections the site saw
during the cycle, the process's peak RSS, and the feeds-per-second ratio to the feedparser loop. With --rounds R
each child runs R times and the fastest run is kept (other processes on a shared machine only add time).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout: python bench/bench_poll.py

from bench._feedsite import NOW
from bench._support import machine, peak_rss_mb, table

HERE = Path(__file__).resolve()
CYCLES = ("first", "unchanged", "changed")
SIDES = {
    "syndicator": "syndicator poll_feed",
    "fetchparse": "syndicator fetch+parse",
    "feedparser": "feedparser loop",
}

TARGETS = """
[targets.x]
platform = "twitter"
dry_run = true

[targets.tg]
platform = "telegram"
chat = "@bench"
dry_run = true

[targets.fb]
platform = "facebook"
page_id = "1"
dry_run = true

[targets.wa]
platform = "whatsapp"
phone_number_id = "2"
mode = "text"
recipients = ["15550000001"]
dry_run = true
"""


def config_text(base: str, n: int, db: str) -> str:
    feed = '[[feeds]]\nname = "s{i}"\nurl = "{base}/feeds/{i}.rss"\ntargets = ["x", "tg", "fb", "wa"]\n\n'
    feeds = "".join(feed.format(i=i, base=base) for i in range(n))
    return f'[store]\nurl = "sqlite:///{db}"\n\n{feeds}{TARGETS}'


def bump(base: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{base}/_bump", method="POST"), timeout=10).close()


def connections(base: str) -> int:
    """New TCP connections the site has accepted so far (this request's own included)."""
    with urllib.request.urlopen(f"{base}/_stats", timeout=10) as r:
        return int(r.read().split()[-2])


def measure(base: str, n: int, cycle: Callable[[str], int]) -> dict[str, Any]:
    """Run the three cycles; `cycle(name)` polls every feed once and returns how many new items it saw."""
    out: dict[str, Any] = {"rss_ready_mb": peak_rss_mb()}
    for case in CYCLES:
        if case == "changed":
            bump(base)
        conns = connections(base)
        t0, c0 = time.perf_counter(), time.process_time()
        new = cycle(case)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        assert new == (n if case == "changed" else 0), (case, new)
        out[case] = {"wall": wall, "cpu": cpu, "feeds": n, "conns": connections(base) - conns - 1}
    out["rss_peak_mb"] = peak_rss_mb()
    return out


# -- the three sides, each run in its own interpreter -----------------------------------------------------------


def run_syndicator(base: str, n: int) -> dict[str, Any]:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from syndicator import config, logs
    from syndicator.app import App
    from syndicator.store import Store
    from syndicator.store.feeds import ensure_feeds
    from syndicator.worker import WORKER_THREADS, Worker

    logs.setup("json", "info", stream=open(os.devnull, "w"))  # noqa: SIM115 - production logging, to nowhere
    clock = [NOW]
    with tempfile.TemporaryDirectory() as tmp:
        cfg = config.parse(config_text(base, n, f"{tmp}/poll.db"), environ={})
        app = App(cfg, Store(cfg.store.url), clock=lambda: clock[0])
        loop = asyncio.new_event_loop()
        # the pool Worker.run gives its loop (polls are network-bound)
        loop.set_default_executor(ThreadPoolExecutor(max_workers=WORKER_THREADS, thread_name_prefix="syndicator"))
        worker: Worker

        async def start() -> None:
            nonlocal worker
            worker = Worker(app)
            await asyncio.to_thread(ensure_feeds, app.store, {f.name: f.url for f in cfg.feeds})
            # what Worker.run schedules, paused: here the cycles are driven below, but the jobs take memory
            scheduler = AsyncIOScheduler(job_defaults={"coalesce": True, "max_instances": 1}, timezone="UTC")
            for feed in cfg.feeds:
                scheduler.add_job(
                    worker.scheduled_poll, "interval", args=[feed], seconds=120, id=f"poll:{feed.name}",
                    next_run_time=None,
                )  # fmt: skip
            scheduler.start()

        async def poll_all() -> int:
            reports = await asyncio.gather(*(worker.scheduled_poll(f) for f in cfg.feeds))
            bad = [r for r in reports if r is None or r.status not in ("ok", "not_modified")]
            assert not bad, bad[:3]
            return sum(r.new for r in reports if r is not None)

        def cycle(case: str) -> int:
            clock[0] += timedelta(minutes=2)
            return loop.run_until_complete(poll_all())

        loop.run_until_complete(start())
        out = measure(base, n, cycle)
        loop.close()
        app.store.close()
    return out


def run_fetchparse(base: str, n: int) -> dict[str, Any]:
    from syndicator.sources.feed import fetch, parse
    from syndicator.worker import WORKER_THREADS

    urls = [f"{base}/feeds/{i}.rss" for i in range(n)]
    validators: dict[str, tuple[str | None, str | None]] = {}
    seen: dict[str, set[str]] = {}
    loop = asyncio.new_event_loop()
    loop.set_default_executor(ThreadPoolExecutor(max_workers=WORKER_THREADS, thread_name_prefix="syndicator"))

    def poll(i: int, url: str) -> int:
        etag, modified = validators.get(url, (None, None))
        result = fetch(url, etag=etag, last_modified=modified, timeout=20.0)
        validators[url] = (result.etag, result.last_modified)
        if result.status == "not_modified":
            return 0
        parsed = parse(result.body, feed=f"s{i}", base_url=result.final_url, content_type=result.content_type)
        first = url not in seen
        known = seen.setdefault(url, set())
        fresh = [a.id for a in parsed.articles if a.id not in known]
        known.update(fresh)
        return 0 if first else len(fresh)

    async def poll_all() -> int:
        return sum(await asyncio.gather(*(asyncio.to_thread(poll, i, u) for i, u in enumerate(urls))))

    out = measure(base, n, lambda case: loop.run_until_complete(poll_all()))
    loop.close()
    return out


def run_feedparser(base: str, n: int) -> dict[str, Any]:
    import feedparser

    urls = [f"{base}/feeds/{i}.rss" for i in range(n)]
    etags: dict[str, str | None] = {}
    seen: dict[str, set[str]] = {}

    def cycle(case: str) -> int:
        new = 0
        for url in urls:
            d = feedparser.parse(url, etag=etags.get(url))
            etags[url] = d.get("etag")
            known = seen.setdefault(url, set())
            for entry in d.entries:
                key = entry.get("id") or entry.get("link")
                if key not in known:
                    known.add(key)
                    new += case != "first"
        return new

    return measure(base, n, cycle)


STAGES = (
    ("syndicator.polling", "claim_feed", "claim the feed (store)"),
    ("syndicator.polling", "fetch", "fetch (HTTP)"),
    ("syndicator.polling", "parse", "parse (lxml)"),
    ("syndicator.polling", "record_poll", "record_poll (store + render)"),
    ("syndicator.store.articles", "_known", "  which items are known (SELECT)"),
    ("syndicator.store.articles", "_touch", "  touch known items (UPDATE each)"),
    ("syndicator.store.articles", "_insert_article", "  insert the new article"),
    ("syndicator.polling", "render", "  render its posts (4 targets)"),
    ("syndicator.store.articles", "_insert_deliveries", "  insert its deliveries"),
    ("syndicator.polling", "finish_poll", "finish the poll (store)"),
    ("syndicator.logs.EventLogger", "_log", "log events (JSON lines)"),
)


def run_breakdown(base: str, n: int) -> dict[str, Any]:
    """Where a poll's time goes: poll_feed over the feeds one after another, each stage timed by a wrapper."""
    import importlib

    from syndicator import config, logs
    from syndicator.app import App
    from syndicator.polling import poll_feed
    from syndicator.store import Store
    from syndicator.store.feeds import ensure_feeds

    spent: dict[str, float] = dict.fromkeys([label for _, _, label in STAGES], 0.0)

    def timer(fn: Callable[..., Any], label: str) -> Callable[..., Any]:
        def timed(*a: Any, **k: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                spent[label] += time.perf_counter() - t0

        return timed

    for module_name, name, label in STAGES:
        module_path, _, cls = module_name.rpartition(".")
        owner: Any = importlib.import_module(module_name if cls.islower() else module_path)
        if not cls.islower():
            owner = getattr(owner, cls)
        setattr(owner, name, timer(getattr(owner, name), label))
    logs.setup("json", "info", stream=open(os.devnull, "w"))  # noqa: SIM115
    clock = [NOW]
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        cfg = config.parse(config_text(base, n, f"{tmp}/poll.db"), environ={})
        app = App(cfg, Store(cfg.store.url), clock=lambda: clock[0])
        ensure_feeds(app.store, {f.name: f.url for f in cfg.feeds})
        for case in CYCLES:
            if case == "changed":
                bump(base)
            clock[0] += timedelta(minutes=2)
            for label in spent:
                spent[label] = 0.0
            t0, c0 = time.perf_counter(), time.process_time()
            for feed in cfg.feeds:
                poll_feed(app, feed)
            out[case] = {"total": time.perf_counter() - t0, "cpu": time.process_time() - c0, **spent}
        app.store.close()
    out["rss_peak_mb"] = peak_rss_mb()
    return out


def breakdown(base: str, n: int) -> None:
    r = child("breakdown", base, n, 1)
    rows = []
    for _, _, label in (("", "", "poll_feed, whole"), *STAGES):
        cells = [label]
        for case in ("unchanged", "changed"):
            c = r[case]
            value = c["total"] if label == "poll_feed, whole" else c[label]
            cells += [f"{1000 * value / n:.2f}", f"{100 * value / c['total']:.0f} %"]
        rows.append(cells)
    print(f"\nwhere one poll's time goes: poll_feed on {n:,} feeds one after another, each stage timed")
    print(table(rows, ["stage", "unchanged ms/feed", "share", "changed ms/feed", "share"]))


# -- the conductor ----------------------------------------------------------------------------------------------


def child(side: str, base: str, n: int, rounds: int) -> dict[str, Any]:
    """The side's figures for N feeds: per cycle the fastest of `rounds` fresh runs; peak RSS the highest."""
    best: dict[str, Any] = {}
    for _ in range(rounds):
        proc = subprocess.run(
            [sys.executable, str(HERE), "--child", side, "--base", base, "--feeds", str(n)],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode:
            raise SystemExit(f"{side} with {n} feeds failed:\n{proc.stderr}")
        got = json.loads(proc.stdout.strip().splitlines()[-1])
        for case in CYCLES:
            if case not in best or got[case]["wall"] < best[case]["wall"]:
                best[case] = got[case]
        best["rss_peak_mb"] = max(best.get("rss_peak_mb", 0.0), got["rss_peak_mb"])
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--feeds", default="100,1000", help="comma-separated feed counts (default 100,1000)")
    ap.add_argument("--rounds", type=int, default=1, help="fresh runs per side; the fastest is kept (default 1)")
    ap.add_argument("--baseline-max", type=int, default=1000, help="feedparser polls at most this many feeds")
    ap.add_argument("--no-baseline", action="store_true", help="skip the feedparser loop")
    ap.add_argument(
        "--latency-ms", type=float, default=0.0, help="the site waits this long before each feed answer (default 0)"
    )
    ap.add_argument(
        "--breakdown", type=int, metavar="N", default=0, help="also time each stage of poll_feed over N feeds"
    )
    ap.add_argument("--child", choices=(*SIDES, "breakdown"), help=argparse.SUPPRESS)
    ap.add_argument("--base", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.child:
        run = {
            "syndicator": run_syndicator,
            "fetchparse": run_fetchparse,
            "feedparser": run_feedparser,
            "breakdown": run_breakdown,
        }[args.child]
        print(json.dumps(run(args.base, int(args.feeds))))
        return

    counts = [int(x) for x in args.feeds.split(",")]
    site = subprocess.Popen(
        [sys.executable, str(HERE.parent / "_feedsite.py"), "--latency-ms", str(args.latency_ms)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert site.stdout is not None
        base = "http://127.0.0.1:" + site.stdout.readline().split()[1]
        print(f"machine: {machine()}")
        print(
            f"command: python bench/bench_poll.py --feeds {args.feeds} --rounds {args.rounds} "
            f"--baseline-max {args.baseline_max} --latency-ms {args.latency_ms:g}"
            + (" --no-baseline" if args.no_baseline else "")
            + (f" --breakdown {args.breakdown}" if args.breakdown else "")
            + "\n"
        )
        rows = []
        for n in counts:
            results = {side: child(side, base, n, args.rounds) for side in ("syndicator", "fetchparse")}
            if not args.no_baseline:
                results["feedparser"] = child("feedparser", base, min(n, args.baseline_max), args.rounds)
            for case in CYCLES:
                ref = results.get("feedparser", {}).get(case)
                for side, r in results.items():
                    c = r[case]
                    rate = c["feeds"] / c["wall"]
                    ratio = f"{rate / (ref['feeds'] / ref['wall']):.1f}x" if ref and side != "feedparser" else ""
                    label = f"{c['feeds']:,}" + ("*" if c["feeds"] != n else "")
                    rows.append(
                        [
                            f"{n:,} {case}" if side == "syndicator" else "",
                            SIDES[side],
                            label,
                            f"{c['wall']:.2f}",
                            f"{c['cpu']:.2f}",
                            f"{rate:,.0f}",
                            f"{c['conns']:,}",
                            f"{r['rss_peak_mb']:.0f}",
                            ratio,
                        ]
                    )
        header = ["feeds, cycle", "side", "polled", "wall s", "cpu s", "feeds/s", "conns", "peak MB", "vs feedparser"]
        print(table(rows, header, left=2))
        if any(n > args.baseline_max for n in counts) and not args.no_baseline:
            print(f"\n* the feedparser loop polled only the first {args.baseline_max:,} feeds (its rate is the same)")
        print(
            "\ntargets: 1,000 unchanged ≤ 2 s; 1,000 changed ≤ 10 s; peak RSS ≤ 200 MB at 10,000 feeds; "
            "≥ 10x the feedparser loop's feeds/s on changed feeds"
        )
        if args.breakdown:
            breakdown(base, args.breakdown)
    finally:
        site.terminate()
        site.wait()


if __name__ == "__main__":
    main()
