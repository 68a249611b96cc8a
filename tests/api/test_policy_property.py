"""Property: the impact preview is what activation then does, order by order.

Hypothesis draws small order books (SKU, destination, a parent company's country, and how far
each order got: left in review, approved, held by compliance) and a rule set (one or two
edits of the bundled one: a tightening, a relaxation, a rule withdrawn, a customs stop). For
every open order in the database the preview's outcome change and target state must be what
the order workflow does when the rule set is activated; an order the preview leaves unchanged
gets no event. The database keeps the orders of earlier examples, so later examples start from
books already changed by earlier rule sets.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from services.config import Settings
from tests.api.test_rulesets import RULESETS, events_of, stage_body, unique, wait_fan_out
from tests.harness import ApiHarness, booking
from tests.policy_data import EDITS

pytestmark = pytest.mark.timeout(600)
T = TypeVar("T")

ORDER = st.fixed_dictionaries(
    {
        "sku": st.sampled_from(["H20", "RTX-PRO-6000D", "H100-SXM", "H200"]),
        "country": st.sampled_from(["CN", "HK", "DE", "SG", "AE"]),
        "parent": st.sampled_from([None, "CN"]),
        "step": st.sampled_from(["none", "approve", "hold"]),
    }
)
BOOKS = st.lists(ORDER, min_size=1, max_size=4)
RULE_EDITS = st.lists(st.sampled_from(sorted(EDITS)), min_size=1, max_size=2, unique=True)
# ON_HOLD too: an order a customs stop of an earlier example holds at booking.
SETTLED = {"SCREENING_REVIEW", "COMPLIANCE_REVIEW", "AWAITING_LICENSE", "READY_TO_SHIP", "ON_HOLD"}


class Book:
    """Drives the API on the test's event loop from hypothesis's thread."""

    def __init__(self, api: ApiHarness, loop: asyncio.AbstractEventLoop) -> None:
        self.api, self.loop = api, loop

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run one coroutine on the API's loop and wait for it."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=180)

    async def place(self, spec: dict[str, Any]) -> None:
        """Book one order and take it as far as `step` says."""
        body = booking(sku=spec["sku"], country=spec["country"])
        if spec["parent"]:
            body["end_user"]["headquarters_country"] = spec["parent"]
        oid = await self.api.book(body)
        order = await self._settled(oid)
        if spec["step"] == "hold":
            await self.api.act(oid, "hold", "carol", {"reason": "end-use check"})
        elif spec["step"] == "approve" and order["state"] == "COMPLIANCE_REVIEW":
            decided = {"license_required": True} if order["license_required"] is None else {}
            r = await self.api.act(oid, "approve", "carol", decided)
            assert r.status_code == 200, r.text

    async def _settled(self, oid: str) -> dict[str, Any]:
        deadline = self.loop.time() + 60
        while (order := await self.api.get(oid))["state"] not in SETTLED:
            assert self.loop.time() < deadline, f"{oid} stuck in {order['state']}"
            await asyncio.sleep(0.05)
        return order

    async def activate(self, edits: list[str]) -> tuple[str, dict[str, Any], dict[str, int]]:
        """Stage, preview every open order, note each one's seq, approve twice, fan out."""
        api, version = self.api, unique("prop")
        body = stage_body(version, *(EDITS[e] for e in edits))
        assert (await api.http.post(RULESETS, json=body, headers=api.auth("bob"))).is_success
        impact = f"{RULESETS}/{version}/impact?include=all"
        report = (await api.http.get(impact, headers=api.auth("vic"))).json()
        seqs = {o["order_id"]: (await api.get(o["order_id"]))["seq"] for o in report["orders"]}
        for officer in ("carol", "dave"):
            r = await api.http.post(f"{RULESETS}/{version}/approve", headers=api.auth(officer))
            assert r.status_code == 200, r.text
        await wait_fan_out(api, version)
        return version, report, seqs

    async def outcome(self, oid: str, version: str, seq: int) -> tuple[str, str]:
        """What activation did to the order: (change, state), or ("unchanged", state)."""
        deadline = self.loop.time() + 60
        while True:
            order = await self.api.get(oid)
            if order["seq"] > seq:
                last = (await events_of(self.api, oid))[-1]
                assert (last["action"], last["data"]["ruleset"]) == ("redetermine", version)
                return str(last["data"]["impact"]["change"]), str(order["state"])
            if self.loop.time() > deadline:
                return "unchanged", str(order["state"])
            await asyncio.sleep(0.1)


async def test_the_preview_is_what_activation_does_order_by_order(
    private_api: tuple[ApiHarness, Settings],
) -> None:
    api, _ = private_api
    world = Book(api, asyncio.get_running_loop())

    @settings(
        max_examples=6,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
        # Each example runs real workflows: report the first failure rather than shrink it.
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
    )
    @given(book=BOOKS, edits=RULE_EDITS)
    def preview_is_what_happens(book: list[dict[str, Any]], edits: list[str]) -> None:
        for spec in book:
            world.run(world.place(spec))
        version, report, seqs = world.run(world.activate(edits))
        assert report["open_orders"] == len(seqs) >= len(book)
        for line in report["orders"]:
            oid, said = line["order_id"], (line["change"], line["to_state"])
            if line["change"] == "unchanged":
                # Activation has fanned out: an unchanged order was never signalled.
                order = world.run(api.get(oid))
                assert order["seq"] == seqs[oid], f"{oid} moved though the preview said not"
                assert order["state"] == line["to_state"]
                continue
            assert world.run(world.outcome(oid, version, seqs[oid])) == said, oid

    await asyncio.to_thread(preview_is_what_happens)
