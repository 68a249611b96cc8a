"""Four eyes, licenses recorded up front with obligations, and the ledger."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from schemas.common import Role
from services.config import Settings
from services.db import auth_repo
from services.db.engine import make_engine, session_factory
from services.db.models import UserRow
from tests.harness import ApiHarness, booking

pytestmark = pytest.mark.usefixtures("screening_list")
SHIP = {"carrier": "DHL", "tracking_number": "1", "itn": "X20261128000020"}


def _license(number: str, **over: Any) -> dict[str, Any]:
    body = {
        "license_number": number,
        "application_control_number": "Z123456",
        "licensee": "Example Corp",
        "consignee": "EXAMPLE INFERENCE SERVICES LTD",
        "destination": "CN",
        "skus": ["H20"],
        "approved_quantity": 30,
        "approved_value": "300000.00",
        "expires_on": (date.today() + timedelta(days=365)).isoformat(),
        "conditions": [
            {
                "code": "EUS",
                "text": "End-use statement filed with BIS",
                "owner": "bob",
                "blocking": True,
            },
            {
                "code": "RPT",
                "text": "Quarterly report",
                "blocking": False,
                "due_on": (date.today() + timedelta(days=90)).isoformat(),
            },
        ],
    }
    return body | over


def _grant(url: str, user: str, role: Role) -> str:
    engine = make_engine(url)
    with session_factory(engine, write=True)() as session:
        token = auth_repo.create_token(session, user=user, role=role, now=datetime.now(UTC))
        session.commit()
    engine.dispose()
    return token


def _revoke(url: str, user: str, role: Role) -> None:
    engine = make_engine(url)
    with session_factory(engine, write=True)() as session:
        row = session.get(UserRow, user)
        assert row is not None
        row.roles = ",".join(r for r in row.roles.split(",") if r != role.value)
        session.add(row)
        session.commit()
    engine.dispose()


async def test_high_value_orders_need_two_distinct_officers(api: ApiHarness) -> None:
    oid = await api.book(booking(quantity=1000, price="12000.00"))  # USD 12 million
    order = await api.wait_state(oid, "COMPLIANCE_REVIEW")
    assert order["approvals_needed"] == 2
    r = await api.act(oid, "approve", "bob", {"note": "first look"})
    assert r.json()["state"] == "COMPLIANCE_REVIEW"
    assert [a["by"] for a in r.json()["approvals"]] == ["bob"]
    r = await api.act(oid, "approve", "bob", {})
    assert r.status_code == 403
    assert "four eyes" in r.json()["detail"]
    r = await api.act(oid, "approve", "carol", {})
    assert r.json()["state"] == "AWAITING_LICENSE"


async def test_an_approval_by_someone_whose_role_was_revoked_no_longer_counts(
    api: ApiHarness, settings: Settings
) -> None:
    erin = f"erin-{datetime.now(UTC).timestamp()}"
    frank = f"frank-{datetime.now(UTC).timestamp()}"
    api.tokens[erin] = _grant(settings.database_url, erin, Role.COMPLIANCE)
    api.tokens[frank] = _grant(settings.database_url, frank, Role.COMPLIANCE)
    oid = await api.book(booking(quantity=1000, price="12000.00"))
    await api.wait_state(oid, "COMPLIANCE_REVIEW")
    assert (await api.act(oid, "approve", erin, {})).status_code == 200
    _revoke(settings.database_url, erin, Role.COMPLIANCE)
    r = await api.act(oid, "approve", frank, {})
    assert r.json()["state"] == "COMPLIANCE_REVIEW"
    assert [a["by"] for a in r.json()["approvals"]] == [frank]
    events = (await api.http.get(f"/api/v1/orders/{oid}/events", headers=api.auth("vic"))).json()
    assert events["items"][-1]["data"]["withdrawn"] == [erin]
    r = await api.act(oid, "approve", "carol", {})
    assert r.json()["state"] == "AWAITING_LICENSE"


async def test_a_recorded_license_covers_several_orders_and_obligations_block_ship(
    api: ApiHarness,
) -> None:
    number = f"D{datetime.now(UTC).strftime('%H%M%S%f')}"
    r = await api.http.post("/api/v1/licenses", json=_license(number), headers=api.auth("bob"))
    assert r.status_code == 201, r.text
    again = await api.http.post("/api/v1/licenses", json=_license(number), headers=api.auth("bob"))
    assert again.status_code == 409
    ids = [await api.book(booking(quantity=10, price="12000.00")) for _ in range(3)]
    for oid in ids:
        await api.wait_state(oid, "COMPLIANCE_REVIEW")
        await api.act(oid, "approve", "bob", {})
    approved = {"decision": "approved", "license_number": number}
    assert (await api.act(ids[0], "record-license", "carol", approved)).status_code == 200
    assert (await api.act(ids[1], "record-license", "carol", approved)).status_code == 200
    r = await api.act(ids[2], "record-license", "carol", approved)
    # 10 units are left, but USD 300,000 + 10% tolerance - 240,000 = 90,000 < 120,000.
    assert r.status_code == 409
    assert "10 units and USD 90000.00 left" in r.json()["detail"]

    r = await api.act(ids[0], "ship", "alice", SHIP)
    assert r.status_code == 409
    assert "EUS: End-use statement filed with BIS" in r.json()["detail"]
    lic = (await api.http.get(f"/api/v1/licenses/{number}", headers=api.auth("vic"))).json()
    eus = next(o for o in lic["obligations"] if o["code"] == "EUS")
    r = await api.http.post(
        f"/api/v1/licenses/{number}/obligations/{eus['id']}/fulfil", headers=api.auth("bob")
    )
    assert r.json()["fulfilled_by"] == "bob"
    assert (await api.act(ids[0], "ship", "alice", SHIP)).json()["state"] == "SHIPPED"

    lic = (await api.http.get(f"/api/v1/licenses/{number}", headers=api.auth("vic"))).json()
    assert [(e["kind"], e["order_id"]) for e in lic["ledger"]] == [
        ("reserve", ids[0]),
        ("reserve", ids[1]),
        ("commit", ids[0]),
    ]
    assert lic["ledger"][2]["itn"] == SHIP["itn"]
    assert (lic["allocated_quantity"], lic["shipped_quantity"], lic["remaining_quantity"]) == (
        20,
        10,
        10,
    )
    listed = (await api.http.get("/api/v1/licenses", headers=api.auth("vic"))).json()["items"]
    assert number in {item["number"] for item in listed}


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"destination": "ZZ"}, "destination"),
        ({"approved_quantity": 0}, "approved_quantity"),
        ({"application_control_number": "123"}, "application_control_number"),
        ({"valid_from": "2030-01-01", "expires_on": "2029-01-01"}, "valid_from"),
    ],
)
async def test_bad_license_bodies_are_422(
    api: ApiHarness, over: dict[str, Any], field: str
) -> None:
    r = await api.http.post(
        "/api/v1/licenses", json=_license("D9", **over), headers=api.auth("bob")
    )
    assert r.status_code == 422
    assert field in r.json()["detail"]


async def test_a_license_for_another_destination_is_refused(api: ApiHarness) -> None:
    number = f"D{datetime.now(UTC).strftime('%H%M%S%f')}"
    body = _license(number, destination="HK")
    assert (
        await api.http.post("/api/v1/licenses", json=body, headers=api.auth("bob"))
    ).status_code == 201
    oid = await api.book(booking())
    await api.wait_state(oid, "COMPLIANCE_REVIEW")
    await api.act(oid, "approve", "bob", {})
    r = await api.act(
        oid, "record-license", "bob", {"decision": "approved", "license_number": number}
    )
    assert r.status_code == 409
    assert "is for HK, not CN" in r.json()["detail"]
