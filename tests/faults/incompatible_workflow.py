"""A deliberately incompatible OrderWorkflow, to prove the replay test can fail.

Kept in a module of its own: the workflow sandbox re-imports the module that defines a
workflow, and a test module's imports (pytest, ...) are not sandbox-safe.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas.workflow_io import OrderInput, WorkflowResult
    from workflows.order import OrderWorkflow


@workflow.defn(name="OrderWorkflow")
class ScreensFirst(OrderWorkflow):
    """Screens before recording the SCREENING transition: a reordered command."""

    @workflow.run
    async def run(self, inp: OrderInput) -> WorkflowResult:
        """The current run, with one activity moved ahead of the first transition."""
        await self._screen()
        return await super().run(inp)
