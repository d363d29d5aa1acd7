"""The four fake platforms of tests/fakes, each answering after a fixed delay, in a process of their own.

    python bench/_platforms.py --delay 0.05     # prints one JSON line {"x": url, "telegram": url, ...}, then serves

A separate process, so the fakes' request handling does not compete with the pipeline for the GIL. Each fake is a
real threaded HTTP server (tests/fakes/server.py); every answer waits `delay` seconds first, as a platform's own
processing time would.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fakes.facebook import FakeFacebook
from tests.fakes.server import FakeServer, Request, Response
from tests.fakes.telegram import TOKEN as TELEGRAM_TOKEN
from tests.fakes.telegram import FakeTelegram
from tests.fakes.twitter import FakeX
from tests.fakes.whatsapp import FakeWhatsApp

FAKES: dict[str, type[FakeServer]] = {
    "x": FakeX,
    "telegram": FakeTelegram,
    "facebook": FakeFacebook,
    "whatsapp": FakeWhatsApp,
}


def delayed(cls: type[FakeServer], delay: float) -> FakeServer:
    class Delayed(cls):  # type: ignore[valid-type,misc]
        def handle(self, request: Request) -> Response:
            time.sleep(delay)
            self.requests.clear()  # the fakes record every request; a benchmark has no use for them
            return super().handle(request)  # type: ignore[no-any-return]

    kwargs: dict[str, Any] = {"window_limit": 10**9} if cls is FakeX else {}
    return no_nagle(Delayed(**kwargs))


def no_nagle(fake: FakeServer) -> FakeServer:
    """BaseHTTPRequestHandler writes the headers and the body separately and leaves Nagle on: on a kept-alive
    connection the body then waits for the client's delayed ACK, ~40 ms more per call. Platforms do not do that."""
    fake._httpd.RequestHandlerClass.disable_nagle_algorithm = True
    return fake


# What the fakes accept, for the configuration the benchmark writes.
SECRETS = {
    "X_API_KEY": "X-API-KEY-not-real",
    "X_API_SECRET": "X-API-SECRET-not-real",
    "X_ACCESS_TOKEN": "1-X-ACCESS-TOKEN-not-real",
    "X_ACCESS_TOKEN_SECRET": "X-ACCESS-SECRET-not-real",
    "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
    "FACEBOOK_PAGE_TOKEN": "EAA-TEST-not-a-real-token",
    "WHATSAPP_TOKEN": "EAAW-TEST-not-a-real-token",
}
FACEBOOK_PAGE = "1234567890"
WHATSAPP_PHONE = "106540352242922"
TELEGRAM_CHAT = "@example_news"
X_HANDLE = "example_news"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--delay", type=float, default=0.05, help="seconds before every answer (default 0.05)")
    args = ap.parse_args()
    fakes = {name: delayed(cls, args.delay).start() for name, cls in FAKES.items()}
    print(json.dumps({name: fake.url for name, fake in fakes.items()}), flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        threading.Event().wait()


if __name__ == "__main__":
    main()
