"""A tiny workflow whose code and activity log, for the log-context tests."""

from __future__ import annotations

import logging
from datetime import timedelta

from temporalio import activity, workflow


@activity.defn
def log_from_activity(text: str) -> str:
    """Log through a plain logger and through Temporal's activity logger."""
    logging.getLogger("tests.ops.plain").info("plain %s", text)
    activity.logger.info("temporal %s", text)
    return text


@workflow.defn
class LoggingWorkflow:
    """Logs once, then runs the activity."""

    @workflow.run
    async def run(self, text: str) -> str:
        """Log and call the activity."""
        workflow.logger.info("workflow %s", text)
        return await workflow.execute_activity(
            log_from_activity, text, start_to_close_timeout=timedelta(seconds=10)
        )
