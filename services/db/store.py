"""The order workflow's store, on the database."""

from __future__ import annotations

from datetime import UTC, datetime

from schemas.common import Role
from schemas.orders import LicenseAllocation
from schemas.workflow_io import (
    AllocateRequest,
    CommitRequest,
    ReleaseRequest,
    ShipCheck,
    ShipCheckRequest,
    SplitRequest,
    TransitionRecord,
)
from services.db import (
    documents_repo,
    license_draws,
    license_holdings,
    licenses_repo,
    orders_repo,
    splits_repo,
)
from services.db.engine import SessionFactory
from services.db.models import UserRow


class SqlOrderStore:
    """Each call is one short write transaction."""

    def __init__(self, write_session: SessionFactory) -> None:
        self._session = write_session

    def record_transition(self, rec: TransitionRecord) -> None:
        """Append the event and move the read model; idempotent by (order, seq)."""
        with self._session() as session:
            orders_repo.record_transition(session, rec)
            session.commit()

    def allocate_license(self, req: AllocateRequest) -> LicenseAllocation:
        """Reserve the order on its license, atomically."""
        with self._session() as session:
            allocation = license_draws.reserve(session, req, now=datetime.now(UTC))
            session.commit()
            return allocation

    def release_license(self, req: ReleaseRequest) -> None:
        """Release the order's reservation, if any."""
        with self._session() as session:
            license_holdings.release(session, req, now=datetime.now(UTC))
            session.commit()

    def commit_license(self, req: CommitRequest) -> None:
        """Mark the order's reservation shipped."""
        with self._session() as session:
            license_holdings.commit(session, req, now=datetime.now(UTC))
            session.commit()

    def ship_check(self, req: ShipCheckRequest) -> ShipCheck:
        """Name the open blocking obligations of the order's license, missing evidence, and
        licensed items without a draw."""
        blocking: list[str] = []
        with self._session() as session:
            undrawn = license_holdings.undrawn(
                session, order_id=req.order_id, licensed=req.licensed_skus
            )
            if req.license_number is not None:
                blocking += licenses_repo.unusable(session, number=req.license_number)
                rows = licenses_repo.blocking_obligations(session, number=req.license_number)
                blocking += [
                    f"open blocking license obligation {o.code}: {o.text}"
                    + (f" (due {o.due_on})" if o.due_on else "")
                    for o in rows
                ]
            missing = documents_repo.missing_evidence(
                session,
                order_id=req.order_id,
                required=req.evidence,
                last_shipped_at=req.last_shipped_at,
            )
        blocking += [
            f"evidence '{m.kind}' missing: {m.text}"
            + (" (a new one for every shipment)" if m.per_shipment else "")
            for m in missing
        ]
        return ShipCheck(blocking=blocking, undrawn=undrawn)

    def roles_of(self, users: list[str]) -> dict[str, list[Role]]:
        """Current roles of each user; an unknown user holds none."""
        with self._session() as session:
            found = {u: session.get(UserRow, u) for u in users}
        return {
            u: [Role(r) for r in row.roles.split(",") if r] if row else []
            for u, row in found.items()
        }

    def book_split(self, req: SplitRequest) -> None:
        """Insert the remainder's order, lines and first event; a retry finds it there."""
        with self._session() as session:
            splits_repo.insert_split(session, req)
            session.commit()
