"""Activities of the order workflow: all of its IO, behind small interfaces.

The workflow calls these by method reference; the worker binds them to real dependencies
(database, screening index). Each one is idempotent, so a retry after a crash writes nothing
twice.
"""

from __future__ import annotations

from typing import Protocol

from temporalio import activity
from temporalio.exceptions import ApplicationError

from schemas.orders import Determination, LicenseAllocation, Party, ScreeningResult
from schemas.workflow_io import (
    AllocateRequest,
    DetermineRequest,
    ReleaseRequest,
    ScreenRequest,
    TransitionRecord,
)
from workflows.catalog import load_catalog
from workflows.rules.determination import determine


class LicenseConflict(Exception):
    """A license cannot take this allocation (not enough left, or recorded differently)."""


class OrderStore(Protocol):
    """What the activities need from the system of record."""

    def record_transition(self, rec: TransitionRecord) -> None: ...

    def allocate_license(self, req: AllocateRequest) -> LicenseAllocation: ...

    def release_license(self, req: ReleaseRequest) -> None: ...


class Screener(Protocol):
    """Screens parties against the active list snapshot."""

    def screen_parties(self, parties: dict[str, Party]) -> ScreeningResult: ...


class OrderActivities:
    """The order workflow's activities, bound to their dependencies."""

    def __init__(self, store: OrderStore, screener: Screener) -> None:
        self._store = store
        self._screener = screener

    @activity.defn(name="record_transition")
    def record_transition(self, rec: TransitionRecord) -> None:
        """Append an audit event and update the read model (idempotent by order and seq)."""
        self._store.record_transition(rec)

    @activity.defn(name="screen_parties")
    def screen(self, req: ScreenRequest) -> ScreeningResult:
        """Screen every party of an order."""
        return self._screener.screen_parties(req.parties)

    @activity.defn(name="determine_license")
    def determine(self, req: DetermineRequest) -> Determination:
        """Decide whether the order needs a license, with the rule that decided it."""
        skus = [line.sku for line in req.booking.lines]
        try:
            return determine(skus, req.booking.end_user.country, load_catalog(), req.screening)
        except ValueError as exc:
            raise ApplicationError(str(exc), type="invalid", non_retryable=True) from exc

    @activity.defn(name="allocate_license")
    def allocate_license(self, req: AllocateRequest) -> LicenseAllocation:
        """Draw the order on a license; refuses (not retried) when too little is left."""
        try:
            return self._store.allocate_license(req)
        except LicenseConflict as exc:
            raise ApplicationError(str(exc), type="conflict", non_retryable=True) from exc

    @activity.defn(name="release_license")
    def release_license(self, req: ReleaseRequest) -> None:
        """Give back what the order drew on its license."""
        self._store.release_license(req)
