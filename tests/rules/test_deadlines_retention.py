"""Deadlines in business days, license lapse, and the EAR 762 retention period, as tables."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from schemas.orders import OrderState
from schemas.workflow_io import OrderPolicy
from workflows.rules.deadlines import add_business_days, add_years, due_at, license_deadline
from workflows.rules.retention import retention_until

S = OrderState
MON = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)  # a Monday


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (MON, 0, MON),
        (MON, 1, datetime(2026, 12, 1, 9, 30, tzinfo=UTC)),
        (MON, 4, datetime(2026, 12, 4, 9, 30, tzinfo=UTC)),  # Friday
        (MON, 5, datetime(2026, 12, 7, 9, 30, tzinfo=UTC)),  # over the weekend
        (datetime(2026, 12, 4, 17, 0, tzinfo=UTC), 1, datetime(2026, 12, 7, 17, 0, tzinfo=UTC)),
        (datetime(2026, 12, 5, 10, 0, tzinfo=UTC), 1, datetime(2026, 12, 7, 10, 0, tzinfo=UTC)),
        (datetime(2026, 12, 6, 10, 0, tzinfo=UTC), 2, datetime(2026, 12, 8, 10, 0, tzinfo=UTC)),
    ],
)
def test_business_days_skip_weekends(start: datetime, days: int, expected: datetime) -> None:
    assert add_business_days(start, days) == expected


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (S.SCREENING_REVIEW, datetime(2026, 12, 2, 9, 30, tzinfo=UTC)),
        (S.COMPLIANCE_REVIEW, datetime(2026, 12, 2, 9, 30, tzinfo=UTC)),
        (S.AWAITING_LICENSE, datetime(2027, 2, 28, 9, 30, tzinfo=UTC)),  # 90 calendar days
        (S.READY_TO_SHIP, None),
        (S.ON_HOLD, None),
        (S.BOOKED, None),
        (S.DELIVERED, None),
    ],
)
def test_who_is_on_the_clock(state: OrderState, expected: datetime | None) -> None:
    assert due_at(state, MON, OrderPolicy()) == expected


def test_policy_changes_the_clock() -> None:
    policy = OrderPolicy(review_business_days=5, license_decision_days=120)
    assert due_at(S.COMPLIANCE_REVIEW, MON, policy) == datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
    assert due_at(S.AWAITING_LICENSE, MON, policy) == datetime(2027, 3, 30, 9, 30, tzinfo=UTC)


def test_a_license_is_valid_through_its_expiry_date() -> None:
    assert license_deadline(date(2027, 1, 31), MON) == datetime(2027, 2, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "years", "expected"),
    [
        (date(2026, 11, 30), 5, date(2031, 11, 30)),
        (date(2028, 2, 29), 5, date(2033, 2, 28)),
        (date(2028, 2, 29), 4, date(2032, 2, 29)),
    ],
)
def test_add_years(day: date, years: int, expected: date) -> None:
    assert add_years(day, years) == expected


@pytest.mark.parametrize(
    ("state", "current", "expected"),
    [
        (S.SHIPPED, None, date(2031, 11, 30)),
        (S.DELIVERED, date(2031, 11, 1), date(2031, 11, 30)),  # a later event extends
        (S.CANCELLED, None, date(2031, 11, 30)),
        (S.REJECTED, None, date(2031, 11, 30)),
        (S.LICENSE_DENIED, None, date(2031, 11, 30)),
        (S.SHIPPED, date(2032, 1, 1), date(2032, 1, 1)),  # never shortened
        (S.READY_TO_SHIP, None, None),  # open orders have not started their five years
        (S.ON_HOLD, date(2031, 1, 1), date(2031, 1, 1)),
    ],
)
def test_records_are_kept_five_years_from_the_latest_export_or_termination(
    state: OrderState, current: date | None, expected: date | None
) -> None:
    assert retention_until(state, date(2026, 11, 30), current) == expected
