"""Rule sets: staging, the list, one rule set, the impact preview, approval; API and console.

Reads and writes go through the asyncio engine (`state.read`/`state.write`). The impact preview
is CPU work over every open order (about 0.2 ms of CPU each): it runs in one of the bounded
database threads (`state.db_threads`) with a session of its own, never on the event loop.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

from sqlmodel import Session

from schemas.common import Actor, Role
from schemas.rulesets import ImpactReport, RuleSetPage, RuleSetStatus, RuleSetView, StageRuleSet
from services.db.models import RuleSetRow
from services.ops.state import AppState
from services.policy import lifecycle, store
from services.policy.impact import preview
from services.policy.timers import start_timer
from services.policy.views import list_views, view
from services.rules_store import DbRuleSource
from workflows.rules.transitions import Refusal, RefusalKind

log = logging.getLogger(__name__)


def _compliance(actor: Actor) -> None:
    if Role.COMPLIANCE not in actor.roles:
        raise Refusal(
            RefusalKind.FORBIDDEN, f"this needs the compliance role; {actor.user} has not got it"
        )


async def stage(state: AppState, body: StageRuleSet, *, actor: Actor) -> tuple[RuleSetView, bool]:
    """Stage a rule set (compliance); the view, and whether it is new (False: the same again)."""
    _compliance(actor)

    def work(session: Session) -> tuple[RuleSetView, bool]:
        known = session.get(RuleSetRow, body.ruleset.version) is not None
        row = store.stage(session, body=body, actor=actor.user, now=datetime.now(UTC))
        session.flush()
        return view(session, row.version), not known

    return await state.write(work)


async def rulesets(state: AppState) -> RuleSetPage:
    """Every rule set with its status."""
    return await state.read(list_views)


async def ruleset(state: AppState, version: str, *, detail: bool = True) -> RuleSetView:
    """One rule set: status, approvals, fan-out progress, events (and rules)."""
    return await state.read(lambda session: view(session, version, detail=detail))


def preview_date(found: RuleSetView, today: date) -> date:
    """The date a preview applies the rules as of: the effective date, or today if later."""
    return max(found.effective_on, today)


async def impact(
    state: AppState, version: str, *, on: date | None, include_all: bool, limit: int | None = None
) -> ImpactReport:
    """Every open order under the rule set, against its current determination."""

    def work() -> ImpactReport:
        with state.thread_read_session() as session:
            found = view(session, version, detail=False)
            when = on or preview_date(found, datetime.now(UTC).date())
            catalog = DbRuleSource(state.thread_read_session).catalog_of(version)
            return preview(
                session,
                version=version,
                catalog=catalog,
                on=when,
                include_all=include_all,
                limit=limit,
            )

    return await state.db_threads.run(work)


async def approve(state: AppState, version: str, *, actor: Actor, note: str | None) -> RuleSetView:
    """One officer's approval (compliance); with the second, the rule set's timer starts."""
    _compliance(actor)

    def work(session: Session) -> tuple[RuleSetView, RuleSetRow]:
        now = datetime.now(UTC)
        row = store.approve(session, version=version, actor=actor.user, note=note, now=now)
        session.flush()
        return view(session, version), row

    found, row = await state.write(work)
    if found.status is RuleSetStatus.APPROVED and not row.workflow_started:
        try:
            client = await state.temporal_client()
            await start_timer(client, row, state.settings)
            await state.write(lambda s: lifecycle.mark_timer_started(s, version=version))
        except Exception:  # the worker's outbox sweeper starts it once Temporal is back
            log.warning("rule set %s approved; its timer starts when Temporal is back", version)
    return found
