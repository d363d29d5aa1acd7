"""The routes the worker serves: health now; metrics and the publish webhook join them here."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from syndicator.http import Handler, HttpRequest, HttpResponse

if TYPE_CHECKING:
    from syndicator.worker import Worker


def routes_for(worker: Worker) -> dict[tuple[str, str], Handler]:
    async def healthz(_req: HttpRequest) -> HttpResponse:
        problems = []
        if not worker.scheduler_alive:
            problems.append("scheduler not running")
        try:
            await asyncio.wait_for(asyncio.to_thread(worker.app.store.ping), 5)
        except Exception as exc:
            problems.append(f"store unreachable: {exc.__class__.__name__}")
        if problems:
            return HttpResponse.json(503, {"status": "unhealthy", "problems": problems})
        return HttpResponse.json(200, {"status": "ok", "worker": worker.app.worker_id})

    return {("GET", "/healthz"): healthz}
