"""The BIS application clock: 90 days from registration, paused on hold, restarted after RWA.

Pure functions over `Application`; the workflow records what they return.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from schemas.applications import (
    Application,
    ApplicationEvent,
    ApplicationStatus,
    ApplicationStatusBody,
)
from workflows.rules.transitions import Refusal, RefusalKind

A = ApplicationStatus
# Which answers may follow which; a returned application is closed (file a successor).
_NEXT: dict[ApplicationStatus, frozenset[ApplicationStatus]] = {
    A.SUBMITTED: frozenset({A.REGISTERED, A.RETURNED_WITHOUT_ACTION}),
    A.REGISTERED: frozenset({A.HOLD_WITHOUT_ACTION, A.REFERRED, A.RETURNED_WITHOUT_ACTION}),
    A.HOLD_WITHOUT_ACTION: frozenset({A.REGISTERED, A.REFERRED, A.RETURNED_WITHOUT_ACTION}),
    A.REFERRED: frozenset({A.REGISTERED, A.HOLD_WITHOUT_ACTION, A.RETURNED_WITHOUT_ACTION}),
    A.RETURNED_WITHOUT_ACTION: frozenset(),
}


def check_submit(current: Application | None, number: str, on: date, today: date) -> None:
    """A new application: none open already, a number not used before, not dated ahead."""
    if on > today:
        raise Refusal(RefusalKind.INVALID, f"submitted_on: {on} is in the future")
    if current is None:
        return
    if current.status is not A.RETURNED_WITHOUT_ACTION:
        raise Refusal(
            RefusalKind.CONFLICT,
            f"application {current.application_control_number} is still {current.status}; "
            "a new one is filed only after a return without action",
        )
    used = {current.application_control_number, *current.predecessors}
    if number in used:
        raise Refusal(
            RefusalKind.INVALID,
            f"application_control_number: {number} was already used; a successor needs a new one",
        )
    if on < current.history[-1].on:
        raise Refusal(RefusalKind.INVALID, f"submitted_on: {on} is before the return")


def submit(
    current: Application | None, number: str, on: date, by: str, at: datetime
) -> Application:
    """The order's application after filing `number` (a successor keeps the history)."""
    event = ApplicationEvent(
        application_control_number=number, status=A.SUBMITTED, on=on, by=by, at=at
    )
    earlier = [] if current is None else [*current.predecessors, current.application_control_number]
    history = [] if current is None else list(current.history)
    return Application(
        application_control_number=number,
        submitted_on=on,
        status=A.SUBMITTED,
        predecessors=earlier,
        history=[*history, event],
    )


def check_status(current: Application | None, body: ApplicationStatusBody, today: date) -> None:
    """BIS's answer must follow from where the application is, and not be dated ahead."""
    if current is None:
        raise Refusal(RefusalKind.CONFLICT, "no application: submit-application first")
    if body.status not in _NEXT[current.status]:
        raise Refusal(
            RefusalKind.CONFLICT,
            f"status: application {current.application_control_number} is {current.status}; "
            f"it cannot become {body.status}",
        )
    if body.on > today:
        raise Refusal(RefusalKind.INVALID, f"on: {body.on} is in the future")
    if body.on < current.history[-1].on:
        raise Refusal(
            RefusalKind.INVALID, f"on: {body.on} is before the last step ({current.history[-1].on})"
        )
    if body.successor_application_control_number:
        check_submit(_returned(current), body.successor_application_control_number, body.on, today)


def _returned(app: Application) -> Application:
    return app.model_copy(update={"status": A.RETURNED_WITHOUT_ACTION})


def answer(
    current: Application, body: ApplicationStatusBody, by: str, at: datetime, clock_days: int
) -> Application:
    """The application after BIS's answer; the clock runs, pauses or stops accordingly."""
    event = ApplicationEvent(
        application_control_number=current.application_control_number,
        status=body.status,
        on=body.on,
        by=by,
        at=at,
        note=body.note,
    )
    app = current.model_copy(update={"status": body.status, "history": [*current.history, event]})
    if body.status is A.REGISTERED and current.registered_on is None:
        app.registered_on = body.on
    if current.status is A.HOLD_WITHOUT_ACTION and current.held_since is not None:
        app.paused_days += (body.on - current.held_since).days
        app.held_since = None
    if body.status is A.HOLD_WITHOUT_ACTION:
        app.held_since = body.on
    return _clock(app, clock_days)


def _clock(app: Application, clock_days: int) -> Application:
    running = app.registered_on is not None and app.status in (A.REGISTERED, A.REFERRED)
    due = None
    if app.registered_on is not None and app.status is not A.RETURNED_WITHOUT_ACTION:
        due = app.registered_on + timedelta(days=clock_days + app.paused_days)
    app.clock_running, app.decision_due_on = running, due
    return app
