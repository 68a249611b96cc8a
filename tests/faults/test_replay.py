"""Saved histories of every lifecycle path replay against the current OrderWorkflow.

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
from tests.faults.record_histories import HISTORIES, lifecycle_paths
from tests.faults.record_policy_histories import NAMES, POLICY_HISTORIES
from workflows.order import OrderWorkflow
from workflows.ruleset import RuleSetWorkflow

pytestmark = pytest.mark.faults

PATHS = sorted(lifecycle_paths())


# Recorded under workflow revision 1 (schemas.workflow_io.WORKFLOW_REVISION): orders running
# then must still replay (their clean pre-ship re-screening had an event of its own).
BEFORE_PATCH = HISTORIES / "before-rescreen-in-ship-event"


def _history(name: str, folder: Path = HISTORIES) -> WorkflowHistory:
    path = folder / f"{name}.json"
    return WorkflowHistory.from_json(f"replay-{name}", path.read_text())


def test_a_history_is_saved_for_every_lifecycle_path() -> None:
    saved = sorted(p.stem for p in Path(HISTORIES).glob("*.json"))
    assert saved == PATHS


@pytest.mark.parametrize("name", PATHS)
async def test_saved_history_replays_against_the_current_workflow(name: str) -> None:
    replayer = Replayer(workflows=[OrderWorkflow], data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(_history(name))
    assert result.replay_failure is None


@pytest.mark.parametrize("name", PATHS)
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


POLICY = sorted(p.stem for p in POLICY_HISTORIES.glob("*.json"))


def test_the_policy_paths_are_saved() -> None:
    assert set(NAMES) <= set(POLICY)
    assert "ruleset_activation_first_run" in POLICY  # the fan-out continued as new


@pytest.mark.parametrize("name", POLICY)
async def test_saved_policy_history_replays(name: str) -> None:
    # A customs stop's hold at booking, a redetermine signal, and the rule set's own workflow
    # (timer, activation, fan-out batches, continue-as-new).
    replayer = Replayer(
        workflows=[OrderWorkflow, RuleSetWorkflow], data_converter=pydantic_data_converter
    )
    result = await replayer.replay_workflow(_history(name, POLICY_HISTORIES))
    assert result.replay_failure is None
