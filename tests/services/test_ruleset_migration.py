"""Rule sets stored before four-eyes approval keep deciding as they did (migration 0007)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from services.db import migrate
from services.db.engine import make_engine, session_factory
from services.policy.store import active_version
from services.policy.views import list_views
from tests import pg
from workflows.catalog import load_catalog

pg_url = pg.pg_database_fixture()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'exportflow.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


def _before_0007() -> str:
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    down = script.get_revision("0007").down_revision
    assert isinstance(down, str)
    return down


def _store(url: str, version: str, effective: date) -> None:
    body = load_catalog().ruleset.model_dump(mode="json") | {
        "version": version,
        "effective_from": effective.isoformat(),
    }
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO rule_sets (version, effective_from, body, imported_by, imported_at) "
                "VALUES (:v, :e, :b, 'carol', :at)"
            ),
            {"v": version, "e": effective, "b": json.dumps(body), "at": datetime.now(UTC)},
        )
    engine.dispose()


def test_legacy_rule_sets_are_carried_over_as_approved_and_in_force_by_date(
    database_url: str,
) -> None:
    migrate.upgrade(database_url, revision=_before_0007())
    today = datetime.now(UTC).date()
    _store(database_url, "legacy-old", date(2025, 6, 1))  # older than the bundled set then
    _store(database_url, "legacy-now", today - timedelta(days=3))
    _store(database_url, "legacy-later", today + timedelta(days=30))
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    with session_factory(engine)() as session:
        page = list_views(session)
        assert active_version(session) == "legacy-now"
    engine.dispose()
    statuses = {item.version: item.status.value for item in page.items}
    assert statuses == {
        "legacy-old": "expired",
        "legacy-now": "active",
        "legacy-later": "approved",  # its timer is started by the worker's outbox sweeper
        load_catalog().ruleset.version: "superseded",
    }
