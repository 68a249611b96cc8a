"""Suspending, reinstating and revoking a license: in force at once, its orders reached by a
workflow (`workflows.license_action`) started here or, with Temporal away, by the worker."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlmodel import Session
from temporalio.service import RPCError

from schemas.license_actions import LicenseActionInput, LicenseActionKind, LicenseActionView
from services.db import license_actions_repo as repo
from services.license_fanout import action_input, start_fanout
from services.ops.errors import NotFound, ServiceUnavailable, conflict
from services.ops.state import AppState
from workflows.activities import LicenseConflict

log = logging.getLogger(__name__)


async def take(
    state: AppState, number: str, kind: LicenseActionKind, *, reason: str, actor: str
) -> LicenseActionView:
    """Change the license's status now and start the fan-out to its orders.

    Raises NotFound (no license) or a 409 Refusal naming why the action is not possible now.
    """

    def write(session: Session) -> tuple[LicenseActionView, LicenseActionInput] | None:
        row = repo.request_action(
            session, number=number, kind=kind, reason=reason, actor=actor, now=datetime.now(UTC)
        )
        if row is None:
            return None
        return repo.action_view(row), action_input(row, state.settings)

    try:
        taken = await state.write(write)
    except LicenseConflict as exc:
        raise conflict(str(exc)) from exc
    if taken is None:
        raise NotFound(f"no license {number}")
    view, inp = taken
    try:
        client = await state.temporal_client()
        await start_fanout(client, inp, state.settings.task_queue)
        await state.write(lambda session: repo.mark_started(session, action_id=inp.action_id))
    except (ServiceUnavailable, RPCError):
        # In force and recorded: the worker's outbox starts the fan-out once Temporal is back.
        log.warning("license action %s recorded; its fan-out starts when Temporal is back", view.id)
    return view
