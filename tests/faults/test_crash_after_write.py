"""An activity that dies after its database write committed is retried without a second effect.

Every write of the store (transition, reserve, commit, release) commits and then raises the
first time it is called for a key, as if the worker died before reporting; Temporal retries it.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine

from services.db.store import SqlOrderStore
from tests.faults import invariants
from tests.faults.support import SHIP, Driver, Plan, run_all
from tests.harness import ApiHarness, booking, license_body

pytestmark = pytest.mark.faults

WRITES: dict[str, Callable[[Any], object]] = {
    "record_transition": lambda rec: (rec.order_id, rec.seq),
    "allocate_license": lambda req: req.entry_key,
    "commit_license": lambda req: req.entry_key,
    "release_license": lambda req: req.entry_key,
}


class CrashAfterCommit:
    """Patches the store so each write's first call commits, then raises."""

    def __init__(self) -> None:
        self.calls: Counter[tuple[str, object]] = Counter()
        self._lock = threading.Lock()

    def wrap(self, name: str, key_of: Callable[[Any], object]) -> Callable[..., Any]:
        real = getattr(SqlOrderStore, name)

        def write(store: SqlOrderStore, req: Any) -> Any:
            result = real(store, req)  # committed
            with self._lock:
                key = (name, key_of(req))
                self.calls[key] += 1
                first = self.calls[key] == 1
            if first:
                raise RuntimeError(f"worker died after committing {key}")
            return result

        return write


def _plans() -> list[Plan]:
    lic = license_body("CRASH-1", quantity=30, value="1000000.00")
    approve = ("approve", "bob", {"note": "ok"}, "AWAITING_LICENSE")
    record = ("record-license", "carol", lic, "READY_TO_SHIP")
    delivered = [
        approve,
        record,
        ("ship", "alice", SHIP, "SHIPPED"),
        ("deliver", "alice", None, "DELIVERED"),
    ]
    cancel = ("cancel", "alice", {"reason": "withdrawn"}, "CANCELLED")
    return [
        Plan("h20", booking(sku="H20"), "COMPLIANCE_REVIEW", delivered),
        Plan("h20", booking(sku="H20"), "COMPLIANCE_REVIEW", delivered),
        Plan("cancel", booking(sku="H20"), "COMPLIANCE_REVIEW", [approve, record, cancel]),
    ]


async def test_a_write_that_crashed_after_commit_is_retried_with_a_single_effect(
    inproc_api: ApiHarness, fault_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    crash = CrashAfterCommit()
    for name, key_of in WRITES.items():
        monkeypatch.setattr(SqlOrderStore, name, crash.wrap(name, key_of))
    driver = Driver(inproc_api.http, inproc_api.tokens)

    done = await run_all(driver, _plans(), concurrency=3)

    # Every write crashed once after committing and was then retried exactly once.
    assert crash.calls, "the store was never called"
    assert set(crash.calls.values()) == {2}, crash.calls
    names = Counter(name for name, _ in crash.calls)
    assert names["allocate_license"] == 3
    assert names["commit_license"] == 2
    assert names["release_license"] == 1
    # ...and wrote once: the trail has no repeated seq, the ledger no repeated entry.
    assert invariants.problems(fault_engine) == []
    for oid, plan in done:
        kinds = invariants.ledger_kinds(fault_engine, oid)
        expected = {"reserve": 1, "release": 1} if plan == "cancel" else {"reserve": 1, "commit": 1}
        assert kinds == expected, (oid, kinds)
    trails = await _trails(inproc_api, [oid for oid, _ in done])
    assert all(len(t) == len(set(t)) for t in trails), trails


async def _trails(api: ApiHarness, oids: list[str]) -> list[list[int]]:
    trails = []
    for oid in oids:
        r = await api.http.get(f"/api/v1/orders/{oid}/events", headers=api.auth("vic"))
        trails.append([e["seq"] for e in r.json()["items"]])
    return trails
