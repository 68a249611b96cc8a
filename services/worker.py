"""The Temporal worker: the order workflow, its activities, the outbox and recheck sweepers."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from services.config import Settings
from services.db.engine import make_engine, session_factory
from services.db.store import SqlOrderStore
from services.license_fanout import SqlLicenseActionStore, run_action_outbox, sender
from services.orders_start import run_outbox
from services.policy.fanout import SqlPolicyStore, order_signaller
from services.recheck import run_recheck
from services.rules_store import DbRuleSource
from services.screening.screener import DbScreener
from services.webhooks.dispatcher import Dispatchers
from services.worker_telemetry import ActivityTelemetry, meter_of
from workflows.activities import OrderActivities
from workflows.license_action import LicenseActionWorkflow
from workflows.license_action_activities import LicenseActionActivities
from workflows.order import OrderWorkflow
from workflows.ruleset import RuleSetWorkflow
from workflows.ruleset_activities import RuleSetActivities

log = logging.getLogger(__name__)

# The sandbox re-imports every module that is not passed through for each new workflow; our
# workflow and schema modules are deterministic and hold no module state, so they are imported
# once. The sandbox still isolates each run and restricts non-deterministic calls it can see.
WORKFLOW_RUNNER = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules("workflows", "schemas")
)


def policy_activities(client: Client, engine: Engine) -> RuleSetActivities:
    """The rule-set workflow's activities, bound to the database and the client."""
    read, write = session_factory(engine), session_factory(engine, write=True)
    return RuleSetActivities(
        SqlPolicyStore(read, write, DbRuleSource(read)), order_signaller(client)
    )


def build_worker(
    client: Client,
    settings: Settings,
    engine: Engine,
    executor: ThreadPoolExecutor,
    *,
    policy: RuleSetActivities | None = None,
) -> Worker:
    """A worker for the order task queue, with activities bound to the database."""
    read, write = session_factory(engine), session_factory(engine, write=True)
    screener = DbScreener(read, write, threshold=settings.screening_threshold)
    acts = OrderActivities(SqlOrderStore(write), screener, DbRuleSource(read))
    fanout = LicenseActionActivities(SqlLicenseActionStore(write), sender(client))
    policy = policy or policy_activities(client, engine)
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[OrderWorkflow, LicenseActionWorkflow, RuleSetWorkflow],
        workflow_runner=WORKFLOW_RUNNER,
        activities=[
            acts.record_transition,
            acts.screen,
            acts.determine,
            acts.allocate_license,
            acts.release_license,
            acts.commit_license,
            acts.ship_check,
            acts.roles_of,
            acts.whitelist,
            acts.book_split,
            fanout.count,
            fanout.batch,
            fanout.finish,
            policy.activate,
            policy.expire,
            policy.dated_change,
            policy.fan_out_batch,
            policy.fan_out_done,
        ],
        activity_executor=executor,
        # Order and workflow ids on activity log lines; screening matches counted.
        interceptors=[ActivityTelemetry(meter_of(client))],
        max_concurrent_activities=settings.worker_max_concurrent_activities,
        # An order's writes run as local activities on the same thread pool: no more at once
        # than it has threads, so none waits in its queue while its timeout runs.
        max_concurrent_local_activities=settings.worker_max_concurrent_activities,
        max_concurrent_workflow_tasks=settings.worker_max_concurrent_workflow_tasks,
        # Evicting waiting orders from the sticky cache makes every step replay history.
        max_cached_workflows=settings.worker_max_cached_workflows,
        graceful_shutdown_timeout=timedelta(seconds=30),
    )


async def run_worker(settings: Settings, client: Client, stop: asyncio.Event) -> None:
    """Run until `stop` is set, then drain: in-flight activities get 30 s to finish."""
    engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
    write_session = session_factory(engine, write=True)
    with ThreadPoolExecutor(max_workers=settings.worker_max_concurrent_activities) as executor:
        worker = build_worker(client, settings, engine, executor)
        outbox = asyncio.create_task(
            run_outbox(
                client,
                write_session,
                settings=settings,
                interval=settings.outbox_interval_seconds,
                stop=stop,
            )
        )
        recheck = asyncio.create_task(
            run_recheck(
                client,
                session_factory(engine),
                write_session,
                interval=settings.recheck_interval_seconds,
                stop=stop,
            )
        )
        actions = asyncio.create_task(run_action_outbox(client, write_session, settings, stop))
        # Webhook deliveries: a dispatcher per subscription this worker holds the lease of.
        webhooks = asyncio.create_task(Dispatchers(settings, engine).run(stop))
        async with worker:
            log.info("worker polling task queue %s", settings.task_queue)
            await stop.wait()
        await asyncio.gather(outbox, recheck, actions, webhooks)
    engine.dispose()
