"""Tamper detection at scale: 100 seeded random tamperings of the audit table, each named by
`exportflow audit verify` at the order and sequence number where it was made.

The trail is real: one order down every lifecycle path (tests.faults.record_histories), driven
through the API and a worker. Each tampering is made on a copy of that database, as someone
with write access to the table would make it:

- edit: a field of one event changed (reason, actor, action, states, time or data);
- delete: one event removed (the last one too: the order's own seq still counts it);
- reorder: two events of an order swap their sequence numbers;
- relink: an event's `prev_hash` pointed at another event;
- forged hash: an event edited and its own hash recomputed with the published algorithm, so
  the row checks out alone; the chain breaks at the next event.

Not covered, because a chain kept in the same database cannot see it: rewriting an order's
whole tail (its last event, or every event from one on, with every hash recomputed). That
needs the newest hash kept somewhere the tamperer cannot write.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import sqlite3
import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from unittest.mock import patch

import pytest
import typer
from sqlmodel import Session
from temporalio.testing import WorkflowEnvironment

from services import cli_compliance
from services.config import Settings
from services.db.audit import hash_of_row
from services.db.engine import make_engine
from services.db.models import OrderEventRow
from services.worker import build_worker
from tests.conftest import tool
from tests.e2e.procs import base_env
from tests.faults.change_paths import PathDriver
from tests.faults.conftest import prepared_db, settings_for
from tests.faults.record_histories import lifecycle_paths
from tests.harness import make_api
from workflows.ids import workflow_id_for

pytestmark = [pytest.mark.faults, pytest.mark.timeout(600)]

SEED = 20261201
TAMPERINGS = 100
KINDS = ["edit", "delete", "reorder", "relink", "forged hash"]
STATES = ["BOOKED", "COMPLIANCE_REVIEW", "READY_TO_SHIP", "SHIPPED", "DELIVERED", "REJECTED"]


@dataclass(frozen=True)
class Event:
    """One stored event, as the tamperer sees it."""

    id: int
    order_id: str
    seq: int
    hash: str


@pytest.fixture(scope="module")
async def clean_trail(
    tmp_path_factory: pytest.TempPathFactory, temporal_env: WorkflowEnvironment
) -> Path:
    """A SQLite database holding one finished order per lifecycle path, WAL folded in."""
    path = tmp_path_factory.mktemp("tamper") / "clean.db"
    url = prepared_db(f"sqlite:///{path}")
    settings = settings_for(url, temporal_env.client.service_client.config.target_host)
    engine = make_engine(url)
    with ThreadPoolExecutor(max_workers=20) as pool:
        async with (
            build_worker(temporal_env.client, settings, engine, pool),
            make_api(settings) as api,
        ):
            driver = PathDriver(api.http, api.tokens)
            plans = list(lifecycle_paths().values())
            for plan in plans:
                plan.body["external_ref"] = f"{plan.name}-{uuid.uuid4().hex[:6]}"
            done = await asyncio.gather(*(driver.run(plan) for plan in plans))
            for oid, _ in done:  # every workflow finished: nothing is written after this
                await temporal_env.client.get_workflow_handle(workflow_id_for(oid)).result()
    engine.dispose()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


def _events(conn: sqlite3.Connection) -> dict[str, list[Event]]:
    trails: dict[str, list[Event]] = {}
    rows = conn.execute("SELECT id, order_id, seq, hash FROM order_events ORDER BY order_id, seq")
    for row in rows:
        trails.setdefault(row[1], []).append(Event(*row))
    return trails


def _edit(conn: sqlite3.Connection, event: Event, rng: random.Random) -> None:
    """Change one field of the event to a value it does not have."""
    column = rng.choice(["reason", "actor", "action", "to_state", "at", "data"])
    current = conn.execute(f"SELECT {column} FROM order_events WHERE id = ?", (event.id,))
    old = current.fetchone()[0]
    choices = {
        "reason": ["nothing to see", "approved by phone", ""],
        "actor": ["mallory", "bob", "alice"],
        "action": ["approve", "ship", "release"],
        "to_state": STATES,
        "at": ["2020-01-01 00:00:00.000000", "2031-06-30 12:00:00.000000"],
        "data": ['{"note": "edited"}', "{}"],
    }[column]
    new = rng.choice([value for value in choices if value != old])
    conn.execute(f"UPDATE order_events SET {column} = ? WHERE id = ?", (new, event.id))


def tamper(
    conn: sqlite3.Connection, kind: str, trail: list[Event], every: list[Event], rng: random.Random
) -> tuple[int, int | None]:
    """Make one tampering of `kind` in this order's trail: (the seq verify must name, the row
    whose own hash the forger recomputes, if any)."""
    if kind == "edit":
        event = rng.choice(trail)
        _edit(conn, event, rng)
        return event.seq, None
    if kind == "delete":
        event = rng.choice(trail)
        conn.execute("DELETE FROM order_events WHERE id = ?", (event.id,))
        return event.seq, None
    if kind == "reorder":
        first, second = sorted(rng.sample(trail, 2), key=lambda e: e.seq)
        conn.execute("UPDATE order_events SET seq = -1 WHERE id = ?", (first.id,))
        conn.execute("UPDATE order_events SET seq = ? WHERE id = ?", (first.seq, second.id))
        conn.execute("UPDATE order_events SET seq = ? WHERE id = ?", (second.seq, first.id))
        return first.seq, None
    if kind == "relink":
        event = rng.choice(trail)
        right = (event.order_id, event.seq - 1)
        wrong = rng.choice([e for e in every if (e.order_id, e.seq) != right])
        conn.execute("UPDATE order_events SET prev_hash = ? WHERE id = ?", (wrong.hash, event.id))
        return event.seq, None
    assert kind == "forged hash"
    event = rng.choice(trail[:-1])  # the last one, forged, is the case not covered (docstring)
    _edit(conn, event, rng)
    return event.seq + 1, event.id


def _reseal(path: Path, event_id: int) -> None:
    """Recompute one row's own hash with the product's function, as a forger would."""
    engine = make_engine(f"sqlite:///{path}")
    with Session(engine) as session:
        row = session.get(OrderEventRow, event_id)
        assert row is not None
        row.hash = hash_of_row(row.prev_hash, row)
        session.add(row)
        session.commit()
    engine.dispose()


def _audit_verify(path: Path, capsys: pytest.CaptureFixture[str], process: bool) -> tuple[int, str]:
    """`exportflow audit verify` on the database: (exit code, stdout + stderr). In-process
    (the command's own handler) unless `process`, which runs the installed command."""
    url = f"sqlite:///{path}"
    if process:
        done = subprocess.run(
            [tool("exportflow"), "audit", "verify"],
            env=base_env(database_url=url),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return done.returncode, done.stdout + done.stderr
    code = 0
    with patch.object(cli_compliance, "get_settings", lambda: Settings(database_url=url)):
        try:
            cli_compliance.audit_verify()
        except typer.Exit as exit_:
            code = exit_.exit_code
    out = capsys.readouterr()
    return code, out.out + out.err


def _orders() -> int:
    """One order per path, and the remainder the split path leaves."""
    return len(lifecycle_paths()) + 1


def test_a_clean_trail_verifies(clean_trail: Path, capsys: pytest.CaptureFixture[str]) -> None:
    orders = _orders()
    code, output = _audit_verify(clean_trail, capsys, process=True)
    verdict = output.splitlines()[0]  # progress lines follow on stderr
    assert (code, verdict) == (0, f"audit trail intact: {orders} order(s) checked")


def test_every_tampering_is_found_at_its_order_and_seq(
    clean_trail: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with sqlite3.connect(clean_trail) as conn:
        trails = _events(conn)
    every = [event for trail in trails.values() for event in trail]
    assert len(trails) == _orders()
    rng = random.Random(SEED)
    for i in range(TAMPERINGS):
        kind = KINDS[i % len(KINDS)]
        oid = rng.choice(sorted(o for o, trail in trails.items() if len(trail) > 1))
        copy = tmp_path / f"tampered-{i}.db"
        shutil.copyfile(clean_trail, copy)
        conn = sqlite3.connect(copy, isolation_level=None)
        try:
            seq, reseal = tamper(conn, kind, trails[oid], every, rng)
        finally:
            conn.close()
        if reseal is not None:
            _reseal(copy, reseal)
        # The installed command once (entry point and exit code), its handler for the rest.
        code, output = _audit_verify(copy, capsys, process=i == 0)
        assert code == 1, (i, kind, oid, seq, output)
        assert f"BROKEN: order {oid}, event seq {seq} " in output, (i, kind, seq, output)
        for leftover in tmp_path.glob(f"tampered-{i}.db*"):
            leftover.unlink()
