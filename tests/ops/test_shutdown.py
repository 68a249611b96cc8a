"""SIGTERM drains: the worker lets an in-flight activity finish, the API an in-flight request.

Work is kept in flight by holding SQLite's write lock from the test: the action's activity
blocks on the lock (busy timeout) until the test lets go, after the signal was sent.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from temporalio.api.enums.v1 import PendingActivityState, PendingWorkflowTaskState
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from services.config import Settings
from services.db.engine import make_engine
from services.db.migrate import upgrade
from services.worker import build_worker
from tests.e2e.procs import wait_http
from tests.harness import booking, create_tokens, make_api
from tests.ops.support import ApiClient, api_base, api_spec, ops_env, processes, worker_spec
from tests.outages import sqlite_write_locked
from workflows.ids import workflow_id_for

pytestmark = pytest.mark.e2e


@pytest.fixture
def db(tmp_path: Path) -> tuple[Path, str]:
    """A migrated SQLite database: its file and its URL."""
    path = tmp_path / "exportflow.db"
    upgrade(f"sqlite:///{path}")
    return path, f"sqlite:///{path}"


async def activity_in_flight(client: Client, order_id: str, timeout: float = 120) -> str:
    """Wait until an activity of the order's workflow has started (and not finished).

    A remote activity shows as pending; a local one (revision 4) runs inside the workflow task
    that started it, which stays started while the activity runs.
    """
    handle = client.get_workflow_handle(workflow_id_for(order_id))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        described = (await handle.describe()).raw_description
        started = [
            p
            for p in described.pending_activities
            if p.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
        ]
        if started:
            return started[0].activity_type.name
        task = described.pending_workflow_task
        if task.state == PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_STARTED:
            return "a local activity"
        await asyncio.sleep(0.05)
    raise AssertionError("no activity in flight")


async def _refuses_connections(url: str, timeout: float = 30) -> None:
    """Until a connection to `url` is refused (the server took its signal and stopped listening)."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=5) as http:
        while time.monotonic() < deadline:
            try:
                await http.get(url, headers={"Connection": "close"})
            except httpx.ConnectError:
                return
            await asyncio.sleep(0.05)
    raise AssertionError(f"{url} still accepts connections {timeout} s after SIGTERM")


def _settings(env: dict[str, str]) -> Settings:
    """The processes' settings, for the parts the test runs in-process."""
    return Settings(
        database_url=env["EXPORTFLOW_DATABASE_URL"],
        temporal_address=env["EXPORTFLOW_TEMPORAL_ADDRESS"],
        task_queue=env["EXPORTFLOW_TASK_QUEUE"],
        worker_max_concurrent_activities=8,
    )


def _configured(
    temporal_env: WorkflowEnvironment, db: tuple[Path, str]
) -> tuple[dict[str, str], Settings]:
    """Environment of the processes on this database and server, and its settings."""
    env = ops_env(db[1], temporal_env.client.service_client.config.target_host)
    return env, _settings(env)


@asynccontextmanager
async def in_process_worker(settings: Settings, client: Client) -> AsyncIterator[None]:
    """A worker in the test process on the settings' task queue."""
    engine = make_engine(settings.database_url)
    with ThreadPoolExecutor(max_workers=8) as executor:
        async with build_worker(client, settings, engine, executor):
            yield
    engine.dispose()


async def test_sigterm_lets_the_workers_in_flight_activity_finish(
    temporal_env: WorkflowEnvironment, db: tuple[Path, str]
) -> None:
    env, settings = _configured(temporal_env, db)
    async with make_api(settings) as api:
        with processes(worker_spec(env)) as (worker,):
            oid = await api.book(booking())
            await api.wait_state(oid, "COMPLIANCE_REVIEW")
            with sqlite_write_locked(db[0]):
                approve = asyncio.create_task(api.act(oid, "approve", "bob", {}))
                name = await activity_in_flight(temporal_env.client, oid)
                signalled = time.monotonic()
                worker.popen.send_signal(signal.SIGTERM)
                await asyncio.sleep(1.0)
                assert worker.popen.poll() is None, "the worker quit with an activity in flight"
                released = time.monotonic()
            code = await asyncio.to_thread(worker.popen.wait, 40)
            exited = time.monotonic()
            assert code == 0, "".join(worker.drain())
            print(
                f"worker: {name} in flight; exit 0 {exited - released:.2f} s after the "
                f"activity could finish, {exited - signalled:.2f} s after SIGTERM"
            )
        # The activity finished in the stopping worker (no retry): its event is written.
        trail = await api.http.get(f"/api/v1/orders/{oid}/events", headers=api.auth("vic"))
        assert "approve" in [e["action"] for e in trail.json()["items"]]
        # The update's result needs a workflow task: another worker completes it.
        async with in_process_worker(settings, temporal_env.client):
            r = await asyncio.wait_for(approve, 120)
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "AWAITING_LICENSE"
        events = (
            await api.http.get(f"/api/v1/orders/{oid}/events", headers=api.auth("vic"))
        ).json()
        assert [e["action"] for e in events["items"]].count("approve") == 1


async def test_sigterm_lets_the_apis_in_flight_request_complete(
    temporal_env: WorkflowEnvironment, db: tuple[Path, str]
) -> None:
    env, settings = _configured(temporal_env, db)
    async with in_process_worker(settings, temporal_env.client):
        with processes(api_spec(env)) as (server,):
            base = api_base(server)
            wait_http(base + "/readyz")
            api = ApiClient(base, create_tokens(settings.database_url))
            oid = (await api.book(booking())).json()["id"]
            await api.wait_state(oid, "COMPLIANCE_REVIEW")
            with sqlite_write_locked(db[0]):
                approve = asyncio.create_task(api.act(oid, "approve", "bob", {}))
                await activity_in_flight(temporal_env.client, oid)
                signalled = time.monotonic()
                server.popen.send_signal(signal.SIGTERM)
                await _refuses_connections(base + "/healthz")  # no new requests while draining
                assert server.popen.poll() is None, "the API quit with a request in flight"
                released = time.monotonic()
            r = await asyncio.wait_for(approve, 90)
            answered = time.monotonic()
            code = await asyncio.to_thread(server.popen.wait, 40)
            exited = time.monotonic()
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "AWAITING_LICENSE"
    assert code == 0
    print(
        f"api: request answered {answered - released:.2f} s after it could go on; exit 0 "
        f"{exited - answered:.2f} s later, {exited - signalled:.2f} s after SIGTERM"
    )
