"""Form inputs derived from the API's own body models, and form data turned into bodies."""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from schemas.actions import BODY_FOR_ACTION, Action
from schemas.orders import BookOrderRequest
from services.ops.errors import field_name

LABELS = {
    "approved_value": "Approved value (USD)",
    "itn": "ITN of the AES filing",
    "entry_id": "List entry",
}
BUTTONS = {
    Action.CLEAR_SCREENING: "Clear screening (false positive)",
    Action.APPROVE: "Approve",
    Action.REJECT: "Reject",
    Action.RECORD_LICENSE: "Record license decision",
    Action.HOLD: "Put on hold",
    Action.RELEASE: "Release hold",
    Action.CANCEL: "Cancel order",
    Action.SHIP: "Ship",
    Action.DELIVER: "Confirm delivery",
    Action.AMEND: "Amend order",
}
DANGER = frozenset({Action.REJECT, Action.CANCEL})
LONG_TEXT = frozenset({"reason", "note"})


@dataclass(frozen=True)
class Input:
    """One form input: name (as the API names the field), label, kind and constraints."""

    name: str
    label: str
    kind: str
    required: bool
    options: tuple[str, ...] = ()
    hint: str = ""
    value: str = ""  # a hidden input's fixed value


# The record-license form asks for terms per licensed line when there are several; with one,
# the older approved_quantity and approved_value say it (the API takes both).
_LINE_TERMS = ("approved_quantity", "approved_value")
_LINE_FIELD = re.compile(r"^lines\[(\d{1,2})\]\.(sku|approved_quantity|approved_value)$")
# The ship form asks how many of each SKU leave (prefilled: all that is left).
_SHIP_FIELD = re.compile(r"^lines\[(\d{1,2})\]\.(sku|quantity)$")


def _base(annotation: Any) -> Any:
    """`X | None` -> `X`."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return next(a for a in typing.get_args(annotation) if a is not type(None))
    return annotation


def _kind(name: str, base: Any) -> tuple[str, tuple[str, ...]]:
    if isinstance(base, type) and issubclass(base, Enum):
        return "select", tuple(str(m.value) for m in base)
    if base is bool:
        return "select", ("true", "false")
    if base is date:
        return "date", ()
    if base is int:
        return "number", ()
    if base is Decimal:
        return "money", ()
    return ("textarea" if name in LONG_TEXT else "text"), ()


def inputs_for(
    action: Action, licensed: Sequence[str] = (), left: Mapping[str, int] | None = None
) -> list[Input]:
    """The inputs an action's body takes, straight from its API model.

    `licensed`: the order's licensed SKUs, for the record-license form's per-line terms;
    `left`: what is left to ship per SKU, for the ship form's per-SKU quantities.
    """
    model = BODY_FOR_ACTION[action]
    inputs = []
    for name, info in model.model_fields.items():
        if name == "lines":
            if action is Action.SHIP and left:
                inputs += _ship_inputs(left)
            continue  # a list: per-line inputs
        if name in _LINE_TERMS and len(licensed) > 1:
            if name == _LINE_TERMS[0]:
                inputs += _line_inputs(licensed)
            continue
        kind, options = _kind(name, _base(info.annotation))
        label = LABELS.get(name) or name.replace("_", " ").capitalize()
        hint = info.description or ""
        inputs.append(Input(name, label, kind, info.is_required(), options, hint))
    return inputs


def _line_inputs(licensed: Sequence[str]) -> list[Input]:
    inputs = []
    for i, sku in enumerate(licensed):
        inputs += [
            Input(f"lines[{i}].sku", "SKU", "hidden", False, value=sku),
            Input(f"lines[{i}].approved_quantity", f"{sku}: approved quantity", "number", False),
            Input(f"lines[{i}].approved_value", f"{sku}: approved value (USD)", "money", False),
        ]
    return inputs


def _ship_inputs(left: Mapping[str, int]) -> list[Input]:
    inputs = []
    for i, (sku, n) in enumerate(left.items()):
        inputs += [
            Input(f"lines[{i}].sku", "SKU", "hidden", False, value=sku),
            Input(
                f"lines[{i}].quantity",
                f"{sku}: units in this shipment",
                "number",
                False,
                hint=f"{n:,} left to ship",
                value=str(n),
            ),
        ]
    return inputs


def button(action: Action) -> str:
    """The words on an action's button."""
    return BUTTONS.get(action) or action.value.replace("-", " ").capitalize()


def action_body(action: Action, form: FormData) -> dict[str, Any]:
    """The JSON body for an action: the filled-in inputs (the API validates them)."""
    body: dict[str, Any] = {}
    for spec in inputs_for(action):
        value = form.get(spec.name)
        if isinstance(value, str) and value.strip():
            body[spec.name] = value.strip()
    lines = _lines_of(form) if action is Action.RECORD_LICENSE else []
    if action is Action.SHIP:
        lines = _ship_lines_of(form)
    if lines:
        body["lines"] = lines
    return body


def _ship_lines_of(form: FormData) -> list[dict[str, str]]:
    """The ship form's per-SKU quantities; an SKU left at 0 or empty stays behind."""
    found: dict[int, dict[str, str]] = {}
    for key, value in form.multi_items():
        match = _SHIP_FIELD.match(key)
        if match and isinstance(value, str) and value.strip():
            found.setdefault(int(match[1]), {})[match[2]] = value.strip()
    return [line for _, line in sorted(found.items()) if line.get("quantity", "0") not in ("", "0")]


def refill(body: dict[str, Any]) -> dict[str, str]:
    """The form's values again after a refusal, per-line terms by their input names."""
    values = {k: v for k, v in body.items() if isinstance(v, str)}
    for i, line in enumerate(body.get("lines") or []):
        values |= {f"lines[{i}].{k}": v for k, v in line.items()}
    return values


def _lines_of(form: FormData) -> list[dict[str, str]]:
    """Per-line terms of the form: the lines with a quantity or value filled in."""
    found: dict[int, dict[str, str]] = {}
    for key, value in form.multi_items():
        match = _LINE_FIELD.match(key)
        if match and isinstance(value, str) and value.strip():
            found.setdefault(int(match[1]), {})[match[2]] = value.strip()
    return [line for _, line in sorted(found.items()) if any(line.get(t) for t in _LINE_TERMS)]


def booking_values(form: FormData) -> dict[str, str]:
    """The new-order form's fields, by their API field names, lines renumbered from 0."""
    keep = ("external_ref", "end_use", "requested_ship_date", "ship_from")
    values = {k: _text(form, k) for k in keep}
    for party in PARTY_FIELDS:
        for part in PARTY_PARTS:
            values[f"{party}.{part}"] = _text(form, f"{party}.{part}")
    n = 0
    for i in range(100):
        line = {p: _text(form, f"lines[{i}].{p}") for p in ("sku", "quantity", "unit_price")}
        if any(line.values()):
            values |= {f"lines[{n}].{p}": v for p, v in line.items()}
            n += 1
    return values


def _text(form: FormData, key: str) -> str:
    value = form.get(key)
    return value.strip() if isinstance(value, str) else ""


def line_count(values: dict[str, str]) -> int:
    """How many line rows the values hold."""
    return sum(1 for k in values if k.endswith("].sku"))


PARTY_FIELDS = ("purchaser", "end_user", "ultimate_consignee", "intermediate_consignees[0]")
PARTY_PARTS = ("name", "country", "address", "headquarters_country")


def _party(values: dict[str, str], prefix: str) -> dict[str, str] | None:
    party = {p: values.get(f"{prefix}.{p}", "") for p in PARTY_PARTS}
    if prefix not in ("purchaser", "end_user") and not any(party.values()):
        return None  # optional parties left blank are not on the order
    return {k: v for k, v in party.items() if v or k in ("name", "country")}


def booking_body(values: dict[str, str]) -> dict[str, Any]:
    """The `POST /orders` body of the form's values."""
    intermediate = _party(values, "intermediate_consignees[0]")
    body: dict[str, Any] = {
        "external_ref": values["external_ref"] or None,
        "purchaser": _party(values, "purchaser"),
        "end_user": _party(values, "end_user"),
        "end_use": values["end_use"],
        "requested_ship_date": values["requested_ship_date"] or None,
        "lines": [
            {p: values[f"lines[{i}].{p}"] for p in ("sku", "quantity", "unit_price")}
            for i in range(line_count(values))
        ],
    }
    if consignee := _party(values, "ultimate_consignee"):
        body["ultimate_consignee"] = consignee
    if intermediate:
        body["intermediate_consignees"] = [intermediate]
    if values.get("ship_from"):
        body["ship_from"] = values["ship_from"]
    return body


def booking_errors(values: dict[str, str]) -> dict[str, str]:
    """Field errors of the booking by `BookOrderRequest` itself; empty when it is valid."""
    try:
        BookOrderRequest.model_validate(booking_body(values))
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for e in exc.errors():
            name = field_name(e["loc"])
            empty = values.get(name, "x") == ""
            errors.setdefault(name, "Required." if empty else _sentence(e["msg"]))
        return errors
    return {}


def _sentence(msg: str) -> str:
    text = msg.removeprefix("Value error, ")
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")
