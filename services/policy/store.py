"""Rule sets in the database: staging, four-eyes approval, activation, expiry and their events.

Which rule set decides: the most recently activated one that has not expired; with none, the
one bundled with the release (the baseline). Staged and approved sets decide nothing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from schemas.catalog import RuleSet
from schemas.common import Role
from schemas.rulesets import RuleSetStatus, StageRuleSet
from services.db.models import RuleSetEventRow, RuleSetRow, UserRow
from services.ops.errors import NotFound
from workflows.catalog import load_catalog
from workflows.rules.transitions import Refusal, RefusalKind

APPROVALS_NEEDED = 2


def _conflict(message: str) -> Refusal:
    return Refusal(RefusalKind.CONFLICT, message)


def _forbidden(message: str) -> Refusal:
    return Refusal(RefusalKind.FORBIDDEN, message)


def midnight(day: date) -> datetime:
    """00:00 UTC of `day`: when a rule set dated `day` is activated or expires."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _aware(when: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; they were written as UTC.
    return when.replace(tzinfo=UTC) if when is not None and when.tzinfo is None else when


def add_event(
    session: Session,
    version: str,
    *,
    at: datetime,
    actor: str,
    action: str,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Append an event to a rule set's trail."""
    last = session.exec(
        select(func.max(RuleSetEventRow.seq)).where(RuleSetEventRow.version == version)
    ).one()
    row = RuleSetEventRow(
        version=version,
        seq=(last or 0) + 1,
        at=at,
        actor=actor,
        action=action,
        reason=reason,
        data=data or {},
    )
    session.add(row)


def stage(session: Session, *, body: StageRuleSet, actor: str, now: datetime) -> RuleSetRow:
    """Store a rule set as staged; it decides nothing yet. The same body again is a no-op."""
    ruleset = body.ruleset
    effective = body.effective_on or ruleset.effective_from
    ruleset = ruleset.model_copy(update={"effective_from": effective})
    if ruleset.version == load_catalog().ruleset.version:
        raise _conflict(f"version {ruleset.version} is the bundled rule set; choose another")
    stored = ruleset.model_dump(mode="json")
    citation = body.citation if body.citation is not None else ruleset.citation
    known = session.get(RuleSetRow, ruleset.version)
    if known is not None:
        same = (known.body, known.expires_on, known.citation) == (
            stored,
            body.expires_on,
            citation,
        )
        if not same:
            raise _conflict(f"version {ruleset.version} exists with other rules or dates; bump it")
        return known
    row = RuleSetRow(
        version=ruleset.version,
        effective_from=effective,
        body=stored,
        imported_by=actor,
        imported_at=now,
        expires_on=body.expires_on,
        citation=citation,
    )
    session.add(row)
    session.flush()
    add_event(session, row.version, at=now, actor=actor, action="staged", reason=citation or None)
    return row


def _locked(session: Session, version: str) -> RuleSetRow:
    row = session.exec(
        select(RuleSetRow).where(RuleSetRow.version == version).with_for_update()
    ).first()
    if row is None:
        raise NotFound(f"no rule set {version}")
    return row


def _still_compliance(session: Session, users: list[str]) -> set[str]:
    rows = session.exec(select(UserRow).where(col(UserRow.name).in_(users))).all()
    return {r.name for r in rows if Role.COMPLIANCE.value in r.roles.split(",")}


def approve(
    session: Session, *, version: str, actor: str, note: str | None, now: datetime
) -> RuleSetRow:
    """One officer's approval; the second distinct one (not the stager) approves the set."""
    row = _locked(session, version)
    if row.approved_at is not None:
        raise _conflict(f"rule set {version} is already approved ({status(session, row).value})")
    if actor == row.imported_by:
        raise _forbidden(
            f"{actor} staged rule set {version}; two other compliance officers approve it"
        )
    if row.expires_on is not None and row.expires_on <= now.date():
        raise _conflict(f"rule set {version} expired on {row.expires_on}; stage a new one")
    # An earlier approver who no longer holds the compliance role no longer counts.
    earlier = [a for a in row.approvals if a["by"] in _still_compliance(session, _by(row))]
    if actor in [a["by"] for a in earlier]:
        raise _forbidden(
            f"{actor} has already approved rule set {version}; a second officer must approve"
        )
    approvals = [*earlier, {"by": actor, "at": now.isoformat(), "note": note}]
    row.approvals = approvals
    data = {"approvals": len(approvals), "needed": APPROVALS_NEEDED}
    if len(approvals) >= APPROVALS_NEEDED:
        row.approved_at = now
    session.add(row)
    add_event(session, version, at=now, actor=actor, action="approved", reason=note, data=data)
    return row


def _by(row: RuleSetRow) -> list[str]:
    return [str(a["by"]) for a in row.approvals]


_IN_FORCE = (col(RuleSetRow.activated_at).is_not(None), col(RuleSetRow.expired_at).is_(None))
_NEWEST = (col(RuleSetRow.activated_at).desc(), col(RuleSetRow.version).desc())


def active_row(session: Session) -> RuleSetRow | None:
    """The rule set in force: the most recently activated that has not expired."""
    return session.exec(select(RuleSetRow).where(*_IN_FORCE).order_by(*_NEWEST).limit(1)).first()


def active_version(session: Session) -> str:
    """The version in force (the bundled baseline's when no stored set is): one small read."""
    stmt = select(RuleSetRow.version).where(*_IN_FORCE).order_by(*_NEWEST).limit(1)
    found = session.exec(stmt).first()
    return found if found is not None else load_catalog().ruleset.version


def active_ruleset(session: Session) -> RuleSet:
    """The rules in force: the active rule set's, or the bundled baseline's."""
    row = active_row(session)
    return RuleSet.model_validate(row.body) if row is not None else load_catalog().ruleset


def status(session: Session, row: RuleSetRow, active: str | None = None) -> RuleSetStatus:
    """Where `row` stands (`active`: the active version, when the caller knows it)."""
    if row.expired_at is not None:
        return RuleSetStatus.EXPIRED
    if row.activated_at is not None:
        if active is None:
            found = active_row(session)
            active = found.version if found else ""
        return RuleSetStatus.ACTIVE if row.version == active else RuleSetStatus.SUPERSEDED
    if row.approved_at is not None:
        return RuleSetStatus.APPROVED
    return RuleSetStatus.STAGED


def get(session: Session, version: str) -> RuleSetRow:
    """A stored rule set, or a not-found refusal."""
    row = session.get(RuleSetRow, version)
    if row is None:
        raise NotFound(f"no rule set {version}")
    return row


def ruleset_of(session: Session, version: str) -> RuleSet:
    """The rules of a stored version, or of the bundled baseline."""
    bundled = load_catalog().ruleset
    if version == bundled.version:
        return bundled
    return RuleSet.model_validate(get(session, version).body)


def activated_at(row: RuleSetRow) -> datetime | None:
    """When the set was activated (UTC)."""
    return _aware(row.activated_at)
