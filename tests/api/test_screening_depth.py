"""Dispositions, whitelists and re-screening when a new list snapshot arrives."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

from schemas.common import Role
from services.config import Settings
from services.db.engine import make_engine, session_factory
from services.recheck import signal_stale
from services.screening.store import import_list_file
from tests.harness import ApiHarness, booking

LISTED = "Academy of Military Medical Sciences"


def _demo_rows() -> tuple[list[str], list[dict[str, str]]]:
    demo = resources.files("services").joinpath("screening/data/demo-csl.csv")
    with demo.open(encoding="utf-8") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def _snapshot(settings: Settings, path: Path, rows: list[dict[str, str]]) -> None:
    header, _ = _demo_rows()
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=header, quoting=csv.QUOTE_ALL)
        writer.writeheader()
        writer.writerows(rows)
    engine = make_engine(settings.database_url)
    with session_factory(engine, write=True)() as session:
        import_list_file(session, path=path, imported_by="test")
    engine.dispose()


async def _hit_entry(api: ApiHarness, oid: str) -> str:
    order = await api.wait_state(oid, "SCREENING_REVIEW")
    return str(order["screening"]["hits"][0]["entry_id"])


async def test_verified_match_rejects_and_escalation_keeps_it_in_review(
    private_api: tuple[ApiHarness, Settings],
) -> None:
    api, _ = private_api
    oid = await api.book(booking(end_user=LISTED))
    entry = await _hit_entry(api, oid)
    body = {"entry_id": entry, "decision": "escalated", "reason": "needs the export counsel"}
    r = await api.act(oid, "disposition", "bob", body)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "SCREENING_REVIEW"
    assert r.json()["screening"]["status"] == "escalated"
    r = await api.act(
        oid, "disposition", "carol", {**body, "decision": "verified_match", "reason": "same entity"}
    )
    assert r.json()["state"] == "REJECTED"
    disposition = r.json()["screening"]["dispositions"][entry]
    assert (disposition["by"], disposition["reason"]) == ("carol", "same entity")
    r = await api.act(oid, "disposition", "bob", {**body, "entry_id": "nope"})
    assert r.status_code == 409  # the order is rejected now


async def test_disposition_of_an_unknown_entry_is_422(
    private_api: tuple[ApiHarness, Settings],
) -> None:
    api, _ = private_api
    oid = await api.book(booking(end_user=LISTED))
    await _hit_entry(api, oid)
    r = await api.act(
        oid,
        "disposition",
        "bob",
        {"entry_id": "not-on-any-list", "decision": "not_a_match", "reason": "x"},
    )
    assert r.status_code == 422
    assert "entry_id" in r.json()["detail"]


async def test_whitelist_skips_the_entry_until_the_entry_changes(
    private_api: tuple[ApiHarness, Settings], tmp_path: Path
) -> None:
    api, settings = private_api
    first = await api.book(booking(sku="RTX-PRO-6000D", end_user=LISTED))
    entry = await _hit_entry(api, first)
    until = (date.today() + timedelta(days=90)).isoformat()
    r = await api.act(
        first,
        "disposition",
        "bob",
        {
            "entry_id": entry,
            "decision": "not_a_match",
            "reason": "different legal entity",
            "whitelist_until": until,
        },
    )
    assert r.json()["state"] == "COMPLIANCE_REVIEW"  # a cleared hit is still a red flag

    second = await api.book(booking(sku="RTX-PRO-6000D", end_user=LISTED))
    order = await api.wait_state(second, "READY_TO_SHIP")
    assert order["screening"]["hits"] == []
    assert order["screening"]["whitelisted"] == [entry]

    header, rows = _demo_rows()
    for row in rows:
        if row["name"] == LISTED:
            row["alt_names"] += "; AMMS Beijing"  # the listed entry changes
    _snapshot(settings, tmp_path / "changed.csv", rows)
    third = await api.book(booking(sku="RTX-PRO-6000D", end_user=LISTED))
    await api.wait_state(third, "SCREENING_REVIEW")


async def test_a_new_snapshot_rescreens_open_orders_back_into_review(
    private_api: tuple[ApiHarness, Settings], temporal_client: object, tmp_path: Path
) -> None:
    api, settings = private_api
    newco = "Shenzhen Newco Semiconductor Co., Ltd."
    oid = await api.book(booking(end_user=newco))
    await api.wait_state(oid, "COMPLIANCE_REVIEW")
    await api.act(oid, "approve", "bob", {})
    shipped = await api.book(booking(sku="RTX-PRO-6000D", end_user=newco))
    await api.wait_state(shipped, "READY_TO_SHIP")
    ship = {"carrier": "DHL", "tracking_number": "1", "itn": "X20261128000010"}
    assert (await api.act(shipped, "ship", "alice", ship)).status_code == 200

    _, rows = _demo_rows()
    rows.append(
        {
            **rows[0],
            "_id": "newco-1",
            "name": "Shenzhen Newco Semiconductor",
            "alt_names": "",
            "addresses": "Shenzhen, China, CN",
        }
    )
    _snapshot(settings, tmp_path / "with-newco.csv", rows)
    engine = make_engine(settings.database_url)
    signalled = await signal_stale(temporal_client, session_factory(engine))  # type: ignore[arg-type]
    engine.dispose()
    assert signalled >= 1
    order = await api.wait_state(oid, "SCREENING_REVIEW")
    assert order["screening"]["hits"][0]["entry_id"] == "newco-1"
    events = (await api.http.get(f"/api/v1/orders/{oid}/events", headers=api.auth("vic"))).json()
    last = events["items"][-1]
    assert (last["action"], last["from_state"], last["to_state"]) == (
        "rescreen",
        "AWAITING_LICENSE",
        "SCREENING_REVIEW",
    )
    assert (await api.get(shipped))["state"] == "SHIPPED"  # goods that left are not recalled


async def test_ship_rescreens_first_and_a_new_hit_stops_it(
    private_api: tuple[ApiHarness, Settings], tmp_path: Path
) -> None:
    api, settings = private_api
    name = "Hefei Example Compute Ltd."
    oid = await api.book(booking(sku="RTX-PRO-6000D", end_user=name))
    await api.wait_state(oid, "READY_TO_SHIP")
    _, rows = _demo_rows()
    rows.append(
        {
            **rows[0],
            "_id": "hefei-1",
            "name": "Hefei Example Compute",
            "alt_names": "",
            "addresses": "Hefei, China, CN",
        }
    )
    _snapshot(settings, tmp_path / "with-hefei.csv", rows)
    ship = {"carrier": "DHL", "tracking_number": "1", "itn": "X20261128000011"}
    r = await api.act(oid, "ship", "alice", ship)
    assert r.status_code == 409
    assert "SCREENING_REVIEW" in r.json()["detail"]
    assert (await api.get(oid))["state"] == "SCREENING_REVIEW"


def test_roles_enum_is_what_the_cli_offers() -> None:
    assert {r.value for r in Role} == {"sales_ops", "compliance", "viewer", "integration"}
