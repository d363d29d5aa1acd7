"""The worker's HTTP service: composes the one ASGI app (syndicator/web) from the parts of the worker each route
uses — health from the scheduler and the store probe, metrics text, the push handlers — and serves it with uvicorn
on `[http] listen` or $PORT, in the worker's loop, until the worker stops.

This is the only HTTP module that sees the `Worker`; the routes take what they use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from syndicator.logs import get_logger
from syndicator.web import build_app, listen_address, start
from syndicator.web.ops import ops_routes

if TYPE_CHECKING:
    from syndicator.worker import Worker

log = get_logger("syndicator.http")


async def serve_http(worker: Worker) -> None:
    """A worker service: runs until cancelled (the worker stopping); a taken port raises `BindError`, which stops
    the worker with exit 1 and one `service.failed` line."""
    address = listen_address(worker.app.config.http.listen)
    if address is None:
        return
    from syndicator.metrics import metrics_for

    routes = ops_routes(
        worker_id=worker.app.worker_id,
        scheduler_alive=lambda: worker.scheduler_alive,
        store_problems=worker.store_health.problems,
        metrics=lambda accept: metrics_for(worker).render(accept),
    )
    routes += worker.pushes.routes()
    if worker.app.config.desk is not None:
        from syndicator.desk.routes import desk_routes

        routes += desk_routes(worker.app, worker.app.config.desk)
    server = await start(build_app(routes), *address)
    log.info("http.listening", address=server.address)
    try:
        await server.wait()
    finally:
        await server.close()  # cancelled: stop accepting, let answers in progress finish


__all__ = ["serve_http"]
