"""The BIS application clock: registration starts it, hold pauses it, a return needs a successor."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from schemas.applications import Application, ApplicationStatusBody
from workflows.rules import applications as clock
from workflows.rules.transitions import Refusal

AT = datetime(2026, 11, 30, tzinfo=UTC)
TODAY = date(2026, 11, 30)


def step(app: Application, status: str, on: date, successor: str | None = None) -> Application:
    body = ApplicationStatusBody(
        status=status, on=on, successor_application_control_number=successor
    )
    clock.check_status(app, body, TODAY)
    app = clock.answer(app, body, "carol", AT, 90)
    if successor:
        app = clock.submit(app, successor, on, "carol", AT)
    return app


def filed() -> Application:
    clock.check_submit(None, "Z123456", date(2026, 6, 1), TODAY)
    return clock.submit(None, "Z123456", date(2026, 6, 1), "carol", AT)


def test_the_clock_starts_at_registration() -> None:
    app = filed()
    assert app.decision_due_on is None
    assert not app.clock_running
    app = step(app, "registered", date(2026, 6, 3))
    assert app.decision_due_on == date(2026, 9, 1)
    assert app.clock_running


def test_a_hold_without_action_pauses_the_clock() -> None:
    app = step(filed(), "registered", date(2026, 6, 3))
    app = step(app, "hold_without_action", date(2026, 7, 1))
    assert not app.clock_running
    app = step(app, "registered", date(2026, 7, 11))  # ten days on hold
    assert app.decision_due_on == date(2026, 9, 11)
    app = step(app, "referred", date(2026, 7, 20))
    assert app.clock_running
    assert app.decision_due_on == date(2026, 9, 11)


def test_a_return_without_action_needs_a_successor_before_the_clock_restarts() -> None:
    app = step(filed(), "registered", date(2026, 6, 3))
    app = step(app, "returned_without_action", date(2026, 7, 1))
    assert app.decision_due_on is None
    with pytest.raises(Refusal, match="already used"):
        clock.check_submit(app, "Z123456", date(2026, 7, 2), TODAY)
    app = step(
        step(filed(), "registered", date(2026, 6, 3)),
        "returned_without_action",
        date(2026, 7, 1),
        successor="Z654321",
    )
    assert app.application_control_number == "Z654321"
    assert app.predecessors == ["Z123456"]
    assert app.decision_due_on is None
    app = step(app, "registered", date(2026, 7, 5))
    assert app.decision_due_on == date(2026, 10, 3)
    assert [e.status for e in app.history] == [
        "submitted",
        "registered",
        "returned_without_action",
        "submitted",
        "registered",
    ]


@pytest.mark.parametrize(
    ("status", "on", "message"),
    [
        ("hold_without_action", date(2026, 6, 2), "cannot become"),  # not registered yet
        ("registered", date(2026, 5, 1), "before the last step"),
        ("registered", date(2026, 12, 1), "in the future"),
    ],
)
def test_answers_that_cannot_follow_are_refused(status: str, on: date, message: str) -> None:
    body = ApplicationStatusBody(status=status, on=on)
    with pytest.raises(Refusal, match=message):
        clock.check_status(filed(), body, TODAY)


def test_a_second_application_while_one_is_open_is_refused() -> None:
    with pytest.raises(Refusal, match="still submitted"):
        clock.check_submit(filed(), "Z000001", TODAY, TODAY)


def test_no_answer_before_an_application() -> None:
    with pytest.raises(Refusal, match="submit-application first"):
        clock.check_status(None, ApplicationStatusBody(status="registered", on=TODAY), TODAY)


def test_a_successor_only_comes_with_a_return() -> None:
    with pytest.raises(ValueError, match="only with returned_without_action"):
        ApplicationStatusBody(
            status="registered", on=TODAY, successor_application_control_number="Z000002"
        )
