"""Activities of the order workflow: all of its IO, behind small interfaces.

The workflow calls these by method reference; the worker binds them to real dependencies
(database, screening index, rule sets). Each one is idempotent, so a retry after a crash
writes nothing twice.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from temporalio import activity
from temporalio.exceptions import ApplicationError

from schemas.catalog import Catalog
from schemas.common import Role
from schemas.orders import Determination, LicenseAllocation, Party, ScreeningResult
from schemas.workflow_io import (
    AllocateRequest,
    CommitRequest,
    DetermineRequest,
    ReleaseRequest,
    RolesRequest,
    ScreenRequest,
    ShipCheck,
    ShipCheckRequest,
    SplitRequest,
    TransitionRecord,
    WhitelistRequest,
)
from workflows.rules.determination import determine, facts_of


class LicenseConflict(Exception):
    """A license cannot take this request (not enough left, other terms, expired)."""


class OrderStore(Protocol):
    """What the activities need from the system of record."""

    def record_transition(self, rec: TransitionRecord) -> None: ...

    def allocate_license(self, req: AllocateRequest) -> LicenseAllocation: ...

    def release_license(self, req: ReleaseRequest) -> None: ...

    def commit_license(self, req: CommitRequest) -> None: ...

    def ship_check(self, req: ShipCheckRequest) -> ShipCheck: ...

    def roles_of(self, users: list[str]) -> dict[str, list[Role]]: ...

    def book_split(self, req: SplitRequest) -> None: ...


class Screener(Protocol):
    """Screens parties against the active list snapshot, honouring the whitelist."""

    def screen_parties(self, parties: dict[str, Party]) -> ScreeningResult: ...

    def whitelist(self, req: WhitelistRequest) -> None: ...


class RuleSource(Protocol):
    """The products and the rule set in force."""

    def active_catalog(self) -> Catalog: ...


def _conflict(exc: Exception) -> ApplicationError:
    # Business refusals are not retried: the update fails with a 409 for the person asking.
    return ApplicationError(str(exc), type="conflict", non_retryable=True)


class OrderActivities:
    """The order workflow's activities, bound to their dependencies."""

    def __init__(self, store: OrderStore, screener: Screener, rules: RuleSource) -> None:
        self._store = store
        self._screener = screener
        self._rules = rules

    @activity.defn(name="record_transition")
    def record_transition(self, rec: TransitionRecord) -> None:
        """Append an audit event and update the read model (idempotent by order and seq)."""
        self._store.record_transition(rec)

    @activity.defn(name="screen_parties")
    def screen(self, req: ScreenRequest) -> ScreeningResult:
        """Screen every party of an order."""
        return self._screener.screen_parties(req.parties)

    @activity.defn(name="whitelist_party")
    def whitelist(self, req: WhitelistRequest) -> None:
        """Remember that a party is not a listed entry, until a date."""
        self._screener.whitelist(req)

    @activity.defn(name="determine_license")
    def determine(self, req: DetermineRequest) -> Determination:
        """Decide whether the order needs a license, with the rule that decided it."""
        catalog = self._rules.active_catalog()
        on = req.on or datetime.now(UTC).date()
        try:
            return determine(facts_of(req.booking), catalog, req.screening, on)
        except ValueError as exc:
            raise ApplicationError(str(exc), type="invalid", non_retryable=True) from exc

    @activity.defn(name="allocate_license")
    def allocate_license(self, req: AllocateRequest) -> LicenseAllocation:
        """Reserve the order on a license; refused (not retried) when it does not fit."""
        try:
            return self._store.allocate_license(req)
        except LicenseConflict as exc:
            raise _conflict(exc) from exc

    @activity.defn(name="release_license")
    def release_license(self, req: ReleaseRequest) -> None:
        """Give back what the order reserved on its license."""
        self._store.release_license(req)

    @activity.defn(name="commit_license")
    def commit_license(self, req: CommitRequest) -> None:
        """Record the shipment against the license's ledger."""
        self._store.commit_license(req)

    @activity.defn(name="ship_check")
    def ship_check(self, req: ShipCheckRequest) -> ShipCheck:
        """Open blocking license obligations that stop shipment."""
        return self._store.ship_check(req)

    @activity.defn(name="roles_of")
    def roles_of(self, req: RolesRequest) -> dict[str, list[Role]]:
        """The roles these users hold now (a revoked role no longer counts)."""
        return self._store.roles_of(req.users)

    @activity.defn(name="book_split")
    def book_split(self, req: SplitRequest) -> None:
        """Book the remainder of a partially approved order (once, by its order id)."""
        self._store.book_split(req)
