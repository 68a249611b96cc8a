"""The worker's telemetry: SDK metrics on a Prometheus port, Core logs and activity context."""

from __future__ import annotations

import logging
from typing import Any

from temporalio import activity
from temporalio.client import Client
from temporalio.common import MetricMeter
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from schemas.orders import ScreeningResult
from services.config import Settings
from services.logs import order_context


def worker_runtime(settings: Settings) -> Runtime:
    """A runtime exporting SDK metrics on host:port (unless port 0), with Core's logs in ours."""
    metrics = None
    if settings.worker_metrics_port:
        address = f"{settings.worker_metrics_host}:{settings.worker_metrics_port}"
        metrics = PrometheusConfig(bind_address=address)
    core_logs = LoggingConfig(
        filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
        # Core's Rust logs would otherwise go to stderr as plain text, breaking the JSON lines.
        forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")),
    )
    return Runtime(telemetry=TelemetryConfig(logging=core_logs, metrics=metrics))


def install_worker_runtime(settings: Settings) -> Runtime:
    """Make `worker_runtime` the process default, before any client connects."""
    try:
        runtime = worker_runtime(settings)
    except ValueError as exc:  # the exporter could not bind
        where = f"{settings.worker_metrics_host}:{settings.worker_metrics_port}"
        raise SystemExit(
            f"exportflow worker: cannot serve metrics on {where} ({exc}); choose another port "
            "with EXPORTFLOW_WORKER_METRICS_PORT (0 turns them off)"
        ) from exc
    Runtime.set_default(runtime)
    return runtime


def meter_of(client: Client) -> MetricMeter:
    """The metric meter of the runtime the client (and so the worker) runs on."""
    return (client.service_client.config.runtime or Runtime.default()).metric_meter


class ActivityTelemetry(Interceptor):
    """Tags activity log lines with order and workflow id; counts screening matches."""

    def __init__(self, meter: MetricMeter) -> None:
        self._hits = meter.create_counter(
            "exportflow_screening_hits", "Potential screening-list matches found", "hits"
        )
        self._screenings = meter.create_counter(
            "exportflow_screenings", "Orders screened, by outcome", "orders"
        )

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        """Wrap every activity execution."""
        return _Inbound(next, self)

    def count(self, result: Any) -> None:
        """Count one screening result: its outcome and each potential match."""
        if not isinstance(result, ScreeningResult):
            return
        self._screenings.add(1, {"outcome": result.status})
        for hit in result.hits:
            self._hits.add(1, {"party": hit.party, "source": hit.source})


class _Inbound(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, owner: ActivityTelemetry) -> None:
        super().__init__(next)
        self._owner = owner

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        # The SDK copies this context into the thread that runs a sync activity.
        with order_context(workflow_id=activity.info().workflow_id):
            result = await self.next.execute_activity(input)
        self._owner.count(result)
        return result
