"""Record histories of the policy paths into tests/faults/histories/policy/*.json.

Run from the repository root: `python -m tests.faults.record_policy_histories`. Like
`record_histories`, on a dev server, a worker and the API in-process: an order held by a
customs stop at booking and released, an order sent back to review by a rule set's activation,
and the rule set's own workflow (timer, activation, fan-out in batches of one with a
continue-as-new). test_replay.py replays them against the current workflows.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from services.db.engine import make_engine
from services.worker import build_worker
from tests.conftest import tool
from tests.faults.conftest import prepared_db, settings_for
from tests.harness import ApiHarness, booking, make_api
from tests.policy_data import customs_stop, edited, put_in_force, rtx_needs_license
from workflows.ids import workflow_id_for
from workflows.ruleset import ruleset_workflow_id

POLICY_HISTORIES = Path(__file__).parent / "histories" / "policy"
NAMES = ("import_stop_at_booking", "redetermined_on_activation", "ruleset_activation")


def _write(history: WorkflowHistory, out: Path, name: str) -> Path:
    path = out / f"{name}.json"
    path.write_text(json.dumps(json.loads(history.to_json()), indent=1))
    return path


async def _save(client: Client, workflow_id: str, out: Path, name: str) -> list[Path]:
    """The last run's history, and the first run's when it continued as new."""
    handle = client.get_workflow_handle(workflow_id)
    await handle.result()
    last = await handle.fetch_history()
    written = [_write(last, out, name)]
    started = last.events[0].workflow_execution_started_event_attributes
    if started.continued_execution_run_id:
        first = client.get_workflow_handle(workflow_id, run_id=started.first_execution_run_id)
        written.append(_write(await first.fetch_history(), out, f"{name}_first_run"))
    return written


async def _stop_path(api: ApiHarness, url: str) -> str:
    put_in_force(url, edited(f"rec-stop-{uuid.uuid4().hex[:6]}", customs_stop("H20", "CN")))
    oid = await api.book(booking(sku="H20"))
    await api.wait_state(oid, "ON_HOLD")
    await api.act(oid, "release", "carol", {"reason": "stop checked with the forwarder"})
    await api.wait_state(oid, "COMPLIANCE_REVIEW")
    await api.act(oid, "reject", "bob", {"reason": "recorded"})
    return oid


async def _activation_path(api: ApiHarness) -> tuple[str, str]:
    orders = [await api.book(booking(sku="RTX-PRO-6000D")) for _ in range(3)]
    for oid in orders:
        await api.wait_state(oid, "READY_TO_SHIP")
    version = f"rec-act-{uuid.uuid4().hex[:6]}"
    body = {"ruleset": edited(version, rtx_needs_license).model_dump(mode="json")}
    await api.http.post("/api/v1/rulesets", json=body, headers=api.auth("bob"))
    for officer in ("carol", "dave"):
        await api.http.post(f"/api/v1/rulesets/{version}/approve", headers=api.auth(officer))
    await api.wait_state(orders[0], "COMPLIANCE_REVIEW")
    await api.act(orders[0], "reject", "bob", {"reason": "recorded"})
    return orders[0], version


async def record(out: Path) -> list[Path]:
    """Drive the policy paths and write their histories; the files written."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=tool("temporal"), data_converter=pydantic_data_converter, ui=False
    )
    written: list[Path] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            url = prepared_db(f"sqlite:///{Path(tmp) / 'histories.db'}")
            settings = settings_for(url, env.client.service_client.config.target_host)
            settings = settings.model_copy(
                update={"policy_fanout_batch_size": 1, "policy_fanout_batches_per_run": 2}
            )
            engine = make_engine(url)
            with ThreadPoolExecutor(max_workers=20) as pool:
                async with (
                    build_worker(env.client, settings, engine, pool),
                    make_api(settings) as api,
                ):
                    stopped = await _stop_path(api, url)
                    changed, version = await _activation_path(api)
                    for name, wid in zip(
                        NAMES,
                        (workflow_id_for(stopped), workflow_id_for(changed),
                         ruleset_workflow_id(version)),
                        strict=True,
                    ):  # fmt: skip
                        written += await _save(env.client, wid, out, name)
            engine.dispose()
    finally:
        await env.shutdown()
    return written


if __name__ == "__main__":
    POLICY_HISTORIES.mkdir(parents=True, exist_ok=True)
    for p in asyncio.run(record(POLICY_HISTORIES)):
        print("wrote", p)
