"""Licenses as BIS issues them, over the API: lines, named parties, dates, and export filing."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest

from schemas.workflow_io import ReleaseRequest
from services.config import Settings
from services.db.engine import make_engine, session_factory
from services.db.store import SqlOrderStore
from tests.harness import ApiHarness, booking

pytestmark = pytest.mark.usefixtures("screening_list")

SHIP = {"carrier": "DHL", "tracking_number": "1", "itn": "X20261201000030"}
END_USER = "Example Inference Services Ltd."  # the harness booking's end user (and consignee)


def _number() -> str:
    return f"D{uuid.uuid4().int % 10**9:09d}"


def _expiry() -> str:
    return (date.today() + timedelta(days=365)).isoformat()


def _mixed() -> dict[str, Any]:
    body = booking(sku="H20", quantity=10, price="12000.00")
    body["lines"].append({"sku": "RTX-PRO-6000D", "quantity": 4, "unit_price": "8000.00"})
    return body


def _line(sku: str, quantity: int, value: str) -> dict[str, Any]:
    return {"sku": sku, "approved_quantity": quantity, "approved_value": value}


def _license(number: str, *lines: dict[str, Any], **over: Any) -> dict[str, Any]:
    body = {
        "license_number": number,
        "licensee": "Exporter Inc.",
        "ultimate_consignee": {"name": "EXAMPLE INFERENCE SERVICES LIMITED", "country": "CN"},
        "destination": "CN",
        "lines": list(lines) or [_line("H20", 100, "1500000.00")],
        "expires_on": _expiry(),
    }
    return body | over


async def _awaiting(api: ApiHarness, body: dict[str, Any]) -> str:
    oid = await api.book(body)
    await api.wait_state(oid, "COMPLIANCE_REVIEW")
    r = await api.act(oid, "approve", "bob", {})
    assert r.json()["state"] == "AWAITING_LICENSE", r.text
    return oid


async def _record(api: ApiHarness, body: dict[str, Any]) -> dict[str, Any]:
    r = await api.http.post("/api/v1/licenses", json=body, headers=api.auth("bob"))
    assert r.status_code == 201, r.text
    return dict(r.json())


async def _get_license(api: ApiHarness, number: str) -> dict[str, Any]:
    r = await api.http.get(f"/api/v1/licenses/{number}", headers=api.auth("vic"))
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_a_mixed_order_draws_only_its_h20_units_and_files_c30_and_c33(
    api: ApiHarness,
) -> None:
    oid = await _awaiting(api, _mixed())
    number = _number()
    terms = {
        "decision": "approved",
        "license_number": number,
        "approved_quantity": 10,
        "approved_value": "120000.00",
        "expires_on": _expiry(),
    }
    r = await api.act(oid, "record-license", "carol", terms)
    assert r.status_code == 200, r.text
    assert r.json()["license"]["lines"] == [
        {"sku": "H20", "license_line": 1, "quantity": 10, "value": "120000.00"}
    ]
    lic = await _get_license(api, number)
    assert [(x["line"], x["sku"], x["approved_quantity"]) for x in lic["lines"]] == [(1, "H20", 10)]
    assert (lic["ultimate_consignee"]["name"], lic["end_user"]["name"]) == (END_USER, END_USER)
    assert [(e["kind"], e["sku"], e["quantity"]) for e in lic["ledger"]] == [("reserve", "H20", 10)]
    assert lic["remaining_quantity"] == 0

    filing = (
        await api.http.get(f"/api/v1/orders/{oid}/export-filing", headers=api.auth("vic"))
    ).json()
    assert filing["complete"] is True
    assert [
        (x["sku"], x["license_code"], x["license"], x["quantity"]) for x in filing["lines"]
    ] == [
        ("H20", "C30", number, 10),
        ("RTX-PRO-6000D", "C33", "NLR", 4),
    ]
    assert {(p["role"], p["country"]) for p in filing["parties"]} == {
        ("purchaser", "CN"),
        ("ultimate_consignee", "CN"),
        ("end_user", "CN"),
    }
    assert (await api.act(oid, "ship", "alice", SHIP)).json()["state"] == "SHIPPED"
    lic = await _get_license(api, number)
    assert (lic["shipped_quantity"], lic["lines"][0]["shipped_quantity"]) == (10, 10)
    filed = await api.http.get(f"/api/v1/orders/{oid}/export-filing", headers=api.auth("vic"))
    assert filed.json()["itn"] == SHIP["itn"]


async def test_an_order_whose_consignee_differs_from_the_licenses_is_refused_naming_it(
    api: ApiHarness,
) -> None:
    number = _number()
    other = {"name": "Other AI Cloud Co., Ltd.", "country": "CN"}
    await _record(api, _license(number, ultimate_consignee=other))
    oid = await _awaiting(api, booking())
    r = await api.act(
        oid, "record-license", "carol", {"decision": "approved", "license_number": number}
    )
    assert r.status_code == 409
    assert (
        f"license {number} names ultimate consignee 'Other AI Cloud Co., Ltd.' (CN), "
        f"the order '{END_USER}' (CN)" in r.json()["detail"]
    )
    assert (await api.get(oid))["state"] == "AWAITING_LICENSE"
    assert (await _get_license(api, number))["ledger"] == []


async def test_a_license_for_another_end_user_cannot_be_drawn_on(api: ApiHarness) -> None:
    number = _number()
    end_user = {"name": "Another End User Ltd", "country": "CN"}
    await _record(api, _license(number, end_user=end_user))
    oid = await _awaiting(api, booking())
    r = await api.act(
        oid, "record-license", "carol", {"decision": "approved", "license_number": number}
    )
    assert r.status_code == 409
    assert "names end user 'Another End User Ltd' (CN), the order" in r.json()["detail"]


async def test_names_match_whatever_their_case_and_legal_form(api: ApiHarness) -> None:
    number = _number()
    consignee = {"name": "example inference services co., ltd", "country": "CN"}
    await _record(api, _license(number, ultimate_consignee=consignee))
    oid = await _awaiting(api, booking())
    r = await api.act(
        oid, "record-license", "carol", {"decision": "approved", "license_number": number}
    )
    assert r.json()["state"] == "READY_TO_SHIP", r.text


async def test_lines_of_different_skus_are_not_pooled(api: ApiHarness) -> None:
    number = _number()
    lines = [_line("H20", 10, "150000.00"), _line("H100-SXM", 10, "500000.00")]
    lic = await _record(api, _license(number, *lines))
    assert (lic["approved_quantity"], lic["skus"]) == (20, ["H100-SXM", "H20"])
    first = await _awaiting(api, booking(sku="H20", quantity=8))
    again = await _awaiting(api, booking(sku="H20", quantity=5))
    h100 = await _awaiting(api, booking(sku="H100-SXM", quantity=10, price="25000.00"))
    approved = {"decision": "approved", "license_number": number}
    assert (await api.act(first, "record-license", "carol", approved)).status_code == 200
    r = await api.act(again, "record-license", "carol", approved)
    assert r.status_code == 409  # 12 units are left on the license, 2 of them H20
    assert f"license {number} line 1 (H20) has 2 units and USD" in r.json()["detail"]
    assert (await api.act(h100, "record-license", "carol", approved)).status_code == 200
    lic = await _get_license(api, number)
    left = [(x["sku"], x["allocated_quantity"], x["remaining_quantity"]) for x in lic["lines"]]
    assert left == [("H20", 8, 2), ("H100-SXM", 10, 0)]


async def test_a_license_is_not_drawn_on_before_its_valid_from(api: ApiHarness) -> None:
    number = _number()
    starts = (date.today() + timedelta(days=30)).isoformat()
    await _record(api, _license(number, valid_from=starts))
    oid = await _awaiting(api, booking())
    r = await api.act(
        oid, "record-license", "carol", {"decision": "approved", "license_number": number}
    )
    assert r.status_code == 409
    assert f"license {number} is valid from {starts}" in r.json()["detail"]


async def test_one_quantity_for_several_licensed_lines_is_a_422_naming_lines(
    api: ApiHarness,
) -> None:
    body = booking(sku="H20", quantity=2)
    body["lines"].append({"sku": "H100-SXM", "quantity": 1, "unit_price": "25000.00"})
    oid = await _awaiting(api, body)
    pooled = {
        "decision": "approved",
        "license_number": _number(),
        "approved_quantity": 3,
        "approved_value": "100000.00",
        "expires_on": _expiry(),
    }
    r = await api.act(oid, "record-license", "carol", pooled)
    assert r.status_code == 422
    assert r.json()["detail"].startswith("lines: the order has 2 licensed lines (H20, H100-SXM)")
    number = _number()
    per_line = {k: v for k, v in pooled.items() if not k.startswith("approved")}
    per_line |= {
        "license_number": number,
        "lines": [_line("H20", 2, "24000.00"), _line("H100-SXM", 1, "25000.00")],
    }
    assert (await api.act(oid, "record-license", "carol", per_line)).status_code == 200
    lic = await _get_license(api, number)
    assert [(x["sku"], x["allocated_quantity"]) for x in lic["lines"]] == [
        ("H20", 2),
        ("H100-SXM", 1),
    ]


@pytest.mark.parametrize(
    ("over", "field"),
    [
        (
            {
                "lines": [],
                "skus": ["H20", "H100-SXM"],
                "approved_quantity": 5,
                "approved_value": "10.00",
            },
            "lines: several SKUs (H20, H100-SXM) with one approved quantity",
        ),
        ({"lines": [{"approved_quantity": 1, "approved_value": "1.00"}]}, "sku or eccn"),
        ({"ultimate_consignee": None}, "ultimate_consignee"),
    ],
)
async def test_ambiguous_license_bodies_are_422(
    api: ApiHarness, over: dict[str, Any], field: str
) -> None:
    body = _license(_number()) | over
    r = await api.http.post("/api/v1/licenses", json=body, headers=api.auth("bob"))
    assert r.status_code == 422
    assert field in r.json()["detail"]


async def test_the_older_license_body_is_one_line(api: ApiHarness) -> None:
    number = _number()
    older = {
        "license_number": number,
        "licensee": "Exporter Inc.",
        "consignee": END_USER,
        "destination": "CN",
        "skus": ["H20"],
        "approved_quantity": 30,
        "approved_value": "300000.00",
        "expires_on": _expiry(),
    }
    lic = await _record(api, older)
    assert [(x["sku"], x["approved_quantity"], x["approved_value"]) for x in lic["lines"]] == [
        ("H20", 30, "300000.00")
    ]
    assert lic["ultimate_consignee"] == {
        "name": END_USER,
        "country": "CN",
        "address": "",
        "headquarters_country": None,
    }


async def test_export_filing_of_an_unknown_order_is_404(api: ApiHarness) -> None:
    r = await api.http.get("/api/v1/orders/ORD-NOPE/export-filing", headers=api.auth("vic"))
    assert r.status_code == 404


async def test_ship_is_refused_naming_a_licensed_line_whose_draw_is_gone(
    api: ApiHarness, settings: Settings
) -> None:
    oid = await _awaiting(api, _mixed())
    number = _number()
    await _record(api, _license(number))
    approved = {"decision": "approved", "license_number": number}
    assert (await api.act(oid, "record-license", "carol", approved)).status_code == 200
    # The draw is given back behind the order's back (as a revoked license will do).
    engine = make_engine(settings.database_url)
    SqlOrderStore(session_factory(engine, write=True)).release_license(
        ReleaseRequest(entry_key=f"{oid}:revoked:1", order_id=oid, actor="bob", reason="revoked")
    )
    engine.dispose()
    r = await api.act(oid, "ship", "alice", SHIP)
    assert r.status_code == 409
    assert r.json()["detail"] == (
        "ship refused: licensed line 1 (H20) has no license draw; record the license decision first"
    )
    assert (await api.get(oid))["state"] == "READY_TO_SHIP"
