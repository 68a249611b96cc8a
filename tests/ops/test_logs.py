"""Log lines as JSON, each naming the order and workflow it concerns."""

from __future__ import annotations

import json
import logging
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from services.logs import JsonFormatter, TextFormatter, order_context
from services.worker_telemetry import ActivityTelemetry, meter_of
from tests.ops.logging_workflow import LoggingWorkflow, log_from_activity


def _record(message: str, **extra: Any) -> logging.LogRecord:
    record = logging.LogRecord("exportflow.test", logging.INFO, __file__, 1, message, None, None)
    record.__dict__.update(extra)
    return record


def test_a_json_line_names_the_order_and_workflow_of_its_context() -> None:
    fmt = JsonFormatter()
    with order_context(order_id="ORD-ABC"):
        inside = json.loads(fmt.format(_record("booked")))
    outside = json.loads(fmt.format(_record("idle")))
    assert inside["order_id"] == "ORD-ABC"
    assert inside["workflow_id"] == "order-ORD-ABC"
    assert {"ts", "level", "logger", "message"} <= inside.keys()
    assert (inside["level"], inside["logger"], inside["message"]) == (
        "INFO",
        "exportflow.test",
        "booked",
    )
    assert "order_id" not in outside
    assert "workflow_id" not in outside


def test_temporal_log_extras_give_the_order_when_no_context_is_set() -> None:
    record = _record("step", temporal_workflow={"workflow_id": "order-ORD-XYZ", "run_id": "r"})
    line = json.loads(JsonFormatter().format(record))
    assert (line["order_id"], line["workflow_id"]) == ("ORD-XYZ", "order-ORD-XYZ")
    other = json.loads(JsonFormatter().format(_record("x", temporal_activity={"workflow_id": "w"})))
    assert other["workflow_id"] == "w"
    assert "order_id" not in other


def test_a_traceback_stays_inside_its_json_line_and_text_lines_name_the_order() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = _record("failed")
        record.exc_info = sys.exc_info()
    line = JsonFormatter().format(record)
    assert "\n" not in line
    assert "ValueError: boom" in json.loads(line)["exc_info"]
    with order_context(order_id="ORD-T"):
        text = TextFormatter().format(_record("hello"))
    assert text.splitlines()[0].endswith("hello order_id=ORD-T")


class _Lines(logging.Handler):
    """Formats at emit time, in the emitting thread, as the real handler does."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


async def test_workflow_and_activity_lines_name_their_order(temporal_client: Client) -> None:
    handler = _Lines()
    loggers = [logging.getLogger(n) for n in ("tests.ops.plain", "temporalio")]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    order_id = f"ORD-LOG{uuid.uuid4().hex[:8].upper()}"
    queue = f"logs-{uuid.uuid4().hex[:8]}"
    try:
        with ThreadPoolExecutor(2) as executor:
            async with Worker(
                temporal_client,
                task_queue=queue,
                workflows=[LoggingWorkflow],
                activities=[log_from_activity],
                activity_executor=executor,
                interceptors=[ActivityTelemetry(meter_of(temporal_client))],
            ):
                await temporal_client.execute_workflow(
                    LoggingWorkflow.run, "hi", id=f"order-{order_id}", task_queue=queue
                )
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
            logger.setLevel(logging.NOTSET)
    for message in ("plain hi", "temporal hi", "workflow hi"):
        lines = [line for line in handler.lines if line["message"].startswith(message)]
        assert len(lines) == 1, handler.lines
        assert lines[0]["order_id"] == order_id
        assert lines[0]["workflow_id"] == f"order-{order_id}"
