"""BIS applications: filing, BIS's answers and the decision clock; part of the order workflow."""

from __future__ import annotations

from datetime import UTC, datetime, time

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas.actions import Action, ApplicationStatusCommand, SubmitApplicationCommand
    from schemas.applications import Application, ApplicationStatus
    from schemas.orders import OrderStatus
    from workflows.order_base import OrderMachine, refused
    from workflows.rules import applications as clock
    from workflows.rules import transitions as rules


class ApplicationSteps(OrderMachine):
    """The updates that track an order's license application at BIS."""

    @workflow.update
    async def submit_application(self, cmd: SubmitApplicationCommand) -> OrderStatus:
        """Compliance: the application was filed in SNAP-R under this control number."""
        async with self._lock:
            self._check_submit(cmd)
            app = clock.submit(
                self._status.application,
                cmd.application_control_number,
                cmd.submitted_on,
                cmd.actor.user,
                workflow.now(),
            )
            await self._record(app, cmd.actor.user, Action.SUBMIT_APPLICATION, None)
        return self._status

    @submit_application.validator
    def _v_submit_application(self, cmd: SubmitApplicationCommand) -> None:
        with self._validating(cmd):
            self._check_submit(cmd)

    def _check_submit(self, cmd: SubmitApplicationCommand) -> None:
        self._check(Action.SUBMIT_APPLICATION, cmd)
        today = workflow.now().date()
        try:
            number, on = cmd.application_control_number, cmd.submitted_on
            clock.check_submit(self._status.application, number, on, today)
        except rules.Refusal as refusal:
            raise refused(refusal) from None

    @workflow.update
    async def application_status(self, cmd: ApplicationStatusCommand) -> OrderStatus:
        """Compliance: BIS registered, held, referred or returned the application."""
        async with self._lock:
            self._check_status(cmd)
            current = self._status.application
            assert current is not None  # checked above
            days = self._input.policy.license_decision_days
            app = clock.answer(current, cmd, cmd.actor.user, workflow.now(), days)
            if successor := cmd.successor_application_control_number:
                app = clock.submit(app, successor, cmd.on, cmd.actor.user, workflow.now())
            await self._record(app, cmd.actor.user, Action.APPLICATION_STATUS, cmd.note)
        return self._status

    @application_status.validator
    def _v_application_status(self, cmd: ApplicationStatusCommand) -> None:
        with self._validating(cmd):
            self._check_status(cmd)

    def _check_status(self, cmd: ApplicationStatusCommand) -> None:
        self._check(Action.APPLICATION_STATUS, cmd)
        try:
            clock.check_status(self._status.application, cmd, workflow.now().date())
        except rules.Refusal as refusal:
            raise refused(refusal) from None

    async def _record(self, app: Application, actor: str, action: str, note: str | None) -> None:
        """Keep the application and let its clock drive the order's decision deadline."""
        self._status.application = app
        due = app.decision_due_on
        if app.clock_running and due is not None:
            self._status.due_at = datetime.combine(due, time(), tzinfo=UTC)
        elif app.status is ApplicationStatus.HOLD_WITHOUT_ACTION:
            self._status.due_at = None  # BIS holds it: nobody is late while it waits on us
        self._status.overdue = False
        data = {
            "application_control_number": app.application_control_number,
            "status": app.status.value,
            "on": app.history[-1].on.isoformat(),
            "decision_due_on": due.isoformat() if due else None,
        }
        await self._move(self._status.state, actor, action, note, data)
