"""Due times of the steps people must take, in business days where the rule says so."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from schemas.orders import OrderState
from schemas.workflow_io import OrderPolicy

_SATURDAY = 5


def add_business_days(start: datetime, days: int) -> datetime:
    """`days` weekdays after `start`, at the same time of day (weekends skipped)."""
    current = start
    added = 0
    while added < days:
        current += timedelta(days=1)
        if current.weekday() < _SATURDAY:
            added += 1
    return current


def due_at(state: OrderState, entered_at: datetime, policy: OrderPolicy) -> datetime | None:
    """When the step awaited in `state` is due; None where nobody is on the clock."""
    if state in (OrderState.SCREENING_REVIEW, OrderState.COMPLIANCE_REVIEW):
        return add_business_days(entered_at, policy.review_business_days)
    if state is OrderState.AWAITING_LICENSE:
        # BIS aims to decide within 90 days; a returned application restarts the clock.
        return entered_at + timedelta(days=policy.license_decision_days)
    return None


def license_deadline(expires_on: date, tz_of: datetime) -> datetime:
    """A license is valid through its expiry date; it lapses at the next midnight (UTC)."""
    return datetime.combine(expires_on + timedelta(days=1), time(), tzinfo=tz_of.tzinfo)


def add_years(day: date, years: int) -> date:
    """The same calendar day `years` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
