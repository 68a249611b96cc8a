"""The order workflow's store, on the database."""

from __future__ import annotations

from datetime import UTC, datetime

from schemas.orders import LicenseAllocation
from schemas.workflow_io import AllocateRequest, ReleaseRequest, TransitionRecord
from services.db import licenses_repo, orders_repo
from services.db.engine import SessionFactory


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
        """Draw the order on its license, atomically."""
        with self._session() as session:
            allocation = licenses_repo.allocate(session, req, now=datetime.now(UTC))
            session.commit()
            return allocation

    def release_license(self, req: ReleaseRequest) -> None:
        """Release the order's draw, if any."""
        with self._session() as session:
            licenses_repo.release(session, order_id=req.order_id, now=datetime.now(UTC))
            session.commit()
