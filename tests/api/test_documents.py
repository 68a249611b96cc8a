"""Documents on an order: upload, list, download, record export; evidence blocks shipment."""

from __future__ import annotations

import hashlib

import pytest

from tests.harness import ApiHarness, booking, license_body

pytestmark = pytest.mark.usefixtures("screening_list")

SHIP = {"carrier": "DHL", "tracking_number": "JD1", "itn": "X20261130000001"}


async def upload(
    api: ApiHarness,
    oid: str,
    data: bytes,
    kind: str | None = None,
    user: str = "alice",
    name: str = "report.pdf",
) -> dict[str, object]:
    form = {"kind": kind} if kind else {}
    r = await api.http.post(
        f"/api/v1/orders/{oid}/documents",
        files={"file": (name, data, "application/pdf")},
        data=form,
        headers=api.auth(user),
    )
    return {"status": r.status_code, **r.json()}


async def test_a_document_is_stored_listed_downloaded_and_in_the_record(api: ApiHarness) -> None:
    oid = await api.book(booking(sku="RTX-PRO-6000D"))
    data = b"%PDF-1.7 lab report"
    doc = await upload(api, oid, data, kind="lab_test_report", name="../../etc/report.pdf")
    assert doc["status"] == 201, doc
    assert doc["sha256"] == hashlib.sha256(data).hexdigest()
    assert (doc["filename"], doc["kind"], doc["size"], doc["uploaded_by"]) == (
        "report.pdf",
        "lab_test_report",
        len(data),
        "alice",
    )
    listed = (await api.http.get(f"/api/v1/orders/{oid}/documents", headers=api.auth("vic"))).json()
    assert [d["id"] for d in listed["items"]] == [doc["id"]]
    r = await api.http.get(f"/api/v1/orders/{oid}/documents/{doc['id']}", headers=api.auth("vic"))
    assert r.content == data
    assert r.headers["content-disposition"] == 'attachment; filename="report.pdf"'
    assert r.headers["content-type"] == "application/octet-stream"
    record = (await api.http.get(f"/api/v1/orders/{oid}/record", headers=api.auth("bob"))).json()
    assert record["documents"][0]["sha256"] == doc["sha256"]


async def test_bad_uploads_are_refused_naming_the_field(api: ApiHarness) -> None:
    oid = await api.book(booking(sku="RTX-PRO-6000D"))
    assert (await upload(api, oid, b""))["status"] == 422
    bad = await upload(api, oid, b"x", kind="Lab Report!")
    assert bad["status"] == 422
    assert "kind" in str(bad["detail"])
    assert (await upload(api, oid, b"x", user="vic"))["status"] == 403
    assert (await upload(api, "ord_nope", b"x"))["status"] == 404
    r = await api.http.get(f"/api/v1/orders/{oid}/documents/nope", headers=api.auth("vic"))
    assert r.status_code == 404


async def test_ship_is_refused_until_the_rules_evidence_is_on_the_order(api: ApiHarness) -> None:
    oid = await api.book(booking(sku="H100-SXM", quantity=2, price="30000.00"))
    await api.wait_state(oid, "COMPLIANCE_REVIEW")
    assert (await api.act(oid, "approve", "bob", {})).status_code == 200
    r = await api.act(oid, "record-license", "carol", license_body("D7700001"))
    assert r.status_code == 200, r.text
    r = await api.act(oid, "ship", "alice", SHIP)
    assert r.status_code == 409
    assert "lab_test_report" in r.json()["detail"]
    assert "kyc_certification" in r.json()["detail"]
    assert (await upload(api, oid, b"lab", kind="lab_test_report"))["status"] == 201
    r = await api.act(oid, "ship", "alice", SHIP)
    assert r.status_code == 409
    assert "lab_test_report" not in r.json()["detail"]
    assert (await upload(api, oid, b"kyc", kind="kyc_certification"))["status"] == 201
    r = await api.act(oid, "ship", "alice", SHIP)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "SHIPPED"
