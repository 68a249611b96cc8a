"""The order-change paths of the saved histories, and a driver for their non-order steps.

Steps are order actions as in tests.faults.support, plus two kinds the driver here knows:
`license:<kind>` suspends, reinstates or revokes the license the order draws on (and waits
until its fan-out has reached every order), and `upload:<kind>` attaches a document.
"""

from __future__ import annotations

import asyncio
import time
from datetime import date, datetime
from typing import Any

from tests.faults.support import SHIP, Driver, Plan, Step
from tests.harness import booking, license_body
from workflows.license_action import license_action_workflow_id

TODAY = date.today().isoformat()
APPROVE: Step = ("approve", "bob", {"note": "ok"}, "AWAITING_LICENSE")
DELIVER: Step = ("deliver", "alice", None, "DELIVERED")
SHIP_ALL: Step = ("ship", "alice", SHIP, "SHIPPED")


def _record(number: str, quantity: int = 100) -> Step:
    return ("record-license", "carol", license_body(number, quantity=quantity), "READY_TO_SHIP")


def _ship(n: int, lines: list[tuple[str, int]] | None, state: str) -> Step:
    body: dict[str, Any] = SHIP | {"tracking_number": f"P{n}", "itn": f"X2026120111{n:04d}"}
    if lines:
        body["lines"] = [{"sku": sku, "quantity": q} for sku, q in lines]
    return ("ship", "alice", body, state)


def order_change_paths() -> dict[str, Plan]:
    """Amend, the application clock, split, partial shipments, license suspension and
    revocation, evidence per shipment: name -> plan."""
    review, ready = "COMPLIANCE_REVIEW", "READY_TO_SHIP"
    lines6 = [{"sku": "H20", "quantity": 6, "unit_price": "12000.00"}]
    amend: Step = ("amend", "alice", {"reason": "customer cut", "lines": lines6}, ready)
    acn = {"application_control_number": "Z700001", "submitted_on": TODAY}
    registered = {"status": "registered", "on": TODAY, "note": "BIS registered it"}
    held = {"status": "hold_without_action", "on": TODAY, "note": "BIS asks"}
    clock: list[Step] = [
        APPROVE,
        ("submit-application", "bob", acn, "AWAITING_LICENSE"),
        ("application-status", "bob", registered, "AWAITING_LICENSE"),
        ("application-status", "bob", held, "AWAITING_LICENSE"),
        ("application-status", "bob", registered, "AWAITING_LICENSE"),
        _record("H-6"),
        SHIP_ALL,
        DELIVER,
    ]
    h100 = booking(sku="H100-SXM", quantity=2, price="30000.00")
    lab = ("upload:lab_test_report", "alice", b"%PDF lab report", ready)
    steps: dict[str, tuple[dict[str, Any], str, list[Step]]] = {
        "amend": (booking(), review, [APPROVE, _record("H-1"), amend, SHIP_ALL, DELIVER]),
        "application_clock": (booking(), review, clock),
        "split": (booking(), review, [APPROVE, _record("H-2", quantity=4), SHIP_ALL, DELIVER]),
        "partial_ship": (
            booking(),
            review,
            [
                APPROVE,
                _record("H-3"),
                _ship(1, [("H20", 4)], ready),
                ("deliver", "alice", {"shipment": 0}, ready),
                _ship(2, None, "SHIPPED"),
                DELIVER,
            ],
        ),
        "suspend_reinstate": (
            booking(),
            review,
            [
                APPROVE,
                _record("H-4"),
                ("license:suspend", "bob", {"reason": "BIS suspension"}, "ON_HOLD"),
                ("license:reinstate", "bob", {"reason": "BIS lifted it"}, ready),
                SHIP_ALL,
                DELIVER,
            ],
        ),
        "revoke": (
            booking(),
            review,
            [
                APPROVE,
                _record("H-5"),
                ("license:revoke", "bob", {"reason": "BIS revoked it"}, "AWAITING_LICENSE"),
                _record("H-7"),
                SHIP_ALL,
                DELIVER,
            ],
        ),
        "evidence_ship": (
            h100,
            review,
            [
                APPROVE,
                _record("H-8"),
                lab,
                ("upload:kyc_certification", "alice", b"%PDF KYC", ready),
                _ship(3, [("H100-SXM", 1)], ready),
                lab,
                _ship(4, None, "SHIPPED"),
                DELIVER,
            ],
        ),
    }
    return {name: Plan(name, dict(body), first, s) for name, (body, first, s) in steps.items()}


# The remainder of "split" is driven to its end too, and saved as a history of its own.
REMAINDER: list[Step] = [_record("H-9"), _ship(5, None, "SHIPPED"), DELIVER]


class PathDriver(Driver):
    """The fault tests' driver, with license actions and uploads as steps."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.license_actions: dict[str, str] = {}  # kind -> fan-out workflow id, of the last run

    async def act(self, oid: str, step: Step, timeout: float = 150) -> None:
        """An order action, or a license action or upload."""
        action, user, body, expected = step
        if action.startswith("license:"):
            await self._license(oid, action.split(":")[1], user, body)
        elif action.startswith("upload:"):
            files = {"file": ("evidence.pdf", body, "application/pdf")}
            r = await self.http.post(
                f"/api/v1/orders/{oid}/documents",
                files=files,
                data={"kind": action.split(":")[1]},
                headers=self.auth(user),
            )
            assert r.status_code == 201, r.text
        else:
            await super().act(oid, step, timeout)
        await self.wait_state(oid, expected, timeout=60)

    async def _license(self, oid: str, kind: str, user: str, body: Any) -> None:
        r = await self.http.get(f"/api/v1/orders/{oid}", headers=self.auth("vic"))
        number = r.json()["license"]["license_number"]
        r = await self.http.post(
            f"/api/v1/licenses/{number}/{kind}", json=body, headers=self.auth(user)
        )
        assert r.status_code == 202, r.text
        action = r.json()
        at = datetime.fromisoformat(action["requested_at"])
        self.license_actions[kind] = license_action_workflow_id(int(action["id"]), at)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            lic = (
                await self.http.get(f"/api/v1/licenses/{number}", headers=self.auth("vic"))
            ).json()
            if lic["actions"][0]["finished_at"]:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"the {kind} of {number} did not reach its orders")
