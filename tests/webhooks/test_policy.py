"""When a delivery is done, given up or tried again, and how long the wait is."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from services.webhooks.policy import Backoff, outcome_of, retry_after_seconds

T0 = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        (200, "delivered"),
        (204, "delivered"),
        (299, "delivered"),
        (None, "retry"),
        (301, "retry"),
        (400, "rejected"),
        (401, "rejected"),
        (404, "rejected"),
        (410, "rejected"),
        (408, "retry"),
        (429, "retry"),
        (500, "retry"),
        (502, "retry"),
        (503, "retry"),
    ],
)
def test_2xx_delivers_4xx_rejects_except_408_and_429_the_rest_retries(
    code: int | None, outcome: str
) -> None:
    assert outcome_of(code) == outcome


def test_waits_double_up_to_the_cap_and_stop_at_the_end_of_the_window() -> None:
    backoff = Backoff(base=5, cap=3600, window=86_400)
    rng = random.Random(1)
    now, waits = T0, []
    failures = 0
    while True:
        failures += 1
        nxt = backoff.next_attempt(failures=failures, first_attempt_at=T0, now=now, rng=rng)
        if nxt is None:
            break
        waits.append((nxt - now).total_seconds())
        now = nxt
    assert 4 <= waits[0] <= 6  # 5 s, give or take the jitter
    assert 8 <= waits[1] <= 12
    assert max(waits) <= 3600 * 1.2
    assert now == T0 + timedelta(days=1), "the last try is at the end of the 24 h"
    assert 30 < failures < 40


def test_retry_after_is_honoured_but_capped() -> None:
    backoff = Backoff(base=1, cap=60, window=3600)
    nxt = backoff.next_attempt(failures=1, first_attempt_at=T0, now=T0, retry_after=30)
    assert nxt is not None
    assert (nxt - T0).total_seconds() >= 30
    capped = backoff.next_attempt(failures=1, first_attempt_at=T0, now=T0, retry_after=10_000)
    assert capped is not None
    assert (capped - T0).total_seconds() <= 60 * 1.2
    assert retry_after_seconds("12") == 12
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") is None
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("-1") is None
