"""Bulk import: every bad row reported, atomic or not, each order booked once, CLI and API."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from services.config import Settings
from services.orders_import import COLUMNS
from tests.e2e.procs import base_env, run
from tests.harness import ApiHarness

pytestmark = pytest.mark.usefixtures("screening_list")

SHIP = (date.today() + timedelta(days=45)).isoformat()


def line(ref: str, **over: str) -> dict[str, str]:
    """One valid CSV row (an H20 line of order `ref`); override what a test is about."""
    row = {
        "external_ref": ref,
        "purchaser_name": "Example Cloud Computing Co., Ltd.",
        "purchaser_country": "CN",
        "purchaser_address": "Shenzhen",
        "end_user_name": "Example Inference Services Ltd.",
        "end_user_country": "CN",
        "end_user_address": "Beijing",
        "end_use": "commercial AI inference",
        "requested_ship_date": SHIP,
        "sku": "H20",
        "quantity": "8",
        "unit_price": "12000.00",
    }
    return row | over


def to_csv(rows: list[dict[str, str]], columns: tuple[str, ...] = COLUMNS) -> bytes:
    """The rows as a CSV file with a header."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


async def upload(
    api: ApiHarness, data: bytes, user: str = "alice", atomic: bool = True
) -> dict[str, Any]:
    """POST the file to the import endpoint and return the status and report."""
    r = await api.http.post(
        "/api/v1/orders/import",
        params={"atomic": str(atomic).lower()},
        files={"file": ("orders.csv", data, "text/csv")},
        headers=api.auth(user),
        timeout=120,
    )
    return {"status": r.status_code, **r.json()}


def refs() -> tuple[str, str, str]:
    """Three external refs unique to the calling test."""
    tag = uuid.uuid4().hex[:8]
    return f"PO-{tag}-1", f"PO-{tag}-2", f"PO-{tag}-3"


async def orders_with(api: ApiHarness, text: str) -> list[dict[str, Any]]:
    """Orders whose customer or external ref contains `text`."""
    r = await api.http.get("/api/v1/orders", params={"q": text}, headers=api.auth("vic"))
    return list(r.json()["items"])


async def test_every_bad_row_is_reported_and_an_atomic_import_books_nothing(
    api: ApiHarness,
) -> None:
    a, b, c = refs()
    rows = [
        line(a),
        line(a, sku="H20", quantity="zero"),
        line(b, sku="A100"),
        line(b, end_use="something else"),
        line(c, end_user_country="XX", unit_price="1.234"),
        line("", sku="H20"),
        line(a.replace("-1", "-4"), purchaser_name=""),
    ]
    report = await upload(api, to_csv(rows))
    assert report["status"] == 422
    assert report["booked"] == 0
    found = {(e["row"], e["field"]) for e in report["errors"]}
    assert found == {
        (3, "quantity"),
        (4, "sku"),
        (5, "end_use"),
        (6, "end_user_country"),
        (6, "unit_price"),
        (7, "external_ref"),
        (8, "purchaser_name"),
    }
    messages = {(e["row"], e["field"]): e["message"] for e in report["errors"]}
    assert "ISO 3166-1" in messages[6, "end_user_country"]
    assert messages[8, "purchaser_name"] == "required"
    assert "differs from row 4" in messages[5, "end_use"]
    assert {r["status"] for r in report["results"]} == {"invalid"}
    assert await orders_with(api, a.rsplit("-", 1)[0]) == []


async def test_a_missing_column_is_reported_on_the_header_row(api: ApiHarness) -> None:
    a, _, _ = refs()
    columns = tuple(c for c in COLUMNS if c != "unit_price") + ("discount",)
    report = await upload(api, to_csv([line(a)], columns))
    assert report["status"] == 422
    assert {(e["row"], e["field"]) for e in report["errors"]} == {
        (1, "unit_price"),
        (1, "discount"),
    }


async def test_without_atomic_the_good_orders_are_booked_and_a_reimport_books_nothing_twice(
    api: ApiHarness,
) -> None:
    a, b, c = refs()
    rows = [line(a), line(a, sku="RTX-PRO-6000D", quantity="4"), line(b), line(c, quantity="-1")]
    report = await upload(api, to_csv(rows), atomic=False)
    assert report["status"] == 200, report
    assert (report["booked"], report["existing"], report["invalid"]) == (2, 0, 1)
    assert [(e["row"], e["field"]) for e in report["errors"]] == [(5, "quantity")]
    by_ref = {r["external_ref"]: r for r in report["results"]}
    assert by_ref[a]["rows"] == [2, 3]
    order = await api.wait_state(by_ref[a]["order_id"], "COMPLIANCE_REVIEW")
    assert [(x["sku"], x["quantity"]) for x in order["lines"]] == [("H20", 8), ("RTX-PRO-6000D", 4)]

    again = await upload(api, to_csv(rows[:3]))
    assert again["status"] == 200
    assert (again["booked"], again["existing"]) == (0, 2)
    assert {r["order_id"] for r in again["results"]} == {
        by_ref[a]["order_id"],
        by_ref[b]["order_id"],
    }
    assert len(await orders_with(api, a.rsplit("-", 1)[0])) == 2

    changed = await upload(api, to_csv([line(a, quantity="9")]))
    assert changed["status"] == 422
    assert changed["errors"][0]["field"] == "external_ref"
    assert by_ref[a]["order_id"] in changed["errors"][0]["message"]


async def test_only_sales_ops_import(api: ApiHarness) -> None:
    a, _, _ = refs()
    report = await upload(api, to_csv([line(a)]), user="bob")
    assert report["status"] == 403


async def test_the_cli_imports_with_a_progress_line_and_the_same_rules(
    api: ApiHarness, settings: Settings, tmp_path: Path
) -> None:
    a, b, c = refs()
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_bytes(to_csv([line(a), line(b)]))
    bad.write_bytes(to_csv([line(c), line(c, quantity="x")]))
    env = base_env(
        database_url=settings.database_url,
        temporal_address=settings.temporal_address,
        task_queue=settings.task_queue,
    )
    out = run(["orders", "import", str(good), "--user", "alice"], env)
    assert "2 order(s) booked, 0 already booked" in out
    again = run(["orders", "import", str(good), "--user", "alice"], env)
    assert "0 order(s) booked, 2 already booked" in again
    found = await orders_with(api, a)
    await api.wait_state(found[0]["id"], "COMPLIANCE_REVIEW")
    with pytest.raises(AssertionError, match=r"row 3, quantity"):
        run(["orders", "import", str(bad), "--user", "alice", "--atomic"], env)
    with pytest.raises(AssertionError, match="sales_ops"):
        run(["orders", "import", str(good), "--user", "bob"], env)
    assert await orders_with(api, c) == []


async def test_a_file_may_carry_every_party_and_where_the_goods_ship_from(
    api: ApiHarness,
) -> None:
    from services.orders_import.parse import EXTRA_ORDER_COLUMNS

    a, b, _ = refs()
    parties = {
        "purchaser_country": "SG",
        "purchaser_headquarters_country": "CN",
        "end_user_country": "SG",
        "ultimate_consignee_name": "Harbour Consignee Pte Ltd",
        "ultimate_consignee_country": "SG",
        "intermediate_consignee_name": "Forwarder HK Ltd",
        "intermediate_consignee_country": "HK",
        "ship_from": "US",
    }
    rows = [line(a, **parties), line(b, ultimate_consignee_country="ZZ", ship_from="US")]
    report = await upload(api, to_csv(rows, COLUMNS + EXTRA_ORDER_COLUMNS), atomic=False)
    assert {(e["row"], e["field"]) for e in report["errors"]} == {
        (3, "ultimate_consignee_country"),
        (3, "ultimate_consignee_name"),
    }
    (order,) = await orders_with(api, a)
    full = await api.wait_state(order["id"], "COMPLIANCE_REVIEW")
    assert full["ultimate_consignee"]["name"] == "Harbour Consignee Pte Ltd"
    assert full["intermediate_consignees"][0]["country"] == "HK"
    assert full["determination"]["rule_id"] == "IS-INFORMED-2025-04-H20"
