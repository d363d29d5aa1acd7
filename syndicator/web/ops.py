"""`/healthz` and `/metrics`.

`/healthz` is 503 with a reason in plain words when the scheduler is not running or the store cannot be written:
a write probe (cached for a few seconds, see health.py) and the store faults this worker's polls and deliveries
met (a full disk shows only there). It is exempt from the in-flight cap: a flood of requests never fails it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from syndicator.web.messages import HttpRequest, HttpResponse, Route

METRICS_TIMEOUT = 10.0  # Prometheus' default scrape timeout: an answer later than that is thrown away anyway

Problems = Callable[[], Awaitable[list[str]]]
RenderMetrics = Callable[[str], tuple[bytes, str]]  # Accept header -> (body, content type); blocking


def ops_routes(
    *, worker_id: str, scheduler_alive: Callable[[], bool], store_problems: Problems, metrics: RenderMetrics
) -> list[Route]:
    async def healthz(_req: HttpRequest) -> HttpResponse:
        problems = []
        if not scheduler_alive():
            problems.append("scheduler not running")
        problems += await store_problems()
        if problems:
            return HttpResponse.json(503, {"status": "unhealthy", "reason": "; ".join(problems), "problems": problems})
        return HttpResponse.json(200, {"status": "ok", "worker": worker_id})

    async def render(req: HttpRequest) -> HttpResponse:
        # reading the store blocks: a thread keeps the event loop (and the deliveries) moving
        async with asyncio.timeout(METRICS_TIMEOUT):
            body, content_type = await asyncio.to_thread(metrics, req.headers.get("accept", ""))
        return HttpResponse(200, body, content_type)

    return [Route("GET", "/healthz", healthz, max_body=0, limited=False), Route("GET", "/metrics", render, max_body=0)]


__all__ = ["METRICS_TIMEOUT", "ops_routes"]
