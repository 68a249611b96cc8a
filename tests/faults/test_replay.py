"""Saved histories of every lifecycle path replay against the current OrderWorkflow, and so do
histories of screening dispositions, a recheck signal, two-officer approval, a license that
expires and a review that escalates (tests/faults/history_paths.py).

A change to the workflow that would break running orders (a command added, dropped or
reordered without `workflow.patched()`) fails here. Histories are recorded by
`python -m tests.faults.record_histories`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from tests.faults.incompatible_workflow import ScreensFirst
from tests.faults.record_histories import HISTORIES, history_names
from workflows.order import OrderWorkflow

pytestmark = pytest.mark.faults

PATHS = history_names()


# Recorded under workflow revision 1 (schemas.workflow_io.WORKFLOW_REVISION): orders running
# then must still replay (their clean pre-ship re-screening had an event of its own).
BEFORE_PATCH = HISTORIES / "before-rescreen-in-ship-event"
REVISION_1 = sorted(p.stem for p in BEFORE_PATCH.glob("*.json"))

# What each history beyond the plain lifecycle is kept for: the updates, signals and fired
# timers it must hold, in order (a re-recording that lost one would replay nothing new).
EXERCISES = {
    "disposition_not_a_match": ["disposition", "approve", "ship", "deliver"],
    "disposition_escalated_then_verified": ["disposition", "disposition"],
    "recheck_after_new_snapshot": ["approve", "signal:recheck", "reject"],
    "two_officer_approval": ["approve", "approve", "record_license", "ship", "deliver"],
    "license_expiry": ["approve", "record_license", "timer", "timer", "record_license"],
    "review_escalation": ["timer", "reject"],
}


def _history(name: str, folder: Path = HISTORIES) -> WorkflowHistory:
    path = folder / f"{name}.json"
    return WorkflowHistory.from_json(f"replay-{name}", path.read_text())


def test_a_history_is_saved_for_every_lifecycle_path() -> None:
    saved = sorted(p.stem for p in Path(HISTORIES).glob("*.json"))
    assert saved == PATHS
    assert len(REVISION_1) == 8  # the lifecycle paths as they ran under revision 1


@pytest.mark.parametrize("name", PATHS)
async def test_saved_history_replays_against_the_current_workflow(name: str) -> None:
    replayer = Replayer(workflows=[OrderWorkflow], data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(_history(name))
    assert result.replay_failure is None


def _exercised(name: str) -> list[str]:
    found = []
    for event in json.loads((HISTORIES / f"{name}.json").read_text())["events"]:
        kind = event["eventType"]
        if kind == "EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED":
            accepted = event["workflowExecutionUpdateAcceptedEventAttributes"]
            found.append(accepted["acceptedRequest"]["input"]["name"])
        elif kind == "EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED":
            found.append(
                "signal:" + event["workflowExecutionSignaledEventAttributes"]["signalName"]
            )
        elif kind == "EVENT_TYPE_TIMER_FIRED":
            found.append("timer")
    return found


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_a_saved_history_holds_what_it_is_kept_for(name: str) -> None:
    assert _exercised(name) == EXERCISES[name]


@pytest.mark.parametrize("name", REVISION_1)
async def test_history_of_revision_1_still_replays(name: str) -> None:
    replayer = Replayer(workflows=[OrderWorkflow], data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(_history(name, BEFORE_PATCH))
    assert result.replay_failure is None


def test_the_pre_patch_happy_path_takes_the_old_branch() -> None:
    # Guards the point of the test above: the old history has the extra transition activity
    # of the separate re-screening event, and neither needs a patch marker.
    def kinds(folder: Path) -> list[str]:
        events = json.loads((folder / "happy_path_h20.json").read_text())["events"]
        return [e["eventType"] for e in events]

    old, new = kinds(BEFORE_PATCH), kinds(HISTORIES)
    assert "EVENT_TYPE_MARKER_RECORDED" not in old
    assert "EVENT_TYPE_MARKER_RECORDED" not in new
    scheduled = "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED"
    assert (old.count(scheduled), new.count(scheduled)) == (13, 12)


async def test_an_incompatible_change_fails_replay() -> None:
    replayer = Replayer(workflows=[ScreensFirst], data_converter=pydantic_data_converter)
    with pytest.raises(workflow.NondeterminismError):
        await replayer.replay_workflow(_history("happy_path_h20"))
