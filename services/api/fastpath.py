"""The status lookup answered in front of FastAPI: the hottest read, without the stack around it.

Clients poll `GET /api/v1/orders/{order_id}` while an order is screened. Its work is small
(cached token, a version read shared with the other lookups in flight, the cached rendered
view); through FastAPI's routing, its dependency resolution and the middleware it took 243 µs,
here 86 (bench/NOTES.md, item 6). Here only the plain success is answered, with the same body
and headers as the route, through the same check of the caller (`auth.status_reader`) and the
same reader and renderer (`state.lookups`, services/ops/views.py). Every other request goes on
to FastAPI unchanged: no, unknown, revoked or expired token, no role, unknown order, HEAD,
anything odd. So refusals and error bodies stay the route's own, and the route stays in the
OpenAPI description.
"""

from __future__ import annotations

import re
import time

from fastapi import FastAPI
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Receive, Scope, Send

from services.api.metrics import ApiMetrics
from services.logs import order_context
from services.ops.auth import status_reader
from services.ops.state import AppState

ROUTE = "/api/v1/orders/{order_id}"  # the route template the metrics middleware reports
# Order ids as workflows.ids makes them (and as the metrics middleware takes them); any other
# path segment goes to the route, which answers it as it always did.
_PATH = re.compile(r"/api/v1/orders/(ORD-[A-Za-z0-9]{1,36})")


class StatusLookupFastPath:
    """Pure ASGI: answers a successful status lookup itself, passes everything else on."""

    def __init__(self, app: ASGIApp, owner: FastAPI, metrics: ApiMetrics) -> None:
        self.app = app
        self._owner = owner  # the FastAPI app; its lifespan puts the AppState on owner.state
        self._metrics = metrics
        self._served: Counter | None = None
        self._latency: Histogram | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve a lookup that succeeds; hand anything else to the app untouched."""
        if scope["type"] == "http" and scope["method"] == "GET":
            started = time.perf_counter()
            order_id = _order_id(scope)
            if order_id is not None:
                with order_context(order_id=order_id):
                    body = await self._lookup(scope, order_id)
                    if body is not None:
                        await self._answer(send, body, started)
                        return
        await self.app(scope, receive, send)

    async def _lookup(self, scope: Scope, order_id: str) -> bytes | None:
        state: AppState | None = getattr(self._owner.state, "exportflow", None)
        if state is None:
            return None
        # The route's own check and renderer (deps.reader calls status_reader too): a refusal
        # is left to the route, which answers it with its usual body.
        try:
            await status_reader(state.auth, _authorization(scope))
            # The route's read: batched with the other lookups in flight.
            return await state.lookups.view(order_id)
        except Exception:  # the route meets the same refusal or failure and answers it
            return None

    async def _answer(self, send: Send, body: bytes, started: float) -> None:
        headers = [
            (b"content-length", str(len(body)).encode()),
            (b"content-type", b"application/json"),
        ]
        try:
            await send({"type": "http.response.start", "status": 200, "headers": headers})
        finally:
            # Counted before the body leaves, as ObserveMiddleware does: a scrape made after
            # the answer arrived always includes it.
            self._observe(time.perf_counter() - started)
        await send({"type": "http.response.body", "body": body})

    def _observe(self, seconds: float) -> None:
        # Same series as ObserveMiddleware's; the children are bound on first use only, so
        # /metrics shows no empty series for a route nobody called.
        if self._served is None or self._latency is None:
            self._served = self._metrics.requests.labels("GET", ROUTE, "200")
            self._latency = self._metrics.latency.labels("GET", ROUTE)
        self._latency.observe(seconds)
        self._served.inc()


def _order_id(scope: Scope) -> str | None:
    if scope.get("root_path"):  # mounted below a prefix: leave path matching to Starlette
        return None
    match = _PATH.fullmatch(scope["path"])
    return match.group(1) if match else None


def _authorization(scope: Scope) -> str | None:
    # The first Authorization header, as Starlette's request.headers.get gives it to the route.
    for name, value in scope["headers"]:
        if name == b"authorization":
            return str(value.decode("latin-1"))
    return None


def install(app: FastAPI) -> None:
    """Put the fast path outermost (call last: `add_middleware` wraps what was added before)."""
    app.add_middleware(StatusLookupFastPath, owner=app, metrics=app.state.metrics)
