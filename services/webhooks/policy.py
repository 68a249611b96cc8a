"""What an answer means for a delivery, and when to try again: pure rules, tested alone."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

Outcome = Literal["delivered", "retry", "rejected"]


def outcome_of(status_code: int | None) -> Outcome:
    """2xx delivered; 4xx other than 408 and 429 rejected for good; anything else retried.

    `None` is no answer at all (timeout, refused or reset connection). A 3xx is retried too:
    redirects are not followed (the URL should be updated instead, and following one could
    lead the request into a private network).
    """
    if status_code is None:
        return "retry"
    if 200 <= status_code < 300:
        return "delivered"
    if 400 <= status_code < 500 and status_code not in (408, 429):
        return "rejected"
    return "retry"


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter, each wait capped, for a window after the first try."""

    base: float
    cap: float
    window: float

    def next_attempt(
        self,
        *,
        failures: int,
        first_attempt_at: datetime,
        now: datetime,
        retry_after: float | None = None,
        rng: random.Random | None = None,
    ) -> datetime | None:
        """When to try again after `failures` failed attempts; None once the window is over."""
        end = first_attempt_at + timedelta(seconds=self.window)
        if now >= end:
            return None
        wait = min(self.base * 2 ** max(failures - 1, 0), self.cap)
        wait *= (rng or random).uniform(0.8, 1.2)  # spread retries of many deliveries apart
        if retry_after is not None:  # the receiver said when (429, 503): not sooner than that
            wait = max(wait, min(retry_after, self.cap))
        # The last try comes at the end of the window, not a full wait past it.
        return min(now + timedelta(seconds=wait), end)


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header given in seconds (an HTTP date is ignored)."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None
