"""Rule sets as the API and the console show them: status, approvals, progress, events."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, col, select

from schemas.catalog import RuleSet
from schemas.rulesets import (
    FanOut,
    RuleSetApproval,
    RuleSetEvent,
    RuleSetPage,
    RuleSetStatus,
    RuleSetView,
)
from services.db.models import RuleSetEventRow, RuleSetRow
from services.policy.store import APPROVALS_NEEDED, active_version, get, status
from workflows.catalog import load_catalog


def _utc(when: datetime | None) -> datetime | None:
    return when.replace(tzinfo=UTC) if when is not None and when.tzinfo is None else when


def _events(session: Session, version: str) -> list[RuleSetEvent]:
    rows = session.exec(
        select(RuleSetEventRow)
        .where(RuleSetEventRow.version == version)
        .order_by(col(RuleSetEventRow.seq))
    ).all()
    return [
        RuleSetEvent(
            seq=r.seq,
            at=_utc(r.at) or r.at,
            actor=r.actor,
            action=r.action,
            reason=r.reason,
            data=r.data,
        )
        for r in rows
    ]


def to_view(session: Session, row: RuleSetRow, *, active: str, detail: bool = False) -> RuleSetView:
    """A stored rule set's view; with `detail`, its events and rules too."""
    body = row.body
    return RuleSetView(
        version=row.version,
        status=status(session, row, active),
        effective_on=row.effective_from,
        expires_on=row.expires_on,
        citation=row.citation,
        rules=len(body.get("rules", [])),
        import_restrictions=len(body.get("import_restrictions", [])),
        staged_by=row.imported_by,
        staged_at=_utc(row.imported_at),
        approvals=[RuleSetApproval.model_validate(a) for a in row.approvals],
        approvals_needed=APPROVALS_NEEDED,
        activated_at=_utc(row.activated_at),
        expired_at=_utc(row.expired_at),
        fan_out=FanOut.model_validate(row.fan_out) if row.fan_out else None,
        events=_events(session, row.version) if detail else [],
        ruleset=RuleSet.model_validate(body) if detail else None,
    )


def baseline_view(*, active: str, detail: bool = False) -> RuleSetView:
    """The rule set bundled with the release: in force whenever no stored one is."""
    bundled = load_catalog().ruleset
    return RuleSetView(
        version=bundled.version,
        status=RuleSetStatus.ACTIVE if active == bundled.version else RuleSetStatus.SUPERSEDED,
        baseline=True,
        effective_on=bundled.effective_from,
        citation=bundled.citation,
        rules=len(bundled.rules),
        import_restrictions=len(bundled.import_restrictions),
        staged_by="(bundled with the release)",
        approvals_needed=0,
        ruleset=bundled if detail else None,
    )


def view(session: Session, version: str, *, detail: bool = True) -> RuleSetView:
    """One rule set (stored, or the bundled baseline); a not-found refusal otherwise."""
    active = active_version(session)
    if version == load_catalog().ruleset.version:
        return baseline_view(active=active, detail=detail)
    return to_view(session, get(session, version), active=active, detail=detail)


def list_views(session: Session) -> RuleSetPage:
    """Every rule set, the most recently staged first, the bundled baseline last."""
    active = active_version(session)
    rows = session.exec(select(RuleSetRow).order_by(col(RuleSetRow.imported_at).desc())).all()
    items = [to_view(session, row, active=active) for row in rows]
    return RuleSetPage(items=[*items, baseline_view(active=active)], active=active)
