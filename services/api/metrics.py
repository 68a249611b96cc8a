"""Prometheus metrics of the API at /metrics, and the middleware that counts and tags requests.

With several API processes (`exportflow api --workers N`) each process counts on its own;
prometheus-client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR, set before the processes
start) sums them on every scrape, whichever process answers it.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schemas.orders import OrderState
from services.db.models import OrderRow
from services.logs import order_context, order_id_var, tag_order
from services.ops.errors import InvalidInput, NotFound, ServiceUnavailable, status_of
from workflows.rules.transitions import Refusal

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED = "<unmatched>"
# Order ids (workflows.ids) are short and plain; nothing else in a path is taken for one, so
# `/orders/import` is not an order and nothing odd reaches the logs.
_ORDER_PATH = re.compile(r"^/api/v1/orders/(ORD-[A-Za-z0-9]{1,36})(?:/|$)")
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_OUTCOMES = {
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    422: "invalid",
    503: "unavailable",
}

log = logging.getLogger(__name__)


class OrdersByState(Collector):
    """`exportflow_orders{state}` from one GROUP BY on the read model, cached a few seconds."""

    def __init__(self, app: FastAPI, ttl: float = 5.0) -> None:
        self._app = app
        self._ttl = ttl
        self._lock = threading.Lock()
        self._at = float("-inf")
        self._counts: dict[str, int] | None = None

    def collect(self) -> Iterable[Metric]:
        """One gauge sample per state; no samples while the database cannot be read."""
        counts = self._cached_counts()
        if counts is None:
            return
        gauge = GaugeMetricFamily("exportflow_orders", "Orders by state", labels=["state"])
        for state in OrderState:
            gauge.add_metric([state.value], counts.get(state.value, 0))
        yield gauge

    def _cached_counts(self) -> dict[str, int] | None:
        with self._lock:
            if time.monotonic() - self._at < self._ttl:
                return self._counts
            try:
                self._counts = self._query()
                self._at = time.monotonic()
            except SQLAlchemyError as exc:  # a scrape reports what it can; the DB has readyz
                log.warning("orders by state unavailable: %s", type(exc).__name__)
                self._counts = None  # no samples rather than stale ones
            return self._counts

    def _query(self) -> dict[str, int] | None:
        state = getattr(self._app.state, "exportflow", None)
        if state is None:  # before the lifespan has started
            return None
        query = select(col(OrderRow.state), func.count()).group_by(col(OrderRow.state))
        with state.engine.connect() as connection:
            return {str(s): int(n) for s, n in connection.execute(query)}


class ApiMetrics:
    """The API's metrics, on a registry of the app's own (several apps may share a process)."""

    def __init__(self, orders: OrdersByState) -> None:
        self.registry = CollectorRegistry()
        self._orders = orders
        self.requests = Counter(
            "exportflow_http_requests",
            "HTTP requests by method, route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "exportflow_http_request_duration_seconds",
            "HTTP request latency by method and route template",
            ["method", "route"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.actions = Counter(
            "exportflow_actions",
            "Order actions by type and outcome",
            ["action", "outcome"],
            registry=self.registry,
        )
        self.registry.register(orders)

    def render(self) -> bytes:
        """The exposition text: this process's metrics, or every process's in multiprocess mode."""
        if MULTIPROC_ENV not in os.environ:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        registry.register(self._orders)
        return generate_latest(registry)

    @contextmanager
    def action(self, name: str) -> Iterator[None]:
        """Count one action with its outcome: ok, forbidden, not_found, conflict, invalid, …"""
        outcome = "error"
        try:
            yield
            outcome = "ok"
        except HTTPException as exc:
            outcome = _outcome(exc.status_code)
            raise
        except (Refusal, NotFound, InvalidInput, ServiceUnavailable) as exc:
            outcome = _outcome(status_of(exc))
            raise
        finally:
            self.actions.labels(name, outcome).inc()


class ObserveMiddleware:
    """Times and counts each request by route template; tags its log lines with the order."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pure ASGI, so streaming responses and background tasks are left alone."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # what the server answers when the app raises
        started = time.perf_counter()
        counted = False

        def count() -> None:
            nonlocal counted
            if not counted:
                counted = True
                route = _route_template(scope)
                self.metrics.latency.labels(scope["method"], route).observe(
                    time.perf_counter() - started
                )
                self.metrics.requests.labels(scope["method"], route, str(status)).inc()

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                _tag_created_order(message)
            elif not message.get("more_body", False):
                # Counted before the last byte leaves: a scrape made after an answer arrived
                # (by the same client, on any process) always includes it.
                count()
            await send(message)

        match = _ORDER_PATH.match(scope["path"])
        try:
            with order_context(order_id=match.group(1) if match else None):
                await self.app(scope, receive, send_status)
        finally:
            count()  # no body sent (the app raised): counted as the server's 500


def _tag_created_order(message: Message) -> None:
    # A booking learns its order id only at the end: tag the access line uvicorn writes next.
    if order_id_var.get() is not None:
        return
    for name, value in message.get("headers", []):
        if name.lower() == b"location":
            match = _ORDER_PATH.match(value.decode("latin-1"))
            if match:
                tag_order(match.group(1))


def _outcome(status: int) -> str:
    return _OUTCOMES.get(status, str(status))


def _route_template(scope: Scope) -> str:
    # The matched route's template; unknown paths share one label so random URLs cannot blow
    # up the number of series. A route included with a prefix may carry its path without the
    # prefix (newer FastAPI), so the leading segments of the real path stand in for it.
    route: Any = scope.get("route")
    template = getattr(route, "path", None)
    if not isinstance(template, str):
        return UNMATCHED
    actual = scope["path"].strip("/").split("/")
    extra = len(actual) - len(template.strip("/").split("/"))
    return "".join("/" + segment for segment in actual[: max(extra, 0)]) + template


def get_metrics(request: Request) -> ApiMetrics:
    """The app's metrics."""
    metrics: ApiMetrics = request.app.state.metrics
    return metrics


MetricsDep = Annotated[ApiMetrics, Depends(get_metrics)]


async def metrics_endpoint(request: Request) -> Response:
    """Prometheus exposition format (the orders gauge reads the database, off the loop)."""
    body = await run_in_threadpool(get_metrics(request).render)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def install(app: FastAPI) -> None:
    """Count and time every request, tag its log lines with the order, and serve /metrics."""
    # `_created` series double the output and no dashboard reads them.
    disable_created_metrics()  # type: ignore[no-untyped-call]
    metrics = ApiMetrics(OrdersByState(app))
    app.state.metrics = metrics
    app.add_middleware(ObserveMiddleware, metrics=metrics)
    app.add_api_route("/metrics", metrics_endpoint, include_in_schema=False)


@contextmanager
def multiprocess_dir() -> Iterator[Path]:
    """A fresh PROMETHEUS_MULTIPROC_DIR for several API processes, removed afterwards.

    Set it before the processes start (they inherit it). One already set is used as it is:
    whoever set it must empty it before each start, or old counts are summed in.
    """
    existing = os.environ.get(MULTIPROC_ENV)
    if existing:
        yield Path(existing)
        return
    path = tempfile.mkdtemp(prefix="exportflow-metrics-")
    os.environ[MULTIPROC_ENV] = path
    try:
        yield Path(path)
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(path, ignore_errors=True)
