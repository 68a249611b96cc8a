"""JSON log lines that name their order, and Prometheus metrics from the API and the worker."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from temporalio.testing import WorkflowEnvironment

from schemas.orders import OrderState
from services.api.app import create_app
from services.api.metrics import OrdersByState
from services.config import Settings
from services.db.migrate import upgrade
from services.demo import LISTED_END_USER, ensure_screening_list
from tests.e2e.procs import wait_http
from tests.harness import booking, create_tokens
from tests.ops.support import (
    ApiClient,
    OpsProc,
    api_base,
    api_spec,
    json_lines,
    ops_env,
    processes,
    worker_spec,
)
from tests.ports import free_port

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@dataclass
class Stack:
    """An API and a worker process on SQLite, a listed party on the screening list."""

    api: OpsProc
    worker: OpsProc
    client: ApiClient
    worker_metrics: str


@pytest.fixture(scope="module")
def stack(
    temporal_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """Started once for the module's tests; SDK metrics on a free port."""
    url = f"sqlite:///{tmp_path_factory.mktemp('obs') / 'exportflow.db'}"
    upgrade(url)
    ensure_screening_list(Settings(database_url=url))
    tokens = create_tokens(url)
    env = ops_env(url, temporal_env.client.service_client.config.target_host)
    metrics_port = free_port()  # the worker's exporter cannot bind port 0 and say which
    worker = worker_spec(env, worker_metrics_port=str(metrics_port))
    with processes(api_spec(env), worker) as (api, wrk):
        base = api_base(api)
        wait_http(base + "/readyz")
        yield Stack(api, wrk, ApiClient(base, tokens), f"http://127.0.0.1:{metrics_port}/metrics")


def _samples(text: str) -> Samples:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def _scrape(url: str) -> Samples:
    async with httpx.AsyncClient() as http:
        r = await http.get(url)
    assert r.status_code == 200, r.text
    return _samples(r.text)


async def test_api_metrics_count_requests_by_route_and_actions_by_outcome(stack: Stack) -> None:
    c = stack.client
    oid = (await c.book(booking(sku="H20"))).json()["id"]
    await c.wait_state(oid, "COMPLIANCE_REVIEW")
    before = await _scrape(stack.client.base + "/metrics")
    assert (await c.act(oid, "approve", "alice", {})).status_code == 403
    assert (await c.act(oid, "approve", "bob", {})).status_code == 200
    assert (await c.act(oid, "approve", "bob", {})).status_code == 409
    assert (await c.http.get("/no/such/path")).status_code == 404
    after = await _scrape(stack.client.base + "/metrics")

    def grew(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    approve = "/api/v1/orders/{order_id}/actions/approve"
    assert grew("exportflow_http_requests_total", method="POST", route=approve, status="200") == 1
    assert grew("exportflow_http_requests_total", method="POST", route=approve, status="409") == 1
    unmatched = {"method": "GET", "route": "<unmatched>", "status": "404"}
    assert grew("exportflow_http_requests_total", **unmatched) == 1
    latency = "exportflow_http_request_duration_seconds_count"
    assert grew(latency, method="POST", route=approve) == 3
    assert (
        _value(
            after,
            "exportflow_http_request_duration_seconds_bucket",
            method="POST",
            route=approve,
            le="+Inf",
        )
        >= 3
    )
    for outcome in ("ok", "conflict", "forbidden"):
        assert grew("exportflow_actions_total", action="approve", outcome=outcome) == 1


def _states(collector: OrdersByState) -> dict[str, float]:
    return {s.labels["state"]: s.value for family in collector.collect() for s in family.samples}


async def test_orders_by_state_is_one_group_by_cached_for_a_while(
    temporal_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'exportflow.db'}"
    upgrade(url)
    # No worker on this queue: booked orders stay BOOKED.
    settings = Settings(
        database_url=url,
        temporal_address=temporal_env.client.service_client.config.target_host,
        task_queue=f"idle-{uuid.uuid4().hex[:8]}",
    )
    app = create_app(settings)
    tokens = create_tokens(url)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            cached = OrdersByState(app, ttl=60)
            assert _states(cached)["BOOKED"] == 0
            for _ in range(2):
                headers = {"Authorization": f"Bearer {tokens['alice']}"}
                r = await http.post("/api/v1/orders", json=booking(), headers=headers)
                assert r.status_code == 201, r.text
            assert _states(cached)["BOOKED"] == 0  # still the cached answer
            fresh = _states(OrdersByState(app, ttl=0))
            metrics = _samples((await http.get("/metrics")).text)
    assert fresh["BOOKED"] == 2
    assert set(fresh) == {s.value for s in OrderState}  # every state, also when empty
    assert _value(metrics, "exportflow_orders", state="BOOKED") == 2
    assert _value(metrics, "exportflow_orders", state="DELIVERED") == 0


async def test_the_worker_exports_sdk_metrics_and_screening_hits(stack: Stack) -> None:
    c = stack.client
    oid = (await c.book(booking(end_user=LISTED_END_USER))).json()["id"]
    await c.wait_state(oid, "SCREENING_REVIEW")
    samples = await _scrape(stack.worker_metrics)
    names = {name for name, _ in samples}
    assert any(n.startswith("temporal_") for n in names), sorted(names)[:20]
    hits = sum(v for (n, _), v in samples.items() if n == "exportflow_screening_hits_total")
    assert hits >= 1
    matched = [dict(lbl) for (n, lbl), _ in samples.items() if n == "exportflow_screenings_total"]
    assert {"potential_match"} <= {m["outcome"] for m in matched}


async def test_every_line_is_json_and_names_the_order_of_the_request(stack: Stack) -> None:
    c = stack.client
    oid = (await c.book(booking())).json()["id"]
    await c.order(oid)
    # uvicorn writes the access line after the answer: wait for it to come through the pipe.
    api_lines = await _lines_until(stack.api, f"GET /api/v1/orders/{oid} ")
    worker_lines = json_lines(stack.worker)
    assert all({"ts", "level", "logger", "message"} <= line.keys() for line in api_lines)
    assert worker_lines
    assert all("message" in line for line in worker_lines)
    access = [line for line in api_lines if f"GET /api/v1/orders/{oid} " in line["message"]]
    assert access[-1]["order_id"] == oid
    assert access[-1]["workflow_id"] == f"order-{oid}"
    # The booking learns its id at the end; its access line carries it all the same.
    booked = [line for line in api_lines if '"POST /api/v1/orders HTTP' in line["message"]]
    assert booked[-1]["order_id"] == oid


async def _lines_until(proc: OpsProc, text: str, timeout: float = 60) -> list[dict[str, Any]]:
    """The process's lines as JSON, once one of them contains `text` (polled, not slept on)."""
    deadline = time.monotonic() + timeout
    while True:
        lines = json_lines(proc)
        if any(text in line["message"] for line in lines):
            return lines
        assert time.monotonic() < deadline, [line["message"] for line in lines][-10:]
        await asyncio.sleep(0.05)


def _multiproc_dir(pid: int) -> Path | None:
    # The supervisor sets the variable after it started, so look at what its children got.
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    for child in children:
        for entry in Path(f"/proc/{child}/environ").read_bytes().split(b"\0"):
            if entry.startswith(b"PROMETHEUS_MULTIPROC_DIR="):
                return Path(entry.split(b"=", 1)[1].decode())
    return None


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_several_api_processes_report_the_sum_of_their_counts(
    temporal_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'exportflow.db'}"
    upgrade(url)
    env = ops_env(url, temporal_env.client.service_client.config.target_host)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with processes(api_spec(env, 0, "--workers", "2")) as (api,):
        base = api_base(api)
        # Ready by /readyz, so /healthz counts only the test's own requests: a probe that timed
        # out on the client is still served, and counted, once the processes are up.
        wait_http(base + "/readyz")
        shared = _multiproc_dir(api.popen.pid)
        assert shared is not None
        assert shared.is_dir()
        # A new connection per request, so both processes take some.
        with httpx.Client(base_url=base, headers={"Connection": "close"}) as http:
            for _ in range(20):
                assert http.get("/healthz").status_code == 200
            for _ in range(4):
                samples = _samples(http.get("/metrics").text)
                healthz = {"method": "GET", "route": "/healthz", "status": "200"}
                assert _value(samples, "exportflow_http_requests_total", **healthz) == 20
        assert api.stop(signal.SIGTERM) == 0
    assert not shared.exists()
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ


def test_worker_metrics_port_in_use_is_refused_in_one_line(
    temporal_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    import socket

    url = f"sqlite:///{tmp_path / 'exportflow.db'}"
    upgrade(url)
    env = ops_env(url, temporal_env.client.service_client.config.target_host)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        spec = worker_spec(env, worker_metrics_port=str(port))
        proc = OpsProc(spec[0], spec[1])
        code = proc.popen.wait(timeout=60)
    output = "".join(proc.drain())
    assert code != 0
    assert "EXPORTFLOW_WORKER_METRICS_PORT" in output, output[-2000:]
