"""The real thing: exportflow's API and worker as processes, on the Temporal dev server."""

from __future__ import annotations

import signal
import time
import uuid
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from tests.e2e.procs import base_env, run, started, wait_http
from tests.harness import booking
from tests.ports import free_port, listening_port

pytestmark = pytest.mark.e2e


def _drive_h20_to_delivery(base: str, tokens: dict[str, str]) -> str:
    def auth(user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[user]}"}

    with httpx.Client(base_url=base + "/api/v1", timeout=30) as http:
        r = http.post("/orders", json=booking(sku="H20"), headers=auth("alice"))
        assert r.status_code == 201, r.text
        oid = r.json()["id"]
        deadline = time.monotonic() + 120
        while (state := http.get(f"/orders/{oid}", headers=auth("alice")).json()["state"]) != (
            "COMPLIANCE_REVIEW"
        ):
            assert time.monotonic() < deadline, f"{oid} stuck in {state}"
            time.sleep(0.1)
        steps = [
            ("approve", "bob", {"note": "ok"}, "AWAITING_LICENSE"),
            (
                "record-license",
                "bob",
                {
                    "decision": "approved",
                    "license_number": f"D{uuid.uuid4().int % 10**6:06d}",
                    "approved_quantity": 10,
                    "approved_value": "120000.00",
                    "expires_on": (date.today() + timedelta(days=400)).isoformat(),
                },
                "READY_TO_SHIP",
            ),
            (
                "ship",
                "alice",
                {"carrier": "DHL", "tracking_number": "T1", "itn": "X20261128999999"},
                "SHIPPED",
            ),
            ("deliver", "alice", None, "DELIVERED"),
        ]
        for action, user, body, expected in steps:
            r = http.post(f"/orders/{oid}/actions/{action}", json=body, headers=auth(user))
            assert r.status_code == 200, r.text
            assert r.json()["state"] == expected
            # Read-your-writes: the status lookup shows the action at once.
            assert http.get(f"/orders/{oid}", headers=auth("bob")).json()["state"] == expected
        events = http.get(f"/orders/{oid}/events", headers=auth("bob")).json()["items"]
        assert [(e["action"], e["to_state"]) for e in events][-4:] == [
            ("approve", "AWAITING_LICENSE"),
            ("record-license", "READY_TO_SHIP"),
            ("ship", "SHIPPED"),
            ("deliver", "DELIVERED"),
        ]
    return str(oid)


def test_api_and_worker_processes_take_an_h20_order_to_delivery(
    temporal_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    env = base_env(
        database_url=f"sqlite:///{tmp_path / 'exportflow.db'}",
        temporal_address=temporal_env.client.service_client.config.target_host,
        task_queue=f"e2e-{uuid.uuid4().hex[:8]}",
        worker_metrics_port=str(free_port()),
    )
    run(["db", "upgrade"], env)
    demo = resources.files("services").joinpath("screening/data/demo-csl.csv")
    with resources.as_file(demo) as path:
        assert "is now active" in run(["screening-list", "import", str(path)], env)
    tokens = {
        user: run(["token", "create", "--user", user, "--role", role], env).strip()
        for user, role in (("alice", "sales_ops"), ("bob", "compliance"))
    }
    with (
        started(["worker"], env, ready="worker polling") as worker,
        started(["api", "--port", "0"], env, ready="Uvicorn running") as api,
    ):
        base = f"http://127.0.0.1:{listening_port(api.lines)}"
        wait_http(base + "/readyz")
        try:
            _drive_h20_to_delivery(base, tokens)
        except AssertionError:
            print("worker output:\n" + "".join(worker.lines))
            raise
        assert api.stop(signal.SIGTERM) == 0
        assert worker.stop(signal.SIGTERM) == 0
