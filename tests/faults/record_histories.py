"""Record one workflow history per lifecycle path into tests/faults/histories/*.json.

Run from the repository root: `python -m tests.faults.record_histories`. It starts a Temporal
dev server, a worker and the API in-process on a temporary SQLite database, drives every path
over HTTP, and saves each finished workflow's history: the orders' (the remainder of a split
order too) and the fan-out workflows of the license actions taken on the way.
test_replay.py replays them against the current workflows. Before re-recording after a change
to the commands an order's workflow issues, move the saved histories into a dated folder
(running orders from before the change must keep replaying) and gate the change on
OrderInput.revision.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from services.db.engine import make_engine
from services.demo import LISTED_END_USER
from services.worker import build_worker
from tests.conftest import tool
from tests.faults.change_paths import REMAINDER, PathDriver, order_change_paths
from tests.faults.conftest import prepared_db, settings_for
from tests.faults.history_paths import SERVED, TIMED
from tests.faults.support import SHIP, Plan, Step
from tests.harness import booking, license_body, make_api
from workflows.ids import workflow_id_for

HISTORIES = Path(__file__).parent / "histories"


APPROVE: Step = ("approve", "bob", {"note": "ok"}, "AWAITING_LICENSE")
RETURNED: Step = ("record-license", "bob", {"decision": "returned"}, "AWAITING_LICENSE")
DENIED: Step = ("record-license", "carol", {"decision": "denied"}, "LICENSE_DENIED")
SHIP_IT: Step = ("ship", "alice", SHIP, "SHIPPED")
DELIVER: Step = ("deliver", "alice", None, "DELIVERED")
HOLD: Step = ("hold", "carol", {"reason": "end-use check"}, "ON_HOLD")
RELEASE: Step = ("release", "carol", {"reason": "checked"}, "COMPLIANCE_REVIEW")
REJECT: Step = ("reject", "bob", {"reason": "no"}, "REJECTED")
CANCEL: Step = ("cancel", "alice", {"reason": "customer withdrew"}, "CANCELLED")
CLEAR: Step = ("clear-screening", "bob", {"reason": "other entity"}, "COMPLIANCE_REVIEW")


def _record(number: str) -> Step:
    return ("record-license", "carol", license_body(number), "READY_TO_SHIP")


def lifecycle_paths() -> dict[str, Plan]:
    """Every path of the lifecycle, each to a terminal state: name -> plan."""
    review = "COMPLIANCE_REVIEW"
    listed = booking(sku="RTX-PRO-6000D", end_user=LISTED_END_USER)
    cleared_approve: Step = ("approve", "carol", {"note": "ok"}, "READY_TO_SHIP")
    steps: dict[str, tuple[dict[str, object], str, list[Step]]] = {
        "happy_path_h20": (booking(), review, [APPROVE, _record("R-1"), SHIP_IT, DELIVER]),
        "nlr_rtx_pro": (booking(sku="RTX-PRO-6000D"), "READY_TO_SHIP", [SHIP_IT, DELIVER]),
        "screening_review_cleared": (listed, "SCREENING_REVIEW", [CLEAR, cleared_approve, CANCEL]),
        "rejected": (booking(), review, [REJECT]),
        "license_denied": (booking(), review, [APPROVE, DENIED]),
        "returned_then_approved": (
            booking(),
            review,
            [APPROVE, RETURNED, _record("R-2"), SHIP_IT, DELIVER],
        ),
        "hold_release": (
            booking(),
            review,
            [HOLD, RELEASE, APPROVE, _record("R-3"), SHIP_IT, DELIVER],
        ),
        "cancel_with_allocation": (booking(), review, [APPROVE, _record("R-4"), CANCEL]),
    }
    plans = {name: Plan(name, dict(body), first, s) for name, (body, first, s) in steps.items()}
    return plans | order_change_paths()


# Histories saved besides one per path: the remainder of the split order, and the fan-outs.
EXTRA = ["split_remainder", *(f"license_action_{k}" for k in ("suspend", "reinstate", "revoke"))]


def saved_names() -> list[str]:
    """Every history the recorder saves, by file name without `.json`."""
    return sorted([*lifecycle_paths(), *EXTRA, *SERVED, *TIMED])


history_names = saved_names


async def _save(env: WorkflowEnvironment, workflow_id: str, path: Path) -> Path:
    handle = env.client.get_workflow_handle(workflow_id)
    await handle.result()
    history = await handle.fetch_history()
    path.write_text(json.dumps(json.loads(history.to_json()), indent=1))
    return path


async def _drive(env: WorkflowEnvironment, driver: PathDriver, out: Path) -> list[Path]:
    written = []
    for name, plan in lifecycle_paths().items():
        plan.body["external_ref"] = f"{name}-{uuid.uuid4().hex[:6]}"
        oid, _ = await driver.run(plan)
        if name == "split":
            child = f"{oid}-S1"
            for step in REMAINDER:
                await driver.act(child, step)
            written.append(await _save(env, workflow_id_for(child), out / "split_remainder.json"))
        written.append(await _save(env, workflow_id_for(oid), out / f"{name}.json"))
        for kind, fanout_id in driver.license_actions.items():
            path = out / f"license_action_{kind}.json"
            written.append(await _save(env, fanout_id, path))
        driver.license_actions.clear()
    return written


async def record(out: Path) -> list[Path]:
    """Drive every path and write its history; the files written."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=tool("temporal"), data_converter=pydantic_data_converter, ui=False
    )
    written = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            url = prepared_db(f"sqlite:///{Path(tmp) / 'histories.db'}")
            settings = settings_for(url, env.client.service_client.config.target_host)
            engine = make_engine(url)
            with ThreadPoolExecutor(max_workers=20) as pool:
                async with (
                    build_worker(env.client, settings, engine, pool),
                    make_api(settings) as api,
                ):
                    driver = PathDriver(api.http, api.tokens)
                    written = await _drive(env, driver, out)
                    for name, path in SERVED.items():
                        oid = await path(driver, settings, env.client, Path(tmp))
                        written.append(await _save(env, workflow_id_for(oid), out / f"{name}.json"))
            engine.dispose()
    finally:
        await env.shutdown()
    return written + await _record_timed(out)


async def _record_timed(out: Path) -> list[Path]:
    """The paths that need months to pass, on the time-skipping test server."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=tool("temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    written = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            url = prepared_db(f"sqlite:///{Path(tmp) / 'timed.db'}")
            settings = settings_for(url, "unused")
            engine = make_engine(url)
            with ThreadPoolExecutor(max_workers=20) as pool:
                async with build_worker(env.client, settings, engine, pool):
                    for name, path in TIMED.items():
                        workflow_id = await path(env, settings)
                        written.append(await _save(env, workflow_id, out / f"{name}.json"))
            engine.dispose()
    finally:
        await env.shutdown()
    return written


if __name__ == "__main__":
    HISTORIES.mkdir(exist_ok=True)
    for p in asyncio.run(record(HISTORIES)):
        print("wrote", p)
