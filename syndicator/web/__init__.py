"""The worker's HTTP side: one ASGI app (Starlette) served by uvicorn inside the worker's event loop.

- `messages`: the request/answer values every route handler takes and gives (no framework in them);
- `app`: the Starlette app: routes, body limits read while streaming, the in-flight cap `/healthz` is exempt from;
- `ops`: `/healthz` and `/metrics`;
- `server`: uvicorn, with a head deadline, a head size cap and a keep-alive timeout, and no signal handlers of its own.

`syndicator/http.py` composes them for the worker; the push routes live in `syndicator/pushes.py`.
"""

from syndicator.web.app import build_app
from syndicator.web.messages import Handler, HttpRequest, HttpResponse, Route
from syndicator.web.server import RunningServer, listen_address, start

__all__ = ["Handler", "HttpRequest", "HttpResponse", "Route", "RunningServer", "build_app", "listen_address", "start"]
