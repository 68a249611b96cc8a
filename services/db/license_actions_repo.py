"""License actions in the database: the request, the orders each reaches, results, progress."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import case, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from schemas.license_actions import (
    STATUS_AFTER,
    LicenseActionKind,
    LicenseActionResult,
    LicenseActionView,
    LicenseStatus,
    Outcome,
)
from services.db.licenses_repo import COMMIT, RELEASE, RESERVE, lock_license
from services.db.models import (
    LicenseActionResultRow,
    LicenseActionRow,
    LicenseLedgerRow,
    LicenseRow,
)
from services.db.money import utc
from workflows.activities import LicenseConflict

Kind = LicenseActionKind
_RESULTS = LicenseActionResultRow.__table__  # type: ignore[attr-defined]


def _refusal(lic: LicenseRow, kind: Kind, running: LicenseActionRow | None) -> str | None:
    """Why `kind` cannot be taken on the license now; None when it can."""
    status = LicenseStatus(lic.status)
    if status is LicenseStatus.REVOKED:
        return f"license {lic.number} is revoked; nothing more can be done to it"
    if kind is Kind.SUSPEND and status is LicenseStatus.SUSPENDED:
        return f"license {lic.number} is suspended already"
    if kind is Kind.REINSTATE and status is not LicenseStatus.SUSPENDED:
        return f"license {lic.number} is {status}, not suspended"
    if kind is Kind.REINSTATE and running is not None and running.kind == Kind.SUSPEND:
        done = f"{running.done} of {running.total if running.total is not None else '?'}"
        return (
            f"the suspension of license {lic.number} is still reaching its orders ({done}); "
            "reinstate it once that has finished"
        )
    return None


def running_action(session: Session, number: str) -> LicenseActionRow | None:
    """The license's newest action whose fan-out has not finished."""
    stmt = (
        select(LicenseActionRow)
        .where(
            LicenseActionRow.license_number == number,
            col(LicenseActionRow.finished_at).is_(None),
        )
        .order_by(col(LicenseActionRow.id).desc())
    )
    return session.exec(stmt).first()


def request_action(
    session: Session, *, number: str, kind: Kind, reason: str, actor: str, now: datetime
) -> LicenseActionRow | None:
    """Change the license's status and record the action; None when there is no license.

    `LicenseConflict` names why the action is not possible now. The caller commits, then
    starts the action's fan-out workflow.
    """
    lic = lock_license(session, number)
    if lic is None:
        return None
    refusal = _refusal(lic, kind, running_action(session, number))
    if refusal is not None:
        raise LicenseConflict(refusal)
    lic.status = STATUS_AFTER[kind].value
    lic.status_reason = None if kind is Kind.REINSTATE else reason
    session.add(lic)
    row = LicenseActionRow(
        license_number=number, kind=kind.value, reason=reason, actor=actor, requested_at=now
    )
    session.add(row)
    session.flush()
    return row


def _drawing(number: str) -> object:
    """Order ids holding units on the license that have not shipped (reserved, not released)."""
    q = col(LicenseLedgerRow.quantity)
    net = func.sum(
        case(
            (col(LicenseLedgerRow.kind) == RESERVE, q),
            (col(LicenseLedgerRow.kind).in_([RELEASE, COMMIT]), -q),
            else_=0,
        )
    )
    return (
        select(LicenseLedgerRow.order_id)
        .where(LicenseLedgerRow.license_number == number)
        .group_by(col(LicenseLedgerRow.order_id))
        .having(net > 0)
    )


def _held_by_suspension(session: Session, action: LicenseActionRow) -> object:
    """Order ids the license's last suspension before `action` put on hold."""
    suspend = session.exec(
        select(func.max(LicenseActionRow.id)).where(
            LicenseActionRow.license_number == action.license_number,
            LicenseActionRow.kind == Kind.SUSPEND.value,
            col(LicenseActionRow.id) < (action.id or 0),
        )
    ).one()
    return select(LicenseActionResultRow.order_id).where(
        LicenseActionResultRow.action_id == (suspend or 0),
        LicenseActionResultRow.outcome == Outcome.HELD.value,
    )


def _affected(session: Session, action: LicenseActionRow) -> object:
    if action.kind == Kind.REINSTATE.value:
        return _held_by_suspension(session, action)
    return _drawing(action.license_number)


def count_affected(session: Session, *, action_id: int) -> int:
    """How many orders the action reaches; stored once, as the progress's total."""
    action = session.get(LicenseActionRow, action_id)
    assert action is not None
    if action.total is None:
        sub = _affected(session, action).subquery()  # type: ignore[attr-defined]
        action.total = int(session.exec(select(func.count()).select_from(sub)).one())
        session.add(action)
    return action.total


def next_orders(session: Session, *, action_id: int, after: str, limit: int) -> list[str]:
    """The next affected orders after `after`, in id order."""
    action = session.get(LicenseActionRow, action_id)
    assert action is not None
    sub = _affected(session, action).subquery()  # type: ignore[attr-defined]
    order_id = sub.c.order_id
    stmt = select(order_id).where(order_id > after).order_by(order_id).limit(limit)
    return [str(oid) for oid in session.exec(stmt).all()]


def record_results(
    session: Session, *, action_id: int, results: Sequence[LicenseActionResult]
) -> int:
    """Write one line per order (a line written before stays); returns the lines so far."""
    if results:
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        rows = [r.model_dump() | {"action_id": action_id} for r in results]
        for row in rows:
            row["outcome"] = Outcome(row["outcome"]).value
        stmt = insert(_RESULTS).values(rows)
        session.connection().execute(
            stmt.on_conflict_do_nothing(index_elements=["action_id", "order_id"])
        )
    done = session.exec(
        select(func.count()).where(LicenseActionResultRow.action_id == action_id)
    ).one()
    action = session.get(LicenseActionRow, action_id)
    assert action is not None
    action.done = int(done)
    session.add(action)
    return action.done


def finish(session: Session, *, action_id: int, now: datetime) -> None:
    """The fan-out reached every order."""
    action = session.get(LicenseActionRow, action_id)
    if action is not None and action.finished_at is None:
        action.finished_at = now
        session.add(action)


def mark_started(session: Session, *, action_id: int) -> None:
    """The action's workflow runs; the outbox leaves it alone."""
    action = session.get(LicenseActionRow, action_id)
    if action is not None:
        action.workflow_started = True
        session.add(action)


def unstarted(session: Session, *, before: datetime, limit: int = 50) -> list[LicenseActionRow]:
    """Actions whose workflow was not started (Temporal away when they were asked for)."""
    stmt = (
        select(LicenseActionRow)
        .where(
            col(LicenseActionRow.workflow_started).is_(False),
            col(LicenseActionRow.requested_at) < before,
        )
        .order_by(col(LicenseActionRow.id))
        .limit(limit)
    )
    return list(session.exec(stmt).all())


def action_views(session: Session, *, number: str) -> list[LicenseActionView]:
    """The license's actions, newest first, each with its progress and one line per order."""
    actions = session.exec(
        select(LicenseActionRow)
        .where(LicenseActionRow.license_number == number)
        .order_by(col(LicenseActionRow.id).desc())
    ).all()
    results = session.exec(
        select(LicenseActionResultRow)
        .where(col(LicenseActionResultRow.action_id).in_([a.id for a in actions]))
        .order_by(col(LicenseActionResultRow.order_id))
    ).all()
    return [action_view(a, [r for r in results if r.action_id == a.id]) for a in actions]


def action_view(
    row: LicenseActionRow, results: Sequence[LicenseActionResultRow] = ()
) -> LicenseActionView:
    """An action as the API shows it."""
    return LicenseActionView(
        id=row.id or 0,
        kind=Kind(row.kind),
        reason=row.reason,
        actor=row.actor,
        requested_at=utc(row.requested_at),
        total=row.total,
        done=row.done,
        finished_at=utc(row.finished_at) if row.finished_at else None,
        results=[
            LicenseActionResult(
                order_id=r.order_id,
                outcome=Outcome(r.outcome),
                state=r.state,
                detail=r.detail,
                at=utc(r.at),
            )
            for r in results
        ],
    )
