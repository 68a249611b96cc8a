"""Request bodies for the state machine of test_stateful.py, drawn to fit the order at hand.

Bodies that would be refused for their shape (422) are not drawn: the machine checks that an
action the rules allow is taken or refused for the order's state (409), never its body. So
a partial shipment asks at most what is left, every shipment has an ITN of its own, and an
amendment always names a field.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

from hypothesis import strategies as st

from schemas.actions import Action
from services.demo import LISTED_END_USER
from tests.faults.support import SHIP
from tests.harness import license_body

_SERIAL = itertools.count(1)

# Per example of the machine (its run number in the license numbers): licenses shared by its
# orders, a denial, a return, and a partial approval (the order splits).
LICENSES = ["shared-1", "shared-2", "denied", "returned", "partial"]


def license_decision(name: str, run: int, order: dict[str, Any]) -> dict[str, Any]:
    """The record-license body a `LICENSES` name stands for in run `run`."""
    if name in ("denied", "returned"):
        return {"decision": name}
    if name == "partial":
        return _partial(order)
    return license_body(f"SM{run}-{name[-1]}", quantity=25, value="1000000.00")


def _partial(order: dict[str, Any]) -> dict[str, Any]:
    """A new license approving 1..asked-1 units of a one-line order (an approval otherwise)."""
    n = next(_SERIAL)
    asked = sum(int(line["quantity"]) - int(line.get("shipped", 0)) for line in order["lines"])
    quantity = max(1, min(asked - 1, 4)) if asked > 1 else 1
    return license_body(f"SP-{n}", quantity=quantity, value="1000000.00")


def ship_body(order: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    """A shipment of all that is left, or of part of one SKU."""
    body = SHIP | {"itn": f"X{20261201000000 + next(_SERIAL)}"}
    left = {
        str(line["sku"]): int(line["quantity"]) - int(line.get("shipped", 0))
        for line in order["lines"]
        if int(line["quantity"]) > int(line.get("shipped", 0))
    }
    if left and data.draw(st.booleans(), label="partial shipment"):
        sku = data.draw(st.sampled_from(sorted(left)), label="sku")
        quantity = data.draw(st.integers(1, left[sku]), label="quantity")
        body["lines"] = [{"sku": sku, "quantity": quantity}]
    return body


def amend_body(order: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    """More or fewer units, a later date, another end use, or a listed end user."""
    kind = data.draw(st.sampled_from(["units", "date", "end_use", "listed"]), label="amend")
    body: dict[str, Any] = {"reason": "property test"}
    if kind == "units":
        first = order["lines"][0]
        quantity = data.draw(st.integers(1, 20), label="units")
        body["lines"] = [first | {"quantity": quantity}] + order["lines"][1:]
        body["lines"] = [
            {k: x[k] for k in ("sku", "quantity", "unit_price")} for x in body["lines"]
        ]
    elif kind == "date":
        body["requested_ship_date"] = (date.today() + timedelta(days=60)).isoformat()
    elif kind == "end_use":
        body["end_use"] = "research and development"
    else:
        body["end_user"] = {"name": LISTED_END_USER, "country": "CN"}
    return body


def action_body(
    action: Action, lic: str, run: int, order: dict[str, Any], data: st.DataObject
) -> Any:
    """The body of `action` on `order` (`lic`: one of LICENSES, in run `run`)."""
    if action is Action.RECORD_LICENSE:
        return license_decision(lic, run, order)
    if action is Action.SHIP:
        return ship_body(order, data)
    if action is Action.AMEND:
        return amend_body(order, data)
    if action is Action.DELIVER:
        waiting = [i for i, s in enumerate(order.get("shipments") or []) if not s["delivered_at"]]
        if waiting and data.draw(st.booleans(), label="one shipment"):
            return {"shipment": data.draw(st.sampled_from(waiting), label="shipment")}
        return None
    if action is Action.SUBMIT_APPLICATION:
        return {
            "application_control_number": f"Z{next(_SERIAL):06d}",
            "submitted_on": date.today().isoformat(),
        }
    if action is Action.APPLICATION_STATUS:
        return {"status": "registered", "on": date.today().isoformat(), "note": "BIS"}
    return {"approve": {"note": "ok"}}.get(action.value, {"reason": "property test"})
