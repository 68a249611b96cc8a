"""BIS applications over the API: filed, registered, held, returned and refiled; the clock shows."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.harness import ApiHarness

pytestmark = pytest.mark.usefixtures("screening_list")

DAY = date.today() - timedelta(days=20)


async def awaiting(api: ApiHarness) -> str:
    oid = await api.book()
    await api.wait_state(oid, "COMPLIANCE_REVIEW")
    assert (await api.act(oid, "approve", "bob", {})).status_code == 200
    return oid


async def test_an_application_is_filed_registered_held_and_refiled(api: ApiHarness) -> None:
    oid = await awaiting(api)
    r = await api.act(oid, "application-status", "bob", {"status": "registered", "on": str(DAY)})
    assert r.status_code == 409
    assert "submit-application first" in r.json()["detail"]

    body = {"application_control_number": "Z100001", "submitted_on": str(DAY)}
    r = await api.act(oid, "submit-application", "bob", body)
    assert r.status_code == 200, r.text
    assert r.json()["application"]["status"] == "submitted"
    assert r.json()["state"] == "AWAITING_LICENSE"

    reg = DAY + timedelta(days=1)
    r = await api.act(oid, "application-status", "bob", {"status": "registered", "on": str(reg)})
    app = r.json()["application"]
    assert app["decision_due_on"] == str(reg + timedelta(days=90))
    assert r.json()["due_at"].startswith(str(reg + timedelta(days=90)))

    hold = reg + timedelta(days=2)
    r = await api.act(
        oid,
        "application-status",
        "bob",
        {"status": "hold_without_action", "on": str(hold), "note": "BIS asks"},
    )
    assert r.json()["application"]["clock_running"] is False
    assert r.json()["due_at"] is None
    back = hold + timedelta(days=5)
    r = await api.act(oid, "application-status", "bob", {"status": "registered", "on": str(back)})
    assert r.json()["application"]["decision_due_on"] == str(reg + timedelta(days=95))

    again = {"application_control_number": "Z100002", "submitted_on": str(back)}
    r = await api.act(oid, "submit-application", "bob", again)
    assert r.status_code == 409
    assert "still registered" in r.json()["detail"]

    rwa = {
        "status": "returned_without_action",
        "on": str(back + timedelta(days=1)),
        "successor_application_control_number": "Z100001",
    }
    r = await api.act(oid, "application-status", "bob", rwa)
    assert r.status_code == 422
    assert "already used" in r.json()["detail"]
    rwa["successor_application_control_number"] = "Z100002"
    r = await api.act(oid, "application-status", "bob", rwa)
    assert r.status_code == 200, r.text
    app = r.json()["application"]
    assert (app["application_control_number"], app["predecessors"]) == ("Z100002", ["Z100001"])
    assert [h["status"] for h in app["history"]][-2:] == ["returned_without_action", "submitted"]

    events = (await api.http.get(f"/api/v1/orders/{oid}/events", headers=api.auth("vic"))).json()
    actions = [e["action"] for e in events["items"]]
    assert actions.count("application-status") == 4
    assert events["items"][-1]["data"]["application_control_number"] == "Z100002"


async def test_applications_are_compliances_and_not_the_bookers(api: ApiHarness) -> None:
    oid = await awaiting(api)
    body = {"application_control_number": "Z200001", "submitted_on": str(DAY)}
    r = await api.act(oid, "submit-application", "alice", body)
    assert r.status_code == 403
    r = await api.act(
        oid, "submit-application", "bob", {**body, "application_control_number": "12"}
    )
    assert r.status_code == 422
    assert "application_control_number" in r.text
    future = {**body, "submitted_on": str(date.today() + timedelta(days=3))}
    r = await api.act(oid, "submit-application", "bob", future)
    assert r.status_code == 422
    assert "submitted_on" in r.json()["detail"]
