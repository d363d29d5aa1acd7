"""The routes the worker serves: `/healthz` and `/metrics`; the publish webhook joins them here.

`/healthz` is 503 with a reason in plain words when the scheduler is not running or the store cannot be written:
a write probe (cached for a few seconds, see health.py) and the store faults this worker's polls and deliveries
met (a full disk shows only there).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from syndicator.http import Handler, HttpRequest, HttpResponse
from syndicator.metrics import metrics_for

if TYPE_CHECKING:
    from syndicator.worker import Worker

METRICS_TIMEOUT = 10.0  # Prometheus' default scrape timeout: an answer later than that is thrown away anyway


def routes_for(worker: Worker) -> dict[tuple[str, str], Handler]:
    async def healthz(_req: HttpRequest) -> HttpResponse:
        problems = []
        if not worker.scheduler_alive:
            problems.append("scheduler not running")
        problems += await worker.store_health.problems()
        if problems:
            return HttpResponse.json(503, {"status": "unhealthy", "reason": "; ".join(problems), "problems": problems})
        return HttpResponse.json(200, {"status": "ok", "worker": worker.app.worker_id})

    async def metrics(req: HttpRequest) -> HttpResponse:
        # reading the store blocks: a thread keeps the event loop (and the deliveries) moving
        async with asyncio.timeout(METRICS_TIMEOUT):
            body, content_type = await asyncio.to_thread(metrics_for(worker).render, req.headers.get("accept", ""))
        return HttpResponse(200, body, content_type)

    return {("GET", "/healthz"): healthz, ("GET", "/metrics"): metrics}
