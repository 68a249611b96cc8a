"""Draws on license lines in the database: per line, idempotent, and what `ship` checks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from schemas.licenses import LicenseCreate, LicenseParties
from schemas.orders import Party
from schemas.workflow_io import (
    AllocateRequest,
    CommitRequest,
    DrawLine,
    ReleaseRequest,
    ShipCheckRequest,
)
from services.db import license_holdings, licenses_repo, licenses_view
from services.db.engine import make_engine, session_factory
from services.db.store import SqlOrderStore

NOW = datetime.now(UTC)
USER = Party(name="Example Inference Services Ltd.", country="CN")


def _setup(url: str) -> SqlOrderStore:
    engine = make_engine(url)
    body = LicenseCreate.model_validate(
        {
            "license_number": "DL1",
            "licensee": "Exporter Inc.",
            "ultimate_consignee": USER.model_dump(),
            "destination": "CN",
            "lines": [
                {"sku": "H20", "approved_quantity": 10, "approved_value": "150000.00"},
                {"eccn": "3A090.a", "approved_quantity": 5, "approved_value": "200000.00"},
            ],
            "expires_on": (date.today() + timedelta(days=90)).isoformat(),
        }
    )
    with session_factory(engine, write=True)() as session:
        licenses_repo.create_license(session, body, actor="bob", now=NOW)
        session.commit()
    return SqlOrderStore(session_factory(engine, write=True))


def _draw(key: str, *skus: str) -> AllocateRequest:
    eccn = {"H20": "3A991", "H100-SXM": "3A090.a", "H200": "3A090.a"}
    return AllocateRequest(
        entry_key=key,
        order_id=key.split(":")[0],
        license_number="DL1",
        destination="CN",
        parties=LicenseParties(ultimate_consignee=USER, end_user=USER),
        lines=[DrawLine(sku=s, eccn=eccn[s], quantity=2, value=Decimal("20000.00")) for s in skus],
        actor="carol",
    )


def test_each_item_draws_on_its_line_once_per_key(private_db_url: str) -> None:
    store = _setup(private_db_url)
    first = store.allocate_license(_draw("O1:reserve:3", "H20", "H100-SXM"))
    again = store.allocate_license(_draw("O1:reserve:3", "H20", "H100-SXM"))
    assert first == again
    assert [(x.sku, x.license_line, x.quantity) for x in first.lines] == [
        ("H20", 1, 2),
        ("H100-SXM", 2, 2),
    ]
    store.allocate_license(_draw("O2:reserve:3", "H200"))  # the same ECCN line
    commit = CommitRequest(entry_key="O1:commit:5", order_id="O1", itn="X1", actor="alice")
    store.commit_license(commit)
    store.commit_license(commit)
    engine = make_engine(private_db_url)
    with session_factory(engine)() as session:
        view = licenses_view.get_license(session, number="DL1")
    engine.dispose()
    assert view is not None
    assert [(x.allocated_quantity, x.shipped_quantity) for x in view.lines] == [(2, 2), (4, 2)]
    assert [(e.kind, e.line) for e in view.ledger] == [
        ("reserve", 1),
        ("reserve", 2),
        ("reserve", 2),
        ("commit", 1),
        ("commit", 2),
    ]


def test_ship_check_names_licensed_items_without_a_draw(private_db_url: str) -> None:
    store = _setup(private_db_url)
    store.allocate_license(_draw("O3:reserve:3", "H20"))
    check = store.ship_check(
        ShipCheckRequest(order_id="O3", license_number="DL1", licensed_skus=["H20", "H100-SXM"])
    )
    assert check.undrawn == ["H100-SXM"]
    store.release_license(
        ReleaseRequest(entry_key="O3:release:4", order_id="O3", actor="alice", reason="x")
    )
    check = store.ship_check(
        ShipCheckRequest(order_id="O3", license_number=None, licensed_skus=["H20"])
    )
    assert check.undrawn == ["H20"]
    engine = make_engine(private_db_url)
    with session_factory(engine)() as session:
        assert license_holdings.undrawn(session, order_id="O4", licensed=[]) == []
    engine.dispose()
