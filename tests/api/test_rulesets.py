"""Rule sets over the API: staging changes nothing, the preview, four eyes, activation."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from temporalio.client import Client

from services.config import Settings
from services.db.engine import make_engine, session_factory
from services.policy import store
from services.policy.timers import sweep_timers
from services.recheck import redetermine_stragglers, signal_stale
from tests.harness import ApiHarness, booking
from tests.policy_data import edited, put_in_force, rtx_needs_license

RULESETS = "/api/v1/rulesets"


def unique(version: str) -> str:
    """A version of this test's own: rule-set workflow ids are per version on a shared server."""
    return f"{version}-{uuid.uuid4().hex[:6]}"


def stage_body(version: str, *edits: Any, effective: date | None = None) -> dict[str, Any]:
    """A `POST /rulesets` body: the bundled rules, edited, effective today unless given."""
    rules = edited(version, *edits, effective_from=effective or date.today())
    return {"ruleset": rules.model_dump(mode="json"), "citation": f"91 FR {version}"}


async def events_of(api: ApiHarness, oid: str) -> list[dict[str, Any]]:
    """An order's audit trail."""
    r = await api.http.get(f"/api/v1/orders/{oid}/events", headers=api.auth("vic"))
    return list(r.json()["items"])


async def wait_fan_out(api: ApiHarness, version: str, timeout: float = 60) -> dict[str, Any]:
    """Poll until the rule set's fan-out has finished."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = (await api.http.get(f"{RULESETS}/{version}", headers=api.auth("vic"))).json()
        fan_out = found.get("fan_out") or {}
        if fan_out.get("finished_at"):
            return dict(found)
        assert asyncio.get_running_loop().time() < deadline, f"fan-out not done: {found}"
        await asyncio.sleep(0.1)


async def _two_orders(api: ApiHarness) -> tuple[str, str]:
    h20 = await api.book(booking(sku="H20"))
    formula = booking(sku="RTX-PRO-6000D")
    formula["purchaser"]["name"] = '=HYPERLINK("http://x.test","open")'
    rtx = await api.book(formula)
    await api.wait_state(h20, "COMPLIANCE_REVIEW")
    await api.wait_state(rtx, "READY_TO_SHIP")
    return h20, rtx


async def test_staging_changes_nothing_and_the_preview_says_what_activation_would(
    private_api: tuple[ApiHarness, Settings], temporal_client: Client
) -> None:
    api, settings = private_api
    h20, rtx = await _two_orders(api)
    before = {oid: len(await events_of(api, oid)) for oid in (h20, rtx)}
    version = unique("2026-12.rtx")
    r = await api.http.post(
        RULESETS, json=stage_body(version, rtx_needs_license), headers=api.auth("bob")
    )
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "staged"
    # The worker's sweeps find nothing to do: a staged set decides nothing.
    engine = make_engine(settings.database_url)
    read, write = session_factory(engine), session_factory(engine, write=True)
    assert await signal_stale(temporal_client, read) == 0
    assert await redetermine_stragglers(temporal_client, read, write) == 0
    engine.dispose()
    later = await api.book(booking(sku="RTX-PRO-6000D"))
    assert (await api.wait_state(later, "READY_TO_SHIP"))["license_required"] is False
    for oid, count in before.items():
        assert len(await events_of(api, oid)) == count
    page = (await api.http.get(RULESETS, headers=api.auth("vic"))).json()
    assert page["active"] == page["items"][-1]["version"]  # the bundled baseline
    assert [i["status"] for i in page["items"]] == ["staged", "active"]

    report = (await api.http.get(f"{RULESETS}/{version}/impact", headers=api.auth("vic"))).json()
    assert report["open_orders"] == 3
    assert {o["order_id"]: o["change"] for o in report["orders"]} == {
        rtx: "license_newly_required",
        later: "license_newly_required",
    }
    (line,) = next(o for o in report["orders"] if o["order_id"] == rtx)["lines"]
    assert (line["from_policy"], line["to_policy"]) == ("nlr", "license_required")
    assert line["to_rule"] == "RTX-PRO-DESIGNED-TO-COMPLY"
    totals = {t["change"]: (t["orders"], t["units"], t["value"]) for t in report["by_change"]}
    assert totals == {
        "license_newly_required": (2, 20, "240000.00"),
        "unchanged": (1, 10, "120000.00"),
    }
    limited = f"{RULESETS}/{version}/impact?limit=1&include=all"
    report_1 = (await api.http.get(limited, headers=api.auth("vic"))).json()
    assert (len(report_1["orders"]), report_1["changed_orders"]) == (1, 2)
    assert report_1["orders"][0]["change"] == "license_newly_required"  # most serious first
    by_sku = {(t["sku"], t["change"]): t["orders"] for t in report["by_sku"]}
    assert by_sku == {("RTX-PRO-6000D", "license_newly_required"): 2, ("H20", "unchanged"): 1}


async def test_one_officer_cannot_activate_and_the_second_activates_at_once(
    private_api: tuple[ApiHarness, Settings],
) -> None:
    api, _ = private_api
    h20, rtx = await _two_orders(api)
    version = unique("2026-12.rtx")
    body = stage_body(version, rtx_needs_license)
    assert (await api.http.post(RULESETS, json=body, headers=api.auth("bob"))).status_code == 201
    approve = f"{RULESETS}/{version}/approve"
    r = await api.http.post(approve, json={}, headers=api.auth("bob"))
    assert r.status_code == 403
    assert "bob staged" in r.json()["detail"]
    assert (await api.http.post(approve, headers=api.auth("alice"))).status_code == 403
    r = await api.http.post(approve, json={"note": "read it"}, headers=api.auth("carol"))
    assert r.status_code == 200, r.text
    assert (r.json()["status"], len(r.json()["approvals"])) == ("staged", 1)
    r = await api.http.post(approve, json={}, headers=api.auth("carol"))
    assert r.status_code == 403
    assert "already approved" in r.json()["detail"]
    assert (await api.get(rtx))["state"] == "READY_TO_SHIP"

    r = await api.http.post(approve, json={"note": "agreed"}, headers=api.auth("dave"))
    assert r.status_code == 200, r.text
    found = await wait_fan_out(api, version)
    assert found["status"] == "active"
    assert found["fan_out"]["done"] == found["fan_out"]["total"] == 2
    assert found["fan_out"]["changed"] == 1
    actions = [e["action"] for e in found["events"]]
    assert actions == ["staged", "approved", "approved", "activated", "fan-out"]
    order = await api.wait_state(rtx, "COMPLIANCE_REVIEW")
    assert order["determination"]["ruleset_version"] == version
    last = (await events_of(api, rtx))[-1]
    assert (last["action"], last["data"]["ruleset"]) == ("redetermine", version)
    assert last["data"]["impact"]["change"] == "license_newly_required"
    assert "license newly required (RTX-PRO-6000D: RTX-PRO-DESIGNED-TO-COMPLY" in last["reason"]
    assert (await events_of(api, h20))[-1]["action"] == "screened"  # unchanged: untouched
    r = await api.act(rtx, "approve", "carol", {})
    assert r.json()["state"] == "AWAITING_LICENSE"
    r = await api.http.post(approve, json={}, headers=api.auth("carol"))
    assert r.status_code == 409


async def test_bad_rule_sets_are_refused_naming_the_field(
    private_api: tuple[ApiHarness, Settings],
) -> None:
    api, _ = private_api
    body = stage_body("2026-12.bad")
    body["expires_on"] = (date.today() - timedelta(days=1)).isoformat()
    r = await api.http.post(RULESETS, json=body, headers=api.auth("bob"))
    assert r.status_code == 422
    assert "expires_on" in r.json()["detail"]
    body = stage_body("2026-12.bad")
    body["ruleset"]["rules"][0]["policy"] = "maybe"
    r = await api.http.post(RULESETS, json=body, headers=api.auth("bob"))
    assert r.status_code == 422
    assert "ruleset.rules[0].policy" in r.json()["detail"]
    r = await api.http.post(RULESETS, json=stage_body("x"), headers=api.auth("alice"))
    assert r.status_code == 403
    good = stage_body("2026-12.same")
    assert (await api.http.post(RULESETS, json=good, headers=api.auth("bob"))).status_code == 201
    assert (await api.http.post(RULESETS, json=good, headers=api.auth("bob"))).status_code == 200
    good["ruleset"]["rules"].pop()
    r = await api.http.post(RULESETS, json=good, headers=api.auth("bob"))
    assert r.status_code == 409
    bundled = stage_body("2026-12.same")
    bundled["ruleset"]["version"] = (await api.http.get(RULESETS, headers=api.auth("vic"))).json()[
        "active"
    ]
    assert (await api.http.post(RULESETS, json=bundled, headers=api.auth("bob"))).status_code == 409
    assert (await api.http.get(f"{RULESETS}/nope", headers=api.auth("vic"))).status_code == 404
    r = await api.http.post(f"{RULESETS}/nope/approve", json={}, headers=api.auth("carol"))
    assert r.status_code == 404


async def test_the_impact_csv_neutralises_formulas(
    private_api: tuple[ApiHarness, Settings],
) -> None:
    api, _ = private_api
    _, rtx = await _two_orders(api)
    version = unique("2026-12.csv")
    await api.http.post(
        RULESETS, json=stage_body(version, rtx_needs_license), headers=api.auth("bob")
    )
    r = await api.http.get(f"{RULESETS}/{version}/impact?format=csv", headers=api.auth("vic"))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    header, row, *rest = r.text.splitlines()
    assert header.startswith("order_id,external_ref,customer")
    assert rest == []
    assert row.startswith(f"{rtx},")
    assert ',"\'=HYPERLINK(""http://x.test"",""open"")",' in row
    assert ",RTX-PRO-6000D,RTX-PRO-DESIGNED-TO-COMPLY,RTX-PRO-DESIGNED-TO-COMPLY,nlr," in row


async def test_a_rule_set_approved_while_temporal_was_away_is_started_by_the_sweeper(
    private_api: tuple[ApiHarness, Settings], temporal_client: Client
) -> None:
    api, settings = private_api
    version = unique("2026-12.away")
    r = await api.http.post(RULESETS, json=stage_body(version), headers=api.auth("bob"))
    assert r.status_code == 201
    await api.http.post(f"{RULESETS}/{version}/approve", headers=api.auth("carol"))
    engine = make_engine(settings.database_url)
    write = session_factory(engine, write=True)
    with write() as session:  # the second approval, stored while Temporal could not be reached
        store.approve(session, version=version, actor="dave", note=None, now=datetime.now(UTC))
        session.commit()
    found = (await api.http.get(f"{RULESETS}/{version}", headers=api.auth("vic"))).json()
    assert (found["status"], found["activated_at"]) == ("approved", None)
    assert await sweep_timers(temporal_client, write, settings) == 1
    assert await sweep_timers(temporal_client, write, settings) == 0
    engine.dispose()
    found = await wait_fan_out(api, version)
    assert found["status"] == "active"


async def test_orders_a_fan_out_missed_are_judged_by_the_sweep(
    private_api: tuple[ApiHarness, Settings], temporal_client: Client
) -> None:
    # As if these orders were being determined under the old rules while the fan-out ran.
    api, settings = private_api
    h20, rtx = await _two_orders(api)
    version = unique("2026-12.late")
    put_in_force(settings.database_url, edited(version, rtx_needs_license))
    engine = make_engine(settings.database_url)
    read, write = session_factory(engine), session_factory(engine, write=True)
    assert await redetermine_stragglers(temporal_client, read, write) == 2
    order = await api.wait_state(rtx, "COMPLIANCE_REVIEW")
    assert order["determination"]["ruleset_version"] == version
    assert await redetermine_stragglers(temporal_client, read, write) == 0  # both accounted for
    engine.dispose()
    assert (await events_of(api, h20))[-1]["action"] == "screened"
