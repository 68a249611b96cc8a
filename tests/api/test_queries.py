"""Status lookups other systems rely on: filters, pagination, the work queue, health."""

from __future__ import annotations

import uuid

import pytest

from schemas.orders import OrderPage
from tests.harness import ApiHarness, booking

pytestmark = pytest.mark.usefixtures("screening_list")


async def test_list_filters_by_state_sku_destination_and_customer(api: ApiHarness) -> None:
    tag = uuid.uuid4().hex[:8]
    h20 = await api.book(booking(end_user=f"Filter {tag} Beijing"))
    rtx = await api.book(booking(sku="RTX-PRO-6000D", end_user=f"Filter {tag} Macau", country="MO"))
    await api.wait_state(h20, "COMPLIANCE_REVIEW")
    await api.wait_state(rtx, "READY_TO_SHIP")

    async def ids(**params: str) -> set[str]:
        r = await api.http.get(
            "/api/v1/orders", params={"q": f"filter {tag}", **params}, headers=api.auth("vic")
        )
        assert r.status_code == 200, r.text
        return {o["id"] for o in r.json()["items"]}

    assert await ids() == {h20, rtx}
    assert await ids(sku="H20") == {h20}
    assert await ids(destination="mo") == {rtx}
    assert await ids(state="READY_TO_SHIP") == {rtx}
    assert await ids(state="COMPLIANCE_REVIEW", sku="RTX-PRO-6000D") == set()


async def test_cursor_pagination_walks_every_order_once_newest_first(api: ApiHarness) -> None:
    tag = uuid.uuid4().hex[:8]
    booked = [await api.book(booking(end_user=f"Page {tag} {i}")) for i in range(5)]
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"q": f"page {tag}", "limit": "2", **({"cursor": cursor} if cursor else {})}
        page = (await api.http.get("/api/v1/orders", params=params, headers=api.auth("vic"))).json()
        seen += [o["id"] for o in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(booked))


async def test_list_items_are_the_order_books_summary_of_the_order(api: ApiHarness) -> None:
    tag = uuid.uuid4().hex[:8]
    body = booking(end_user=f"Summary {tag} Beijing", quantity=3, price="12000.50", ref=f"PO-{tag}")
    body["lines"].append({"sku": "RTX-PRO-6000D", "quantity": 2, "unit_price": "8500.00"})
    order_id = await api.book(body)
    order = await api.wait_state(order_id, "COMPLIANCE_REVIEW")
    r = await api.http.get("/api/v1/orders", params={"q": tag}, headers=api.auth("vic"))
    page = OrderPage.model_validate_json(r.content)  # the documented shape, field by field
    assert [item.id for item in page.items] == [order_id]
    assert r.json()["items"][0] == {
        "id": order_id,
        "external_ref": f"PO-{tag}",
        "state": "COMPLIANCE_REVIEW",
        "waiting_role": "compliance",
        "purchaser": body["purchaser"]["name"],
        "end_user": f"Summary {tag} Beijing",
        "destination": "CN",
        "skus": ["H20", "RTX-PRO-6000D"],
        "total_quantity": 5,
        "total_value": "53001.50",
        "created_at": order["created_at"],
        "updated_at": order["updated_at"],
    }


async def test_bad_query_parameters_are_422(api: ApiHarness) -> None:
    for params, field in (
        ({"state": "LOST"}, "state"),
        ({"cursor": "garbage"}, "cursor"),
        ({"limit": "0"}, "limit"),
        ({"destination": "CHN"}, "destination"),
    ):
        r = await api.http.get("/api/v1/orders", params=params, headers=api.auth("vic"))
        assert r.status_code == 422, params
        assert field in r.json()["detail"]


async def test_the_compliance_queue_lists_waiting_orders_oldest_first(api: ApiHarness) -> None:
    first = await api.book()
    await api.wait_state(first, "COMPLIANCE_REVIEW")  # the queue orders by time of arrival
    second = await api.book()
    await api.wait_state(second, "COMPLIANCE_REVIEW")
    r = await api.http.get(
        "/api/v1/tasks", params={"role": "compliance", "limit": 500}, headers=api.auth("bob")
    )
    tasks = r.json()["items"]
    order = [t["order_id"] for t in tasks if t["order_id"] in (first, second)]
    assert order == [first, second]
    task = next(t for t in tasks if t["order_id"] == first)
    assert task["actions"] == ["approve", "reject"]
    assert task["due_at"] is not None
    assert task["overdue"] is False
    await api.act(first, "approve", "bob", {})
    await api.act(second, "reject", "bob", {"reason": "incomplete end-use statement"})
    r = await api.http.get(
        "/api/v1/tasks", params={"role": "compliance", "limit": 500}, headers=api.auth("bob")
    )
    now_waiting = {t["order_id"]: t["actions"] for t in r.json()["items"]}
    assert now_waiting[first] == ["record-license"]  # the license decision is compliance's too
    assert second not in now_waiting
    r = await api.http.get("/api/v1/tasks", params={"role": "janitor"}, headers=api.auth("bob"))
    assert r.status_code == 422


async def test_health_and_readiness(api: ApiHarness) -> None:
    assert (await api.http.get("/healthz")).json() == {"status": "ok"}
    r = await api.http.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {"ready": True, "database": "ok", "temporal": "ok"}


async def test_screening_snapshots_are_listed_with_the_active_one(api: ApiHarness) -> None:
    r = await api.http.get("/api/v1/screening-lists", headers=api.auth("vic"))
    items = r.json()["items"]
    assert any(s["active"] for s in items)
    assert all(len(s["content_hash"]) == 64 for s in items)
