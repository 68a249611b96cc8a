"""An item newly licensed by a rule change after the order drew: it must draw too before ship."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from pathlib import Path

from temporalio.client import Client

from schemas.catalog import RuleSet
from services.config import Settings
from services.db.engine import make_engine, session_factory
from services.recheck import redetermine_stragglers
from tests.harness import ApiHarness, booking
from tests.policy_data import put_in_force
from workflows.catalog import load_catalog

SHIP = {"carrier": "DHL", "tracking_number": "1", "itn": "X20261201000040"}


def _terms(number: str, *lines: tuple[str, int, str]) -> dict[str, object]:
    return {
        "decision": "approved",
        "license_number": number,
        "lines": [{"sku": s, "approved_quantity": q, "approved_value": v} for s, q, v in lines],
        "expires_on": (date.today() + timedelta(days=365)).isoformat(),
    }


async def _notice_licenses_rtx_pro(settings: Settings, client: Client, tmp_path: Path) -> None:
    rules = load_catalog().ruleset.model_dump(mode="json")
    rules["version"] = "2026-12-01.1"
    rules["effective_from"] = date.today().isoformat()
    rules["rules"].insert(
        0,
        {
            "id": "NOTICE-2026-12-RTX",
            "text": "New notice: RTX PRO to China needs a license.",
            "skus": ["RTX-PRO-6000D"],
            "destinations": ["CN", "HK", "MO"],
            "license_required": True,
            "policy": "license_required",
        },
    )
    put_in_force(settings.database_url, RuleSet.model_validate(rules))
    engine = make_engine(settings.database_url)
    read, write = session_factory(engine), session_factory(engine, write=True)
    assert await redetermine_stragglers(client, read, write) >= 1
    engine.dispose()


async def test_an_item_licensed_after_the_draw_sends_the_order_back_for_its_own_draw(
    private_api: tuple[ApiHarness, Settings], temporal_client: Client, tmp_path: Path
) -> None:
    api, settings = private_api
    body = booking(sku="H20", quantity=10)
    body["lines"].append({"sku": "RTX-PRO-6000D", "quantity": 4, "unit_price": "8000.00"})
    oid = await api.book(body)
    await api.wait_state(oid, "COMPLIANCE_REVIEW")
    assert (await api.act(oid, "approve", "bob", {})).status_code == 200
    first = f"D{uuid.uuid4().int % 10**9:09d}"
    r = await api.act(oid, "record-license", "carol", _terms(first, ("H20", 10, "120000.00")))
    assert r.json()["state"] == "READY_TO_SHIP", r.text

    await _notice_licenses_rtx_pro(settings, temporal_client, tmp_path)
    order = await api.wait_state(oid, "COMPLIANCE_REVIEW")
    assert [x["license_required"] for x in order["determination"]["lines"]] == [True, True]
    r = await api.act(oid, "approve", "bob", {})
    assert r.json()["state"] == "AWAITING_LICENSE"  # RTX PRO holds no draw yet
    filing = await api.http.get(f"/api/v1/orders/{oid}/export-filing", headers=api.auth("vic"))
    assert filing.json()["missing"] == [
        "line 2 (RTX-PRO-6000D): needs a license and has no license draw"
    ]

    second = f"D{uuid.uuid4().int % 10**9:09d}"
    both = _terms(second, ("H20", 10, "120000.00"), ("RTX-PRO-6000D", 4, "32000.00"))
    r = await api.act(oid, "record-license", "carol", both)
    assert r.json()["state"] == "READY_TO_SHIP", r.text
    assert (await api.act(oid, "ship", "alice", SHIP)).json()["state"] == "SHIPPED"
    old = (await api.http.get(f"/api/v1/licenses/{first}", headers=api.auth("vic"))).json()
    assert [e["kind"] for e in old["ledger"]] == ["reserve", "release"]
    new = (await api.http.get(f"/api/v1/licenses/{second}", headers=api.auth("vic"))).json()
    assert [(e["kind"], e["sku"]) for e in new["ledger"]] == [
        ("reserve", "H20"),
        ("reserve", "RTX-PRO-6000D"),
        ("commit", "H20"),
        ("commit", "RTX-PRO-6000D"),
    ]
