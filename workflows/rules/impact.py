"""What a rule set does to an open order: the outcome change and where the order goes.

One function for the preview (`GET /rulesets/{v}/impact`, computed from the read model) and
for the order workflow when the rule set is activated or expires, so the preview is what
activation then does. Pure: standard library and `schemas` only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from schemas.orders import (
    NO_RULE_ID,
    TERMINAL_STATES,
    BookOrderRequest,
    Determination,
    LineDetermination,
    OrderState,
)
from schemas.rulesets import LineImpact, OrderImpact, OutcomeChange
from workflows.rules.determination import summarise
from workflows.rules.license_input import order_draw

S = OrderState
C = OutcomeChange
_RANK = {change: i for i, change in enumerate(OutcomeChange)}
# Orders a rule set can still change: determined, and the goods not yet gone.
NOT_REDETERMINED = frozenset({*TERMINAL_STATES, S.BOOKED, S.SCREENING, S.SHIPPED})
_REVIEWING = (S.SCREENING_REVIEW, S.COMPLIANCE_REVIEW)


class _Screened(Protocol):
    @property
    def hits(self) -> Sequence[object]: ...


class OrderNow(Protocol):
    """What an order is judged on: its state, hold, determination and screening hits.

    The workflow passes its `OrderStatus`; the preview a slimmer read of the stored one.
    """

    @property
    def state(self) -> OrderState: ...

    @property
    def held_from(self) -> OrderState | None: ...

    @property
    def held_for_import_stop(self) -> bool: ...

    @property
    def determination(self) -> Determination | None: ...

    @property
    def screening(self) -> _Screened | None: ...


@dataclass(frozen=True)
class Plan:
    """Where the order goes: its state, the state a hold resumes to, whether a stop holds it."""

    to_state: OrderState
    held_from: OrderState | None
    held_for_import_stop: bool
    material: bool


@dataclass(frozen=True)
class Assessment:
    """An order under another rule set: its new determination, the change, and the plan."""

    determination: Determination
    impact: OrderImpact
    plan: Plan


def is_open(state: OrderState) -> bool:
    """True while a rule set can still change the order."""
    return state not in NOT_REDETERMINED


def carry_decisions(old: Determination, fresh: Determination, *, red_flag: bool) -> Determination:
    """`fresh` with the officer's decision kept on every line still no rule decides."""
    decided = {line.sku: line for line in old.lines if line.decided_by}
    if not decided and not red_flag and fresh.compliance_review_required != _all_nlr(fresh):
        return fresh  # just what summarise would make of it again (the preview's hot path)
    lines = [
        decided.get(line.sku, line) if line.rule_id == NO_RULE_ID else line for line in fresh.lines
    ]
    return summarise(fresh, lines, red_flag=red_flag) if lines else fresh


def _all_nlr(det: Determination) -> bool:
    return all(line.license_required is False for line in det.lines)


def _old_lines(old: Determination, skus: list[str]) -> dict[str, LineDetermination]:
    if old.lines:
        return {line.sku: line for line in old.lines}
    # A determination from before per-line outcomes: the order's outcome stands for each line.
    whole = LineDetermination(
        sku="*",
        eccn="",
        license_required=old.license_required,
        policy=old.policy,
        rule_id=old.rule_id,
        rule_text=old.rule_text,
        license_code=old.license_code,
    )
    return {sku: whole.model_copy(update={"sku": sku}) for sku in skus}


def line_change(old: LineDetermination, new: LineDetermination) -> OutcomeChange:
    """How one line's outcome changes."""
    if new.license_required is None and old.license_required is not None:
        return C.COMPLIANCE_REVIEW_NEEDED
    if new.license_required is True and old.license_required is not True:
        return C.LICENSE_NEWLY_REQUIRED
    if new.license_required is False and old.license_required is True:
        return C.LICENSE_NO_LONGER_REQUIRED
    if new.policy != old.policy:
        return C.POLICY_CHANGED
    return C.UNCHANGED


def _line_impacts(old: Determination, new: Determination) -> list[LineImpact]:
    before = _old_lines(old, [line.sku for line in new.lines])
    return [
        LineImpact(
            sku=line.sku,
            from_rule=before[line.sku].rule_id if line.sku in before else NO_RULE_ID,
            to_rule=line.rule_id,
            from_policy=before[line.sku].policy if line.sku in before else line.policy,
            to_policy=line.policy,
            from_license_required=before[line.sku].license_required if line.sku in before else None,
            to_license_required=line.license_required,
            change=line_change(before[line.sku], line) if line.sku in before else C.UNCHANGED,
        )
        for line in new.lines
    ]


def _stop_keys(det: Determination) -> set[tuple[str, str, str]]:
    return {(s.sku, s.destination, s.rule_id) for s in det.import_stops}


def order_change(old: Determination, new: Determination, lines: list[LineImpact]) -> OutcomeChange:
    """The order's change: the most serious of its lines' and of its import stops'."""
    changes = [line.change for line in lines]
    if _stop_keys(new) - _stop_keys(old):
        changes.append(C.IMPORT_STOPPED)
    elif old.import_stops and not new.import_stops:
        changes.append(C.IMPORT_STOP_LIFTED)
    return min(changes, key=_RANK.__getitem__, default=C.UNCHANGED)


def plan(old: Determination, new: Determination, lines: list[LineImpact], status: OrderNow) -> Plan:
    """Where the order goes: back to compliance review when a line's outcome changes, held
    while a destination refuses the goods, resumed when the stop it was held for is lifted."""
    state, held_for_stop = status.state, status.held_for_import_stop
    resumes = status.held_from if state is S.ON_HOLD and status.held_from else state
    material = any(line.change is not C.UNCHANGED for line in lines)
    target = S.COMPLIANCE_REVIEW if material and resumes not in _REVIEWING else resumes
    if state is not S.ON_HOLD and _stop_keys(new) - _stop_keys(old):
        return Plan(S.ON_HOLD, target, True, material)
    if state is S.ON_HOLD and held_for_stop and not new.import_stops:
        return Plan(target, None, False, material)
    if state is S.ON_HOLD:
        return Plan(S.ON_HOLD, target, held_for_stop, material)
    return Plan(target, None, False, material)


def assess(
    order_id: str,
    booking: BookOrderRequest,
    status: OrderNow,
    fresh: Determination,
    *,
    external_ref: str | None = None,
) -> Assessment | None:
    """The order under `fresh` (a determination by another rule set); None when not open."""
    old = status.determination
    if old is None or not is_open(effective_state(status)):
        return None
    red_flag = status.screening is not None and bool(status.screening.hits)
    new = carry_decisions(old, fresh, red_flag=red_flag)
    lines = _line_impacts(old, new)
    change = order_change(old, new, lines)
    where = plan(old, new, lines, status)
    units, value = order_draw(booking)
    impact = OrderImpact(
        order_id=order_id,
        external_ref=external_ref if external_ref is not None else booking.external_ref,
        customer=booking.purchaser.name,
        destination=fresh.destination,
        state=status.state,
        to_state=where.to_state,
        change=change,
        from_ruleset=old.ruleset_version,
        to_ruleset=fresh.ruleset_version,
        units=units,
        value=value,
        lines=lines,
        import_stops=new.import_stops,
    )
    return Assessment(new, impact, where)


def effective_state(status: OrderNow) -> OrderState:
    """The state an order is in, or resumes to when it is on hold."""
    held = status.held_from
    return held if status.state is S.ON_HOLD and held else status.state
