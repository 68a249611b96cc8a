"""Records an auditor can rely on: export, tamper-evident trail, retention and legal hold."""

from __future__ import annotations

import csv
import io
import subprocess
from datetime import date, timedelta

from sqlalchemy import text

from services.config import Settings
from services.db.audit import verify
from services.db.engine import make_engine, session_factory
from tests.conftest import tool
from tests.e2e.procs import base_env
from tests.harness import ApiHarness, booking, license_body

SHIP = {"carrier": "DHL", "tracking_number": "1", "itn": "X20261128000030"}


async def _shipped(api: ApiHarness) -> str:
    oid = await api.book(booking(quantity=5, price="1000.00"))
    await api.wait_state(oid, "COMPLIANCE_REVIEW")
    await api.act(oid, "approve", "bob", {"note": "ok"})
    await api.act(oid, "record-license", "bob", license_body(f"D{oid[-6:]}", 10, "100000.00"))
    r = await api.act(oid, "ship", "alice", SHIP)
    assert r.status_code == 200, r.text
    return oid


async def test_the_full_record_exports_as_json_and_csv(
    private_api: tuple[ApiHarness, Settings],
) -> None:
    api, _ = private_api
    oid = await _shipped(api)
    r = await api.http.get(f"/api/v1/orders/{oid}/record", headers=api.auth("vic"))
    record = r.json()
    assert record["order"]["shipment"]["itn"] == SHIP["itn"]
    assert record["order"]["determination"]["rule_id"] == "IS-INFORMED-2025-04-H20"
    assert len(record["screening_snapshot"]["content_hash"]) == 64
    assert [e["kind"] for e in record["license_ledger"]] == ["reserve", "commit"]
    assert [e["seq"] for e in record["events"]] == list(range(len(record["events"])))
    assert record["events"][1]["prev_hash"] == record["events"][0]["hash"]
    assert record["retention_until"] == (
        date.today().replace(year=date.today().year + 5).isoformat()
    )
    r = await api.http.get(
        f"/api/v1/orders/{oid}/record", params={"format": "csv"}, headers=api.auth("vic")
    )
    assert r.headers["content-type"].startswith("text/csv")
    rows = dict(csv.reader(io.StringIO(r.text)))
    assert rows["order.shipment.itn"] == SHIP["itn"]
    assert rows["license_ledger[1].kind"] == "commit"


async def test_tampering_with_the_trail_is_found_at_the_right_row(
    private_api: tuple[ApiHarness, Settings],
) -> None:
    api, settings = private_api
    oid = await _shipped(api)
    engine = make_engine(settings.database_url)
    read = session_factory(engine)
    with read() as session:
        assert verify(session)[1] is None
    with session_factory(engine, write=True)() as session:
        session.execute(
            text(
                "UPDATE order_events SET reason = 'nothing to see' WHERE order_id = :o AND seq = 3"
            ),
            {"o": oid},
        )
        session.commit()
    with read() as session:
        checked, broken = verify(session)
    assert broken is not None
    assert (broken.order_id, broken.seq) == (oid, 3)
    assert "content does not match" in broken.reason
    done = subprocess.run(
        [tool("exportflow"), "audit", "verify"],
        capture_output=True,
        text=True,
        env=base_env(database_url=settings.database_url),
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert f"order {oid}, event seq 3" in done.stderr
    with session_factory(engine, write=True)() as session:
        session.execute(
            text("DELETE FROM order_events WHERE order_id = :o AND seq = 2"), {"o": oid}
        )
        session.commit()
    with read() as session:
        broken = verify(session)[1]
    engine.dispose()
    assert broken is not None
    assert (broken.seq, broken.reason) == (2, "event seq 2 is missing")


async def test_records_are_kept_until_retention_and_while_on_legal_hold(
    private_api: tuple[ApiHarness, Settings],
) -> None:
    api, settings = private_api
    oid = await _shipped(api)
    r = await api.http.delete(f"/api/v1/orders/{oid}/record", headers=api.auth("bob"))
    assert r.status_code == 409
    assert "must be kept until" in r.json()["detail"]
    r = await api.http.post(
        f"/api/v1/orders/{oid}/legal-hold", json={"reason": "BIS subpoena"}, headers=api.auth("bob")
    )
    assert r.json()["legal_hold"] is True
    engine = make_engine(settings.database_url)
    past = (date.today() - timedelta(days=1)).isoformat()
    with session_factory(engine, write=True)() as session:
        session.execute(
            text("UPDATE orders SET retention_until = :d WHERE id = :o"), {"d": past, "o": oid}
        )
        session.commit()
    engine.dispose()
    r = await api.http.delete(f"/api/v1/orders/{oid}/record", headers=api.auth("bob"))
    assert r.status_code == 409
    assert "legal hold" in r.json()["detail"]
    assert "BIS subpoena" in r.json()["detail"]
    r = await api.http.delete(
        f"/api/v1/orders/{oid}/legal-hold", params={"reason": "closed"}, headers=api.auth("bob")
    )
    assert r.json()["legal_hold"] is False
    assert (
        await api.http.delete(f"/api/v1/orders/{oid}/record", headers=api.auth("alice"))
    ).status_code == 403
    r = await api.http.delete(f"/api/v1/orders/{oid}/record", headers=api.auth("bob"))
    assert r.status_code == 204
    r = await api.http.get(f"/api/v1/orders/{oid}", headers=api.auth("vic"))
    assert r.status_code == 404


async def test_an_open_order_cannot_be_deleted(
    private_api: tuple[ApiHarness, Settings],
) -> None:
    api, _ = private_api
    oid = await api.book(booking())
    r = await api.http.delete(f"/api/v1/orders/{oid}/record", headers=api.auth("bob"))
    assert r.status_code == 409
    assert "still open" in r.json()["detail"]
