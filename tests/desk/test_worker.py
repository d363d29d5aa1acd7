"""The desk is served by `syndicator run`'s own HTTP listener when [desk] is configured, and absent otherwise."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import httpx
import pytest

from syndicator import config
from syndicator.app import App
from syndicator.http import serve_http
from syndicator.store import Store
from syndicator.worker import Worker
from tests.desk.support import CONFIG, ENV, ITEMS, feed_xml


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def served(tmp_path: Path, *, desk: bool) -> list[tuple[str, int, str]]:
    feed = tmp_path / "feed.xml"
    feed.write_text(feed_xml(ITEMS), encoding="utf-8")
    port = free_port()
    text = CONFIG.format(db=tmp_path / "w.db", feed=feed.as_uri(), desk_extra="", name="news")
    desk_section = '[desk]\nlogin_attempts = 3\nlogin_window = "15m"\n'
    assert desk_section in text
    text = text.replace(desk_section, f'[http]\nlisten = "127.0.0.1:{port}"\n\n' + (desk_section if desk else ""))
    cfg = config.parse(text, base_dir=tmp_path, environ=ENV, dry_run=True)
    worker = Worker(App(cfg, Store(cfg.store.url)))
    worker.extra_services.append(serve_http)
    task = asyncio.create_task(worker.run(handle_signals=False))
    seen = []
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            for _ in range(200):  # until the listener is up
                try:
                    await client.get("/healthz")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
            for path in ("/healthz", "/desk/login", "/desk/"):
                r = await client.get(path)
                seen.append((path, r.status_code, r.headers.get("content-type", "")))
    finally:
        worker.stop()
        await asyncio.wait_for(task, 30)
    return seen


@pytest.mark.parametrize("desk", [True, False])
async def test_the_worker_serves_the_desk_only_when_configured(tmp_path: Path, desk: bool) -> None:
    seen = await served(tmp_path, desk=desk)
    assert seen[0][:2] == ("/healthz", 200)
    if desk:
        assert seen[1][1] == 200 and seen[1][2].startswith("text/html")
        assert seen[2][1] == 303  # no session: to the login page
    else:
        assert [s[1] for s in seen[1:]] == [404, 404]
