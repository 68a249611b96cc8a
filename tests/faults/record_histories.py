"""Record one workflow history per path into tests/faults/histories/*.json.

Run from the repository root: `python -m tests.faults.record_histories [NAME ...]` (all paths,
or only those named). It starts a Temporal dev server, a worker and the API in-process on a
temporary SQLite database, drives every lifecycle path and the served paths of history_paths
over HTTP, then the timed paths (license expiry, escalation) on the time-skipping test server,
and saves each finished workflow's history. test_replay.py replays them against the
current OrderWorkflow: re-record only when a change is meant to be incompatible (and then guard
running workflows with workflow.patched()).
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from services.db.engine import make_engine
from services.demo import LISTED_END_USER
from services.worker import build_worker
from tests.conftest import tool
from tests.faults.conftest import prepared_db, settings_for
from tests.faults.history_paths import SERVED, TIMED
from tests.faults.support import SHIP, Driver, Plan, Step
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
    return {name: Plan(name, dict(body), first, s) for name, (body, first, s) in steps.items()}


def history_names() -> list[str]:
    """Every saved history: the lifecycle paths and the paths of history_paths."""
    return sorted([*lifecycle_paths(), *SERVED, *TIMED])


def _save(history: WorkflowHistory, path: Path) -> Path:
    path.write_text(json.dumps(json.loads(history.to_json()), indent=1))
    return path


async def record(out: Path, only: set[str] | None = None) -> list[Path]:
    """Drive every path (or those named in `only`) and write its history; the files written."""
    wanted = only or set(history_names())
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
                    driver = Driver(api.http, api.tokens)
                    for name, plan in lifecycle_paths().items():
                        if name in wanted:
                            plan.body["external_ref"] = f"{name}-{uuid.uuid4().hex[:6]}"
                            oid, _ = await driver.run(plan)
                            written.append(await _finished(env, workflow_id_for(oid), out, name))
                    for name, path in SERVED.items():
                        if name in wanted:
                            oid = await path(driver, settings, env.client, Path(tmp))
                            written.append(await _finished(env, workflow_id_for(oid), out, name))
            engine.dispose()
    finally:
        await env.shutdown()
    return written + await _record_timed(out, wanted)


async def _finished(env: WorkflowEnvironment, workflow_id: str, out: Path, name: str) -> Path:
    handle = env.client.get_workflow_handle(workflow_id)
    await handle.result()
    return _save(await handle.fetch_history(), out / f"{name}.json")


async def _record_timed(out: Path, wanted: set[str]) -> list[Path]:
    """The paths that need months to pass, on the time-skipping test server."""
    if not wanted & set(TIMED):
        return []
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
                        if name in wanted:
                            workflow_id = await path(env, settings)
                            written.append(await _finished(env, workflow_id, out, name))
            engine.dispose()
    finally:
        await env.shutdown()
    return written


if __name__ == "__main__":
    # python -m tests.faults.record_histories [NAME ...]: all paths, or only those named.
    HISTORIES.mkdir(exist_ok=True)
    for p in asyncio.run(record(HISTORIES, set(sys.argv[1:]))):
        print("wrote", p)
