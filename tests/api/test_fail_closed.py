"""Determination fails closed, over the API: the three cases a compliance officer found."""

from __future__ import annotations

from datetime import date

import pytest

from schemas.catalog import RuleSet
from services.config import Settings
from tests.harness import ApiHarness, booking
from tests.policy_data import put_in_force
from workflows.catalog import load_catalog

pytestmark = pytest.mark.usefixtures("screening_list")


async def test_a_subsidiary_of_a_chinese_cloud_in_singapore_needs_a_license_for_h20(
    api: ApiHarness,
) -> None:
    body = booking(sku="H20", country="SG")
    body["purchaser"] = {
        "name": "Example Cloud SG Pte Ltd",
        "country": "SG",
        "headquarters_country": "CN",
    }
    oid = await api.book(body)
    order = await api.wait_state(oid, "COMPLIANCE_REVIEW")
    assert order["license_required"] is True
    assert order["determination"]["rule_id"] == "IS-INFORMED-2025-04-H20"


async def test_h20_to_singapore_without_a_chinese_parent_is_nlr_by_an_explicit_rule(
    api: ApiHarness,
) -> None:
    oid = await api.book(
        booking(sku="H20", country="SG")
        | {"purchaser": {"name": "Lion City Compute Pte Ltd", "country": "SG"}}
    )
    order = await api.wait_state(oid, "READY_TO_SHIP")
    assert order["determination"]["rule_id"] == "AT-ONLY-NLR"
    assert order["determination"]["lines"][0]["license_code"] == "C33"


async def test_every_party_is_screened(api: ApiHarness) -> None:
    body = booking(sku="RTX-PRO-6000D", country="DE")
    body["ultimate_consignee"] = {"name": "Consignee GmbH", "country": "DE"}
    body["intermediate_consignees"] = [{"name": "Forwarder BV", "country": "NL"}]
    oid = await api.book(body)
    order = await api.wait_state(oid, "READY_TO_SHIP")
    assert order["ultimate_consignee"]["name"] == "Consignee GmbH"
    events = (await api.http.get(f"/api/v1/orders/{oid}/events", headers=api.auth("vic"))).json()
    assert events["items"][2]["action"] == "screened"


async def test_no_rule_goes_to_compliance_who_must_decide(
    private_api: tuple[ApiHarness, Settings],
) -> None:
    api, settings = private_api
    ruleset = load_catalog().ruleset.model_dump(mode="json")
    ruleset["version"] = "2026-11-30.thin"
    ruleset["effective_from"] = date.today().isoformat()
    ruleset["rules"] = [r for r in ruleset["rules"] if r["id"] != "AT-ONLY-NLR"]
    put_in_force(settings.database_url, RuleSet.model_validate(ruleset))

    oid = await api.book(booking(sku="RTX-PRO-6000D", country="DE"))
    order = await api.wait_state(oid, "COMPLIANCE_REVIEW")
    assert order["license_required"] is None
    assert order["determination"]["policy"] == "no_rule"
    assert order["determination"]["license_code"] is None
    r = await api.act(oid, "approve", "bob", {})
    assert r.status_code == 422
    assert "license_required" in r.json()["detail"]
    r = await api.act(oid, "approve", "bob", {"license_required": False})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "READY_TO_SHIP"
    line = r.json()["determination"]["lines"][0]
    assert (line["license_code"], line["decided_by"]) == ("C33", "bob")
