"""The worker's periodic recheck sweep, end to end: nobody signals anything by hand.

A worker process with a one-second sweep; a new screening-list snapshot imported with the
command line that lists the end user of an order waiting for its license. The sweep notices
the order was screened against an older snapshot, signals it, and the workflow re-screens it
back into review; an order screened against the new snapshot already is left alone.
"""

from __future__ import annotations

import csv
import uuid
from importlib import resources
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from services.config import Settings
from tests.e2e.procs import run
from tests.faults.conftest import prepared_db
from tests.harness import ApiHarness, booking, make_api
from tests.ops.support import ops_env, processes, worker_spec

pytestmark = pytest.mark.e2e

NEWCO = "Guangzhou Newco Accelerator Co., Ltd."


def _snapshot_listing(path: Path, name: str) -> Path:
    """The bundled demo list plus one entry for `name`, as a CSL file."""
    demo = resources.files("services").joinpath("screening/data/demo-csl.csv")
    with demo.open(encoding="utf-8") as f:
        reader = csv.DictReader(f)
        header, rows = list(reader.fieldnames or []), list(reader)
    rows.append({**rows[0], "_id": "newco-sweep", "name": name, "alt_names": ""})
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=header, quoting=csv.QUOTE_ALL)
        writer.writeheader()
        writer.writerows(rows)
    return path


async def _events(api: ApiHarness, oid: str) -> list[dict[str, object]]:
    r = await api.http.get(f"/api/v1/orders/{oid}/events", headers=api.auth("vic"))
    return list(r.json()["items"])


async def test_the_sweep_rescreens_orders_checked_against_an_older_snapshot(
    temporal_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    url = prepared_db(f"sqlite:///{tmp_path / 'exportflow.db'}")
    env = ops_env(url, temporal_env.client.service_client.config.target_host)
    settings = Settings(
        database_url=url,
        temporal_address=env["EXPORTFLOW_TEMPORAL_ADDRESS"],
        task_queue=env["EXPORTFLOW_TASK_QUEUE"],
    )
    with processes(worker_spec(env, recheck_interval_seconds="1")):
        async with make_api(settings) as api:
            waiting = await api.book(booking(end_user=NEWCO, ref=f"S-{uuid.uuid4().hex[:6]}"))
            await api.wait_state(waiting, "COMPLIANCE_REVIEW", timeout=120)
            assert (await api.act(waiting, "approve", "bob", {})).status_code == 200
            before = await _events(api, waiting)

            imported = run(
                ["screening-list", "import", str(_snapshot_listing(tmp_path / "new.csv", NEWCO))],
                env,
            )
            assert "is now active" in imported
            # Booked after the import: screened against the new snapshot, nothing to redo.
            fresh = await api.book(booking(sku="RTX-PRO-6000D", end_user="Example Labs Ltd."))
            await api.wait_state(fresh, "READY_TO_SHIP", timeout=120)

            order = await api.wait_state(waiting, "SCREENING_REVIEW", timeout=120)
            assert [h["entry_id"] for h in order["screening"]["hits"]] == ["newco-sweep"]
            after = await _events(api, waiting)
            assert after[: len(before)] == before
            rescreen = after[len(before)]
            assert (rescreen["actor"], rescreen["action"]) == ("system", "rescreen")
            assert (rescreen["from_state"], rescreen["to_state"]) == (
                "AWAITING_LICENSE",
                "SCREENING_REVIEW",
            )
            assert "rescreen" not in [e["action"] for e in await _events(api, fresh)]
