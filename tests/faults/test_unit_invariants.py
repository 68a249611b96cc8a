"""Each ledger and unit invariant fails on what it guards (so the fault tests can fail)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Engine, text

from schemas.licenses import LicenseCreate
from services.db import licenses_repo
from services.db.engine import make_engine, session_factory
from services.db.migrate import upgrade
from tests.faults import unit_invariants

NOW = datetime.now(UTC)


@pytest.fixture
def engine(tmp_path: Path) -> Any:
    url = f"sqlite:///{tmp_path / 'inv.db'}"
    upgrade(url)
    engine = make_engine(url)
    body = LicenseCreate.model_validate(
        {
            "license_number": "L1",
            "licensee": "Exporter",
            "ultimate_consignee": {"name": "Consignee", "country": "CN"},
            "destination": "CN",
            "lines": [{"sku": "H20", "approved_quantity": 10, "approved_value": "200000.00"}],
            "expires_on": (date.today() + timedelta(days=30)).isoformat(),
        }
    )
    with session_factory(engine, write=True)() as session:
        licenses_repo.create_license(session, body, actor="bob", now=NOW)
        session.commit()
    yield engine
    engine.dispose()


def ledger(engine: Engine, *moves: tuple[str, str, int]) -> None:
    with engine.begin() as conn:
        line_id = conn.execute(text("SELECT id FROM license_lines")).scalar_one()
        for i, (order_id, kind, quantity) in enumerate(moves):
            conn.execute(
                text(
                    "INSERT INTO license_ledger (entry_key, license_number, line_id, sku, "
                    "order_id, kind, quantity, value_cents, actor, at) VALUES "
                    "(:k, 'L1', :line, 'H20', :o, :kind, :q, 0, 'x', :at)"
                ),
                {
                    "k": f"k{i}",
                    "line": line_id,
                    "o": order_id,
                    "kind": kind,
                    "q": quantity,
                    "at": NOW,
                },
            )


def order(oid: str, state: str, asked: int, shipped: list[int] | None = None) -> Any:
    det = {"license_required": True, "lines": [{"sku": "H20", "license_required": True}]}
    shipments = [{"lines": [{"sku": "H20", "quantity": n}]} for n in shipped or []]
    return SimpleNamespace(
        id=oid,
        state=state,
        booking={"lines": [{"sku": "H20", "quantity": asked}]},
        status={"determination": det, "shipments": shipments},
    )


def test_a_clean_partial_history_passes(engine: Engine) -> None:
    ledger(engine, ("O1", "reserve", 6), ("O1", "commit", 2), ("O1", "commit", 1))
    assert unit_invariants.problems(engine, [order("O1", "READY_TO_SHIP", 6, [2, 1])]) == []


@pytest.mark.parametrize(
    ("moves", "orders", "words"),
    [
        ([("O1", "reserve", 5), ("O1", "reserve", 5)], [], "while a reservation is open"),
        ([("O1", "commit", 1)], [], "without an open reservation"),
        ([("O1", "reserve", 2), ("O1", "commit", 3)], [], "more shipped than reserved"),
        ([("O1", "reserve", 4), ("O1", "commit", 1), ("O1", "release", 4)], [], "not shipped"),
        ([("O1", "reserve", 8), ("O2", "reserve", 8)], [], "16 reserved of 10"),
        (
            [("O1", "reserve", 8), ("O1", "commit", 8), ("O2", "reserve", 8), ("O2", "commit", 8)],
            [],
            "16 shipped of 10",
        ),
        ([("O1", "reserve", 5)], [order("O1", "CANCELLED", 5)], "still holds 5 drawn"),
        ([("O1", "reserve", 5)], [order("O1", "READY_TO_SHIP", 5, [2])], "2 shipped, 0 committed"),
        ([("O1", "reserve", 6)], [order("O1", "READY_TO_SHIP", 5)], "6 drawn + 0 shipped of 5"),
        ([("O1", "reserve", 3)], [order("O1", "READY_TO_SHIP", 5)], "3 drawn for 5 to ship"),
        (
            [("O1", "reserve", 5), ("O1", "commit", 4)],
            [order("O1", "SHIPPED", 5, [4])],
            "shipped {'H20': 4} of {'H20': 5}",
        ),
    ],
)
def test_each_invariant_fails_on_what_it_guards(
    engine: Engine, moves: list[tuple[str, str, int]], orders: list[Any], words: str
) -> None:
    ledger(engine, *moves)
    found = unit_invariants.problems(engine, orders)
    assert any(words in p for p in found), found


def test_a_split_that_loses_units_is_found(engine: Engine) -> None:
    with engine.begin() as conn:
        for oid, action, data in [
            (
                "O1",
                "record-license",
                '{"split_into": "O1-S1", "asked": {"H20": 10}, '
                '"kept": [{"sku": "H20", "quantity": 6}], '
                '"remainder": [{"sku": "H20", "quantity": 3}]}',
            ),
            ("O1-S1", "split-from", '{"lines": [{"sku": "H20", "quantity": 3}]}'),
        ]:
            conn.execute(
                text(
                    "INSERT INTO order_events (order_id, seq, at, actor, action, to_state, data,"
                    " prev_hash, hash, position) VALUES (:o, 1, :at, 'x', :a, 'X', :d, '', '', :p)"
                ),
                {"o": oid, "a": action, "d": data, "at": NOW, "p": len(oid)},
            )
    found = unit_invariants.problems(engine, [])
    assert any("kept {'H20': 6} + remainder {'H20': 3}" in p for p in found), found
