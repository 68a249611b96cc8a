"""Rule-set operations for the API and the console: one place, called by both.

THREADS, BOUNDED: every database call here runs in a worker thread, at most
`POLICY_THREADS` at a time per process (`AppState.policy_limiter`), never on the event loop.
The API's routes move to the asyncio engine on another branch; once that lands these reads and
writes go through it, and only the preview's computation stays in a thread (it is CPU work).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import TypeVar

from anyio import CapacityLimiter, to_thread
from sqlmodel import Session

from schemas.rulesets import ImpactReport, RuleSetPage, RuleSetStatus, RuleSetView, StageRuleSet
from services.api.state import AppState
from services.db.models import RuleSetRow
from services.policy import lifecycle, store
from services.policy.impact import preview
from services.policy.timers import start_timer
from services.policy.views import list_views, view
from services.rules_store import DbRuleSource

log = logging.getLogger(__name__)
T = TypeVar("T")
POLICY_THREADS = 4


def _limiter(state: AppState) -> CapacityLimiter:
    if state.policy_limiter is None:
        state.policy_limiter = CapacityLimiter(POLICY_THREADS)
    return state.policy_limiter


async def _read(state: AppState, work: Callable[[Session], T]) -> T:
    def run() -> T:
        with state.read_session() as session:
            return work(session)

    return await to_thread.run_sync(run, limiter=_limiter(state))


async def _write(state: AppState, work: Callable[[Session], T]) -> T:
    def run() -> T:
        with state.write_session() as session:
            result = work(session)
            session.commit()
            return result

    return await to_thread.run_sync(run, limiter=_limiter(state))


async def stage(state: AppState, body: StageRuleSet, *, actor: str) -> tuple[RuleSetView, bool]:
    """Stage a rule set; the view, and whether it is new (False: the same body again)."""

    def work(session: Session) -> tuple[RuleSetView, bool]:
        known = session.get(RuleSetRow, body.ruleset.version) is not None
        row = store.stage(session, body=body, actor=actor, now=datetime.now(UTC))
        session.flush()
        return view(session, row.version), not known

    return await _write(state, work)


async def rulesets(state: AppState) -> RuleSetPage:
    """Every rule set with its status."""
    return await _read(state, list_views)


async def ruleset(state: AppState, version: str, *, detail: bool = True) -> RuleSetView:
    """One rule set: status, approvals, fan-out progress, events (and rules)."""
    return await _read(state, lambda session: view(session, version, detail=detail))


def preview_date(found: RuleSetView, today: date) -> date:
    """The date a preview applies the rules as of: the effective date, or today if later."""
    return max(found.effective_on, today)


async def impact(
    state: AppState, version: str, *, on: date | None, include_all: bool, limit: int | None = None
) -> ImpactReport:
    """Every open order under the rule set, against its current determination."""

    def work(session: Session) -> ImpactReport:
        found = view(session, version, detail=False)
        when = on or preview_date(found, datetime.now(UTC).date())
        catalog = DbRuleSource(state.read_session).catalog_of(version)
        return preview(
            session,
            version=version,
            catalog=catalog,
            on=when,
            include_all=include_all,
            limit=limit,
        )

    return await _read(state, work)


async def approve(state: AppState, version: str, *, actor: str, note: str | None) -> RuleSetView:
    """One officer's approval; with the second, the rule set's timer starts."""

    def work(session: Session) -> tuple[RuleSetView, RuleSetRow]:
        row = store.approve(session, version=version, actor=actor, note=note, now=datetime.now(UTC))
        session.flush()
        return view(session, version), row

    found, row = await _write(state, work)
    if found.status is RuleSetStatus.APPROVED and not row.workflow_started:
        try:
            client = await state.temporal_client()
            await start_timer(client, row, state.settings)
            await _write(state, lambda s: lifecycle.mark_timer_started(s, version=version))
        except Exception:  # the worker's outbox sweeper starts it once Temporal is back
            log.warning("rule set %s approved; its timer starts when Temporal is back", version)
    return found
