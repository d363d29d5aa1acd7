"""A WhatsApp broadcast: one article to N recipients (default 10,000) against a zero-latency local fake Cloud API.

    python bench/bench_broadcast.py [--recipients 10000] [--pace-ms 0,2] [--stores sqlite,postgres]

The fake (tests/fakes FakeWhatsApp, answering at once) runs in its own process (bench/_platforms.py --delay 0).
A real WhatsApp target (the publisher over real HTTP) with `recipients_file` of N numbers, `mode = "text"` and the
given `pace`; one article is queued through `polling.ingest` (render + N deliveries), then the dispatcher runs
as `syndicator poll` drives it (`Dispatcher.run_once` until the outbox is empty; when the governor holds the
target back, the loop sleeps until the next delivery is due, as the worker's loop does). Messages per second is
N over the dispatcher's wall time; with a pace, the smallest gap between two `sending` marks shows the pace held.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from bench._platforms import SECRETS, WHATSAPP_PHONE
from bench._support import machine, peak_rss_mb, table
from bench.bench_cycle import store_url

HERE = Path(__file__).resolve()

CONFIG = """
[store]
url = "{db}"

[[feeds]]
name = "news"
url = "https://www.example.org/feed/"
first_run = "all"
targets = ["wa"]

[targets.wa]
platform = "whatsapp"
phone_number_id = "{phone}"
token_env = "WHATSAPP_TOKEN"
api_base = "{api}"
mode = "text"
recipients_file = "{recipients}"
pace = "{pace}ms"
"""


async def broadcast(api: str, n: int, pace_ms: float, kind: str) -> dict[str, Any]:
    from sqlalchemy import func, select

    from syndicator import config, logs
    from syndicator.app import App
    from syndicator.article import Article
    from syndicator.polling import ingest
    from syndicator.store import Store
    from syndicator.store import tables as t
    from syndicator.store.deliveries import next_due
    from syndicator.worker import WORKER_THREADS

    logs.setup("json", "info", stream=open(os.devnull, "w"))  # noqa: SIM115 - production logging, to nowhere
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=WORKER_THREADS))
    with tempfile.TemporaryDirectory() as tmpdir, store_url(kind, Path(tmpdir)) as url:
        tmp = Path(tmpdir)
        numbers = tmp / "recipients.txt"
        numbers.write_text("".join(f"1555{i:07d}\n" for i in range(n)), encoding="utf-8")
        text = CONFIG.format(db=url, phone=WHATSAPP_PHONE, api=api, recipients=numbers, pace=pace_ms)
        cfg = config.parse(text, base_dir=tmp, environ=SECRETS)
        app = App(cfg, Store(cfg.store.url))
        now = app.clock()
        article = Article(
            id="https://www.example.org/?p=1",
            feed="news",
            url="https://www.example.org/story-1/",
            title="Families ask for a visit after years apart",
            summary="Former members said the camp in Albania families visited their children.",
            published=now - timedelta(minutes=1),
        )
        t0 = time.perf_counter()
        outcome = await asyncio.to_thread(ingest, app, cfg.feed("news"), [article], now=now)
        queued = time.perf_counter() - t0
        assert len(outcome.new) == 1
        dispatcher = app.dispatcher()
        t0, c0 = time.perf_counter(), time.process_time()
        sent = 0
        while sent < n:
            got = await dispatcher.run_once()
            sent += got
            if not got:  # held back by the governor: sleep until the next one is due, as the worker's loop does
                due = await asyncio.to_thread(next_due, app.store, ["wa"])
                if due is None:
                    break
                await asyncio.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()))
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        d = t.deliveries
        with app.store.engine.connect() as conn:
            counts = conn.execute(select(d.c.state, func.count()).group_by(d.c.state)).all()
            states: dict[str, int] = {str(state): int(count) for state, count in counts}
            marks = sorted(r.sending_at for r in conn.execute(select(d.c.sending_at).where(d.c.state == "sent")))
        await app.aclose()
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(marks)]
    return {
        "recipients": n,
        "pace_ms": pace_ms,
        "store": kind,
        "queued_s": queued,
        "wall": wall,
        "cpu": cpu,
        "states": states,
        "min_gap_ms": 1000 * min(gaps) if gaps else None,
        "rss_peak_mb": peak_rss_mb(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recipients", type=int, default=10_000)
    ap.add_argument("--pace-ms", default="0,2", help="comma-separated paces to run (default 0,2)")
    ap.add_argument("--stores", default="sqlite,postgres")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--api", help=argparse.SUPPRESS)
    ap.add_argument("--pace", type=float, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(broadcast(args.api, args.recipients, args.pace, args.child))))
        return

    fakes = subprocess.Popen(
        [sys.executable, str(HERE.parent / "_platforms.py"), "--delay", "0"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert fakes.stdout is not None
        api = json.loads(fakes.stdout.readline())["whatsapp"]
        print(f"machine: {machine()}")
        print(
            f"command: python bench/bench_broadcast.py --recipients {args.recipients} --pace-ms {args.pace_ms} "
            f"--stores {args.stores}\n"
        )
        rows = []
        for kind in args.stores.split(","):
            for pace in (float(p) for p in args.pace_ms.split(",")):
                cmd = [sys.executable, str(HERE), "--child", kind, "--api", api, "--recipients", str(args.recipients)]
                proc = subprocess.run([*cmd, "--pace", str(pace)], capture_output=True, text=True, check=False)
                if proc.returncode:
                    raise SystemExit(f"{kind} pace {pace} failed:\n{proc.stderr[-4000:]}")
                r = json.loads(proc.stdout.strip().splitlines()[-1])
                gap = f"{r['min_gap_ms']:.2f}" if r["min_gap_ms"] is not None else ""
                rows.append(
                    [
                        kind, f"{pace:g} ms", f"{r['recipients']:,}", f"{r['queued_s']:.2f}", f"{r['wall']:.2f}",
                        f"{r['cpu']:.2f}", f"{r['recipients'] / r['wall']:,.0f}", gap, json.dumps(r["states"]),
                        f"{r['rss_peak_mb']:.0f}",
                    ]
                )  # fmt: skip
        header = ["store", "pace", "recipients", "queue s", "send s", "cpu s", "msgs/s", "min gap ms", "states", "MB"]
        print(table(rows, header, left=2))
        print("\ntarget: ≥ 1,000 messages/s with no pace; with a pace, no two sends closer than it")
    finally:
        fakes.terminate()
        fakes.wait()


if __name__ == "__main__":
    main()
