"""`GET /changes`: order events in one global order, a cursor always, a long poll for the next."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from tests.harness import ApiHarness


async def changes(api: ApiHarness, user: str = "ivy", **params: Any) -> dict[str, Any]:
    """One page of the feed."""
    r = await api.http.get("/api/v1/changes", params=params, headers=api.auth(user))
    assert r.status_code == 200, r.text
    return dict(r.json())


async def tail(api: ApiHarness) -> str:
    """A cursor past every change so far (the session's database holds other tests' too)."""
    cursor = ""
    while True:
        page = await changes(api, limit=1000, **({"after": cursor} if cursor else {}))
        cursor = page["next_cursor"]
        if not page["items"]:
            return str(cursor)


async def test_an_orders_changes_come_in_order_and_the_cursor_stays_when_nothing_is_new(
    api: ApiHarness,
) -> None:
    cursor = await tail(api)
    oid = await api.book()
    await api.wait_state(oid, "COMPLIANCE_REVIEW")
    page = await changes(api, after=cursor)
    mine = [c for c in page["items"] if c["order_id"] == oid]
    assert [(c["seq"], c["action"], c["to_state"]) for c in mine] == [
        (0, "book", "BOOKED"),
        (1, "screen", "SCREENING"),
        (2, "screened", "COMPLIANCE_REVIEW"),
    ]
    assert mine[0]["actor"] == "alice"
    assert mine[0]["from_state"] is None
    assert page["next_cursor"] == page["items"][-1]["cursor"]
    # Nothing new: no items, and the same cursor to store.
    again = await changes(api, after=page["next_cursor"])
    assert again == {"items": [], "next_cursor": page["next_cursor"]}


async def test_small_pages_give_the_same_changes_as_one_big_one(api: ApiHarness) -> None:
    cursor = await tail(api)
    for _ in range(3):
        await api.book()
    await asyncio.sleep(0)  # bookings are committed when POST returns
    whole = (await changes(api, after=cursor, limit=1000))["items"]
    paged: list[dict[str, Any]] = []
    at = cursor
    while len(paged) < len(whole):
        page = await changes(api, after=at, limit=1)
        assert len(page["items"]) == 1
        paged += page["items"]
        at = page["next_cursor"]
    assert paged == whole
    assert [c["cursor"] for c in whole] == sorted({c["cursor"] for c in whole}, key=int)


async def test_a_long_poll_answers_when_a_change_commits_and_times_out_with_the_cursor(
    api: ApiHarness,
) -> None:
    cursor = await tail(api)
    began = time.monotonic()
    empty = await changes(api, after=cursor, wait=0.3)
    assert empty == {"items": [], "next_cursor": cursor}
    assert time.monotonic() - began >= 0.3
    waiting = asyncio.create_task(changes(api, after=cursor, wait=30))
    await asyncio.sleep(0.2)
    assert not waiting.done()
    began = time.monotonic()
    oid = await api.book()
    page = await waiting
    assert time.monotonic() - began < 20, "the long poll waited for its timeout"
    assert oid in {c["order_id"] for c in page["items"]}


async def test_every_role_reads_the_feed_and_bad_parameters_name_their_field(
    api: ApiHarness,
) -> None:
    for user in ("alice", "bob", "vic", "ivy"):
        await changes(api, user=user, limit=1)
    r = await api.http.get("/api/v1/changes")
    assert r.status_code == 401
    for params, field in (
        ({"after": "abc"}, "after"),
        ({"after": "-1"}, "after"),
        ({"wait": "31"}, "wait"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
    ):
        r = await api.http.get("/api/v1/changes", params=params, headers=api.auth("ivy"))
        assert r.status_code == 422, (params, r.text)
        assert [e["field"] for e in r.json()["errors"]] == [field]
