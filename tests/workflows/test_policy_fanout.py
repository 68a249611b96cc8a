"""The activation fan-out survives losing its worker mid-batch and continues as new."""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from temporalio import activity
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from schemas.common import Role
from schemas.orders import BookOrderRequest, OrderState
from schemas.ruleset_io import FanOutBatch, FanOutResult
from schemas.rulesets import StageRuleSet
from services.config import Settings
from services.db import auth_repo, orders_repo
from services.db.engine import make_engine, session_factory
from services.orders_start import start_order_workflow
from services.policy import store
from services.policy.timers import start_timer
from services.policy.views import view
from services.worker import build_worker, policy_activities
from tests.harness import booking
from tests.policy_data import edited, rtx_needs_license
from workflows.ids import workflow_id_for
from workflows.order import OrderWorkflow
from workflows.ruleset import ruleset_workflow_id
from workflows.ruleset_activities import RuleSetActivities

ORDERS = 7  # batches of 2: 2, 2, 2, 1; two batches per run, then continue-as-new


class LosesItsWorker(RuleSetActivities):
    """The third batch does its work (signals, progress) and then its worker goes away before
    the result reaches Temporal: the attempt is lost and retried elsewhere."""

    def __init__(self, real: RuleSetActivities) -> None:
        super().__init__(real._store, real._signal)
        self.calls = 0
        self.stuck = asyncio.Event()

    @activity.defn(name="ruleset_fan_out_batch")
    async def fan_out_batch(self, req: FanOutBatch) -> FanOutResult:
        """As the real one, but the third call never reports its result."""
        self.calls += 1
        result = await super().fan_out_batch(req)
        if self.calls == 3:
            self.stuck.set()
            await activity.wait_for_worker_shutdown()
            raise RuntimeError("worker went away before reporting the batch")
        return result


async def _book_nlr(client: Client, settings: Settings, engine: object) -> list[str]:
    ids = []
    for _ in range(ORDERS):
        with session_factory(engine, write=True)() as session:  # type: ignore[arg-type]
            row = orders_repo.insert_order(
                session,
                order_id=f"ORD-FO{uuid.uuid4().hex[:8].upper()}",
                booking=BookOrderRequest.model_validate(booking(sku="RTX-PRO-6000D")),
                created_by="alice",
                idempotency_key=None,
                request_hash="x",
                now=datetime.now(UTC),
            )
            session.commit()
        await start_order_workflow(client, row, task_queue=settings.task_queue)
        ids.append(row.id)
    return ids


async def _wait_states(client: Client, ids: list[str], state: OrderState) -> None:
    deadline = asyncio.get_running_loop().time() + 90
    for oid in ids:
        handle = client.get_workflow_handle_for(OrderWorkflow.run, workflow_id_for(oid))
        while (await handle.query(OrderWorkflow.status)).state is not state:
            assert asyncio.get_running_loop().time() < deadline, f"{oid} never {state}"
            await asyncio.sleep(0.05)


async def test_a_fan_out_resumes_on_another_worker_and_signals_each_order_once(
    private_db_url: str, temporal_env: WorkflowEnvironment
) -> None:
    client = temporal_env.client
    settings = Settings(
        database_url=private_db_url,
        temporal_address=client.service_client.config.target_host,
        task_queue=f"fo-{uuid.uuid4().hex[:8]}",
        policy_fanout_batch_size=2,
        policy_fanout_batches_per_run=2,
        worker_max_concurrent_activities=10,
    )
    engine = make_engine(private_db_url)
    write = session_factory(engine, write=True)
    lossy = LosesItsWorker(policy_activities(client, engine))
    version = f"fo-{uuid.uuid4().hex[:6]}"
    with ThreadPoolExecutor(max_workers=10) as pool:
        async with build_worker(client, settings, engine, pool, policy=lossy):
            ids = await _book_nlr(client, settings, engine)
            await _wait_states(client, ids, OrderState.READY_TO_SHIP)
            now = datetime.now(UTC)
            with write() as session:
                for officer in ("bob", "carol"):
                    auth_repo.create_token(session, user=officer, role=Role.COMPLIANCE, now=now)
                body = StageRuleSet(ruleset=edited(version, rtx_needs_license))
                store.stage(session, body=body, actor="dave", now=now)
                store.approve(session, version=version, actor="bob", note=None, now=now)
                row = store.approve(session, version=version, actor="carol", note=None, now=now)
                session.commit()
            await start_timer(client, row, settings)
            await asyncio.wait_for(lossy.stuck.wait(), timeout=90)
        # That worker is gone mid-batch; another one takes over.
        async with build_worker(client, settings, engine, pool):
            await _wait_states(client, ids, OrderState.COMPLIANCE_REVIEW)
            handle = client.get_workflow_handle(ruleset_workflow_id(version))
            assert await handle.result() == "active"
    with session_factory(engine)() as session:
        found = view(session, version)
        trails = [orders_repo.list_events(session, order_id=oid) for oid in ids]
    engine.dispose()
    assert lossy.calls == 3
    assert found.fan_out is not None
    assert (found.fan_out.done, found.fan_out.total) == (7, 7)
    # `changed` counts the orders each reported batch signalled: the retried batch finds the
    # two orders its lost attempt changed already changed, unless their signals are still queued.
    assert 5 <= found.fan_out.changed <= 7
    assert found.fan_out.finished_at is not None
    for trail in trails:
        assert [e.action for e in trail].count("redetermine") == 1  # the lost batch re-signalled
    history = await handle.fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    assert started.continued_execution_run_id  # the fan-out continued as new
