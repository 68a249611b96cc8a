"""`/readyz` while the database is away: 503, naming the database and why; 200 once it is back."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager

from temporalio.testing import WorkflowEnvironment

from services.config import Settings
from tests.harness import ApiHarness, make_api
from tests.outages import pg_refusing, sqlite_file_gone, sqlite_path, sqlite_write_locked

Outage = Callable[[str], AbstractContextManager[None]]

# How each backend goes away, and what the answer says about it.
OUTAGES: dict[str, list[tuple[Outage, str]]] = {
    "sqlite": [
        (lambda url: sqlite_write_locked(sqlite_path(url)), "database is locked"),
        (lambda url: sqlite_file_gone(sqlite_path(url)), "unable to open database file"),
    ],
    "postgres": [(pg_refusing, "not currently accepting connections")],
}


async def _ready(api: ApiHarness) -> tuple[int, dict[str, object]]:
    r = await api.http.get("/readyz")
    return r.status_code, dict(r.json())


async def test_readyz_names_the_database_while_it_is_down(
    private_db_url: str, temporal_env: WorkflowEnvironment
) -> None:
    settings = Settings(
        database_url=private_db_url,
        temporal_address=temporal_env.client.service_client.config.target_host,
        task_queue=f"ready-{uuid.uuid4().hex[:8]}",
    )
    backend = "sqlite" if private_db_url.startswith("sqlite") else "postgres"
    async with make_api(settings) as api:
        assert await _ready(api) == (200, {"ready": True, "database": "ok", "temporal": "ok"})
        for outage, reason in OUTAGES[backend]:
            with outage(private_db_url):
                status, body = await _ready(api)
            assert status == 503, body
            assert body["ready"] is False
            assert body["temporal"] == "ok"
            assert str(body["database"]).startswith("unreachable: "), body
            assert reason in str(body["database"]), body
            assert await _ready(api) == (200, {"ready": True, "database": "ok", "temporal": "ok"})
