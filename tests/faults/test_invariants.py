"""The fault tests' invariants fail on what they guard against (a green fault test is evidence)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from temporalio.testing import WorkflowEnvironment

from services.config import Settings
from services.db.engine import make_engine
from tests.faults import invariants
from tests.faults.conftest import prepared_db
from tests.harness import ApiHarness, booking, make_api

pytestmark = pytest.mark.faults


@pytest.fixture
async def booked(
    tmp_path: Path, temporal_env: WorkflowEnvironment
) -> AsyncIterator[tuple[ApiHarness, Engine]]:
    """An API with no worker behind it (orders stay BOOKED) and an engine on its database."""
    url = prepared_db(f"sqlite:///{tmp_path / 'exportflow.db'}")
    settings = Settings(
        database_url=url,
        temporal_address=temporal_env.client.service_client.config.target_host,
        task_queue=f"idle-{uuid.uuid4().hex[:8]}",
    )
    engine = make_engine(url)
    async with make_api(settings) as api:
        yield api, engine
    engine.dispose()


def _execute(engine: Engine, sql: str, **params: object) -> None:
    with engine.begin() as conn:
        conn.execute(text(sql), params)


async def test_a_booked_order_with_its_trail_has_no_problem(
    booked: tuple[ApiHarness, Engine],
) -> None:
    api, engine = booked
    await api.book(booking())
    assert invariants.problems(engine) == []


async def test_an_order_whose_trail_was_lost_is_a_problem(
    booked: tuple[ApiHarness, Engine],
) -> None:
    api, engine = booked
    oid = await api.book(booking())
    _execute(engine, "DELETE FROM order_events WHERE order_id = :o", o=oid)
    assert invariants.problems(engine) == [f"{oid}: no audit events at all (read model BOOKED@0)"]


async def test_a_read_model_ahead_of_its_trail_is_a_problem(
    booked: tuple[ApiHarness, Engine],
) -> None:
    api, engine = booked
    oid = await api.book(booking())
    _execute(engine, "UPDATE orders SET seq = 1, state = 'SCREENING' WHERE id = :o", o=oid)
    assert invariants.problems(engine) == [f"{oid}: read model SCREENING@1, trail BOOKED@0"]


async def test_a_decision_by_the_booker_is_a_problem(booked: tuple[ApiHarness, Engine]) -> None:
    api, engine = booked
    oid = await api.book(booking())
    _execute(engine, "UPDATE order_events SET action = 'approve' WHERE order_id = :o", o=oid)
    assert invariants.problems(engine) == [f"{oid}: approve by its booker alice"]
