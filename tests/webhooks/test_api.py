"""Managing subscriptions: roles, the secret shown once, refusals naming the field, the log."""

from __future__ import annotations

import base64
from typing import Any

from services.config import Settings
from tests.harness import ApiHarness, booking
from tests.webhooks.conftest import FAST, dispatchers, settled, subscribe, wait_for
from tests.webhooks.receiver import Receiver


async def get(api: ApiHarness, path: str, user: str = "ivy", **params: Any) -> Any:
    """GET an API path as `user`, expecting 200."""
    r = await api.http.get("/api/v1" + path, params=params, headers=api.auth(user))
    assert r.status_code == 200, r.text
    return r.json()


async def test_subscriptions_need_compliance_or_integration_and_show_the_secret_once(
    wh_api: ApiHarness,
) -> None:
    body = {"url": "https://erp.example.com/hooks", "description": "ERP"}
    for user in ("alice", "vic"):
        r = await wh_api.http.post("/api/v1/webhooks", json=body, headers=wh_api.auth(user))
        assert r.status_code == 403, r.text
    body["url"] = "http://127.0.0.1:9/hooks"  # allowed here: EXPORTFLOW_WEBHOOKS_ALLOW_PRIVATE
    created = []
    for user in ("ivy", "bob"):
        r = await wh_api.http.post("/api/v1/webhooks", json=body, headers=wh_api.auth(user))
        assert r.status_code == 201, r.text
        created.append(r.json())
    secret = created[0]["secret"]
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert created[0]["secret"] != created[1]["secret"]
    listed = await get(wh_api, "/webhooks")
    assert {w["id"] for w in listed["items"]} >= {c["id"] for c in created}
    assert all("secret" not in w for w in listed["items"])
    one = await get(wh_api, f"/webhooks/{created[0]['id']}", user="bob")
    assert "secret" not in one
    assert one["health"]["status"] == "active"
    assert one["created_by"] == "ivy"
    r = await wh_api.http.delete(f"/api/v1/webhooks/{one['id']}", headers=wh_api.auth("ivy"))
    assert r.status_code == 204
    for path in ("", "/deliveries"):
        r = await wh_api.http.get(f"/api/v1/webhooks/{one['id']}{path}", headers=wh_api.auth("ivy"))
        assert r.status_code == 404
    r = await wh_api.http.delete(f"/api/v1/webhooks/{one['id']}", headers=wh_api.auth("ivy"))
    assert r.status_code == 404


async def test_bad_subscriptions_are_refused_naming_the_field(api: ApiHarness) -> None:
    # `api` runs with the default settings: private targets are refused. (Nothing here is
    # created: a subscription to a real address would be sent to by later tests' dispatchers.)
    cases = [
        ({"url": "http://127.0.0.1:8080/hooks"}, "url", "loopback"),
        ({"url": "http://localhost/hooks"}, "url", "loopback"),
        ({"url": "http://10.0.0.7/hooks"}, "url", "private"),
        ({"url": "http://169.254.169.254/"}, "url", "link-local"),
        ({"url": "ftp://example.com/x"}, "url", "only http and https"),
        ({"url": "https://8.8.8.8/x", "events": ["approve", "launch"]}, "events[1]", "launch"),
        ({"url": "https://8.8.8.8/x", "skus": ["B200"]}, "skus[0]", "unknown SKU"),
        ({"url": "https://8.8.8.8/x", "states": ["LOST"]}, "states[0]", ""),
        ({"url": "https://8.8.8.8/x", "secret": "mine"}, "secret", ""),
        ({}, "url", ""),
    ]
    for body, field, words in cases:
        r = await api.http.post("/api/v1/webhooks", json=body, headers=api.auth("ivy"))
        assert r.status_code == 422, (body, r.text)
        errors = r.json()["errors"]
        assert [e["field"] for e in errors] == [field], (body, errors)
        assert words in errors[0]["message"]


async def test_filters_send_only_the_chosen_actions_of_orders_with_the_chosen_skus(
    wh_api: ApiHarness, dispatching: None, receiver: Receiver
) -> None:
    webhook_id = await subscribe(
        wh_api, receiver, events=["book", "screened"], skus=["RTX-PRO-6000D"]
    )
    h20 = await wh_api.book(booking(sku="H20"))
    rtx = await wh_api.book(booking(sku="RTX-PRO-6000D"))
    await wh_api.wait_state(h20, "COMPLIANCE_REVIEW")
    await wh_api.wait_state(rtx, "READY_TO_SHIP")
    feed = await get(wh_api, "/changes", limit=1000, after=str(0))
    while feed["items"]:  # the cursor past the last change of these orders
        last = feed["next_cursor"]
        feed = await get(wh_api, "/changes", limit=1000, after=last)

    async def queued() -> bool:
        health = (await get(wh_api, f"/webhooks/{webhook_id}"))["health"]
        return int(health["cursor"]) >= int(last) and health["pending"] == 0

    await wait_for(queued, what="the subscription to pass every change")
    log = await get(wh_api, f"/webhooks/{webhook_id}/deliveries")
    assert sorted((d["order_id"], d["seq"], d["event_type"]) for d in log["items"]) == [
        (rtx, 0, "order.book"),
        (rtx, 2, "order.screened"),
    ]
    assert sorted(r.change for r in receiver.accepted()) == [(rtx, 0), (rtx, 2)]


async def test_a_4xx_is_not_retried_a_503_is_and_the_order_keeps_its_order(
    wh_api: ApiHarness, dispatching: None, receiver: Receiver
) -> None:
    answered: set[tuple[str, int]] = set()

    def decide(change: tuple[str, int]) -> int:
        if change[1] == 0:
            return 400
        if change[1] == 1 and change not in answered:
            answered.add(change)
            return 503
        return 200

    receiver.decide = decide
    webhook_id = await subscribe(wh_api, receiver)
    oid = await wh_api.book(booking(sku="RTX-PRO-6000D"))
    await wh_api.wait_state(oid, "READY_TO_SHIP")
    await wait_for(lambda: (oid, 2) in {r.change for r in receiver.accepted()}, what="seq 2")
    await settled(wh_api, webhook_id)
    log = {d["seq"]: d for d in (await get(wh_api, f"/webhooks/{webhook_id}/deliveries"))["items"]}
    assert log[0]["status"] == "rejected"
    assert [a["status_code"] for a in log[0]["attempts"]] == [400]
    assert [a["status_code"] for a in log[1]["attempts"]] == [503, 200]
    assert log[1]["attempts"][0]["outcome"] == "retry"
    assert log[2]["status"] == "delivered"
    arrivals = [r.change[1] for r in receiver.received if r.change[0] == oid]
    assert arrivals == [0, 1, 1, 2]


async def test_a_delivery_that_fails_all_window_long_marks_the_subscription_failing(
    wh_api: ApiHarness, wh_settings: Settings, receiver: Receiver
) -> None:
    receiver.status = 500
    short = wh_settings.model_copy(update=FAST | {"webhooks_retry_window_seconds": 1.5})
    webhook_id = await subscribe(wh_api, receiver)
    async with dispatchers(short):
        oid = await wh_api.book(booking(sku="RTX-PRO-6000D"))
        await wh_api.wait_state(oid, "READY_TO_SHIP")

        async def failing() -> bool:
            return bool(
                (await get(wh_api, f"/webhooks/{webhook_id}"))["health"]["status"] == "failing"
            )

        await wait_for(failing, what="the subscription to be marked failing")
    health = (await get(wh_api, f"/webhooks/{webhook_id}"))["health"]
    assert "gave up after" in health["reason"]
    assert "answered 500" in health["reason"]
    log = {d["seq"]: d for d in (await get(wh_api, f"/webhooks/{webhook_id}/deliveries"))["items"]}
    assert log[0]["status"] == "failed"
    assert len(log[0]["attempts"]) >= 2
    assert log[1]["attempts"] == [], "a later change of the order went out before the first"
    # The receiver is fixed; a redelivery resumes the subscription and everything goes, in order.
    receiver.status = 200
    r = await wh_api.http.post(
        f"/api/v1/webhooks/{webhook_id}/deliveries/{log[0]['id']}/redeliver",
        headers=wh_api.auth("ivy"),
    )
    assert r.status_code == 202, r.text
    async with dispatchers(wh_settings):
        await wait_for(
            lambda: {r.change for r in receiver.accepted()} >= {(oid, 0), (oid, 1), (oid, 2)},
            what="the backlog after the redelivery",
        )
    assert (await get(wh_api, f"/webhooks/{webhook_id}"))["health"]["status"] == "active"
    firsts = [r.change[1] for r in receiver.accepted() if r.change[0] == oid]
    assert firsts == [0, 1, 2]


async def test_a_redelivery_sends_the_same_webhook_id_again(
    wh_api: ApiHarness, dispatching: None, receiver: Receiver
) -> None:
    webhook_id = await subscribe(wh_api, receiver, events=["book"])
    oid = await wh_api.book(booking(sku="RTX-PRO-6000D"))
    await wait_for(lambda: len(receiver.accepted()) == 1, what="the booking")
    await settled(wh_api, webhook_id)
    first = receiver.accepted()[0]
    delivery = (await get(wh_api, f"/webhooks/{webhook_id}/deliveries"))["items"][0]
    assert delivery["id"] == first.msg_id
    assert delivery["order_id"] == oid
    r = await wh_api.http.post(
        f"/api/v1/webhooks/{webhook_id}/deliveries/{delivery['id']}/redeliver",
        headers=wh_api.auth("bob"),
    )
    assert r.status_code == 202, r.text
    await wait_for(lambda: len(receiver.accepted()) == 2, what="the redelivery")
    again = receiver.accepted()[1]
    assert again.msg_id == first.msg_id
    assert again.body == first.body
    assert again.valid
    r = await wh_api.http.post(
        f"/api/v1/webhooks/{webhook_id}/deliveries/msg_nope/redeliver", headers=wh_api.auth("bob")
    )
    assert r.status_code == 404
