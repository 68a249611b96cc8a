"""Fixtures of the fault tests: a database of their own, workers as real processes to kill."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from services.config import Settings
from services.db.engine import make_engine
from services.db.migrate import upgrade
from services.worker import build_worker
from tests.e2e.procs import Proc, base_env
from tests.harness import ApiHarness, make_api


def prepared_db(url: str) -> str:
    """Migrate and import the bundled demo screening list."""
    from services.demo import ensure_screening_list

    upgrade(url)
    ensure_screening_list(Settings(database_url=url))
    return url


def settings_for(url: str, temporal_address: str) -> Settings:
    """Settings with a task queue of the test's own and a fast outbox."""
    return Settings(
        database_url=url,
        temporal_address=temporal_address,
        task_queue=f"fault-{uuid.uuid4().hex[:10]}",
        outbox_interval_seconds=0.5,
        worker_max_concurrent_activities=20,
    )


def worker_env(settings: Settings) -> dict[str, str]:
    """The environment of an `exportflow worker` process with these settings."""
    return base_env(
        database_url=settings.database_url,
        temporal_address=settings.temporal_address,
        task_queue=settings.task_queue,
        outbox_interval_seconds=str(settings.outbox_interval_seconds),
        worker_max_concurrent_activities=str(settings.worker_max_concurrent_activities),
        worker_metrics_port="0",  # several workers at once; no port of their own
    )


def start_worker(settings: Settings) -> Proc:
    """An `exportflow worker` process, once it polls."""
    proc = Proc(["worker"], worker_env(settings))
    try:
        proc.wait_for("worker polling", timeout=60)
    except BaseException:
        proc.stop()
        raise
    return proc


@contextmanager
def worker_process(settings: Settings) -> Iterator[Proc]:
    """A worker process that is always stopped afterwards."""
    proc = start_worker(settings)
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def fault_settings(tmp_path: Path, temporal_env: WorkflowEnvironment) -> Settings:
    """A fresh SQLite database on the session's dev server."""
    url = prepared_db(f"sqlite:///{tmp_path / 'exportflow.db'}")
    return settings_for(url, temporal_env.client.service_client.config.target_host)


@pytest.fixture
def fault_engine(fault_settings: Settings) -> Iterator[Engine]:
    """An engine on the test's database, for checking invariants."""
    engine = make_engine(fault_settings.database_url)
    yield engine
    engine.dispose()


@pytest.fixture
async def inproc_api(
    fault_settings: Settings, temporal_client: Client
) -> AsyncIterator[ApiHarness]:
    """An in-process worker and the API on the test's database."""
    engine = make_engine(fault_settings.database_url)
    with ThreadPoolExecutor(max_workers=20) as executor:
        async with (
            build_worker(temporal_client, fault_settings, engine, executor),
            make_api(fault_settings) as harness,
        ):
            yield harness
    engine.dispose()
