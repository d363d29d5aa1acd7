"""Delivery throughput at the limit: a target that allows R posts per second, a quota of R per second, 60 s.

    python bench/bench_throughput.py [--rates 5,20] [--seconds 60] [--margin-ms 0] [--repeat 1]

The fake target is tests/fakes FakeTelegram allowing at most R `sendMessage` calls in any 1-second window (a
sliding window on the same clock as the app) and answering 429 "retry after 1" beyond that. The target is a real
Telegram target (python-telegram-bot) pointed at it with `api_base`, `quotas = ["R/1s"]`, `min_spacing = "0s"`;
a backlog of 1.5 × R × 60 articles is queued through `polling.ingest` (render + outbox) before the clock starts.

The app's clock is injected: it runs with real time (every claim, call and commit takes its real time) and jumps
over the time the loop would spend asleep, so 60 simulated seconds take a few real seconds. Two ways of driving
the same `Dispatcher.run_once`:

* worker loop — what `Worker._delivery_loop` does: rounds of `run_once` until one sends nothing, then sleep for
  `syndicator.worker.idle_seconds` (until the next delivery is due, at most IDLE), here skipped by a jump;
* governor pace — after a round that sends nothing, jump to the time the governor gave for the next post (the
  `until` of the last `ratelimit.wait` event): what a loop that slept until then would do.

Printed per R: posts accepted by the platform in the simulated 60 s, the achieved rate and its share of R (target
≥ 95 %), the 429s the platform had to send (target 0), how often the loop slept, and the real seconds it took.
Whether a post allowed at the very edge of a window draws a 429 depends on timing jitter: use --repeat.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout: python bench/bench_throughput.py

from bench._platforms import SECRETS, TELEGRAM_CHAT, no_nagle
from bench._support import machine, table
from tests.fakes.server import Request, Response
from tests.fakes.telegram import FakeTelegram

CONFIG = """
[store]
url = "sqlite:///{db}"

[[feeds]]
name = "news"
url = "https://www.example.org/feed/"
first_run = "all"
max_age = "0s"
targets = ["tg"]

[targets.tg]
platform = "telegram"
chat = "{chat}"
api_base = "{api}"

[targets.tg.limits]
min_spacing = "0s"
quotas = ["{rate}/{window}ms"]
"""


class Clock:
    """Real time since start, plus the time skipped over: `jump(seconds)` is a sleep that takes no time."""

    def __init__(self) -> None:
        self.start = datetime.now(UTC)
        self._t0 = time.perf_counter()
        self.skipped = 0.0

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=time.perf_counter() - self._t0 + self.skipped)

    def jump(self, seconds: float) -> None:
        self.skipped += max(0.0, seconds)


class LimitedTelegram(FakeTelegram):
    """At most `rate` messages in any 1-second window of `clock`; 429 beyond, as Telegram's flood control."""

    def __init__(self, clock: Callable[[], datetime], rate: int) -> None:
        super().__init__()
        self.clock = clock
        self.rate = rate
        self.accepted: list[datetime] = []
        self.refused = 0
        self._window: deque[datetime] = deque()
        self._limit_lock = threading.Lock()

    def handle(self, request: Request) -> Response:
        self.requests.clear()
        if not request.path.endswith("/sendMessage"):
            return super().handle(request)
        with self._limit_lock:
            now = self.clock()
            while self._window and self._window[0] <= now - timedelta(seconds=1):
                self._window.popleft()
            if len(self._window) >= self.rate:
                self.refused += 1
                body = {
                    "ok": False,
                    "error_code": 429,
                    "description": "Too Many Requests: retry after 1",
                    "parameters": {"retry_after": 1},
                }
                return Response(429, body)
            self._window.append(now)
            self.accepted.append(now)
        return super().handle(request)


async def drive(rate: int, seconds: float, mode: str, margin_ms: int = 0) -> dict[str, Any]:
    from syndicator import config, logs
    from syndicator.app import App
    from syndicator.article import Article
    from syndicator.platforms.telegram.publisher import TelegramPublisher
    from syndicator.polling import ingest
    from syndicator.store import Store
    from syndicator.worker import IDLE, idle_seconds

    logs.setup("json", "info", stream=open(os.devnull, "w"))  # noqa: SIM115 - production logging, to nowhere
    clock = Clock()
    fake = no_nagle(LimitedTelegram(clock, rate)).start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            window = 1000 + margin_ms
            text = CONFIG.format(db=f"{tmp}/throughput.db", chat=TELEGRAM_CHAT, api=fake.url, rate=rate, window=window)
            cfg = config.parse(text, environ=SECRETS)
            app = App(cfg, Store(cfg.store.url), clock=clock)
            # make_publisher gives publishers the wall clock; this one must read a 429's retry_after on ours
            app._publishers["tg"] = TelegramPublisher(cfg.targets["tg"], now=clock)
            feed = cfg.feed("news")
            now = clock()
            backlog = [
                Article(
                    id=f"https://www.example.org/?p={i}",
                    feed="news",
                    url=f"https://www.example.org/story-{i}/",
                    title=f"Story {i}: families ask for a visit after years apart",
                    summary=f"Former members said the camp in Albania, story {i}.",
                    published=now - timedelta(minutes=1, seconds=i),
                )
                for i in range(int(rate * seconds * 1.5))
            ]
            outcome = await asyncio.to_thread(ingest, app, feed, backlog, now=now)
            assert len(outcome.new) == len(backlog), len(outcome.new)

            waits: list[datetime] = []  # the governor's "not before T" answers, from the ratelimit.wait events
            trouble: dict[str, int] = {}

            def observer(event: str, fields: dict[str, Any]) -> None:
                if event == "ratelimit.wait":
                    waits.append(fields["until"])
                elif event in ("delivery.retry", "delivery.failed", "delivery.unknown"):
                    trouble[event] = trouble.get(event, 0) + 1

            undo = logs.observe(observer)

            dispatcher = app.dispatcher()
            start = clock()
            end = start + timedelta(seconds=seconds)
            rounds = jumps = 0
            while clock() < end:
                rounds += 1
                while await dispatcher.run_once() and clock() < end:
                    pass
                if clock() >= end:
                    break
                jumps += 1
                if mode == "worker loop":
                    clock.jump(await idle_seconds(app))
                else:
                    clock.jump((waits[-1] - clock()).total_seconds() if waits else IDLE)
            undo()
            await app.aclose()
    finally:
        fake.stop()
    sent = sum(1 for ts in fake.accepted if start <= ts < end)
    return {"sent": sent, "refused": fake.refused, "jumps": jumps, "trouble": trouble}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rates", default="5,20", help="comma-separated posts per second allowed (default 5,20)")
    ap.add_argument("--seconds", type=float, default=60.0, help="simulated seconds (default 60)")
    ap.add_argument(
        "--margin-ms",
        type=int,
        default=0,
        help="configure the quota's window this much longer than the platform's 1 s (default 0: exactly R/1s)",
    )
    ap.add_argument("--repeat", type=int, default=1, help="runs of each case (429s depend on timing; default 1)")
    args = ap.parse_args()
    print(f"machine: {machine()}")
    print(
        f"command: python bench/bench_throughput.py --rates {args.rates} --seconds {args.seconds:g} "
        f"--margin-ms {args.margin_ms} --repeat {args.repeat}\n"
    )
    rows = []
    for rate in (int(r) for r in args.rates.split(",")):
        for mode in ("worker loop", "governor pace"):
            runs = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                runs.append(asyncio.run(drive(rate, args.seconds, mode, args.margin_ms)))
                runs[-1]["real"] = time.perf_counter() - t0
            worst = min(runs, key=lambda r: r["sent"])
            share = [100 * r["sent"] / (rate * args.seconds) for r in runs]
            rows.append(
                [
                    f"R = {rate}/s, quota {rate}/{1000 + args.margin_ms}ms",
                    mode,
                    f"{rate * args.seconds:.0f}",
                    worst["sent"],
                    f"{worst['sent'] / args.seconds:.2f}",
                    f"{min(share):.1f} %" + (f" – {max(share):.1f} %" if len(runs) > 1 else ""),
                    ", ".join(str(r["refused"]) for r in runs),
                    worst["jumps"],
                    f"{worst['real']:.1f}",
                ]
            )
    header = ["limit", "driven by", "allowed", "posted", "per s", "of R", "429s", "sleeps", "real s"]
    print(table(rows, header, left=2))
    if args.repeat > 1:
        print(f"\n{args.repeat} runs each: posted, per s, sleeps and real s of the worst run; of R from worst to best")
    print("\ntarget: ≥ 95 % of R with zero 429s (allowed = R × simulated seconds)")


if __name__ == "__main__":
    main()
