"""Migration 0005: licenses of before become lines and parties, failing closed, ledger intact."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from schemas.orders import BookOrderRequest
from schemas.workflow_io import AllocateRequest, DrawLine, ReleaseRequest
from services.db import license_draws, license_holdings, licenses_view, migrate, orders_repo
from services.db.engine import make_engine, session_factory
from tests import pg
from workflows.activities import LicenseConflict
from workflows.rules.license_input import order_parties

pg_url = pg.pg_database_fixture()
NOW = datetime(2026, 12, 1, tzinfo=UTC)
EXPIRES = (date.today() + timedelta(days=365)).isoformat()
USER = "Example Inference Services Ltd."


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def old_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database at revision 0003 holding licenses and ledger entries of before."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    if request.param == "postgres":
        url = request.getfixturevalue("pg_url")
    migrate.upgrade(url, revision="0003")
    _seed(url)
    return url


def _booking(**over: Any) -> BookOrderRequest:
    body = {
        "purchaser": {"name": "Example Cloud Computing Co., Ltd.", "country": "CN"},
        "end_user": {"name": USER, "country": "CN", "address": "Beijing"},
        "end_use": "inference",
        "lines": [{"sku": "H20", "quantity": 5, "unit_price": "10000.00"}],
        "requested_ship_date": "2027-01-15",
    }
    return BookOrderRequest.model_validate(body | over)


def _seed(url: str) -> None:
    engine = make_engine(url)
    with session_factory(engine, write=True)() as session:
        for oid, booking in (("ORD-1", _booking()), ("ORD-2", _booking()), ("ORD-3", _booking())):
            orders_repo.insert_order(
                session,
                order_id=oid,
                booking=booking,
                created_by="alice",
                idempotency_key=None,
                request_hash="h",
                now=NOW,
            )
        session.commit()
    engine.dispose()
    licenses = [  # number, licensee, consignee, destination, skus, quantity, cents
        ("SINGLE", "Exporter Inc.", USER, "CN", '["H20"]', 30, 30_000_000),
        ("POOLED", "Exporter Inc.", USER, "CN", '["H20", "RTX-PRO-6000D"]', 20, 20_000_000),
        ("TERMS", "", "", "CN", '["H20"]', 10, 10_000_000),
        ("NOBODY", "Exporter Inc.", "", "CN", '["H20"]', 10, 10_000_000),
    ]
    ledger = [  # key, license, order, kind, quantity, cents
        ("ORD-1:reserve:3", "SINGLE", "ORD-1", "reserve", 5, 5_000_000),
        ("ORD-1:commit:5", "SINGLE", "ORD-1", "commit", 5, 5_000_000),
        ("ORD-2:reserve:3", "POOLED", "ORD-2", "reserve", 5, 5_000_000),
        ("ORD-3:reserve:3", "TERMS", "ORD-3", "reserve", 5, 5_000_000),
    ]
    raw = create_engine(url, poolclass=NullPool)
    with raw.begin() as conn:
        for number, licensee, consignee, dest, skus, quantity, cents in licenses:
            conn.execute(
                text(
                    "INSERT INTO licenses (number, licensee, consignee, destination, skus, "
                    "approved_quantity, approved_value_cents, expires_on, recorded_by, "
                    "recorded_at) VALUES (:n, :l, :c, :d, :s, :q, :v, :e, 'bob', :at)"
                ),
                {
                    "n": number,
                    "l": licensee,
                    "c": consignee,
                    "d": dest,
                    "s": skus,
                    "q": quantity,
                    "v": cents,
                    "e": EXPIRES,
                    "at": NOW,
                },
            )
        for key, number, oid, kind, quantity, cents in ledger:
            conn.execute(
                text(
                    "INSERT INTO license_ledger (entry_key, license_number, order_id, kind, "
                    "quantity, value_cents, actor, at) VALUES (:k, :n, :o, :kind, :q, :v, "
                    "'carol', :at)"
                ),
                {
                    "k": key,
                    "n": number,
                    "o": oid,
                    "kind": kind,
                    "q": quantity,
                    "v": cents,
                    "at": NOW,
                },
            )
    raw.dispose()


def _views(url: str) -> dict[str, Any]:
    engine = make_engine(url)
    with session_factory(engine)() as session:
        views = {
            n: licenses_view.get_license(session, number=n)
            for n in ("SINGLE", "POOLED", "TERMS", "NOBODY")
        }
    engine.dispose()
    return views


def test_single_sku_licenses_become_one_line_and_pooled_ones_a_closed_pool(old_db: str) -> None:
    migrate.upgrade(old_db)
    assert migrate.check(old_db) == []
    v = _views(old_db)
    single, pooled = v["SINGLE"], v["POOLED"]
    assert [
        (x.line, x.sku, x.approved_quantity, x.approved_value, x.pooled_skus) for x in single.lines
    ] == [(1, "H20", 30, Decimal("300000.00"), None)]
    assert [(x.sku, x.approved_quantity, x.pooled_skus) for x in pooled.lines] == [
        (None, 20, ["H20", "RTX-PRO-6000D"])
    ]
    # The ledger's sums are what they were, entry by entry, now on their line.
    assert (single.allocated_quantity, single.shipped_quantity, single.remaining_quantity) == (
        5,
        5,
        25,
    )
    assert (pooled.allocated_quantity, pooled.remaining_quantity) == (5, 15)
    assert [(e.kind, e.line, e.sku) for e in single.ledger] == [
        ("reserve", 1, "H20"),
        ("commit", 1, "H20"),
    ]
    assert [(e.kind, e.line, e.sku) for e in pooled.ledger] == [("reserve", 1, None)]


def test_parties_come_from_the_consignee_or_from_the_order_that_created_the_license(
    old_db: str,
) -> None:
    migrate.upgrade(old_db)
    v = _views(old_db)
    consignee = v["SINGLE"].ultimate_consignee
    assert (consignee.name, consignee.country, v["SINGLE"].end_user) == (USER, "CN", None)
    terms = v["TERMS"]
    assert (terms.ultimate_consignee.name, terms.end_user.name) == (USER, USER)
    assert terms.end_user.address == "Beijing"
    assert (v["NOBODY"].ultimate_consignee, v["NOBODY"].end_user) == (None, None)


def _draw(number: str, key: str) -> AllocateRequest:
    return AllocateRequest(
        entry_key=key,
        order_id=key.split(":")[0],
        license_number=number,
        destination="CN",
        parties=order_parties(_booking()),
        lines=[DrawLine(sku="H20", eccn="3A991", quantity=1, value=Decimal("10000.00"))],
        actor="carol",
    )


def test_migrated_licenses_fail_closed_and_their_orders_still_release(old_db: str) -> None:
    migrate.upgrade(old_db)
    engine = make_engine(old_db)
    write = session_factory(engine, write=True)
    with write() as session:
        # A single-SKU license with its parties keeps taking draws.
        license_draws.reserve(session, _draw("SINGLE", "ORD-9:reserve:3"), now=NOW)
        with pytest.raises(LicenseConflict, match="line 1 pools H20, RTX-PRO-6000D"):
            license_draws.reserve(session, _draw("POOLED", "ORD-8:reserve:3"), now=NOW)
        with pytest.raises(LicenseConflict, match="license NOBODY names no ultimate consignee"):
            license_draws.reserve(session, _draw("NOBODY", "ORD-7:reserve:3"), now=NOW)
        release = ReleaseRequest(
            entry_key="ORD-2:release:6", order_id="ORD-2", actor="alice", reason="cancelled"
        )
        assert license_holdings.release(session, release, now=NOW) is True
        session.commit()
    engine.dispose()
    v = _views(old_db)
    assert (v["SINGLE"].allocated_quantity, v["POOLED"].allocated_quantity) == (6, 0)
    assert [(e.kind, e.line) for e in v["POOLED"].ledger] == [("reserve", 1), ("release", 1)]


def test_downgrade_folds_lines_back_into_one_pool(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'down.db'}"
    migrate.upgrade(url, revision="0003")
    _seed(url)
    migrate.upgrade(url)
    command_downgrade(url, "0003")
    raw = create_engine(url, poolclass=NullPool)
    with raw.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT number, consignee, skus, approved_quantity, approved_value_cents "
                "FROM licenses ORDER BY number"
            )
        ).all()
    raw.dispose()
    assert [(r[0], r[1], r[3], r[4]) for r in rows] == [
        ("NOBODY", "", 10, 10_000_000),
        ("POOLED", USER, 20, 20_000_000),
        ("SINGLE", USER, 30, 30_000_000),
        ("TERMS", USER, 10, 10_000_000),
    ]
    assert json.loads(rows[1][2]) == ["H20", "RTX-PRO-6000D"]


def command_downgrade(url: str, revision: str) -> None:
    """Downgrade with Alembic, as `alembic downgrade` would."""
    command.downgrade(migrate.alembic_config(url), revision)
