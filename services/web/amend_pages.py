"""Amending an order in the console: a form, then the diff to confirm, then the API's `amend`.

The diff and whether the change is material come from the same pure rules the workflow
applies (`workflows.rules.amend`), so what the page shows is what the amendment will do.
"""

from __future__ import annotations

import json
from typing import Any

import pycountry
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from schemas.actions import Action, AmendBody
from schemas.orders import BookOrderRequest
from services.ops import actions, orders
from services.web import forms
from services.web.failures import REFUSALS, failure
from services.web.session import User, WebUser, app_state, checked_form
from services.web.templating import render
from workflows.catalog import load_catalog
from workflows.rules import amend as amending
from workflows.rules.transitions import Refusal

router = APIRouter(include_in_schema=False)

_FIXED = ("external_ref", "ship_from")  # not amendable: carried through unchanged


def booking_of(order: dict[str, Any]) -> BookOrderRequest:
    """The order's booking as it stands, from its view."""
    fields = ("purchaser", "end_user", "ultimate_consignee", "intermediate_consignees")
    body: dict[str, Any] = {f: order.get(f) for f in fields if order.get(f) is not None}
    body |= {f: order.get(f) for f in ("end_use", "requested_ship_date", "external_ref")}
    body["ship_from"] = order.get("ship_from") or "US"
    body["lines"] = [
        {k: line[k] for k in ("sku", "quantity", "unit_price")} for line in order["lines"]
    ]
    return BookOrderRequest.model_validate(body)


def values_of(booking: BookOrderRequest) -> dict[str, str]:
    """The form's values (by the booking form's field names) for a booking."""
    data = booking.model_dump(mode="json")
    values = {k: str(data.get(k) or "") for k in ("end_use", "requested_ship_date", *_FIXED)}
    for prefix in forms.PARTY_FIELDS:
        role, _, index = prefix.partition("[")
        party = data.get(role)
        if index:
            party = party[0] if party else None
        for part in forms.PARTY_PARTS:
            values[f"{prefix}.{part}"] = str((party or {}).get(part) or "")
    for i, line in enumerate(data["lines"]):
        values |= {f"lines[{i}].{k}": str(line[k]) for k in ("sku", "quantity", "unit_price")}
    return values


def amend_body(before: BookOrderRequest, after: BookOrderRequest, reason: str) -> dict[str, Any]:
    """The API body: the reason and only the fields that change."""
    old, new = before.model_dump(mode="json"), after.model_dump(mode="json")
    body: dict[str, Any] = {"reason": reason}
    body |= {f: new[f] for f in amending.AMENDABLE if old.get(f) != new.get(f)}
    return body


async def _order(request: Request, user: WebUser, order_id: str) -> dict[str, Any] | Response:
    try:
        return await orders.order_dict(app_state(request), order_id)
    except REFUSALS as exc:
        refused = failure(exc)
        return render(request, "error.html", user, refused.status, message=refused.detail)


def _form(
    request: Request,
    user: WebUser,
    order: dict[str, Any],
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
    error: str = "",
) -> Response:
    return render(
        request,
        "amend.html",
        user,
        status,
        nav="orders",
        order=order,
        values=values,
        errors=errors,
        error=error,
        lines=forms.line_count(values) + 1,
        products=[(sku, p.name) for sku, p in sorted(load_catalog().products.items())],
        countries=sorted((c.alpha_2, c.name) for c in pycountry.countries),
    )


@router.get("/orders/{order_id}/amend")
async def amend_form(request: Request, user: User, order_id: str) -> Response:
    """The order's booking, ready to change."""
    order = await _order(request, user, order_id)
    if isinstance(order, Response):
        return order
    return _form(request, user, order, values_of(booking_of(order)), {})


def _preview(
    before: BookOrderRequest, values: dict[str, str], reason: str
) -> tuple[dict[str, Any], dict[str, str]]:
    """The API body and the field errors of the form (empty when it is a valid change)."""
    errors = forms.booking_errors(values)
    if not reason:
        errors["reason"] = "Required: say why the order changes."
    if errors:
        return {}, errors
    after = BookOrderRequest.model_validate(forms.booking_body(values))
    kept = before.intermediate_consignees
    if len(kept) > 1 and after.intermediate_consignees == kept[:1]:
        # The form shows the first intermediate consignee only; the others stay.
        after = after.model_copy(update={"intermediate_consignees": kept})
    body = amend_body(before, after, reason)
    if len(body) == 1:
        return {}, {"lines": "Nothing changed: change a field to amend the order."}
    return body, {}


@router.post("/orders/{order_id}/amend")
async def amend_preview(request: Request, user: User, order_id: str) -> Response:
    """What the amendment changes, field by field, and whether compliance sees it again."""
    form = await checked_form(request)
    order = await _order(request, user, order_id)
    if isinstance(order, Response):
        return order
    before = booking_of(order)
    values = forms.booking_values(form) | {k: values_of(before)[k] for k in _FIXED}
    reason = str(form.get("reason") or "").strip()
    body, errors = _preview(before, values, reason)
    if errors:
        return _form(request, user, order, values | {"reason": reason}, errors, 422)
    return _confirm(request, user, order, before, body)


def _confirm(
    request: Request,
    user: WebUser,
    order: dict[str, Any],
    before: BookOrderRequest,
    body: dict[str, Any],
    status: int = 200,
    error: str = "",
) -> Response:
    after = amending.amended(before, _amend_model(body))
    return render(
        request,
        "amend_confirm.html",
        user,
        status,
        nav="orders",
        order=order,
        diff=amending.diff(before, after),
        material=amending.material_changes(before, after),
        reason=body["reason"],
        payload=json.dumps(body),
        error=error,
    )


def _amend_model(body: dict[str, Any]) -> AmendBody:
    return AmendBody.model_validate(body)


@router.post("/orders/{order_id}/amend/confirm")
async def amend_confirm(request: Request, user: User, order_id: str) -> Response:
    """Send the confirmed amendment to the API; a refusal is shown with the diff."""
    form = await checked_form(request)
    order = await _order(request, user, order_id)
    if isinstance(order, Response):
        return order
    try:
        body = json.loads(str(form.get("payload") or ""))
        before = booking_of(order)
        amending.amended(before, _amend_model(body))
    except (ValueError, ValidationError, Refusal):
        message = "The amendment could not be read, or the order changed meanwhile: start again."
        return _form(request, user, order, values_of(booking_of(order)), {}, 422, message)
    try:
        state = app_state(request)
        await actions.take_action(state, order_id, Action.AMEND, user.actor, _amend_model(body))
    except REFUSALS as exc:
        refused = failure(exc)
        return _confirm(request, user, order, before, body, refused.status, refused.detail)
    return RedirectResponse(f"/orders/{order_id}?done=amend", status_code=303)
