"""Logging: one JSON object per line, tagged with the order and workflow it concerns."""

from __future__ import annotations

import json as jsonlib
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from temporalio import activity, workflow

from services.config import Settings
from workflows.ids import order_id_from, workflow_id_for

order_id_var: ContextVar[str | None] = ContextVar("exportflow_order_id", default=None)
workflow_id_var: ContextVar[str | None] = ContextVar("exportflow_workflow_id", default=None)

# Keys Temporal's workflow.logger / activity.logger put on a record's `extra`.
_TEMPORAL_EXTRAS = ("temporal_workflow", "temporal_activity")


def _order_of(workflow_id: str) -> str | None:
    try:
        return order_id_from(workflow_id)
    except ValueError:  # a workflow that is not an order's
        return None


@contextmanager
def order_context(*, order_id: str | None = None, workflow_id: str | None = None) -> Iterator[None]:
    """Tag every log line written inside with the order and its workflow."""
    if order_id and not workflow_id:
        workflow_id = workflow_id_for(order_id)
    if workflow_id and not order_id:
        order_id = _order_of(workflow_id)
    order_token = order_id_var.set(order_id)
    workflow_token = workflow_id_var.set(workflow_id)
    try:
        yield
    finally:
        workflow_id_var.reset(workflow_token)
        order_id_var.reset(order_token)


def tag_order(order_id: str) -> None:
    """Tag the rest of the current context with an order learnt midway (inside order_context)."""
    order_id_var.set(order_id)
    workflow_id_var.set(workflow_id_for(order_id))


def ids_of(record: logging.LogRecord) -> dict[str, str]:
    """order_id and workflow_id of a record: the context's, else from Temporal's extras."""
    workflow_id = workflow_id_var.get()
    order_id = order_id_var.get()
    if workflow_id is None:
        for key in _TEMPORAL_EXTRAS:
            details = getattr(record, key, None)
            if isinstance(details, dict) and details.get("workflow_id"):
                workflow_id = str(details["workflow_id"])
                break
    if order_id is None and workflow_id is not None:
        order_id = _order_of(workflow_id)
    ids = {"order_id": order_id, "workflow_id": workflow_id}
    return {k: v for k, v in ids.items() if v}


class JsonFormatter(logging.Formatter):
    """ts, level, logger, message, order_id and workflow_id (when known), exc_info."""

    def format(self, record: logging.LogRecord) -> str:
        """One line of JSON."""
        ts = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        out: dict[str, Any] = {
            "ts": ts.replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **ids_of(record),
        }
        if record.exc_info:
            out["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            out["stack_info"] = self.formatStack(record.stack_info)
        return jsonlib.dumps(out, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The classic line, with `order_id=…` appended when known."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        """One human-readable line (plus a traceback, if any)."""
        line = super().format(record)
        order_id = ids_of(record).get("order_id")
        if order_id is None:
            return line
        first, sep, rest = line.partition("\n")
        return f"{first} order_id={order_id}{sep}{rest}"


def configure_logging(json: bool = True, level: int | str = logging.INFO) -> None:
    """Send every logger's records to stderr, as JSON lines or as text."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # The ids are fields of their own in JSON; no need to repeat Temporal's info in the text.
    workflow.logger.workflow_info_on_message = not json
    activity.logger.activity_info_on_message = not json


def configure_for(settings: Settings, default_format: str) -> None:
    """configure_logging with EXPORTFLOW_LOG_FORMAT / _LOG_LEVEL, or the command's default."""
    fmt = settings.log_format or default_format
    configure_logging(json=fmt == "json", level=settings.log_level)
