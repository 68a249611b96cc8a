"""Every refusal a user can run into: auth, roles, separation of duties, state, bad bodies."""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness import ApiHarness, booking, license_body

pytestmark = pytest.mark.usefixtures("screening_list")


async def test_no_token_or_a_bad_token_is_401(api: ApiHarness) -> None:
    r = await api.http.get("/api/v1/orders")
    assert r.status_code == 401
    r = await api.http.get("/api/v1/orders", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401
    assert r.json()["detail"] == "invalid or revoked token"


async def test_wrong_role_is_403(api: ApiHarness) -> None:
    r = await api.http.post("/api/v1/orders", json=booking(), headers=api.auth("bob"))
    assert r.status_code == 403
    assert "sales_ops" in r.json()["detail"]
    oid = await api.book()
    await api.wait_state(oid, "COMPLIANCE_REVIEW")
    r = await api.act(oid, "approve", "alice", {})
    assert r.status_code == 403
    r = await api.act(oid, "approve", "vic", {})
    assert r.status_code == 403


async def test_nobody_approves_an_order_they_booked(api: ApiHarness) -> None:
    oid = await api.book(user="dave")  # dave holds sales_ops and compliance
    await api.wait_state(oid, "COMPLIANCE_REVIEW")
    r = await api.act(oid, "approve", "dave", {})
    assert r.status_code == 403
    assert "separation of duties" in r.json()["detail"]
    assert (await api.get(oid))["state"] == "COMPLIANCE_REVIEW"


async def test_action_in_the_wrong_state_is_409_naming_the_state(api: ApiHarness) -> None:
    oid = await api.book()
    await api.wait_state(oid, "COMPLIANCE_REVIEW")
    r = await api.act(
        oid, "ship", "alice", {"carrier": "x", "tracking_number": "y", "itn": "X20261128000003"}
    )
    assert r.status_code == 409
    assert "COMPLIANCE_REVIEW" in r.json()["detail"]


async def test_unknown_order_is_404(api: ApiHarness) -> None:
    assert (
        await api.http.get("/api/v1/orders/ORD-NOPE", headers=api.auth("vic"))
    ).status_code == 404
    assert (await api.act("ORD-NOPE", "approve", "bob", {})).status_code == 404


def _with(path: list[Any], value: Any) -> dict[str, Any]:
    body = booking()
    target: Any = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return body


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_with(["lines", 0, "sku"], "A100"), "lines[0].sku"),
        (_with(["lines", 0, "quantity"], 0), "lines[0].quantity"),
        (_with(["lines", 0, "quantity"], -3), "lines[0].quantity"),
        (_with(["lines", 0, "unit_price"], "1.234"), "lines[0].unit_price"),
        (_with(["end_user", "country"], "XX"), "end_user.country"),
        (_with(["purchaser", "nickname"], "x"), "purchaser.nickname"),
        (_with(["lines"], []), "lines"),
        (_with(["requested_ship_date"], "soon"), "requested_ship_date"),
        ({**booking(), "discount": "10%"}, "discount"),
    ],
)
async def test_bad_booking_is_422_naming_the_field(
    api: ApiHarness, body: dict[str, Any], field: str
) -> None:
    r = await api.http.post("/api/v1/orders", json=body, headers=api.auth("alice"))
    assert r.status_code == 422
    assert field in r.json()["detail"]
    assert field in [e["field"] for e in r.json()["errors"]]


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("record-license", {"decision": "maybe"}, "decision"),
        ("ship", {"carrier": "DHL", "tracking_number": "1", "itn": "12345"}, "itn"),
        ("hold", {}, "reason"),
        ("approve", {"note": "ok", "extra": 1}, "extra"),
    ],
)
async def test_bad_action_body_is_422(
    api: ApiHarness, action: str, body: dict[str, Any], field: str
) -> None:
    oid = await api.book()
    r = await api.act(oid, action, "bob", body)
    assert r.status_code == 422
    assert field in r.json()["detail"]


async def test_approved_license_without_its_terms_is_422(api: ApiHarness) -> None:
    oid = await api.book()
    await api.wait_state(oid, "COMPLIANCE_REVIEW")
    await api.act(oid, "approve", "bob", {})
    r = await api.act(oid, "record-license", "bob", {"decision": "approved"})
    assert r.status_code == 422
    assert "license_number" in r.json()["detail"]
    past = {**license_body("D3000001"), "expires_on": "2020-01-01"}
    r = await api.act(oid, "record-license", "bob", past)
    assert r.status_code == 422
    assert "expires_on" in r.json()["detail"]
    assert (await api.get(oid))["state"] == "AWAITING_LICENSE"


async def test_same_idempotency_key_returns_the_same_order(api: ApiHarness) -> None:
    headers = {**api.auth("alice"), "Idempotency-Key": "po-4711"}
    body = booking(ref="PO-4711")
    first = await api.http.post("/api/v1/orders", json=body, headers=headers)
    again = await api.http.post("/api/v1/orders", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    other = await api.http.post("/api/v1/orders", json=booking(quantity=99), headers=headers)
    assert other.status_code == 422
    assert "Idempotency-Key" in other.json()["detail"]
    listed = await api.http.get("/api/v1/orders", params={"q": "PO-4711"}, headers=api.auth("vic"))
    assert [o["id"] for o in listed.json()["items"]] == [first.json()["id"]]
